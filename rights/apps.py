from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RightsConfig(AppConfig):
    name = "rights"
    verbose_name = _("Data-subject rights")

    def ready(self) -> None:
        from audit.timeline import register_history_track
        from consent.vetoes import register_access_veto

        from . import app_sections, checks, personal_data  # noqa: F401  (registrations)
        from .models import DataSubjectRequest
        from .selectors import restriction_veto

        register_access_veto(restriction_veto)
        # The customer's dossier shows each request's history, its words masked until revealed.
        register_history_track(
            "rights_request",
            label=_("data-subject request"),
            records=lambda customer: DataSubjectRequest.history.filter(customer_id=customer.pk),
            fields=("kind", "status", "reason", "response", "acknowledged_at", "closed_at"),
            personal=DataSubjectRequest.PERSONAL_FIELDS,
        )
