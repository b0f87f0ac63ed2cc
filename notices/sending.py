"""The exactly-once sending loop shared by renewal notices and update notices.

For each batch of recipients (``NOTICES_BATCH_SIZE``, 2,000):

1. **Claim** — insert one ``Notice`` per recipient with ``status=claimed`` and this run's id,
   ignoring rows that the unique constraints reject (another run got there first), and take over
   notices that are ``failed`` or whose claim is stale (older than ``NOTICES_STALE_CLAIM_MINUTES``,
   left by a run that crashed). Each claim is committed before any mail leaves, so two runs at
   once never both own a notice.
2. **Send** the claimed ones, one message at a time, over one mail connection.
3. **Mark** them ``sent`` or ``failed`` and write one access-log row (action ``notify``) per sent
   notice, in one short transaction per sub-batch: every ``NOTICES_MARK_EVERY`` (20) messages or
   ``NOTICES_MARK_SECONDS`` (1 s), whichever comes first, and once more when the loop stops,
   an exception included.

Sending and marking cannot be one transaction. A run killed outright (SIGKILL, power loss)
between 2 and 3 leaves the notices of the sub-batch in flight ``claimed``; they are retried once
their claim is stale, so at most ``NOTICES_MARK_EVERY`` messages (or one second's worth) may be
sent twice, and nothing is lost. A mark and its access-log rows commit together, so every notice
marked sent has its row.
"""

from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from tqdm import tqdm

from consent import access
from consent.context import Channel, access_context
from licensing.work import system_actor

from .models import Notice


@dataclass
class Recipient:
    """One message to send: its claim (the ``Notice`` column values) and what the message needs."""

    claim: dict[str, Any]
    email: str
    context: dict[str, Any]


@dataclass
class RunSummary:
    """What one run did."""

    run_id: str
    due: int = 0
    sent: int = 0
    failed: int = 0
    # Sent by an earlier run (counted, not sent again).
    already_sent: int = 0
    # Claimed by another run that is still working (or crashed less than the stale time ago).
    skipped_already: int = 0
    skipped_consent: int = 0
    # Customers under a data-subject restriction (an access veto forbids the purpose).
    skipped_restricted: int = 0
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return (
            self.already_sent
            + self.skipped_already
            + self.skipped_consent
            + self.skipped_restricted
        )


def new_run_id() -> str:
    return uuid.uuid4().hex


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def stale_before() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=settings.NOTICES_STALE_CLAIM_MINUTES)


# The columns that make a notice unique, and the indexed one used to find a batch's notices.
RENEWAL_KEY = ("licence_id", "licence_expires_on", "window_days")
UPDATE_KEY = ("announcement_id", "customer_id")
_LOOKUP = {RENEWAL_KEY: "licence_id", UPDATE_KEY: "customer_id"}


def _retryable() -> Q:
    return Q(status=Notice.Status.FAILED) | Q(
        status=Notice.Status.CLAIMED, claimed_at__lt=stale_before()
    )


def claim(
    *, recipients: Sequence[Recipient], run_id: str, key: tuple[str, ...]
) -> dict[tuple, int]:
    """Claim a notice for each recipient; return {key values: notice id} of those this run owns.

    ``key`` names the Notice columns of its unique constraint (``RENEWAL_KEY``, ``UPDATE_KEY``).
    New notices are inserted (conflicts skipped); failed and stale ones with exactly these keys
    are taken over by an UPDATE whose condition PostgreSQL re-checks under the row lock, so two
    runs never both take one.
    """
    lookup = _LOOKUP[key]
    wanted = {tuple(r.claim[name] for name in key) for r in recipients}
    near = {f"{lookup}__in": [r.claim[lookup] for r in recipients]}
    now = timezone.now()
    with transaction.atomic():
        _insert_claims([r.claim for r in recipients])
        retry = [
            row[0]
            for row in Notice.objects.filter(_retryable(), **near)
            .exclude(run_id=run_id)
            .values_list("pk", *key)
            if tuple(row[1:]) in wanted
        ]
        if retry:
            Notice.objects.filter(_retryable(), pk__in=retry).update(
                status=Notice.Status.CLAIMED,
                run_id=run_id,
                claimed_at=now,
                attempts=F("attempts") + 1,
            )
    owned = Notice.objects.filter(run_id=run_id, status=Notice.Status.CLAIMED, **near)
    return {
        tuple(row[1:]): row[0] for row in owned.values_list("pk", *key) if tuple(row[1:]) in wanted
    }


_CLAIM_COLUMNS = [
    ("customer_id", "bigint"),
    ("purpose", "text"),
    ("template", "text"),
    ("language", "text"),
    ("licence_id", "bigint"),
    ("licence_expires_on", "date"),
    ("window_days", "integer"),
    ("announcement_id", "bigint"),
    ("status", "text"),
    ("run_id", "text"),
    ("claimed_at", "timestamptz"),
    ("attempts", "integer"),
    ("error", "text"),
]


def _insert_claims(claims: list[dict[str, Any]]) -> None:
    """Insert the claims, skipping those a unique constraint rejects (already claimed).

    On PostgreSQL one ``INSERT … SELECT unnest(…) ON CONFLICT DO NOTHING`` per batch (the ORM's
    multi-row INSERT spends most of its time building SQL for thousands of rows).
    """
    now = timezone.now()
    defaults = {
        "status": Notice.Status.CLAIMED,
        "claimed_at": now,
        "attempts": 1,
        "error": "",
        "licence_id": None,
        "licence_expires_on": None,
        "window_days": None,
        "announcement_id": None,
    }
    rows = [{**defaults, **claim} for claim in claims]
    if connection.vendor != "postgresql":
        Notice.objects.bulk_create([Notice(**row) for row in rows], ignore_conflicts=True)
        return
    names = ", ".join(name for name, _ in _CLAIM_COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for _, kind in _CLAIM_COLUMNS)
    values = [[row[name] for row in rows] for name, _ in _CLAIM_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Notice._meta.db_table} ({names}) SELECT * FROM unnest({arrays})"
            " ON CONFLICT DO NOTHING",
            values,
        )


