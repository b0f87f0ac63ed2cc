"""Writes of data-subject requests and breaches. The only code that writes their personal data."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from consent import access
from consent.context import context_changed, require_context
from consent.workdays import add_calendar_days, add_working_days

from .erasure import customer_erase, is_erased
from .forms import EXTENSION_REASON_MAX_LENGTH, extension_reason_too_long
from .models import Breach, BreachNotification, DataSubjectRequest

Kind = DataSubjectRequest.Kind
Status = DataSubjectRequest.Status

# Field names of a request as named in access-log rows.
REQUEST_FIELDS = ("reason",)
# Breach notifications are logged under this purpose (docs/POLICY.md, decisions): answering the
# customer's question "what happened to my data" is part of resolving complaints and questions,
# and it stays allowed under a restriction, which the law requires for a breach notice.
BREACH_NOTIFY_PURPOSE = "complaints"


def _deadlines(filed_at: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    return (
        add_working_days(filed_at, settings.RIGHTS_ACKNOWLEDGE_WORKING_DAYS),
        add_calendar_days(filed_at, settings.RIGHTS_COMPLETE_DAYS),
    )


@transaction.atomic
def request_file(*, customer: Any, kind: str, reason: str) -> DataSubjectRequest:
    """File a request for the customer (self-access, in the open context) with its clocks."""
    require_context()
    now = timezone.now()
    acknowledge_due, complete_due = _deadlines(now)
    request = DataSubjectRequest(
        customer=customer,
        kind=kind,
        reason=reason.strip(),
        filed_at=now,
        acknowledge_due=acknowledge_due,
        complete_due=complete_due,
    )
    request.full_clean()
    request.save()
    access.access_record(subjects=[customer], action=access.Action.CREATE, fields=REQUEST_FIELDS)
    return request


def _locked(request: DataSubjectRequest) -> DataSubjectRequest:
    """Bring ``request`` up to date with its row, locked until the transaction ends.

    Every step re-reads the request this way: two staff members (or staff and the customer
    withdrawing from the portal) may act on it at the same moment, and each step's state check
    must hold for the row it then changes. The caller's object is refreshed in place.
    """
    request.refresh_from_db(from_queryset=DataSubjectRequest.objects.select_for_update())
    request.remember_loaded_values()
    return request


def _check_open(request: DataSubjectRequest) -> None:
    if not request.is_open:
        raise ValidationError(_("This request is already closed."), code="closed")


def _store(request: DataSubjectRequest, *, handled_by: Any = None) -> None:
    """Save a step of the request (with its history row) and log the change of its status."""
    if handled_by is not None:
        request.handled_by = handled_by
    request.save_tracked()
    access.access_record(
        subjects=[request.customer_id], action=access.Action.CHANGE, fields=("request_status",)
    )


@transaction.atomic
def request_withdraw(*, request: DataSubjectRequest) -> DataSubjectRequest:
    """The customer withdraws their own request (a standing restriction is lifted this way)."""
    request = _locked(request)
    if request.status not in (*DataSubjectRequest.OPEN_STATUSES, Status.COMPLETED) or (
        request.status == Status.COMPLETED and request.kind != Kind.RESTRICTION
    ):
        raise ValidationError(_("This request can no longer be withdrawn."), code="closed")
    request.status = Status.WITHDRAWN
    request.closed_at = timezone.now()
    _store(request)
    return request


@transaction.atomic
def request_withdraw_closure(*, customer: Any) -> DataSubjectRequest | None:
    """Withdraw the customer's open account-closure request, if any; return it.

    Closure requests are filed only by declining a policy version (``accounts.views``), so a
    customer who accepts the policy after all withdraws the closure the decline asked for.
    """
    request = (
        DataSubjectRequest.objects.select_for_update()
        .filter(customer=customer, kind=Kind.CLOSURE, status__in=DataSubjectRequest.OPEN_STATUSES)
        .order_by("-filed_at")
        .first()
    )
    return request_withdraw(request=request) if request is not None else None


@transaction.atomic
def request_acknowledge(*, request: DataSubjectRequest, actor: Any) -> DataSubjectRequest:
    """Staff acknowledge receipt of the request (the 2-working-day clock stops)."""
    request = _locked(request)
    if request.status != Status.RECEIVED:
        raise ValidationError(_("Only a newly received request can be acknowledged."), code="state")
    request.status = Status.ACKNOWLEDGED
    request.acknowledged_at = timezone.now()
    _store(request, handled_by=actor)
    return request


@transaction.atomic
def request_extend(
    *, request: DataSubjectRequest, actor: Any, days: int, reason: str
) -> DataSubjectRequest:
    """Extend the completion deadline once, by at most ``RIGHTS_EXTENSION_MAX_DAYS`` days."""
    request = _locked(request)
    _check_open(request)
    if request.extended_at is not None:
        raise ValidationError(
            {"days": _("This request was already extended once; the law allows one extension.")}
        )
    limit = settings.RIGHTS_EXTENSION_MAX_DAYS
    if not 1 <= days <= limit:
        raise ValidationError({"days": _("Extend by 1 to %(limit)d days.") % {"limit": limit}})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the extension.")})
    if len(reason) > EXTENSION_REASON_MAX_LENGTH:
        raise ValidationError({"reason": extension_reason_too_long(len(reason))})
    request.extended_at = timezone.now()
    request.extension_days = days
    request.extension_reason = reason
    request.complete_due = add_calendar_days(request.complete_due, days)
    _store(request, handled_by=actor)
    return request


@transaction.atomic
def request_complete(
    *, request: DataSubjectRequest, actor: Any, response: str = ""
) -> DataSubjectRequest:
    """Complete the request. Completing an erasure or account closure erases the customer."""
    request = _locked(request)
    _check_open(request)
    now = timezone.now()
    request.status = Status.COMPLETED
    request.acknowledged_at = request.acknowledged_at or now
    request.closed_at = now
    request.response = response.strip()
    _store(request, handled_by=actor)
    if request.kind in (Kind.ERASURE, Kind.CLOSURE):
        customer_erase(customer=request.customer, request=request, approved_by=actor)
        access.access_record(
            subjects=[request.customer_id],
            action=access.Action.DELETE,
            fields=("contact_person", "phone", "email", "reason", "response"),
        )
    return request


@transaction.atomic
def request_reject(*, request: DataSubjectRequest, actor: Any, response: str) -> DataSubjectRequest:
    """Reject the request, with the reason given to the customer."""
    request = _locked(request)
    _check_open(request)
    if not response.strip():
        raise ValidationError({"response": _("Tell the customer why the request is rejected.")})
    now = timezone.now()
    request.status = Status.REJECTED
    request.acknowledged_at = request.acknowledged_at or now
    request.closed_at = now
    request.response = response.strip()
    _store(request, handled_by=actor)
    return request


@transaction.atomic
def breach_save(*, breach: Breach, actor: Any, affected: Iterable[Any] | None = None) -> Breach:
    """Record or update a breach (facts only; personal values are never copied into it)."""
    if breach.pk is None:
        breach.recorded_by = actor
    breach.full_clean()
    breach.save()
    if affected is not None:
        breach.affected.set(affected)
    return breach


@dataclass(frozen=True)
class BreachNotifyOutcome:
    """What notifying a breach's affected customers did: who was told, who could not be."""

    notified: int = 0
    # Erased or closed accounts: their address is gone (or no longer theirs) and nobody reads it.
    skipped_closed: int = 0
    failed: int = 0


