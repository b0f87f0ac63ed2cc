"""Reads for the audit views: the access-log explorer, the customer dossier and reveals.

The explorer reads only the access log itself (ids, purposes, field names, never personal values)
and writes no access-log rows about itself; each search is recorded in the reviewer-activity trail
instead. The dossier shows a customer's data (masked) and logs an access for it (channel audit,
no purpose: oversight is not one of the five purposes); revealing one change's values logs an
access under ``complaints`` with the reviewer's reason as its reference.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from consent import access
from consent.context import require_context
from consent.masking import mask_value
from consent.models import AccessLog

from .forms import AccessFilter
from .models import ReviewerActivity

REVIEWER_PURPOSE = "complaints"
PERSONAL_FIELDS = ("contact_person", "phone", "email")


def access_log_filtered(flt: AccessFilter) -> QuerySet[AccessLog]:
    """Return the access-log rows matching ``flt``, newest first (no access is logged)."""
    qs = AccessLog.objects.all()
    for name, lookup in (
        ("customer_id", "customer_id"),
        ("actor_id", "actor_id"),
        ("purpose", "purpose"),
        ("action", "action"),
        ("outcome", "outcome"),
        ("channel", "channel"),
    ):
        value = getattr(flt, name)
        if value is not None:
            qs = qs.filter(**{lookup: value})
    if flt.start:
        qs = qs.filter(at__gte=flt.start)
    if flt.end:
        qs = qs.filter(at__lt=flt.end)
    return qs.order_by("-at", "-id")


@dataclass
class Page:
    rows: list[AccessLog]
    next_cursor: tuple[datetime.datetime, int] | None


def access_log_page(
    *, flt: AccessFilter, after: tuple[datetime.datetime, int] | None, size: int
) -> Page:
    """Return one page of the explorer: keyset pagination on (at, id), no COUNT over the table."""
    qs = access_log_filtered(flt)
    if after is not None:
        at, pk = after
        qs = qs.filter(_before(at, pk))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, (rows[-1].at, rows[-1].pk) if more and rows else None)


EXPORT_COLUMNS = (
    "id",
    "time_utc",
    "time_local",
    "actor_id",
    "customer_id",
    "purpose",
    "reference",
    "action",
    "fields",
    "channel",
    "request_id",
    "ip_address",
    "outcome",
)


class _Echo:
    def write(self, value: str) -> str:
        return value


def access_log_csv(flt: AccessFilter, *, zone: str, chunk: int = 5000) -> Iterator[bytes]:
    """Yield the rows matching ``flt`` as CSV (``EXPORT_COLUMNS``), newest first, in blocks.

    On PostgreSQL the database writes the CSV itself (``COPY (query) TO STDOUT``), streamed block
    by block; elsewhere rows are read in keyset chunks and written with the csv module, in the
    same format (times as ISO 8601: UTC with ``Z``, local without offset).
    """
    qs = access_log_filtered(flt)
    if connection.vendor == "postgresql":
        utc_format = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
        local_format = 'YYYY-MM-DD"T"HH24:MI:SS.US'
        rows = qs.annotate(
            time_utc=RawSQL("to_char(at AT TIME ZONE 'UTC', %s)", [utc_format]),
            time_local=RawSQL("to_char(at AT TIME ZONE %s, %s)", [zone, local_format]),
            ip=RawSQL("host(ip_address)", []),
        ).values_list(
            "id",
            "time_utc",
            "time_local",
            "actor_id",
            "customer_id",
            "purpose",
            "reference",
            "action",
            "fields",
            "channel",
            "request_id",
            "ip",
            "outcome",
        )
        sql, params = rows.query.get_compiler(connection=connection).as_sql()
        query = connection.ops.compose_sql(sql, params)
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
                for block in copy:
                    yield bytes(block)
        return
    local = ZoneInfo(zone)
    writer = csv.writer(_Echo(), lineterminator="\n")
    columns = ("id", *access.ACCESS_LOG_COLUMNS)
    after: tuple[datetime.datetime, int] | None = None
    while True:
        page = qs
        if after is not None:
            page = qs.filter(_before(*after))
        rows = list(page.values_list(*columns)[:chunk])
        lines = []
        for row in rows:
            at = row[1]
            lines.append(
                writer.writerow(
                    [
                        row[0],
                        at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        at.astimezone(local).strftime("%Y-%m-%dT%H:%M:%S.%f"),
                        *("" if value is None else value for value in row[2:]),
                    ]
                )
            )
        yield "".join(lines).encode()
        if len(rows) < chunk:
            return
        after = (rows[-1][1], rows[-1][0])


def _before(at: datetime.datetime, pk: int) -> Q:
    """Rows after (at, pk) in newest-first order; ``at <= x`` first so an index range applies."""
    return Q(at__lte=at) & (Q(at__lt=at) | Q(id__lt=pk))


def actor_labels(actor_ids: Iterable[int | None]) -> dict[int, str]:
    """Return a label per actor id: a staff login's email; customers' logins by id only."""
    ids = {pk for pk in actor_ids if pk}
    labels = {}
    for pk, email, is_staff in (
        get_user_model().objects.filter(pk__in=ids).values_list("pk", "email", "is_staff")
    ):
        labels[pk] = email if is_staff else _("customer login #%(id)s") % {"id": pk}
    return labels


def customer_names(customer_ids: Iterable[int | None]) -> dict[int, str]:
    """Return business names (not personal data) by customer id."""
    from accounts.models import Customer

    ids = {pk for pk in customer_ids if pk}
    return dict(Customer.objects.filter(pk__in=ids).values_list("pk", "business_name"))


def activity_list(*, before: int | None = None, size: int = 100) -> list[ReviewerActivity]:
    """Return the reviewer-activity trail, newest first (keyset on id)."""
    qs = ReviewerActivity.objects.select_related("actor").order_by("-id")
    if before:
        qs = qs.filter(id__lt=before)
    return list(qs[:size])


# --- The dossier -------------------------------------------------------------------------------


def dossier_customer_get(*, customer_id: int) -> Any:
    """Return the customer for the dossier and log the reviewer's access (channel audit).

    Only masked values are shown, so no field is disclosed; the row records that the reviewer
    looked at this customer's trail.
    """
    from accounts.models import Customer

    customer = Customer.objects.select_related("user").get(pk=customer_id)
    access.access_record(subjects=[customer], action=access.Action.HISTORY, purpose="")
    return customer


@dataclass(frozen=True)
class Change:
    """One history record of a customer's data, with what it changed."""

    key: str
    at: datetime.datetime
    kind: str  # "+", "~" or "-" (simple-history's history_type)
    actor_id: int | None
    purpose: str
    reference: str
    channel: str
    reason: str
    values: tuple[tuple[str, Any, Any], ...]  # (field, old, new) in clear

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name, _old, _new in self.values)

    def masked(self) -> tuple[tuple[str, str, str], ...]:
        return tuple((name, _mask(name, old), _mask(name, new)) for name, old, new in self.values)


