"""What every piece of purpose-bound work needs: the purpose check, the access vetoes and the
system account.

Services of ``licensing``, ``notices`` and ``care`` refuse to write unless the open access context
names their purpose, and refuse a customer whose data a registered access veto forbids under that
purpose (a data-subject restriction: see ``consent.admin_mixins.register_access_veto``); scheduled
commands act as the system account named by ``SYSTEM_ACTOR_EMAIL``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.normalize import email_equals
from consent import access
from consent.context import AccessContext, Channel, access_context, require_context
from consent.vetoes import restriction_message, vetoed_customer_ids


class WrongPurpose(PermissionDenied):
    """The open access context does not declare the purpose this work needs."""


def require_purpose(*codes: str) -> AccessContext:
    """Return the open access context if it declares one of ``codes``, else raise WrongPurpose.

    The customer acting on their own data (self-access, no purpose) passes when ``""`` is listed.
    """
    ctx = require_context()
    if (ctx.purpose or "") not in codes:
        raise WrongPurpose(
            f"This work needs the purpose {' or '.join(c or 'self-access' for c in codes)};"
            f" the access context declares {ctx.purpose or 'none'}."
        )
    return ctx


class Restricted(WrongPurpose):
    """A registered access veto (a data-subject restriction) forbids this work on the customer."""


def require_not_vetoed(*, customer_id: int, action: str, purpose: str | None = None) -> None:
    """Raise ``Restricted`` (after queuing a ``denied`` access-log row) if a veto forbids work on
    the customer's data under ``purpose`` (default: the open context's).

    Self-access (no purpose: the customer acting on their own data) is never vetoed.
    """
    ctx = require_context()
    purpose = ctx.purpose if purpose is None else purpose
    if not purpose:
        return
    if vetoed_customer_ids([customer_id], purpose=purpose):
        access.access_denied(subjects=[customer_id], action=action, purpose=purpose)
        raise Restricted(restriction_message())


def system_actor() -> User:
    """Return the system account scheduled commands act as, creating it on first use.

    It has no usable password and is inactive, so nobody can sign in with it.
    """
    email = settings.SYSTEM_ACTOR_EMAIL.strip().lower()
    user = User.objects.filter(email_equals("email", email)).first()
    if user is not None:
        return user
    try:
        with transaction.atomic(), access_context(actor=None, channel=Channel.COMMAND):
            user = User(email=email, is_active=False, is_staff=False, language="en")
            user.set_unusable_password()
            user.full_clean(exclude=["password"])
            user.save()
    except (IntegrityError, ValidationError):
        # Another run created it at the same moment (caught by the constraint or its validation).
        return User.objects.get(email_equals("email", email))
    return user
