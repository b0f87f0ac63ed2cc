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

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import connection
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat
from django.utils.translation import gettext as _

from consent import access
from consent.admin_mixins import FORMULA_TRIGGERS, neutralize_cell
from consent.context import context_changed
from consent.masking import mask_value
from consent.models import AccessLog, AccessLogQuerySet

from .forms import AccessFilter
from .models import ReviewerActivity
from .timeline import (
    HistoryTrack,
    TimelineEvent,
    history_tracks,
    register_history_track,
    timeline_build,
)

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
    if flt.self_access is True:
        qs = qs.self_access()
    elif flt.self_access is False:
        qs = qs.staff_use()
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
    qs = access_log_filtered(flt).with_self_access()
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
    "self_access",
)
# Free-text cells (the reference is typed by staff, the request id comes from a request header):
# a spreadsheet must never read them as formulas.
FREE_TEXT_COLUMNS = ("reference", "fields", "request_id")


def _neutralized(name: str) -> Case:
    """Return column ``name`` with a ``'`` put before a value that could start a formula."""
    starts = Q()
    for trigger in FORMULA_TRIGGERS:
        starts |= Q(**{f"{name}__startswith": trigger})
    return Case(
        When(starts, then=Concat(Value("'"), F(name))),
        default=F(name),
        output_field=CharField(),
    )


def _self_access_text() -> Case:
    return Case(
        When(AccessLogQuerySet.self_access_condition(), then=Value("true")),
        default=Value("false"),
        output_field=CharField(),
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def access_log_csv(flt: AccessFilter, *, zone: str, chunk: int = 5000) -> Iterator[bytes]:
    """Yield the rows matching ``flt`` as CSV (``EXPORT_COLUMNS``), newest first, in blocks.

    On PostgreSQL the database writes the CSV itself (``COPY (query) TO STDOUT``), streamed block
    by block; elsewhere rows are read in keyset chunks and written with the csv module, in the
    same format (times as ISO 8601: UTC with ``Z``, local without offset). Free-text cells that
    a spreadsheet could read as a formula get a leading ``'``; ``self_access`` is ``true`` for a
    customer's own use of their data.
    """
    qs = access_log_filtered(flt)
    if connection.vendor == "postgresql":
        utc_format = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
        local_format = 'YYYY-MM-DD"T"HH24:MI:SS.US'
        rows = qs.annotate(
            time_utc=RawSQL("to_char(at AT TIME ZONE 'UTC', %s)", [utc_format]),
            time_local=RawSQL("to_char(at AT TIME ZONE %s, %s)", [zone, local_format]),
            ip=RawSQL("host(ip_address)", []),
            safe_reference=_neutralized("reference"),
            safe_fields=_neutralized("fields"),
            safe_request_id=_neutralized("request_id"),
            self_text=_self_access_text(),
        ).values_list(
            "id",
            "time_utc",
            "time_local",
            "actor_id",
            "customer_id",
            "purpose",
            "safe_reference",
            "action",
            "safe_fields",
            "channel",
            "safe_request_id",
            "ip",
            "outcome",
            "self_text",
        )
        sql, params = rows.query.get_compiler(connection=connection).as_sql()
        query = connection.ops.compose_sql(sql, params)
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
                for block in copy:
                    yield bytes(block)
        return
    local = ZoneInfo(zone)
    # "\r\n" so that the writer quotes a cell holding a CR (as COPY does); lines end in "\n".
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    columns = ("id", *access.ACCESS_LOG_COLUMNS)
    free = {columns.index(name) for name in FREE_TEXT_COLUMNS}
    after: tuple[datetime.datetime, int] | None = None
    while True:
        page = qs.with_self_access()
        if after is not None:
            page = page.filter(_before(*after))
        rows = list(page.values_list(*columns, "is_self")[:chunk])
        lines = []
        for row in rows:
            at = row[1]
            cells = [
                neutralize_cell(value) if i in free else ("" if value is None else value)
                for i, value in enumerate(row[:-1])
            ]
            lines.append(
                writer.writerow(
                    [
                        row[0],
                        at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        at.astimezone(local).strftime("%Y-%m-%dT%H:%M:%S.%f"),
                        *cells[2:],
                        "true" if row[-1] else "false",
                    ]
                )[:-2]
                + "\n"
            )
        yield "".join(lines).encode()
        if len(rows) < chunk:
            return
        after = (rows[-1][1], rows[-1][0])


def _before(at: datetime.datetime, pk: int) -> Q:
    """Rows after (at, pk) in newest-first order; ``at <= x`` first so an index range applies."""
    return Q(at__lte=at) & (Q(at__lt=at) | Q(id__lt=pk))


def actor_labels(actor_ids: Iterable[int | None]) -> dict[int, str]:
    """Return a label per actor id: a staff login's email, the system account as such (the
    scheduled commands' actor), customers' logins by id only."""
    ids = {pk for pk in actor_ids if pk}
    labels = {}
    system = settings.SYSTEM_ACTOR_EMAIL.strip().lower()
    for pk, email, is_staff in (
        get_user_model().objects.filter(pk__in=ids).values_list("pk", "email", "is_staff")
    ):
        if email.lower() == system:
            labels[pk] = _("system account (scheduled commands)")
        else:
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


def dossier_get(*, customer_id: int) -> tuple[Any, list[TimelineEvent]]:
    """Return the customer and their timeline, and log the reviewer's access (channel audit).

    Personal values are masked; the row names only what a source shows in clear (device
    permission states), and otherwise records that the reviewer looked at this customer's trail.
    Raises ``Customer.DoesNotExist`` (nothing is logged then).
    """
    from accounts.models import Customer

    customer = Customer.objects.select_related("user").get(pk=customer_id)
    events = timeline_build(customer)
    disclosed = sorted({name for event in events for name in event.discloses})
    access.access_record(
        subjects=[customer], action=access.Action.HISTORY, purpose="", fields=disclosed
    )
    return customer, events


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
    track: str = "customer"
    label: str = ""  # the record it changed, e.g. "licence #5" (empty for the account itself)
    personal: frozenset[str] = frozenset(PERSONAL_FIELDS)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name, _old, _new in self.values)

    @property
    def personal_fields(self) -> tuple[str, ...]:
        return tuple(name for name in self.fields if name in self.personal)

    def masked(self) -> tuple[tuple[str, str, str], ...]:
        return tuple(
            (name, self._mask(name, old), self._mask(name, new)) for name, old, new in self.values
        )

    def _mask(self, name: str, value: Any) -> str:
        if value in (None, ""):
            return ""
        return mask_value(name, value) if name in self.personal else str(value)


