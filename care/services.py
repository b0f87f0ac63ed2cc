"""Open, answer, assign and move care requests: the work of ``customer_care`` and ``complaints``.

A customer acts on their own requests (self-access: the access context has no purpose); staff act
only under the request's purpose (``complaints`` for complaints, ``customer_care`` otherwise).
Every write leaves history rows with that purpose and an access-log row. Staff are refused a
customer under a data-subject restriction except for complaints (``Restricted``, with a
``denied`` row).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer, User
from consent import access
from consent.selectors import user_may_declare
from consent.workdays import add_calendar_days, add_working_days
from licensing.work import Restricted as Restricted  # raised here; callers catch it from here
from licensing.work import WrongPurpose, require_not_vetoed, require_purpose

from .models import CareMessage, CareRequest

# The personal fields of a request, as named in access-log rows.
REQUEST_FIELDS = ("subject", "messages")
MESSAGE_FIELDS = ("messages",)

Status = CareRequest.Status
# Allowed moves; a resolved or closed request can be reopened (back to in progress).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED),
    Status.IN_PROGRESS: (Status.RESOLVED, Status.CLOSED),
    Status.RESOLVED: (Status.CLOSED, Status.IN_PROGRESS),
    Status.CLOSED: (Status.IN_PROGRESS,),
}


def purpose_for_kind(kind: str) -> str:
    return "complaints" if kind == CareRequest.Kind.COMPLAINT else "customer_care"


def deadlines(
    *, kind: str, opened_at: datetime.datetime
) -> tuple[datetime.datetime | None, datetime.datetime]:
    """Return (acknowledge by, resolve by) for a request opened at ``opened_at``.

    Complaints: acknowledge within ``CARE_COMPLAINT_ACK_WORKING_DAYS`` working days and resolve
    within ``CARE_COMPLAINT_RESOLVE_DAYS`` days; other requests: answer within
    ``CARE_REQUEST_DUE_WORKING_DAYS`` working days. Working days skip weekends and
    ``PUBLIC_HOLIDAYS``.
    """
    if kind == CareRequest.Kind.COMPLAINT:
        return (
            add_working_days(opened_at, settings.CARE_COMPLAINT_ACK_WORKING_DAYS),
            add_calendar_days(opened_at, settings.CARE_COMPLAINT_RESOLVE_DAYS),
        )
    return None, add_working_days(opened_at, settings.CARE_REQUEST_DUE_WORKING_DAYS)


def _acting_as_customer(customer: Customer, purpose: str, *, action: str) -> bool:
    """Return True for the customer's own user (self-access), False for staff under ``purpose``.

    Staff are refused (``Restricted``, a ``denied`` row queued) while the customer's restriction
    stands, unless ``purpose`` is exempt (complaints).
    """
    ctx = require_purpose("", purpose)
    if ctx.actor_id is not None and ctx.actor_id == customer.user_id:
        if ctx.purpose:
            raise WrongPurpose("A customer acts on their own requests without a purpose.")
        return True
    if not ctx.purpose:
        raise WrongPurpose(f"Staff handle this request only under the purpose {purpose}.")
    require_not_vetoed(customer_id=customer.pk, action=action, purpose=purpose)
    return False


def care_request_open_check(*, customer: Customer, kind: str) -> None:
    """Raise ``Restricted`` (queuing a ``denied`` row) if staff may not open a request of
    ``kind`` for ``customer`` now; the admin's form calls it to show a field error."""
    require_not_vetoed(
        customer_id=customer.pk, action=access.Action.CREATE, purpose=purpose_for_kind(kind)
    )


def _staff_check(request: CareRequest, *, action: str) -> None:
    require_purpose(request.purpose)
    require_not_vetoed(customer_id=request.customer_id, action=action, purpose=request.purpose)


