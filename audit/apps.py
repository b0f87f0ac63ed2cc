from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from . import grants, sources, triggers  # noqa: F401  (sources register themselves)

        connection_created.connect(triggers.register_sqlite_gate_function)
        grants.connect_signals()
