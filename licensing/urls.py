from django.urls import path

from . import views

app_name = "licensing"

urlpatterns = [
    path("account/licences/", views.my_licences, name="mine"),
]
