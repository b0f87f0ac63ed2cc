"""Reports over the access log for a period: weekly volume per purpose (as SVG), top actors,
denied attempts, bulk-access alerts and accesses under a purpose the actor was not granted.

Self-access (a customer acting on their own data: ``AccessLogQuerySet.self_access``) is shown
apart from staff use everywhere: its own series in the chart, never a top actor or a bulk-access
alert.

"Granted at that time" uses ``GrantSnapshot`` (see ``audit/grants.py``): for each access, the
actor's latest snapshot taken at or before the access. An allowed access with a purpose is
flagged when that snapshot does not hold the purpose, or when no snapshot existed yet. Two duties
of the reviewer's role use ``complaints`` without a group granting it: reveals in the audit
channel, and notifications of a personal-data breach (``notify`` rows, each matched by the
breach register's record of that customer notified by that reviewer).
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Concat, TruncHour, TruncWeek
from django.utils.translation import gettext as _

from consent.context import Channel
from consent.models import AccessLog, Purpose

from . import rollup
from .forms import local_zone
from .models import GrantSnapshot, HourlyActor, HourlyVolume
from .selectors import REVIEWER_PURPOSE

LIST_LIMIT = 100
TOP_ACTORS_IN_TWO_STEPS_AFTER = datetime.timedelta(days=92)
MAX_SUSPICIOUS_TRIPLES = 50
PALETTE = ["#0b5394", "#e69138", "#6aa84f", "#a64d79", "#cc0000", "#45818e", "#999999"]
SELF_ACCESS = rollup.SELF_ACCESS
# A breach notice is logged at most this long after the register recorded it (mail is slow).
BREACH_NOTICE_LAG = datetime.timedelta(hours=1)


class ReportTooSlow(Exception):
    """A figure's query ran past ``AUDIT_REPORT_QUERY_SECONDS`` and was cancelled."""


@contextmanager
def query_time_limit(seconds: float) -> Iterator[None]:
    """Cancel any query of the block that runs longer than ``seconds`` (PostgreSQL).

    Shorter than the web server's worker timeout (gunicorn: 30 s), so that a period too long to
    report on gets an answer that says so, not a killed worker. The block runs in a savepoint,
    which a cancelled query rolls back (the request's transaction, and what it wrote before,
    stay); afterwards the transaction's previous limit is back.
    """
    if connection.vendor != "postgresql" or not seconds:
        yield
        return
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('statement_timeout')")
                previous = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [f"{seconds * 1000:.0f}"]
                )
            yield
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
    except OperationalError as error:
        from psycopg.errors import QueryCanceled  # PostgreSQL only, as this path

        if isinstance(error.__cause__, QueryCanceled):
            raise ReportTooSlow from error
        raise


def _period(start: datetime.datetime, end: datetime.datetime) -> QuerySet[AccessLog]:
    return AccessLog.objects.filter(at__gte=start, at__lt=end)


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    label: str


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    legend: list[tuple[str, str]]
    weeks: list[tuple[float, str, int]]  # (x of label, week label, total)
    max_total: int
    empty: bool


def weekly_counts(
    start: datetime.datetime, end: datetime.datetime
) -> dict[datetime.date, dict[str, int]]:
    """Rows per local week (its Monday) and series: the rolled-up hours summed, the rest counted."""
    rolled, live = rollup.split_period(start, end)
    weeks: dict[datetime.date, dict[str, int]] = {}

    def add(rows: Any) -> None:
        for row in rows:
            counts = weeks.setdefault(row["week"].date(), {})
            counts[row["series"]] = counts.get(row["series"], 0) + row["n"]

    if rolled:
        add(
            HourlyVolume.objects.filter(hour__gte=rolled[0], hour__lt=rolled[1])
            .annotate(week=TruncWeek("hour", tzinfo=local_zone()))
            .values("week", "series")
            .annotate(n=Sum("accesses"))
            .order_by()
        )
    for first, last in live:
        add(
            _period(first, last)
            .annotate(week=TruncWeek("at", tzinfo=local_zone()), series=rollup.series())
            .values("week", "series")
            .annotate(n=Count("id"))
            .order_by()
        )
    return weeks


