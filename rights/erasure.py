"""Erasure of a customer's personal values everywhere, and the ledger that lets it be replayed.

Every model declared in ``rights.registry`` is rewritten: live rows through the model (so history
records that an erasure happened, by whom and why), then every row of its simple-history table,
whose old values are replaced by the erasure marker. Row ids, timestamps, actors, purposes and
reasons stay: the skeleton of who changed which field when and why survives, the values do not.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from audit.erasure import erasure_gate
from consent.context import require_context

from .models import ErasureRecord
from .registry import registered

ERASED = "[erased]"


def erased_email(user_id: int) -> str:
    """Return the unique, undeliverable address that replaces an erased login's email."""
    return f"erased-{user_id}@erased.invalid"


def _marker(field: models.Field, customer: Any) -> Any:
    if isinstance(field, models.EmailField):
        return erased_email(customer.user_id)
    if isinstance(field, PhoneNumberField):
        return ""
    if field.max_length is not None:
        return ERASED[: field.max_length]
    return ERASED


def _unique_fields(model: type[models.Model]) -> set[str]:
    """Return the names of fields in a unique constraint (email is unique by construction)."""
    names = {f.name for f in model._meta.concrete_fields if f.unique and not f.primary_key}
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            names.update(constraint.fields)
    for together in model._meta.unique_together:
        names.update(together)
    return names


def _unique_marker(value: Any, pk: Any) -> Any:
    if isinstance(value, str) and value == ERASED:
        return f"{ERASED} {pk}"
    return value


def _history_model(model: type[models.Model]) -> type[models.Model] | None:
    manager = getattr(model, "history", None)
    return getattr(manager, "model", None) if manager is not None else None


def _rewrite_history(history_model: type[models.Model], flt: dict, values: dict) -> int:
    """Overwrite personal values in historical rows (only inside ``audit``'s erasure gate)."""
    return history_model._base_manager.filter(**flt).exclude(**values).update(**values)


def is_erased(customer: Any) -> bool:
    return customer.user.email == erased_email(customer.user_id)


def erase_values(*, customer: Any, reason: str, approved_by: Any) -> int:
    """Replace every personal value of ``customer`` (live and historical rows) by the marker.

    History rows are rewritten through ``audit.erasure.erasure_gate``, the one sanctioned path
    through the append-only triggers, which records who approved it and why. Idempotent. Runs in
    the open access context (its actor and reason go into the history row that records the
    erasure). Return the number of rows rewritten.
    """
    require_context()
    with erasure_gate(reason=reason, approved_by=approved_by):
        return _erase_values(customer)


def _erase_values(customer: Any) -> int:
    total = 0
    for entry in registered():
        model = apps.get_model(entry.model_label)
        flt = entry.subject(customer)
        values = {name: _marker(model._meta.get_field(name), customer) for name in entry.fields}
        unique = _unique_fields(model) & set(entry.fields)
        if _history_model(model) is not None or unique:
            # Through the model: its history records the erasure (actor, reason); values of
            # unique fields get the row id so that two erased rows never collide.
            for obj in model._base_manager.filter(**flt):
                wanted = {
                    name: _unique_marker(value, obj.pk) if name in unique else value
                    for name, value in values.items()
                }
                if any(getattr(obj, name) != value for name, value in wanted.items()):
                    for name, value in wanted.items():
                        setattr(obj, name, value)
                    obj.save()
                    total += 1
        else:
            total += model._base_manager.filter(**flt).exclude(**values).update(**values)
        history_model = _history_model(model)
        if entry.history and history_model is not None:
            total += _rewrite_history(history_model, flt, values)
    return total


@transaction.atomic
def customer_erase(*, customer: Any, request: Any = None, approved_by: Any = None) -> ErasureRecord:
    """Erase the customer's personal values everywhere, close the login and write the ledger.

    The business name stays (it is not personal data; licence records must keep it). Access-log
    rows hold no values and stay. Returns the ledger row.
    """
    ctx = require_context()
    previous_reason = ctx.reason
    reason = f"erasure under request #{request.pk}" if request is not None else "account erasure"
    ctx.reason = reason
    try:
        _close_login(customer.user)
        rows = erase_values(customer=customer, reason=reason, approved_by=approved_by)
    finally:
        ctx.reason = previous_reason
    record, created = ErasureRecord.objects.get_or_create(
        customer_id=customer.pk,
        defaults={
            "user_id": customer.user_id,
            "request": request,
            "approved_by_id": getattr(approved_by, "pk", None),
            "rows_erased": rows,
        },
    )
    if created:
        ledger_append(record)
    return record


def _close_login(user: Any) -> None:
    if user.is_active or user.has_usable_password():
        user.is_active = False
        user.set_unusable_password()
        user.save()


def ledger_path() -> Path:
    return Path(settings.ERASURE_LEDGER_FILE)


def ledger_append(record: ErasureRecord) -> None:
    """Append the ledger row (ids only) to the ledger file outside the database, durably."""
    path = ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {
            "customer_id": record.customer_id,
            "user_id": record.user_id,
            "request_id": record.request_id,
            "approved_by_id": record.approved_by_id,
            "erased_at": record.erased_at.isoformat(),
        }
    )
    with path.open("a", encoding="utf-8") as ledger:
        ledger.write(line + "\n")
        ledger.flush()
        os.fsync(ledger.fileno())


def ledger_entries() -> list[dict]:
    """Return the ledger file's entries merged with the ledger table's rows (by customer id)."""
    entries: dict[int, dict] = {}
    path = ledger_path()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                entries.setdefault(int(entry["customer_id"]), entry)
    for record in ErasureRecord.objects.all():
        entries.setdefault(
            record.customer_id,
            {
                "customer_id": record.customer_id,
                "user_id": record.user_id,
                "request_id": record.request_id,
                "approved_by_id": record.approved_by_id,
                "erased_at": record.erased_at.isoformat(),
            },
        )
    return list(entries.values())


@transaction.atomic
def erasures_replay(*, approved_by: Any) -> dict[str, int]:
    """Re-apply every ledgered erasure (after a backup restore). Idempotent.

    ``approved_by`` is the operator who runs the replay (recorded by the erasure gate). Return
    counts: ``entries`` in the ledger, ``customers`` re-erased, ``rows`` rewritten.
    """
    from accounts.models import Customer

    from .models import DataSubjectRequest

    counts = {"entries": 0, "customers": 0, "rows": 0}
    for entry in ledger_entries():
        counts["entries"] += 1
        customer = Customer.objects.select_related("user").filter(pk=entry["customer_id"]).first()
        if customer is None:
            continue
        _close_login(customer.user)
        rows = erase_values(
            customer=customer,
            reason=f"replay of the erasure of customer {customer.pk} after a restore",
            approved_by=approved_by,
        )
        if rows:
            counts["customers"] += 1
            counts["rows"] += rows
        request_id = entry.get("request_id")
        ErasureRecord.objects.get_or_create(
            customer_id=customer.pk,
            defaults={
                "user_id": customer.user_id,
                "request": DataSubjectRequest.objects.filter(pk=request_id).first(),
                "approved_by_id": entry.get("approved_by_id"),
                "erased_at": timezone.datetime.fromisoformat(entry["erased_at"]),
                "rows_erased": rows,
            },
        )
    return counts