@transaction.atomic
def care_request_open(*, customer: Customer, kind: str, subject: str, body: str) -> CareRequest:
    """Open a request for ``customer`` with its first message.

    The actor is the customer themself or a staff member opening it on their behalf under the
    request's purpose.
    """
    as_customer = _acting_as_customer(customer, purpose_for_kind(kind), action=access.Action.CREATE)
    ctx = require_purpose("", purpose_for_kind(kind))
    now = timezone.now()
    ack_due, due = deadlines(kind=kind, opened_at=now)
    request = CareRequest(
        customer=customer,
        kind=kind,
        subject=subject.strip(),
        opened_by=ctx.actor,
        created_at=now,
        acknowledge_due_at=ack_due,
        due_at=due,
    )
    request.full_clean()
    request.save()
    message = CareMessage(
        request=request, author=ctx.actor, from_staff=not as_customer, body=body.strip()
    )
    message.full_clean()
    message.save()
    access.access_record(subjects=[customer], action=access.Action.CREATE, fields=REQUEST_FIELDS)
    return request


@transaction.atomic
def care_message_add(*, request: CareRequest, body: str, internal: bool = False) -> CareMessage:
    """Add a message to ``request``: a customer's message, a staff reply or an internal note.

    A customer cannot write to a closed request; their message on a resolved one reopens it. A
    staff reply (not an internal note) acknowledges the request and puts a new one in progress.
    """
    as_customer = _acting_as_customer(
        request.customer, request.purpose, action=access.Action.CHANGE
    )
    ctx = require_purpose("", request.purpose)
    if as_customer and internal:
        raise ValidationError({"internal": _("Only staff can write internal notes.")})
    if as_customer and request.status == Status.CLOSED:
        raise ValidationError(
            {"body": _("This request is closed. Open a new request if you need more help.")}
        )
    now = timezone.now()
    message = CareMessage(
        request=request,
        author=ctx.actor,
        from_staff=not as_customer,
        internal=internal,
        body=body.strip(),
        created_at=now,
    )
    message.full_clean()
    message.save()
    if as_customer and request.status == Status.RESOLVED:
        request.status = Status.IN_PROGRESS
        request.resolved_at = None
    if not as_customer and not internal:
        if request.acknowledged_at is None:
            request.acknowledged_at = now
        if request.status == Status.NEW:
            request.status = Status.IN_PROGRESS
    request.save_tracked()
    access.access_record(
        subjects=[request.customer_id], action=access.Action.CHANGE, fields=MESSAGE_FIELDS
    )
    return message


@transaction.atomic
def care_request_set_status(*, request: CareRequest, status: str) -> CareRequest:
    """Move a request to ``status`` (staff only); see ``TRANSITIONS``."""
    _staff_check(request, action=access.Action.CHANGE)
    if status == request.status:
        return request
    if status not in TRANSITIONS.get(request.status, ()):
        raise ValidationError(
            {
                "status": _("A request that is %(old)s cannot become %(new)s.")
                % {"old": request.get_status_display(), "new": Status(status).label}
            }
        )
    now = timezone.now()
    if status == Status.IN_PROGRESS and request.acknowledged_at is None:
        request.acknowledged_at = now
    if status == Status.RESOLVED:
        request.resolved_at = now
    if status == Status.CLOSED:
        request.closed_at = now
        request.resolved_at = request.resolved_at or now
    if status == Status.IN_PROGRESS:
        request.resolved_at = None
        request.closed_at = None
    request.status = status
    request.save_tracked()
    access.access_record(
        subjects=[request.customer_id], action=access.Action.CHANGE, fields=("status",)
    )
    return request


def assignee_validate(*, request: CareRequest, assignee: User | None) -> None:
    """Raise a field error unless ``assignee`` is active staff who may work under the purpose."""
    if assignee is None:
        return
    if not (assignee.is_active and assignee.is_staff) or not user_may_declare(
        assignee, request.purpose
    ):
        raise ValidationError(
            {
                "assignee": _("This staff member may not handle %(kind)s requests.")
                % {"kind": request.get_kind_display()}
            }
        )


@transaction.atomic
def care_request_assign(*, request: CareRequest, assignee: User | None) -> CareRequest:
    """Assign the request to a staff member allowed to work under its purpose (or nobody)."""
    _staff_check(request, action=access.Action.CHANGE)
    assignee_validate(request=request, assignee=assignee)
    request.assignee = assignee
    if request.save_tracked():
        access.access_record(
            subjects=[request.customer_id], action=access.Action.CHANGE, fields=("assignee",)
        )
    return request