def weekly_by_purpose(start: datetime.datetime, end: datetime.datetime) -> Chart:
    """Return a stacked bar chart (one bar per week, one colour per purpose) laid out for SVG.

    Rows without a purpose make two series: self-access, and the rest (reviewers' oversight and
    system work).
    """
    weeks = weekly_counts(start, end)
    names = {p.code: p.name for p in Purpose.objects.all()}
    names[SELF_ACCESS] = _("self-access (customers' own use)")
    names[""] = _("no purpose (oversight and system)")
    codes = list(names)
    colors = {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(codes)}
    width, height, left, bottom, top = 720, 260, 50, 30, 10
    plot_h = height - bottom - top
    max_total = max((sum(v.values()) for v in weeks.values()), default=0)
    slot = (width - left) / max(len(weeks), 1)
    bars, labels = [], []
    for i, (week, counts) in enumerate(sorted(weeks.items())):
        x = left + i * slot + slot * 0.15
        y = float(height - bottom)
        for code in codes:
            n = counts.get(code, 0)
            if not n:
                continue
            h = plot_h * n / max_total
            y -= h
            label = names.get(code, "—")
            bars.append(Bar(x, y, slot * 0.7, h, colors[code], f"{week:%Y-%m-%d} {label}: {n}"))
        labels.append((x + slot * 0.35, f"{week:%d/%m}", sum(counts.values())))
    legend = [(colors[code], names.get(code, "—")) for code in codes]
    return Chart(width, height, bars, legend, labels, max_total, not weeks)


def top_actors(start: datetime.datetime, end: datetime.datetime) -> list[dict[str, Any]]:
    """Return actors by number of distinct customers accessed, most first (self-access excluded).

    Over a period longer than ``TOP_ACTORS_IN_TWO_STEPS_AFTER``, counted in two steps, (actor,
    customer) pairs first and then pairs per actor, which PostgreSQL runs as two hash aggregates
    instead of sorting every row of the period by actor and customer (``COUNT(DISTINCT)``). At 10M
    rows a year: one year 17-19 s instead of 31-33 s; but 8 weeks 1.9-2.4 s instead of 1.1-1.6 s,
    hence the threshold. Both give the same rows (``tests/audit/test_rollup.py``).
    """
    staff = _period(start, end).staff_use(for_aggregates=True).exclude(actor_id=None)
    if end - start <= TOP_ACTORS_IN_TWO_STEPS_AFTER:
        return list(
            staff.values("actor_id")
            .annotate(customers=Count("customer_id", distinct=True), accesses=Count("id"))
            .order_by("-customers", "actor_id")[:20]
        )
    pairs = staff.values("actor_id", "customer_id").annotate(n=Count("id")).order_by()
    sql, params = pairs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT "pairs"."actor_id", COUNT("pairs"."customer_id") AS "customers",'
            ' SUM("pairs"."n") AS "accesses"'
            f' FROM ({sql}) "pairs" GROUP BY "pairs"."actor_id"'
            ' ORDER BY "customers" DESC, "pairs"."actor_id" LIMIT 20',
            params,
        )
        return [
            {"actor_id": actor, "customers": customers, "accesses": int(accesses)}
            for actor, customers, accesses in cursor.fetchall()
        ]


def denied_attempts(start: datetime.datetime, end: datetime.datetime) -> list[AccessLog]:
    """Return the newest refused attempts in the period."""
    return list(_period(start, end).filter(outcome=AccessLog.Outcome.DENIED)[:LIST_LIMIT])


def bulk_access_alerts(start: datetime.datetime, end: datetime.datetime) -> list[dict[str, Any]]:
    """Return (actor, hour) pairs where the actor accessed more than N distinct customers.

    Hours are clock hours in the display time zone; N is ``AUDIT_BULK_ACCESS_THRESHOLD``.
    Self-access is not counted.
    """
    threshold = settings.AUDIT_BULK_ACCESS_THRESHOLD
    rolled, live = rollup.split_period(start, end)
    alerts: list[dict[str, Any]] = []
    if rolled:
        alerts += [
            {**row, "hour": row["hour"].astimezone(local_zone())}
            for row in HourlyActor.objects.filter(
                hour__gte=rolled[0], hour__lt=rolled[1], customers__gt=threshold
            )
            .values("actor_id", "hour", "customers")
            .order_by("-hour", "-customers", "actor_id")[:LIST_LIMIT]
        ]
    for first, last in live:
        alerts += (
            _period(first, last)
            .staff_use(for_aggregates=True)
            .exclude(actor_id=None)
            .annotate(hour=TruncHour("at", tzinfo=local_zone()))
            .values("actor_id", "hour")
            .annotate(customers=Count("customer_id", distinct=True))
            .filter(customers__gt=threshold)
            .order_by("-hour", "-customers", "actor_id")[:LIST_LIMIT]
        )
    alerts.sort(key=lambda row: (-row["hour"].timestamp(), -row["customers"], row["actor_id"]))
    return alerts[:LIST_LIMIT]


