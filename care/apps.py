from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "care"
    verbose_name = _("Customer care and complaints")

    def ready(self) -> None:
        from audit.timeline import register_history_track

        from .models import CareMessage, CareRequest

        # The subject and the messages are the customer's words: masked until revealed.
        register_history_track(
            "care_request",
            label=_("customer-care request"),
            records=lambda customer: CareRequest.history.filter(
                customer_id=customer.pk
            ).select_related("assignee"),
            fields=("kind", "subject", "status", "assignee", "acknowledged_at", "resolved_at",
                    "closed_at"),
            personal=("subject",),
        )
        register_history_track(
            "care_message",
            label=_("message"),
            records=lambda customer: CareMessage.history.filter(
                request__customer_id=customer.pk
            ),
            fields=("request_id", "from_staff", "internal", "body"),
            personal=("body",),
        )
