r"""Seals over the access log, and their verification.

A seal covers the access-log rows with ids ``first_id``..``last_id`` (the row after the previous
seal up to a safe high-water mark). Each row is serialised canonically as one line of PostgreSQL's
COPY text format: the columns of ``CANONICAL_COLUMNS`` in that order, tab-separated, NULL as
``\N``, backslash, tab, newline, carriage return, backspace, form feed and vertical tab escaped,
times as UTC ISO 8601 with microseconds and ``Z``, IP addresses in their canonical text form,
UTF-8, lines in id order. On PostgreSQL the lines come straight from ``COPY (SELECT ...) TO
STDOUT`` (no per-row Python work, which is what makes verification fast); on SQLite
``canonical_line`` builds the identical bytes. The seal's digest is::

    SHA-256("excelcrm-accesslog-seal-v1\n" prev_digest "\n" first_id "\n" last_id "\n"
            row_count "\n" SHA-256(lines) "\n")

Sealing takes no lock on the access log and never waits on a request's locks: it reads committed
rows. The high-water mark is safe against transactions that took a lower id but commit later:
on PostgreSQL the sealer reads the largest visible id W, then the current snapshot's ``xmax`` X,
and seals up to W only once every other transaction of this database older than X has ended
(``pg_stat_activity.backend_xid``; the sealer must run as the portal's role, or a member of
``pg_read_all_stats``, to see the portal's sessions). Any transaction holding an id <= W drew it
before W was visible, so it had its transaction id before X was read. The sealer waits for that
at most ``AUDIT_SEAL_WAIT_SECONDS`` and otherwise seals nothing this run (the next run picks the
rows up). SQLite has one writer at a time, which commits before the next one inserts, so the
largest visible id is already safe.
"""

from __future__ import annotations

import datetime
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from consent.access import ACCESS_LOG_COLUMNS
from consent.models import AccessLog

from .models import GENESIS_DIGEST, Seal, Verification

CANONICAL_COLUMNS = ("id", *ACCESS_LOG_COLUMNS)
HEADER = b"excelcrm-accesslog-seal-v1\n"
# One sealer at a time (two cron runs overlapping would otherwise fork the chain); requests never
# take this lock.
SEAL_LOCK_KEY = 0x5EA1_A0D1
FETCH_SIZE = 20_000


_ESCAPES = str.maketrans(
    {"\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
)


def _utc_iso(value: Any) -> str:
    if isinstance(value, str):  # SQLite returns the stored text
        value = datetime.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    return str(value).translate(_ESCAPES)


def canonical_line(row: tuple) -> bytes:
    """Return the canonical serialisation of one access-log row (columns as CANONICAL_COLUMNS)."""
    values = [_text(v) for v in row]
    values[1] = _utc_iso(row[1])
    return ("\t".join(values) + "\n").encode()


# The same lines, produced by PostgreSQL itself.
_PG_SELECT = (
    "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor_id,"
    " customer_id, purpose, reference, action, fields, channel, request_id, host(ip_address),"
    " outcome FROM {table} WHERE id >= {first} AND id <= {last} ORDER BY id"
)


def _hash_rows(first_id: int, last_id: int) -> tuple[str, int]:
    """Return (SHA-256 of the canonical lines, number of rows) for ids first_id..last_id."""
    body = hashlib.sha256()
    count = 0
    table = AccessLog._meta.db_table
    if connection.vendor == "postgresql":
        query = _PG_SELECT.format(table=table, first=int(first_id), last=int(last_id))
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
                for block in copy:
                    data = bytes(block)
                    body.update(data)
                    count += data.count(b"\n")
        return body.hexdigest(), count
    columns = ", ".join(CANONICAL_COLUMNS)
    after = first_id - 1
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {table} WHERE id > %s AND id <= %s ORDER BY id LIMIT %s",
                [after, last_id, FETCH_SIZE],
            )
            chunk = cursor.fetchall()
        for row in chunk:
            body.update(canonical_line(row))
        count += len(chunk)
        if len(chunk) < FETCH_SIZE:
            return body.hexdigest(), count
        after = chunk[-1][0]


def compute_digest(*, prev_digest: str, first_id: int, last_id: int) -> tuple[str, int]:
    """Return (digest, row count) over the rows first_id..last_id chained to ``prev_digest``."""
    body_hex, count = _hash_rows(first_id, last_id)
    return _chain(prev_digest, first_id, last_id, count, body_hex), count


def _chain(prev_digest: str, first_id: int, last_id: int, count: int, body_hex: str) -> str:
    digest = hashlib.sha256(HEADER)
    digest.update(f"{prev_digest}\n{first_id}\n{last_id}\n{count}\n{body_hex}\n".encode())
    return digest.hexdigest()


