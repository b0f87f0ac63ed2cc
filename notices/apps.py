from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("Notices")

    def ready(self) -> None:
        from audit.timeline import register_timeline_source

        from .dossier import notice_events

        register_timeline_source("notices")(notice_events)
