from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RightsConfig(AppConfig):
    name = "rights"
    verbose_name = _("Data-subject rights")

    def ready(self) -> None:
        from consent.admin_mixins import register_access_veto

        from . import personal_data  # noqa: F401  (declares the personal fields of every app)
        from .selectors import restriction_veto

        register_access_veto(restriction_veto)
