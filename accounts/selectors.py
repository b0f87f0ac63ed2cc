"""Reads of customer accounts. Every read of personal data goes through here and is logged."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from consent import access

from .models import Customer
from .services import CONTACT_FIELDS


def customer_get_own(*, user: Any) -> Customer:
    """Return the signed-in user's own customer account, logging a self-access ``view``."""
    customer = Customer.objects.select_related("user").get(user=user)
    access.access_record(subjects=[customer], action=access.Action.VIEW, fields=CONTACT_FIELDS)
    return customer


def customer_queryset() -> QuerySet[Customer]:
    """Return customers with their login joined (no access is logged: nothing is shown yet)."""
    return Customer.objects.select_related("user")