@transaction.atomic
def breach_notify_customers(*, breach: Breach, actor: Any) -> BreachNotifyOutcome:
    """Email each affected customer not yet notified; log each under ``BREACH_NOTIFY_PURPOSE``.

    Erased and closed accounts (inactive logins) are skipped and counted; each message is sent
    and recorded through ``notices.outbox``. A customer whose message failed is not marked as
    notified, so the next run tries again.
    """
    from notices.outbox import BREACH, outbox_send

    done = set(breach.notifications.values_list("customer_id", flat=True))
    pending = [c for c in breach.affected.select_related("user") if c.pk not in done]
    reachable = [c for c in pending if c.user.is_active and not is_erased(c)]
    sent = []
    for customer in reachable:
        with translation.override(customer.user.language):
            message = EmailMessage(
                _("ExcelCRM: a personal-data breach concerning your account"),
                _(
                    "Dear customer,\n\nOn %(detected)s we detected a personal-data breach that "
                    "may concern these data of your account: %(categories)s.\n\n%(description)s"
                    "\n\nIf you have questions, reply to this email.\n\nExcelCRM"
                )
                % {
                    "detected": timezone.localtime(breach.detected_at).strftime("%d/%m/%Y %H:%M"),
                    "categories": ", ".join(breach.category_labels()),
                    "description": breach.description,
                },
                None,
                [customer.user.email],
            )
            notice = outbox_send(
                customer=customer,
                template=BREACH,
                purpose=BREACH_NOTIFY_PURPOSE,
                message=message,
                language=customer.user.language,
            )
        if notice.status == notice.Status.SENT:
            BreachNotification.objects.create(breach=breach, customer=customer, notified_by=actor)
            sent.append(customer)
    if sent:
        # The rows name the breach they serve, whatever reference the reviewer had declared.
        with context_changed(reference=f"breach #{breach.pk}"):
            access.access_record(
                subjects=sent,
                action=access.Action.NOTIFY,
                fields=("email",),
                purpose=BREACH_NOTIFY_PURPOSE,
            )
    return BreachNotifyOutcome(
        notified=len(sent),
        skipped_closed=len(pending) - len(reachable),
        failed=len(reachable) - len(sent),
    )
