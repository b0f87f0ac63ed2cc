"""URLs of the mobile app's API (included under ``api/v1/``)."""

from django.urls import path, re_path

from . import api

app_name = "devices_api"

urlpatterns = [
    # The app's most frequent call first (it reports its permissions at every start).
    path("devices/<int:device_id>/permissions/", api.device_permissions, name="permissions"),
    path("auth/token/", api.token, name="token"),
    path("devices/", api.devices, name="devices"),
    path("devices/<int:device_id>/", api.device_detail, name="device"),
    path("openapi.json", api.openapi, name="openapi"),
    re_path(r"^(?P<rest>.*)$", api.unknown),
]
