from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    default = True
    name = "consent"
    verbose_name = _("Consent and data access")

    def ready(self) -> None:
        from . import history  # noqa: F401  (connects the history context receivers)


class PortalAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the portal's site (purpose declaration, masked search)."""

    default = False
    default_site = "consent.admin_site.PortalAdminSite"
