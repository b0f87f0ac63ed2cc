from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "devices"
    verbose_name = _("Mobile devices")

    def ready(self) -> None:
        from audit.timeline import register_timeline_source

        from .dossier import device_permission_events

        register_timeline_source("devices")(device_permission_events)
