from django.urls import path

from . import views

app_name = "devices"

urlpatterns = [
    path("account/devices/", views.account_devices, name="account"),
    path("account/devices/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
