"""Reads for data-subject rights: requests, restrictions, the customer's access log and export."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.db.models import Count, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from consent import access
from consent.models import AccessLog, ConsentRecord, PolicyVersion, Purpose
from consent.purposes import ACCOUNT_MANAGEMENT, COMPLIANCE_REVIEWER, SUPPORT

from .models import DataSubjectRequest

Kind = DataSubjectRequest.Kind
Status = DataSubjectRequest.Status

# A restriction stands from the moment it is filed until it is rejected or withdrawn.
RESTRICTION_STANDING = (Status.RECEIVED, Status.ACKNOWLEDGED, Status.COMPLETED)
# Purposes still allowed on a restricted customer's data.
RESTRICTION_EXEMPT_PURPOSES = frozenset({"complaints"})


def _policy_pending(**customer: Any) -> bool:
    """The re-acceptance rule, in one query: the customer accepted the policy at some point (so
    not a customer from before consent records) but not its newest version."""
    newest = PolicyVersion.objects.order_by("-effective_date", "-published_at").values("pk")[:1]
    counts = ConsentRecord.objects.filter(
        purpose__isnull=True, kind=ConsentRecord.Kind.ACCEPTED, **customer
    ).aggregate(
        accepted=Count("pk"),
        current=Count("pk", filter=Q(policy_version=Subquery(newest))),
    )
    return counts["accepted"] > 0 and counts["current"] == 0


def needs_policy_acceptance(user: Any) -> bool:
    """Return True if ``user`` is a customer who has not accepted the current policy version."""
    if not getattr(user, "is_authenticated", False) or user.is_staff:
        return False
    return _policy_pending(customer__user=user)


def customer_needs_policy_acceptance(*, customer_id: int) -> bool:
    """Return True if this customer must accept the current policy version first.

    The app API's hot path (``devices.selectors.device_find_by_token``) computes the same rule
    inside its one query; a test holds the two together.
    """
    return _policy_pending(customer_id=customer_id)


def restricted_customer_ids(customer_ids: Iterable[int]) -> set[int]:
    """Return those of ``customer_ids`` under a standing restriction request."""
    ids = {int(pk) for pk in customer_ids if pk is not None}
    if not ids:
        return set()
    return set(
        DataSubjectRequest.objects.filter(
            customer_id__in=ids, kind=Kind.RESTRICTION, status__in=RESTRICTION_STANDING
        ).values_list("customer_id", flat=True)
    )


def restriction_veto(*, customer_ids: Iterable[int], purpose: str | None) -> set[int]:
    """Return the customers whose data may NOT be used under ``purpose`` (restriction in force)."""
    if purpose in RESTRICTION_EXEMPT_PURPOSES:
        return set()
    return restricted_customer_ids(customer_ids)


def request_list_for_customer(*, customer: Any) -> QuerySet[DataSubjectRequest]:
    """Return the customer's own requests, newest first (their own data: no access row)."""
    return DataSubjectRequest.objects.filter(customer=customer)


def request_open_of_kind(*, customer: Any, kind: str) -> DataSubjectRequest | None:
    return (
        DataSubjectRequest.objects.filter(
            customer=customer, kind=kind, status__in=DataSubjectRequest.OPEN_STATUSES
        )
        .order_by("-filed_at")
        .first()
    )


_ROLE_LABELS = {
    SUPPORT: lambda: pgettext("staff role", "Support"),
    ACCOUNT_MANAGEMENT: lambda: pgettext("staff role", "Account management"),
    COMPLIANCE_REVIEWER: lambda: pgettext("staff role", "Compliance reviewer"),
}


