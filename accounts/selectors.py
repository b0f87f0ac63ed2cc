"""Reads of customer accounts. Every read of personal data goes through here and is logged."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact

from consent import access

from .models import Customer, User
from .normalize import normalize_email
from .services import CONTACT_FIELDS


def customer_get_own(*, user: Any) -> Customer:
    """Return the signed-in user's own customer account, logging a self-access ``view``."""
    customer = Customer.objects.select_related("user").get(user=user)
    access.access_record(subjects=[customer], action=access.Action.VIEW, fields=CONTACT_FIELDS)
    return customer


def customer_queryset() -> QuerySet[Customer]:
    """Return customers with their login joined (no access is logged: nothing is shown yet)."""
    return Customer.objects.select_related("user")


def email_equals(path: str, email: str) -> Exact:
    """Return a filter matching the email at ``path`` to ``email`` as the database compares them.

    ``Lower()`` on both sides, in the database: what the ``accounts_user_email_ci_unique``
    constraint compares. ``iexact`` compares ``UPPER()`` on PostgreSQL, which disagrees for a few
    letters (the Kelvin sign ``K``: its upper case is itself, its lower case is ``k``).
    """
    return Exact(Lower(path), Lower(Value(normalize_email(email))))


def email_in_use(email: str, *, exclude_user_id: int | None = None) -> bool:
    """Return True if a login other than ``exclude_user_id`` has ``email`` (see email_equals)."""
    logins = User.objects.filter(email_equals("email", email))
    if exclude_user_id is not None:
        logins = logins.exclude(pk=exclude_user_id)
    return logins.exists()