def _mask(name: str, value: Any) -> str:
    if value in (None, ""):
        return ""
    return mask_value(name, value) if name in PERSONAL_FIELDS else str(value)


TRACKED = {
    "customer": ("business_name", "contact_person", "phone"),
    "user": ("email", "language", "is_active", "is_staff", "is_superuser"),
}


def _history_querysets(customer: Any) -> dict[str, QuerySet]:
    from accounts.models import Customer, User

    return {
        "customer": Customer.history.filter(id=customer.pk),
        "user": User.history.filter(id=customer.user_id),
    }


def _changes(prefix: str, records: Iterable[Any]) -> Iterator[Change]:
    previous = None
    for record in records:
        values = []
        for name in TRACKED[prefix]:
            new = getattr(record, name)
            old = getattr(previous, name) if previous is not None else None
            if previous is None and new in (None, ""):
                continue
            if previous is None or str(old) != str(new):
                values.append((name, "" if old is None else str(old), str(new)))
        yield Change(
            key=f"{prefix}:{record.history_id}",
            at=record.history_date,
            kind=record.history_type,
            actor_id=record.history_user_id,
            purpose=record.history_purpose,
            reference=record.history_reference,
            channel=record.history_channel,
            reason=record.history_change_reason or "",
            values=tuple(values),
        )
        previous = record


def customer_changes(customer: Any) -> list[Change]:
    """Return every history record of the customer's account and login, with changed fields."""
    result: list[Change] = []
    for prefix, qs in _history_querysets(customer).items():
        result.extend(_changes(prefix, qs.order_by("history_date", "history_id")))
    return result


def change_reveal(*, customer: Any, key: str, reason: str) -> Change | None:
    """Return one change with its values in clear, logging the access under ``complaints``.

    The reviewer's reason becomes the access row's reference. Return None if ``key`` names no
    change of this customer (nothing is logged then).
    """
    change = next((c for c in customer_changes(customer) if c.key == key), None)
    if change is None:
        return None
    ctx = require_context()
    ctx.reference = reason[:200]
    personal = [name for name in change.fields if name in PERSONAL_FIELDS]
    access.access_record(
        subjects=[customer],
        action=access.Action.VIEW,
        fields=personal or change.fields,
        purpose=REVIEWER_PURPOSE,
    )
    return change
