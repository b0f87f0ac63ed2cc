"""Reads of customer-care requests; each read of a request's content is logged."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Customer
from consent import access

from .models import CareMessage, CareRequest
from .services import MESSAGE_FIELDS, REQUEST_FIELDS


def care_requests_for_customer(*, customer: Customer) -> list[CareRequest]:
    """Return the customer's own requests, newest first, logging one self-access ``list``."""
    requests = list(CareRequest.objects.filter(customer=customer))
    access.access_record(subjects=[customer], action=access.Action.LIST, fields=("subject",))
    return requests


def care_request_get_own(*, customer: Customer, pk: int) -> tuple[CareRequest, list[CareMessage]]:
    """Return one of the customer's requests and its messages without internal notes.

    Raises ``CareRequest.DoesNotExist`` for a request of another customer; logs a ``view``.
    """
    request = CareRequest.objects.get(customer=customer, pk=pk)
    messages = list(
        request.messages.filter(internal=False)
        .select_related("author")
        .order_by("created_at", "pk")
    )
    access.access_record(subjects=[customer], action=access.Action.VIEW, fields=REQUEST_FIELDS)
    return request, messages


def care_request_messages_for_staff(*, request: CareRequest) -> list[CareMessage]:
    """Return every message and internal note of a request, logging a ``view`` (staff, purpose)."""
    messages = list(request.messages.select_related("author").order_by("created_at", "pk"))
    access.access_record(
        subjects=[request.customer_id], action=access.Action.VIEW, fields=MESSAGE_FIELDS
    )
    return messages


def care_request_queryset() -> QuerySet[CareRequest]:
    """Return requests for staff lists (subjects only; no message is read)."""
    return CareRequest.objects.select_related("customer", "assignee")
