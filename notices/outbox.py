"""The one door for single messages to a customer: send it, and record a ``Notice`` of it.

Renewal and update notices go out in runs (``notices.sending``); every other message to a customer
(password reset, email-change confirmation, breach notification) goes through ``outbox_send``,
so the customer's "notices sent" and the staff's sent-notices list show it: recipient customer,
template, purpose, language, time and status — never the body, never the address.

The caller logs its own access (if the message discloses personal data to staff, it is theirs to
say under which purpose); this module only sends and records.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation

from .models import Notice

logger = logging.getLogger(__name__)

# Templates of the messages sent through the outbox (the ``Notice.template`` they record).
PASSWORD_RESET = "accounts/password_reset_email.txt"
EMAIL_CHANGE = "rights/email_change_confirm"
BREACH = "rights/breach_notification"


def outbox_send(
    *,
    customer: Any,
    template: str,
    purpose: str,
    message: EmailMessage,
    language: str | None = None,
) -> Notice:
    """Send ``message`` to the customer and record it; return the ``Notice`` (sent or failed).

    ``purpose`` is the policy purpose the message serves, or empty for a message the customer
    asked for (password reset, email confirmation). A failure to send is recorded (the error's
    type only: its text may hold the address) and logged, never raised.
    """
    with transaction.atomic():
        notice = Notice.objects.create(
            customer=customer,
            purpose=purpose,
            template=template,
            language=(language or translation.get_language() or customer.user.language)[:8],
            status=Notice.Status.CLAIMED,
        )
        try:
            message.send()
        except Exception as exc:  # any mail backend error: recorded, not raised
            logger.exception("Sending %s to customer %s failed", template, customer.pk)
            notice.status = Notice.Status.FAILED
            notice.error = type(exc).__name__[:200]
        else:
            notice.status = Notice.Status.SENT
            notice.sent_at = timezone.now()
        notice.save(update_fields=["status", "error", "sent_at"])
    return notice