def mark_every() -> int:
    """Return how many sent messages a sub-batch mark covers at most (``NOTICES_MARK_EVERY``)."""
    return max(1, settings.NOTICES_MARK_EVERY)


def mark_seconds() -> float:
    """Return the longest time a sent message waits for its mark (``NOTICES_MARK_SECONDS``)."""
    return settings.NOTICES_MARK_SECONDS


class _Marks:
    """The sent and failed notices of a sub-batch, marked together in one short commit."""

    def __init__(self, *, actor: Any, purpose: str, fields: Sequence[str], reference: str):
        self.actor, self.purpose, self.fields, self.reference = actor, purpose, fields, reference
        self.sent: list[tuple[int, int]] = []
        self.failed: dict[int, str] = {}
        self.since = time.monotonic()
        self.every, self.seconds = mark_every(), mark_seconds()
        self.total_sent = self.total_failed = 0
        self.errors: list[str] = []

    def due(self) -> bool:
        waiting = len(self.sent) + len(self.failed)
        return waiting >= self.every or (
            waiting > 0 and time.monotonic() - self.since >= self.seconds
        )

    def flush(self) -> None:
        sent, failed = self.sent, self.failed
        self.sent, self.failed, self.since = [], {}, time.monotonic()
        if not sent and not failed:
            return
        _mark(
            sent=sent,
            failed=failed,
            actor=self.actor,
            purpose=self.purpose,
            fields=self.fields,
            reference=self.reference,
        )
        self.total_sent += len(sent)
        self.total_failed += len(failed)
        for error in sorted(set(failed.values())):
            if error not in self.errors and len(self.errors) < 3:
                self.errors.append(error)


def deliver(
    *,
    recipients: Iterable[Recipient],
    total: int,
    run_id: str,
    purpose: str,
    fields: Sequence[str],
    key: tuple[str, ...],
    build: Callable[[Recipient, Any], EmailMessage],
    summary: RunSummary,
    reference: str = "",
    progress: bool = True,
) -> RunSummary:
    """Claim, send and mark ``recipients`` batch by batch (see the module docstring)."""
    actor = system_actor()
    bar = tqdm(total=total, disable=not progress, unit="notice", dynamic_ncols=True)
    connection = get_connection(fail_silently=False)
    marks = _Marks(
        actor=actor, purpose=purpose, fields=fields, reference=reference or f"run {run_id}"
    )
    stopped = True
    try:
        for batch in chunked(recipients, settings.NOTICES_BATCH_SIZE):
            owned = claim(recipients=batch, run_id=run_id, key=key)
            summary.skipped_already += len(batch) - len(owned)
            for recipient in batch:
                notice_id = owned.get(tuple(recipient.claim[name] for name in key))
                if notice_id is None:
                    continue
                try:
                    connection.send_messages([build(recipient, connection)])
                except Exception as exc:  # noqa: BLE001  (any mail failure marks the notice)
                    marks.failed[notice_id] = f"{type(exc).__name__}: {exc}"[:200]
                else:
                    marks.sent.append((notice_id, recipient.claim["customer_id"]))
                if marks.due():
                    marks.flush()
            marks.flush()
            bar.update(len(batch))
        stopped = False
    finally:
        try:
            # Also when an exception stops the run: what already left is marked, so a rerun
            # does not send it again.
            marks.flush()
        except Exception:
            if not stopped:
                raise  # otherwise never hide the error that stopped the run
        connection.close()
        bar.close()
        summary.sent += marks.total_sent
        summary.failed += marks.total_failed
        summary.errors.extend(marks.errors)
    return summary


def _mark_sent(pks: list[int], now: datetime.datetime) -> None:
    """Mark the notices sent: one ``UPDATE … WHERE id = ANY(…)`` on PostgreSQL.

    A mark runs every few messages, so the ORM's statement building (a third of a mark's CPU)
    is skipped there; elsewhere the ORM's ``update()``.
    """
    if connection.vendor != "postgresql":
        Notice.objects.filter(pk__in=pks).update(status=Notice.Status.SENT, sent_at=now, error="")
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Notice._meta.db_table} SET status = %s, sent_at = %s, error = ''"
            " WHERE id = ANY(%s)",
            [Notice.Status.SENT, now, pks],
        )


def _mark(
    *,
    sent: list[tuple[int, int]],
    failed: dict[int, str],
    actor: Any,
    purpose: str,
    fields: Sequence[str],
    reference: str,
) -> None:
    now = timezone.now()
    with (
        transaction.atomic(),
        access_context(actor=actor, channel=Channel.COMMAND, purpose=purpose, reference=reference),
    ):
        if sent:
            _mark_sent([pk for pk, _ in sent], now)
            access.access_record(
                subjects=[customer_id for _, customer_id in sent],
                action=access.Action.NOTIFY,
                fields=fields,
            )
        by_error: dict[str, list[int]] = {}
        for pk, error in failed.items():
            by_error.setdefault(error, []).append(pk)
        for error, pks in by_error.items():
            Notice.objects.filter(pk__in=pks).update(status=Notice.Status.FAILED, error=error)
