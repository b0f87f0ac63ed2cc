"""Reads of customer accounts. Every read of personal data goes through here and is logged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from consent import access

from .models import Customer, User
from .normalize import email_equals
from .services import CONTACT_FIELDS


def customer_get_own(*, user: Any) -> Customer:
    """Return the signed-in user's own customer account, logging a self-access ``view``."""
    customer = Customer.objects.select_related("user").get(user=user)
    access.access_record(subjects=[customer], action=access.Action.VIEW, fields=CONTACT_FIELDS)
    return customer


def customer_queryset() -> QuerySet[Customer]:
    """Return customers with their login joined (no access is logged: nothing is shown yet)."""
    return Customer.objects.select_related("user")


def email_in_use(email: str, *, exclude_user_id: int | None = None) -> bool:
    """Return True if a login other than ``exclude_user_id`` has ``email`` (see email_equals)."""
    logins = User.objects.filter(email_equals("email", email))
    if exclude_user_id is not None:
        logins = logins.exclude(pk=exclude_user_id)
    return logins.exists()


def password_reset_recipients(email: str) -> Iterator[User]:
    """Return the active logins with a usable password whose email is ``email`` (at most one).

    Django's reset form looks them up with ``iexact``; this compares as the uniqueness
    constraint does (``email_equals``), so it uses that index.
    """
    logins = User.objects.filter(email_equals("email", email), is_active=True)
    return (login for login in logins if login.has_usable_password())


def customer_of(user: Any) -> Customer | None:
    """Return the customer account of ``user`` (None for staff), with the login joined.

    Nothing is shown, so no access is logged; what is then sent to the customer is recorded by
    the outbox.
    """
    return Customer.objects.filter(user=user).select_related("user").first()
