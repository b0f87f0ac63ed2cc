"""The exactly-once sending loop shared by renewal notices and update notices.

For each batch of recipients (``NOTICES_BATCH_SIZE``):

1. **Claim** — insert one ``Notice`` per recipient with ``status=claimed`` and this run's id,
   ignoring rows that the unique constraints reject (another run got there first), and take over
   notices that are ``failed`` or whose claim is stale (older than ``NOTICES_STALE_CLAIM_MINUTES``,
   left by a run that crashed). Each claim is committed before any mail leaves, so two runs at
   once never both own a notice.
2. **Send** the claimed ones, one message at a time, over one mail connection.
3. **Mark** them ``sent`` or ``failed`` and write one access-log row (action ``notify``) per sent
   notice, in one transaction per batch.

After a crash between 2 and 3 the notices of that one batch stay ``claimed``; they are retried once
their claim is stale, so at most one batch may be sent twice, and nothing is lost.
"""

from __future__ import annotations

import datetime
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
    skipped_already: int = 0
    skipped_consent: int = 0
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.skipped_already + self.skipped_consent


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
    try:
        for batch in chunked(recipients, settings.NOTICES_BATCH_SIZE):
            owned = claim(recipients=batch, run_id=run_id, key=key)
            summary.skipped_already += len(batch) - len(owned)
            sent: list[tuple[int, int]] = []
            failed: dict[int, str] = {}
            for recipient in batch:
                notice_id = owned.get(tuple(recipient.claim[name] for name in key))
                if notice_id is None:
                    continue
                try:
                    connection.send_messages([build(recipient, connection)])
                except Exception as exc:  # noqa: BLE001  (any mail failure marks the notice)
                    failed[notice_id] = f"{type(exc).__name__}: {exc}"[:200]
                else:
                    sent.append((notice_id, recipient.claim["customer_id"]))
            _mark(
                sent=sent,
                failed=failed,
                actor=actor,
                purpose=purpose,
                fields=fields,
                reference=reference or f"run {run_id}",
            )
            summary.sent += len(sent)
            summary.failed += len(failed)
            summary.errors.extend(sorted(set(failed.values()))[:3])
            bar.update(len(batch))
    finally:
        connection.close()
        bar.close()
    return summary


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
            Notice.objects.filter(pk__in=[pk for pk, _ in sent]).update(
                status=Notice.Status.SENT, sent_at=now, error=""
            )
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