def _granted_throughout(
    snapshots: list[GrantSnapshot],
    start: datetime.datetime,
    end: datetime.datetime,
    purpose: str,
    channel: str,
) -> bool:
    """Return True if every snapshot in force during [start, end) grants ``purpose``."""
    in_force = [s for s in snapshots if s.at < end]
    before = [s for s in in_force if s.at <= start]
    relevant = before[-1:] + [s for s in in_force if s.at > start]
    if not relevant or relevant[0].at > start:
        return False  # part of the period has no grant on record
    reviewer_reveal = channel == Channel.AUDIT and purpose == REVIEWER_PURPOSE
    return all(
        f",{purpose}," in s.purposes or (reviewer_reveal and s.is_reviewer) for s in relevant
    )


def _breach_notice() -> Q:
    """Return the condition of a lawful breach notification by a reviewer.

    ``rights`` logs the emails to the customers a breach concerns as ``notify`` under
    ``complaints`` (it must reach them even under a restriction); a row is accepted only when the
    breach register recorded that customer notified by that very actor shortly before, and the
    actor was a reviewer at that time.
    """
    if not apps.is_installed("rights"):
        return Q(pk__in=[])
    notification = apps.get_model("rights", "BreachNotification")
    recorded = notification.objects.filter(
        customer_id=OuterRef("customer_id"),
        notified_by_id=OuterRef("actor_id"),
        notified_at__lte=OuterRef("at"),
        notified_at__gte=OuterRef("at") - BREACH_NOTICE_LAG,
    )
    # ``granted_reviewer`` is annotated by ``ungranted_accesses`` (the snapshot in force).
    return Q(
        Exists(recorded),
        purpose=REVIEWER_PURPOSE,
        action=AccessLog.Action.NOTIFY,
        granted_reviewer=True,
    )


def ungranted_accesses(start: datetime.datetime, end: datetime.datetime) -> list[Any]:
    """Return allowed accesses whose purpose the actor was not granted at that time.

    First the distinct (actor, purpose, channel) triples of the period are checked against the
    actors' snapshots in Python; only triples not granted throughout the period are looked up row
    by row (each row joined to the snapshot in force at its time).
    """
    base = (
        _period(start, end)
        .filter(outcome=AccessLog.Outcome.ALLOWED)
        .exclude(purpose="")
        .exclude(actor_id=None)
    )
    # No ordering: the model orders by (at, id), which DISTINCT would otherwise include.
    triples = list(base.order_by().values_list("actor_id", "purpose", "channel").distinct())
    snapshots: dict[int, list[GrantSnapshot]] = {}
    for snap in GrantSnapshot.objects.filter(
        user_id__in={actor for actor, _p, _c in triples}, at__lt=end
    ).order_by("at", "id"):
        snapshots.setdefault(snap.user_id, []).append(snap)
    suspicious = [
        Q(actor_id=actor, purpose=purpose, channel=channel)
        for actor, purpose, channel in triples
        if not _granted_throughout(snapshots.get(actor, []), start, end, purpose, channel)
    ]
    if not suspicious:
        return []
    if len(suspicious) <= MAX_SUSPICIOUS_TRIPLES:
        base = base.filter(reduce(operator.or_, suspicious))
    # Beyond that many, the row-by-row check runs on the whole period: with that many ungranted
    # triples, the newest LIST_LIMIT flagged rows are found long before the period's end.
    snapshot = GrantSnapshot.objects.filter(
        user_id=OuterRef("actor_id"), at__lte=OuterRef("at")
    ).order_by("-at", "-id")
    reviewer_reveal = Q(channel=Channel.AUDIT, purpose=REVIEWER_PURPOSE, granted_reviewer=True)
    return list(
        base.annotate(
            # No snapshot before the access: nothing was granted (flagged, shown as such).
            granted=Coalesce(Subquery(snapshot.values("purposes")[:1]), Value("")),
            granted_reviewer=Coalesce(Subquery(snapshot.values("is_reviewer")[:1]), Value(False)),
            needle=Concat(Value(","), F("purpose"), Value(",")),
        )
        .exclude(granted__contains=F("needle"))
        .exclude(reviewer_reveal)
        .exclude(_breach_notice())
        .order_by("-at", "-id")[:LIST_LIMIT]
    )
