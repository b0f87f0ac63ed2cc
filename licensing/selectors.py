"""Reads of plans and licences."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Customer
from consent import access

from .models import Licence, Plan
from .services import LICENCE_FIELDS


def plan_list(*, offered_only: bool = False) -> QuerySet[Plan]:
    plans = Plan.objects.all()
    return plans.filter(is_active=True) if offered_only else plans


def licence_list_for_customer(*, customer: Customer) -> list[Licence]:
    """Return the customer's licences, newest expiry first, logging one ``list`` access."""
    licences = list(Licence.objects.filter(customer=customer).select_related("plan"))
    access.access_record(subjects=[customer], action=access.Action.LIST, fields=LICENCE_FIELDS)
    return licences
