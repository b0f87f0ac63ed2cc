from django.urls import path

from . import views

app_name = "care"

urlpatterns = [
    path("account/support/", views.request_list, name="list"),
    path("account/support/new/", views.request_new, name="new"),
    path("account/support/<int:pk>/", views.request_detail, name="detail"),
]
