"""The data-access log: the one module that writes ``AccessLog`` rows.

Code that discloses or uses personal data calls ``access_record``; rows are collected in the open
access context and written in one batched INSERT by ``flush`` at the end of the request (inside the
request's transaction) or of the ``access_context`` block. Denied attempts are written even when the
surrounding transaction rolls back (``flush_denied``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .context import AccessContext, require_context
from .models import AccessLog

Action = AccessLog.Action
Outcome = AccessLog.Outcome

# From this many rows a flush on PostgreSQL uses COPY instead of a multi-row INSERT: for a
# 100-row changelist page COPY took 10 ms where the INSERT took 35-55 ms (bench/admin_bench.py).
COPY_THRESHOLD = 20

# The columns of an access-log row in their canonical order (seals and exports use it too).
ACCESS_LOG_COLUMNS = (
    "at",
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


def _subject_id(subject: Any) -> int | None:
    if subject is None:
        return None
    return subject if isinstance(subject, int) else subject.pk


def _row(
    ctx: AccessContext,
    *,
    customer_id: int | None,
    action: str,
    field_list: str,
    outcome: str,
    purpose: str | None,
    reference: str | None = None,
) -> dict[str, Any]:
    """The values of one access-log row, by attribute name."""
    return dict(
        at=timezone.now(),
        actor_id=ctx.actor_id,
        customer_id=customer_id,
        purpose=(purpose if purpose is not None else ctx.purpose) or "",
        reference=(reference if reference is not None else ctx.reference)[:200],
        action=action,
        fields=field_list[:500],
        channel=ctx.channel,
        request_id=ctx.request_id,
        ip_address=ctx.ip,
        outcome=outcome,
    )


def access_record(
    *,
    subjects: Iterable[Any],
    action: str,
    fields: Iterable[str] = (),
    outcome: str = Outcome.ALLOWED,
    purpose: str | None = None,
) -> int:
    """Record that personal data of each subject (customer or customer id) was accessed.

    The actor, channel, request id, IP and (unless given) purpose and reference come from the open
    access context. Return the number of rows queued.
    """
    ctx = require_context()
    field_list = ",".join(sorted(set(fields)))
    rows = [
        AccessLog(
            **_row(
                ctx,
                customer_id=_subject_id(subject),
                action=action,
                field_list=field_list,
                outcome=outcome,
                purpose=purpose,
            )
        )
        for subject in subjects
    ]
    ctx.pending.extend(rows)
    return len(rows)


def access_insert_select(
    *,
    source: str,
    actor: str,
    customer: str,
    action: str,
    fields: Iterable[str] = (),
    reference: str | None = None,
) -> tuple[str, list[Any]]:
    """Return ``(sql, params)``: an ``INSERT … SELECT … FROM source`` writing, for each row of
    ``source``, the row ``access_record`` would queue, its actor and customer being the SQL
    expressions ``actor`` and ``customer`` over ``source``.

    For a read that logs itself in the same statement (a data-modifying ``WITH`` on PostgreSQL):
    the row is written exactly when the read finds the data, without a transaction of its own,
    and its values are the ones ``access_record`` gives (the open context's channel, request
    id, IP and purpose; ``reference`` if given).
    """
    row = _row(
        require_context(),
        customer_id=None,
        action=action,
        field_list=",".join(sorted(set(fields))),
        outcome=Outcome.ALLOWED,
        purpose=None,
        reference=reference,
    )
    sql, fields_passed = _insert_select_sql(source, actor, customer)
    return sql, [field.get_db_prep_save(row[field.attname], connection) for field in fields_passed]


@functools.cache
def _insert_select_sql(source: str, actor: str, customer: str) -> tuple[str, tuple[Any, ...]]:
    """The statement of ``access_insert_select`` (the same text each time, so that it can be
    prepared) and the fields whose values it takes as parameters."""
    head, model_fields = _insert_sql()
    expressions = {"actor_id": actor, "customer_id": customer}
    values = [expressions.get(field.attname, "%s") for field in model_fields]
    passed = tuple(field for field in model_fields if field.attname not in expressions)
    return f"{head} SELECT {', '.join(values)} FROM {source}", passed


def access_denied(*, subjects: Iterable[Any], action: str, purpose: str | None = None) -> int:
    """Record a refused attempt to access the subjects' personal data."""
    return access_record(subjects=subjects, action=action, outcome=Outcome.DENIED, purpose=purpose)


def pending_rows(ctx: AccessContext | None = None) -> list[AccessLog]:
    """Return the rows queued in ``ctx`` (default: the open context) and not yet written."""
    return list((ctx or require_context()).pending)


def flush(ctx: AccessContext) -> int:
    """Write every queued row of ``ctx`` in one batch. Return the number written."""
    rows, ctx.pending = ctx.pending, []
    _write(rows)
    return len(rows)


def flush_denied(ctx: AccessContext) -> int:
    """After a rollback: write only the denied attempts, in their own transaction."""
    rows = [row for row in ctx.pending if row.outcome == Outcome.DENIED]
    ctx.pending = []
    if rows:
        with transaction.atomic():
            _write(rows)
    return len(rows)


@contextmanager
def logged_transaction(ctx: AccessContext) -> Iterator[None]:
    """Run the block in a transaction that ends by writing the rows queued in ``ctx``.

    The request's transaction (``consent.middleware``) and views that open their own use it: a
    rolled-back block leaves no rows for accesses of changes that did not happen, and its denied
    attempts are written all the same (``flush_denied``).
    """
    try:
        with transaction.atomic():
            yield
            flush(ctx)
    except BaseException:
        flush_denied(ctx)
        raise


def _write(rows: list[AccessLog]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql" and len(rows) >= COPY_THRESHOLD:
        _copy(rows)
    else:
        _insert(rows)


@functools.cache
def _insert_sql() -> tuple[str, tuple[Any, ...]]:
    fields = tuple(AccessLog._meta.get_field(name) for name in ACCESS_LOG_COLUMNS)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(AccessLog._meta.db_table)
    return f"INSERT INTO {table} ({columns})", fields


def _insert(rows: list[AccessLog]) -> None:
    """Write rows with one multi-row INSERT, composed directly: most requests write one or two
    rows, and composing the statement through the ORM's ``bulk_create`` cost more than running
    it. Values are prepared by the model fields, as the ORM would."""
    statement, fields = _insert_sql()
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    for start in range(0, len(rows), 500):
        batch = rows[start:start + 500]
        params = [
            field.get_db_prep_save(getattr(row, field.attname), connection)
            for row in batch
            for field in fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(f"{statement} VALUES {', '.join([placeholders] * len(batch))}", params)


def _copy(rows: list[AccessLog]) -> None:
    table = AccessLog._meta.db_table
    columns = ", ".join(ACCESS_LOG_COLUMNS)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([getattr(row, name) for name in ACCESS_LOG_COLUMNS])
