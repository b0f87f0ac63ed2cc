from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent and data access")

    def ready(self) -> None:
        from . import history  # noqa: F401  (connects the history context receivers)
