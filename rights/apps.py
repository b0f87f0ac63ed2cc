from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RightsConfig(AppConfig):
    name = "rights"
    verbose_name = _("Data-subject rights")

    def ready(self) -> None:
        from consent.admin_mixins import register_access_veto

        from . import app_sections, personal_data  # noqa: F401  (personal fields, sections)
        from .selectors import restriction_veto

        register_access_veto(restriction_veto)
