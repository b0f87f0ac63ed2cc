"""The one sanctioned path through the append-only triggers: erasing personal values in history.

``erasure_gate`` is the only code that opens the gate. It records who opened it, who approved it
and why in ``audit_gateuse`` (append-only) in the same transaction as the erasure itself, then lets
UPDATEs of history tables (``erasable`` tables only: never the access log, consent records or
seals; never DELETE or TRUNCATE) through until the block ends::

    from audit.erasure import erasure_gate

    with erasure_gate(reason="Erasure request DSR-42", approved_by=dpo, request=request):
        HistoricalCustomer.objects.filter(id=customer.pk).update(contact_person="", phone="")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from consent.context import current_context

from .models import GateUse
from .triggers import gate_state


class GateError(RuntimeError):
    """The gate cannot be opened (no reason, no approver, nested, or not allowed here)."""


@contextmanager
def erasure_gate(*, reason: str, approved_by: Any, request: Any = None) -> Iterator[GateUse]:
    """Open the erasure gate for the block and record its use; close it when the block ends.

    Runs in one transaction: the gate record and the erasure commit together or not at all.
    ``approved_by`` is the login (a superuser or compliance reviewer) who approved the erasure;
    the actor and request id come from ``request`` or the open access context.
    """
    if not (reason or "").strip():
        raise GateError("An erasure needs a reason.")
    if approved_by is None or not getattr(approved_by, "pk", None):
        raise GateError("An erasure needs the login that approved it.")
    ctx = getattr(request, "access_context", None) or current_context()
    with _gate(
        kind=GateUse.Kind.ERASURE,
        reason=reason.strip(),
        approved_by_id=approved_by.pk,
        actor_id=ctx.actor_id if ctx else None,
        request_id=ctx.request_id if ctx else "",
    ) as use:
        yield use


@contextmanager
def test_flush_gate(*, using: str = "default") -> Iterator[GateUse]:
    """Open the gate for a test-database flush (pytest's teardown). Refused outside tests."""
    if not getattr(settings, "AUDIT_FLUSH_THROUGH_GATE", False):
        raise GateError("Audit tables are never flushed outside the test suite.")
    with _gate(kind=GateUse.Kind.TEST_FLUSH, reason="test database flush", using=using) as use:
        yield use


@contextmanager
def _gate(*, kind: str, reason: str, using: str = "default", **fields: Any) -> Iterator[GateUse]:
    if getattr(gate_state, "kind", None):
        raise GateError("The gate is already open.")
    with transaction.atomic(using=using):
        txid = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_xact_id()::text::bigint")
                txid = cursor.fetchone()[0]
        use = GateUse.objects.using(using).create(kind=kind, reason=reason, txid=txid, **fields)
        _set(use, kind)
        try:
            yield use
        finally:
            _set(None, None)


def _set(use: GateUse | None, kind: str | None) -> None:
    gate_state.kind = kind
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('excelcrm.gate', %s, true)", [str(use.pk) if use else ""]
            )