def _customer_records(customer: Any) -> QuerySet:
    from accounts.models import Customer

    return Customer.history.filter(id=customer.pk)


def _user_records(customer: Any) -> QuerySet:
    from accounts.models import User

    return User.history.filter(id=customer.user_id)


# The customer's own account and login; apps register their records' tracks the same way.
register_history_track(
    "customer",
    label="",
    records=_customer_records,
    fields=("business_name", "contact_person", "phone"),
    personal=PERSONAL_FIELDS,
)
register_history_track(
    "user",
    label="",
    records=_user_records,
    fields=("email", "language", "is_active", "is_staff", "is_superuser"),
    personal=PERSONAL_FIELDS,
)


def _shown(record: Any, name: str) -> str | None:
    """Return a tracked value as the dossier shows it: choices by label, relations by ``str``."""
    try:
        model_field = record._meta.get_field(name)
    except FieldDoesNotExist:
        model_field = None
    if model_field is not None and model_field.is_relation:
        if getattr(record, model_field.attname) is None:
            return None
        try:
            return str(getattr(record, name))
        except ObjectDoesNotExist:
            return f"#{getattr(record, model_field.attname)}"
    value = getattr(record, name)
    if value is None:
        return None
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)


def _changes(track: HistoryTrack, records: Iterable[Any]) -> Iterator[Change]:
    previous: dict[Any, Any] = {}
    for record in records:
        before = previous.get(record.id)
        values = []
        for name in track.fields:
            new = _shown(record, name)
            old = _shown(before, name) if before is not None else None
            if before is None and new in (None, ""):
                continue
            if before is None or old != new:
                values.append((name, "" if old is None else old, "" if new is None else new))
        yield Change(
            key=f"{track.name}:{record.history_id}",
            at=record.history_date,
            kind=record.history_type,
            actor_id=record.history_user_id,
            purpose=getattr(record, "history_purpose", ""),
            reference=getattr(record, "history_reference", ""),
            channel=getattr(record, "history_channel", ""),
            reason=record.history_change_reason or "",
            values=tuple(values),
            track=track.name,
            label=f"{track.label} #{record.id}" if track.label else "",
            personal=track.personal,
        )
        previous[record.id] = record


def customer_changes(customer: Any) -> list[Change]:
    """Return every history record of the customer's data (account, login and every registered
    track: licences, care requests, …), with the fields each one changed."""
    result: list[Change] = []
    for track in history_tracks().values():
        records = track.records(customer).order_by("history_date", "history_id")
        result.extend(_changes(track, records))
    return result


def change_reveal(*, customer: Any, key: str, reason: str) -> Change | None:
    """Return one change with its values in clear, logging the access under ``complaints``.

    The reviewer's reason becomes the access row's reference. Return None if ``key`` names no
    change of this customer (nothing is logged then).
    """
    change = next((c for c in customer_changes(customer) if c.key == key), None)
    if change is None:
        return None
    with context_changed(reference=reason[:200]):
        access.access_record(
            subjects=[customer],
            action=access.Action.VIEW,
            fields=change.personal_fields or change.fields,
            purpose=REVIEWER_PURPOSE,
        )
    return change
