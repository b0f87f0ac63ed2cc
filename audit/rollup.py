"""Hourly figures of the access log, so that reports over long periods sum hours, not rows.

Two tables, one row per clock hour (UTC) and key: ``HourlyVolume`` (rows per series of the weekly
chart: a purpose, no purpose, or self-access) and ``HourlyActor`` (staff use per actor: distinct
customers and accesses, for the bulk-access alerts). ``RollupState.through`` says how far they
reach: every hour before it is rolled up, once, by ``rollup_audit_log`` (run it after each seal).

An hour is rolled up only when no row can still be added to it. A row's time is taken inside the
transaction that writes it, moments before the write, so an hour is final once it ended
``AUDIT_ROLLUP_MARGIN_MINUTES`` ago and, on PostgreSQL, no other transaction of this database that
began before its end (plus that margin) is still open: run it as the portal's role, or a member of
``pg_read_all_stats`` (as the sealer), or other roles' transactions are invisible to that check.
The access log is append-only, so a
final hour never changes. Reports (``audit/reports.py``) read the rolled-up hours of their period
and count the rest from the log itself, so a figure is the same whether or not, and however far,
the rollup has run; they use it only while the display time zone's offset from UTC is a whole
number of hours (Asia/Ho_Chi_Minh: +7), so that local hours and weeks are unions of UTC hours.

The figures are derived data, not evidence: the sealed access log is. ``--rebuild`` recomputes
them from the log.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Min, Value, When
from django.db.models.functions import TruncHour
from django.utils import timezone

from consent.models import AccessLog, AccessLogQuerySet

from .forms import local_zone
from .models import HourlyActor, HourlyVolume, RollupState

UTC = datetime.UTC
HOUR = datetime.timedelta(hours=1)
CHUNK = datetime.timedelta(days=1)
# The chart's series for self-access (never a purpose code: codes are slugs).
SELF_ACCESS = "~self"


def series() -> Case:
    """The weekly chart's series of a row: self-access, else its purpose ("" for none)."""
    return Case(
        When(AccessLogQuerySet.self_access_condition(for_aggregates=True), then=Value(SELF_ACCESS)),
        default=F("purpose"),
        output_field=CharField(),
    )


def floor_hour(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime.datetime) -> datetime.datetime:
    start = floor_hour(moment)
    return start if start == moment else start + HOUR


def rollup_through() -> datetime.datetime | None:
    """The end of the rolled-up hours, or None before the first rollup."""
    return RollupState.objects.values_list("through", flat=True).first()


def _whole_hour_offsets(*moments: datetime.datetime) -> bool:
    zone = local_zone()
    return all(moment.astimezone(zone).utcoffset() % HOUR == datetime.timedelta(0)
               for moment in moments)


def split_period(
    start: datetime.datetime, end: datetime.datetime
) -> tuple[tuple[datetime.datetime, datetime.datetime] | None,
           list[tuple[datetime.datetime, datetime.datetime]]]:
    """Split [start, end) into the whole hours the rollup holds and the parts to count live."""
    through = rollup_through()
    if through is None or not _whole_hour_offsets(start, end):
        return None, [(start, end)]
    first, last = ceil_hour(start), min(floor_hour(end), through)
    if first >= last:
        return None, [(start, end)]
    live = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
    return (first, last), live


def _final_until(now: datetime.datetime) -> datetime.datetime:
    """The end of the hours no row can still be added to."""
    margin = datetime.timedelta(minutes=settings.AUDIT_ROLLUP_MARGIN_MINUTES)
    until = now - margin
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Statistics views are read once per transaction unless the snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT min(xact_start) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND xact_start IS NOT NULL"
            )
            oldest = cursor.fetchone()[0]
        if oldest is not None:
            until = min(until, oldest - margin)
    return floor_hour(until)


def _roll(first: datetime.datetime, last: datetime.datetime) -> int:
    """Write the hourly rows of [first, last); return how many."""
    rows = AccessLog.objects.filter(at__gte=first, at__lt=last)
    volume = (
        rows.annotate(hour=TruncHour("at", tzinfo=UTC), series=series())
        .values("hour", "series")
        .annotate(n=Count("id"))
        .order_by()
    )
    actors = (
        rows.staff_use(for_aggregates=True)
        .exclude(actor_id=None)
        .annotate(hour=TruncHour("at", tzinfo=UTC))
        .values("actor_id", "hour")
        .annotate(customers=Count("customer_id", distinct=True), accesses=Count("id"))
        .order_by()
    )
    written = HourlyVolume.objects.bulk_create(
        HourlyVolume(hour=r["hour"], series=r["series"], accesses=r["n"]) for r in volume
    )
    written += HourlyActor.objects.bulk_create(
        HourlyActor(hour=r["hour"], actor_id=r["actor_id"], customers=r["customers"],
                    accesses=r["accesses"])
        for r in actors
    )
    return len(written)


@dataclass
class RollupResult:
    hours: int  # hours rolled up in this run
    rows: int  # hourly rows written
    through: datetime.datetime | None
    reason: str = ""


def rollup_audit_log(
    *, now: datetime.datetime | None = None, rebuild: bool = False, max_days: int | None = None
) -> RollupResult:
    """Roll up every final hour after ``RollupState.through`` (all of them with ``rebuild``).

    Works a day at a time, each day in its own transaction with the state row locked, so two
    runs never write the same hour and an interrupted run keeps the days it finished.
    """
    now = now or timezone.now()
    if rebuild:
        with transaction.atomic():
            HourlyVolume.objects.all().delete()
            HourlyActor.objects.all().delete()
            RollupState.objects.all().delete()
    until = _final_until(now)
    hours = rows = days = 0
    last = rollup_through()
    while max_days is None or days < max_days:
        with transaction.atomic():
            state = RollupState.objects.select_for_update().first()
            if state is None:
                earliest = AccessLog.objects.aggregate(at=Min("at"))["at"]
                if earliest is None:
                    return RollupResult(hours, rows, None, "the access log is empty")
                state, _created = RollupState.objects.get_or_create(
                    pk=1, defaults={"through": floor_hour(earliest)}
                )
                state = RollupState.objects.select_for_update().get(pk=state.pk)
            first = state.through
            if first >= until:
                reason = "" if hours else "every final hour is rolled up"
                return RollupResult(hours, rows, first, reason)
            last = min(first + CHUNK, until)
            rows += _roll(first, last)
            hours += int((last - first) / HOUR)
            state.through, state.updated_at = last, timezone.now()
            state.save(update_fields=["through", "updated_at"])
        days += 1
    return RollupResult(hours, rows, last, "stopped after --max-days")
