"""Reads of the notices sent to customers."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Customer

from .models import Announcement, Notice


def notices_for_customer(*, customer: Customer | int) -> QuerySet[Notice]:
    """Return the notices emailed (or being emailed) to a customer, newest first.

    Each row says the template, purpose, time and status, never the body. No access is logged
    here: the caller (the customer's dossier) logs the read under its own purpose.
    """
    return Notice.objects.filter(customer=customer).select_related("announcement", "licence__plan")


def announcement_list() -> QuerySet[Announcement]:
    return Announcement.objects.select_related("plan", "created_by")
