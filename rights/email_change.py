"""Signed, expiring links that confirm a new email address before it replaces the old one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils.translation import gettext as _

SALT = "rights.email-change"


class EmailChangeInvalid(Exception):
    """The link is forged, expired, already used, or for another login."""


def email_change_token(*, user: Any, new_email: str) -> str:
    """Return a signed token binding the login, its current email and the new one."""
    return signing.dumps({"u": user.pk, "old": user.email, "new": new_email}, salt=SALT)


def email_change_send(*, request: Any, user: Any, new_email: str) -> Any:
    """Send the confirmation link to the NEW address (nothing changes until it is opened).

    The message is recorded as a notice to the customer (``notices.outbox``); return it.
    """
    from notices.outbox import EMAIL_CHANGE, outbox_send

    token = email_change_token(user=user, new_email=new_email)
    link = request.build_absolute_uri(reverse("accounts:email_confirm", args=[token]))
    hours = settings.EMAIL_CHANGE_MAX_AGE_SECONDS // 3600
    message = EmailMessage(
        _("ExcelCRM: confirm your new email address"),
        _(
            "Someone (hopefully you) asked to use this address for an ExcelCRM account.\n\n"
            "To confirm, open this link within %(hours)d hours while signed in:\n%(link)s\n\n"
            "If you did not ask for this, ignore this email; nothing will change."
        )
        % {"hours": hours, "link": link},
        None,
        [new_email],
    )
    return outbox_send(customer=user.customer, template=EMAIL_CHANGE, purpose="", message=message)


def email_change_verify(*, token: str, user: Any) -> str:
    """Return the new email the token confirms for ``user``, or raise EmailChangeInvalid."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.EMAIL_CHANGE_MAX_AGE_SECONDS)
    except signing.BadSignature as exc:  # SignatureExpired is a BadSignature
        raise EmailChangeInvalid(str(exc)) from exc
    if data.get("u") != user.pk or data.get("old") != user.email:
        raise EmailChangeInvalid("token does not match this login or was already used")
    return data["new"]