def staff_roles(actor_ids: Iterable[int]) -> dict[int, str]:
    """Return each actor's role, named by their groups (never their name or email)."""
    from accounts.models import User

    ids = {pk for pk in actor_ids if pk is not None}
    roles: dict[int, list[str]] = {pk: [] for pk in ids}
    memberships = Group.objects.filter(user__in=ids).values_list("user", "name")
    for user_id, name in memberships:
        label = _ROLE_LABELS.get(name)
        roles[user_id].append(str(label()) if label else name)
    superusers = set(
        User.objects.filter(pk__in=ids, is_superuser=True).values_list("pk", flat=True)
    )
    result = {}
    for pk, names in roles.items():
        if not names:
            names = (
                [pgettext("staff role", "Administrator")]
                if pk in superusers
                else [pgettext("staff role", "Staff")]
            )
        result[pk] = ", ".join(sorted(names))
    return result


_FIELD_LABELS = {
    "contact_person": lambda: _("contact person"),
    "phone": lambda: _("phone number"),
    "email": lambda: _("email"),
    "reason": lambda: _("your request's text"),
    "response": lambda: _("our answer"),
}


def field_labels(fields: str) -> str:
    """Return the comma-separated field names of an access-log row as words of the language."""
    names = [name for name in fields.split(",") if name]
    return ", ".join(str(_FIELD_LABELS[n]()) if n in _FIELD_LABELS else n for n in names)


def purpose_names() -> dict[str, str]:
    """Return each purpose code's name in the active language."""
    return {p.code: p.name for p in Purpose.objects.all()}


def access_log_for_customer(*, customer: Any, self_access: bool) -> QuerySet[AccessLog]:
    """Return the access-log rows about ``customer``: their own accesses, or everybody else's."""
    rows = AccessLog.objects.filter(customer_id=customer.pk)
    own = {"actor_id": customer.user_id, "purpose": ""}
    return rows.filter(**own) if self_access else rows.exclude(**own)


def describe_access_rows(rows: Iterable[AccessLog]) -> list[dict[str, Any]]:
    """Return rows ready to show: local time, purpose name, action label, staff role."""
    rows = list(rows)
    names = purpose_names()
    roles = staff_roles(row.actor_id for row in rows)
    return [
        {
            "at": timezone.localtime(row.at),
            "purpose": names.get(row.purpose, row.purpose),
            "purpose_code": row.purpose,
            "action": row.get_action_display(),
            "action_code": row.action,
            "fields": row.fields,
            "fields_display": field_labels(row.fields),
            "channel": row.channel,
            "outcome": row.get_outcome_display(),
            "outcome_code": row.outcome,
            "role": roles.get(row.actor_id, "") if row.actor_id else _("System"),
        }
        for row in rows
    ]


def customer_own(*, user: Any) -> Any:
    """Return the signed-in user's customer account (no access row: callers log what they show);
    raise ``Customer.DoesNotExist`` for a login without one."""
    from accounts.models import Customer
    from accounts.selectors import customer_of

    customer = customer_of(user)
    if customer is None:
        raise Customer.DoesNotExist
    return customer


def customer_export(*, customer: Any) -> dict[str, Any]:
    """Return everything stored about ``customer`` as plain data; log a self-access ``export``.

    The fields are documented in docs/DATA-EXPORT.md.
    """
    from .export import export_sections

    data: dict[str, Any] = {
        "format": "excelcrm-personal-data",
        "format_version": 1,
        "generated_at": timezone.now().isoformat(),
    }
    fields: set[str] = set()
    for name, section in export_sections():
        value, disclosed = section(customer)
        data[name] = value
        fields.update(disclosed)
    access.access_record(subjects=[customer], action=access.Action.EXPORT, fields=fields)
    return data


def my_data_sections(*, customer: Any) -> list[dict[str, Any]]:
    """Return the other apps' sections of My data (devices, licences, …); log a self-access view.

    Each section is ``{"name", "title", "template", "value"}`` (see ``rights.export``).
    """
    from .export import export_sections, page_sections

    shown = {spec["name"] for spec in page_sections({n: None for n, _ in export_sections()})}
    data: dict[str, Any] = {}
    fields: set[str] = set()
    for name, section in export_sections():
        if name in shown:
            data[name], disclosed = section(customer)
            fields.update(disclosed)
    if fields:
        access.access_record(subjects=[customer], action=access.Action.VIEW, fields=fields)
    return page_sections(data)