def head() -> Seal | None:
    """Return the newest seal (the head of the chain), or None before the first seal."""
    return Seal.objects.order_by("-first_id").first()


def _safe_high_water_mark(wait_seconds: float) -> int | None:
    """Return the largest id that no in-flight transaction can still add a row below, or None."""
    table = AccessLog._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(id) FROM {table}")
        high = cursor.fetchone()[0]
        if high is None or connection.vendor != "postgresql":
            return high
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
        xmax = cursor.fetchone()[0]
        deadline = time.monotonic() + wait_seconds
        while True:
            # Another session of this database whose transaction id is older than X. (Sessions
            # of other databases on the cluster cannot write this table, so they do not count.)
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_xid IS NOT NULL"
                " AND age(backend_xid) > age((%s::bigint %% 4294967296)::text::xid))",
                [xmax],
            )
            if cursor.fetchone()[0]:
                return high
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)


@dataclass
class SealResult:
    seal: Seal | None
    reason: str = ""


def seal_audit_log(*, wait_seconds: float | None = None, max_rows: int | None = None) -> SealResult:
    """Seal the committed access-log rows after the last seal. Return the new seal (or None)."""
    if wait_seconds is None:
        wait_seconds = getattr(settings, "AUDIT_SEAL_WAIT_SECONDS", 30)
    high = _safe_high_water_mark(wait_seconds)
    if high is None:
        return SealResult(None, "no rows, or a transaction older than the wait is still open")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        previous = head()
        first_id = previous.last_id + 1 if previous else 1
        prev_digest = previous.digest if previous else GENESIS_DIGEST
        last_id = high
        if max_rows is not None:
            nth = (
                AccessLog.objects.filter(id__gte=first_id, id__lte=high)
                .order_by("id")
                .values_list("id", flat=True)[max_rows - 1 : max_rows]
            )
            last_id = next(iter(nth), high)
        if last_id < first_id:
            return SealResult(None, "nothing new to seal")
        digest, count = compute_digest(prev_digest=prev_digest, first_id=first_id, last_id=last_id)
        seal = Seal.objects.create(
            first_id=first_id,
            last_id=last_id,
            row_count=count,
            prev_digest=prev_digest,
            digest=digest,
        )
    return SealResult(seal)


@dataclass
class VerificationResult:
    ok: bool
    seals_checked: int
    rows_checked: int
    first_bad: Seal | None
    problem: str
    head_digest: str


def verify_seals(*, since: datetime.datetime | None = None) -> VerificationResult:
    """Recompute every seal (sealed at or after ``since``) in chain order; stop at the first bad."""
    seals = Seal.objects.order_by("first_id")
    previous: Seal | None = None
    if since is not None:
        previous = Seal.objects.filter(sealed_at__lt=since).order_by("-first_id").first()
        if previous is not None:
            seals = seals.filter(first_id__gt=previous.first_id)
    checked = rows = 0
    for seal in seals.iterator(chunk_size=500):
        problem = _check(seal, previous)
        if problem:
            current = head()
            return VerificationResult(
                False, checked, rows, seal, problem, current.digest if current else ""
            )
        checked += 1
        rows += seal.row_count
        previous = seal
    current = head()
    return VerificationResult(True, checked, rows, None, "", current.digest if current else "")


def _check(seal: Seal, previous: Seal | None) -> str:
    expected_first = previous.last_id + 1 if previous else 1
    expected_prev = previous.digest if previous else GENESIS_DIGEST
    # A gap or a broken link means a seal row was removed, inserted or edited.
    if seal.first_id != expected_first:
        return f"seal #{seal.pk} starts at id {seal.first_id}, expected {expected_first}"
    if seal.prev_digest != expected_prev:
        return f"seal #{seal.pk} does not chain to the previous seal's digest"
    digest, count = compute_digest(
        prev_digest=seal.prev_digest, first_id=seal.first_id, last_id=seal.last_id
    )
    if count != seal.row_count:
        return f"seal #{seal.pk} covers {count} rows now, {seal.row_count} when sealed"
    if digest != seal.digest:
        return f"seal #{seal.pk}: the rows {seal.first_id}..{seal.last_id} changed since sealing"
    return ""


@transaction.atomic
def verification_record(
    *, result: VerificationResult, actor: Any, channel: str, since: Any
) -> Verification:
    """Record a verification run (append-only) and return it."""
    return Verification.objects.create(
        at=timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        channel=channel,
        since=since,
        ok=result.ok,
        seals_checked=result.seals_checked,
        rows_checked=result.rows_checked,
        first_bad_seal_id=result.first_bad.pk if result.first_bad else None,
        problem=result.problem,
        head_digest=result.head_digest,
    )
