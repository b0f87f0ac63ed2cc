from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("policy/", views.policy, name="policy"),
    path("policy/<str:label>/", views.policy_version, name="policy_version"),
]
