from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = _("Security")

    def ready(self) -> None:
        from django.contrib import admin

        # Registers the deploy checks; connects the session and privilege handlers.
        from . import checks, signals  # noqa: F401
        from .forms import StaffLoginForm

        # The admin's own login asks for the one-time code as well as the password.
        admin.site.login_form = StaffLoginForm
        admin.site.login_template = "security/admin_login.html"
