from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicensingConfig(AppConfig):
    name = "licensing"
    verbose_name = _("Licences")

    def ready(self) -> None:
        from audit.timeline import register_history_track

        from .models import Licence

        register_history_track(
            "licence",
            label=_("licence"),
            records=lambda customer: Licence.history.filter(customer_id=customer.pk).select_related(
                "plan"
            ),
            fields=("plan", "seats", "starts_on", "expires_on", "status"),
        )
