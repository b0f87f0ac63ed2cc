"""Erasure of a customer's personal values everywhere, and the ledger that lets it be replayed.

Every model declared in ``rights.registry`` is rewritten: live rows through the model (so history
records that an erasure happened, by whom and why), then every row of its simple-history table,
whose old values are replaced by numbered markers (``[erased 1]``, ``[erased 2]``: a new number
where the value changed), so diffs still say which field changed. Row ids, timestamps, actors,
purposes and reasons stay: the skeleton of who changed which field when and why survives, the
values do not. django-axes' sign-in records under any email of the login are deleted, and the
admin's change log about the customer's objects loses their names.

Each erasure is ledgered (``ErasureRecord`` and, once committed, a line in the ledger file) with
ids and the sign-up times that identify the customer, so that ``replay_erasures`` re-applies it
after a restore to that customer only.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from phonenumber_field.modelfields import PhoneNumberField

from audit.erasure import erasure_gate
from consent.context import context_changed, require_context

from .models import ErasureRecord
from .registry import registered

ERASED = "[erased]"
# The markers of live rows (``[erased]``, with the row id in unique fields, and the erased
# login's address), and those of history rows (numbered: ``[erased 2]``, ``erased-7-2@…``).
_LIVE_MARKER = re.compile(r"^(\[erased\]( \d+)?|erased-\d+@erased\.invalid)$")
_ANY_MARKER = re.compile(r"^(\[erased( \d+)?\]( \d+)?|erased-\d+(-\d+)?@erased\.invalid)$")


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


def _numbered_marker(field: models.Field, customer: Any, number: int) -> str:
    """Return the marker of the ``number``-th distinct value a field held in history."""
    if isinstance(field, models.EmailField):
        return f"erased-{customer.user_id}-{number}@erased.invalid"
    marker = f"[erased {number}]"
    if field.max_length is not None and len(marker) > field.max_length:
        return str(number)[-field.max_length :]
    return marker


def _is_marker(value: Any) -> bool:
    return bool(_ANY_MARKER.match(str(value)))


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


def _rewrite_history(
    history_model: type[models.Model],
    model: type[models.Model],
    flt: dict,
    fields: tuple[str, ...],
    customer: Any,
) -> int:
    """Overwrite personal values in historical rows (only inside ``audit``'s erasure gate).

    Each object's rows are rewritten in history order, field by field, with numbered markers:
    the number changes where the value differed from the previous row's, so a diff of two
    consecutive rows still says which fields changed, never what they held. Empty values stay
    empty; markers already written stay (the rewrite is idempotent). Return the rows changed.
    """
    pk_name = history_model._meta.pk.name
    object_pk = model._meta.pk.attname
    rows = (
        history_model._base_manager.filter(**flt)
        .order_by(object_pk, "history_date", pk_name)
        .values_list(pk_name, object_pk, *fields)
    )
    changes: dict[tuple, list[Any]] = defaultdict(list)
    state: dict[str, tuple[Any, Any, int]] = {}  # field -> (object, previous value, number)
    for history_pk, obj, *values in rows.iterator():
        wanted = []
        for name, value in zip(fields, values, strict=True):
            seen_obj, previous, number = state.get(name, (None, None, 0))
            if seen_obj != obj:
                previous, number = None, 0
            text = "" if value is None else str(value)
            # Live markers (the rows written by an erasure) stay; numbered markers are
            # renumbered like the values they replaced, and so get the same numbers again.
            if text and not _LIVE_MARKER.match(text):
                if text != previous:
                    number += 1
                marker = _numbered_marker(model._meta.get_field(name), customer, number)
                if marker != text:
                    wanted.append((name, marker))
            state[name] = (obj, text, number)
        if wanted:
            changes[tuple(wanted)].append(history_pk)
    total = 0
    for wanted, pks in changes.items():
        total += history_model._base_manager.filter(**{f"{pk_name}__in": pks}).update(
            **dict(wanted)
        )
    return total


def is_erased(customer: Any) -> bool:
    return customer.user.email == erased_email(customer.user_id)


def erase_values(*, customer: Any, reason: str, approved_by: Any) -> int:
    """Replace every personal value of ``customer`` (live and historical rows) by the marker.

    History rows are rewritten through ``audit.erasure.erasure_gate``, the one sanctioned path
    through the append-only triggers, which records who approved it and why. Sign-in attempts
    recorded by django-axes under any email the login ever had are deleted, and the admin's
    change log about any of the customer's objects loses their names. Idempotent. Runs in the
    open access context (its actor and reason go into the history row that records the
    erasure). Return the number of rows rewritten or removed.
    """
    require_context()
    with erasure_gate(reason=reason, approved_by=approved_by):
        total = _forget_sign_in_attempts(_sign_in_names(customer.user_id))
        total += _erase_values(customer)
        total += _erase_admin_log(customer)
        return total


def _erase_values(customer: Any) -> int:
    total = 0
    for entry in registered():
        model = apps.get_model(entry.model_label)
        flt = entry.subject(customer)
        if not entry.fields:
            continue
        values = {name: _marker(model._meta.get_field(name), customer) for name in entry.fields}
        unique = _unique_fields(model) & set(entry.fields)
        history_model = _history_model(model)
        if history_model is not None or unique:
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
        if entry.history and history_model is not None:
            total += _rewrite_history(history_model, model, flt, entry.fields, customer)
    return total


def _sign_in_names(user_id: int) -> set[str]:
    """Return every email the login ever had (live row and history), lower-cased."""
    User = apps.get_model(settings.AUTH_USER_MODEL)
    names = set(User._base_manager.filter(pk=user_id).values_list("email", flat=True))
    history_model = _history_model(User)
    if history_model is not None:
        names |= set(history_model._base_manager.filter(id=user_id).values_list("email", flat=True))
    return {name.strip().lower() for name in names if name and not _is_marker(name)}


# django-axes keeps sign-in attempts (username, IP address, user agent, form data).
AXES_MODELS = ("axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog")


def _forget_sign_in_attempts(names: set[str]) -> int:
    """Delete the sign-in attempts and sign-in log rows recorded under any of ``names``."""
    if not names or not apps.is_installed("axes"):
        return 0
    match = models.Q()
    for name in names:
        match |= models.Q(username__iexact=name)
    total = 0
    for label in AXES_MODELS:
        deleted, _per_model = apps.get_model(label)._base_manager.filter(match).delete()
        total += deleted
    return total


def _logged_object_ids(model: type[models.Model], flt: dict) -> set[str]:
    ids = {str(pk) for pk in model._base_manager.filter(**flt).values_list("pk", flat=True)}
    history_model = _history_model(model)
    if history_model is not None:
        attname = model._meta.pk.attname
        ids |= {
            str(pk)
            for pk in history_model._base_manager.filter(**flt)
            .order_by()  # history's default ordering would make DISTINCT keep every row
            .values_list(attname, flat=True)
            .distinct()
        }
    return ids


def _erased_change_message(message: str) -> str:
    """Return the admin change message with the names of related objects erased.

    Django's JSON messages hold field labels (kept) and, for inlines, ``str()`` of the related
    object (erased); a plain-text message may say anything and is erased whole.
    """
    if not message:
        return message
    try:
        items = json.loads(message)
    except ValueError:
        return ERASED
    if not isinstance(items, list):
        return ERASED
    for item in items:
        if not isinstance(item, dict):
            return ERASED
        for detail in item.values():
            if isinstance(detail, dict) and "object" in detail:
                detail["object"] = ERASED
    return json.dumps(items)


def _erase_admin_log(customer: Any) -> int:
    """Erase the names of the customer's objects in the admin's change log (``str(obj)`` of a
    login is its email, of a support request its subject), for every model of the registry."""
    if not apps.is_installed("django.contrib.admin"):
        return 0
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    total = 0
    for entry in registered():
        model = apps.get_model(entry.model_label)
        ids = _logged_object_ids(model, entry.subject(customer))
        if not ids:
            continue
        content_type = ContentType.objects.get_for_model(model)
        logs = LogEntry.objects.filter(content_type=content_type, object_id__in=ids)
        for pk, object_repr, message in logs.values_list("pk", "object_repr", "change_message"):
            wanted = {"object_repr": ERASED, "change_message": _erased_change_message(message)}
            if (object_repr, message) != (wanted["object_repr"], wanted["change_message"]):
                total += LogEntry.objects.filter(pk=pk).update(**wanted)
    return total


@transaction.atomic
def customer_erase(*, customer: Any, request: Any = None, approved_by: Any = None) -> ErasureRecord:
    """Erase the customer's personal values everywhere, close the login and write the ledger.

    The business name stays (it is not personal data; licence records must keep it). Access-log
    rows hold no values and stay. The ledger line is appended to the file once the transaction
    commits (a rolled-back erasure leaves none). Returns the ledger row.
    """
    reason = f"erasure under request #{request.pk}" if request is not None else "account erasure"
    with context_changed(reason=reason):
        _close_login(customer.user)
        rows = erase_values(customer=customer, reason=reason, approved_by=approved_by)
    record, created = ErasureRecord.objects.get_or_create(
        customer_id=customer.pk,
        defaults={
            "user_id": customer.user_id,
            "customer_created_at": customer.created_at,
            "user_date_joined": customer.user.date_joined,
            "request": request,
            "approved_by_id": getattr(approved_by, "pk", None),
            "rows_erased": rows,
        },
    )
    if created:
        _append_on_commit(ledger_entry(record))
    return record


def _close_login(user: Any) -> None:
    if user.is_active or user.has_usable_password():
        user.is_active = False
        user.set_unusable_password()
        user.save()


def ledger_path() -> Path:
    return Path(settings.ERASURE_LEDGER_FILE)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def ledger_entry(record: ErasureRecord) -> dict[str, Any]:
    """Return the ledger line of ``record``: ids, and the two sign-up times that tell the erased
    customer apart from a later one given the same id (after a restore reset the sequences)."""
    return {
        "customer_id": record.customer_id,
        "user_id": record.user_id,
        "customer_created_at": _iso(record.customer_created_at),
        "user_date_joined": _iso(record.user_date_joined),
        "request_id": record.request_id,
        "approved_by_id": record.approved_by_id,
        "erased_at": record.erased_at.isoformat(),
    }


def _append_on_commit(entry: dict[str, Any]) -> None:
    # robust: the erasure is committed already; a line that cannot be written is logged, and
    # the next ``replay_erasures`` writes it from the ledger table.
    transaction.on_commit(lambda: ledger_append(entry), robust=True)


def ledger_append(entry: dict[str, Any] | ErasureRecord) -> None:
    """Append the ledger line (no personal value) to the ledger file outside the database."""
    if isinstance(entry, ErasureRecord):
        entry = ledger_entry(entry)
    path = ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as ledger:
        ledger.write(json.dumps(entry) + "\n")
        ledger.flush()
        os.fsync(ledger.fileno())


def _key(entry: dict[str, Any]) -> tuple:
    return (
        int(entry["customer_id"]),
        _ms(entry.get("customer_created_at")),
        _ms(entry.get("user_date_joined")),
    )


def _ms(value: Any) -> datetime.datetime | None:
    """Return the time at millisecond precision (a JSON dump of the database keeps no more)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _file_entries() -> dict[tuple, dict]:
    entries: dict[tuple, dict] = {}
    path = ledger_path()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                entries.setdefault(_key(entry), entry)
    return entries


def ledger_entries() -> list[dict]:
    """Return the ledger file's entries merged with the ledger table's rows."""
    entries = _file_entries()
    for record in ErasureRecord.objects.all():
        entry = ledger_entry(record)
        entries.setdefault(_key(entry), entry)
    return list(entries.values())


def _same_subject(entry: dict[str, Any], customer: Any) -> bool:
    """Return True if ``customer`` is the customer the ledger entry erased, not a later one who
    was given the same id."""
    if customer.user_id != int(entry["user_id"]):
        return False
    created, joined = entry.get("customer_created_at"), entry.get("user_date_joined")
    if created and joined:
        return _ms(created) == _ms(customer.created_at) and _ms(joined) == _ms(
            customer.user.date_joined
        )
    # A line written before the sign-up times were ledgered: only a customer who existed when
    # the erasure happened can be the one erased.
    return customer.created_at <= datetime.datetime.fromisoformat(entry["erased_at"])


@transaction.atomic
def erasures_replay(*, approved_by: Any) -> dict[str, Any]:
    """Re-apply every ledgered erasure (after a backup restore). Idempotent.

    A customer is erased again only if it is the one erased (same ids and sign-up times); an id
    now held by another customer is reported in ``mismatched`` and left alone. The id sequences
    of customers and logins then move past the highest ledgered id, so that new sign-ups never
    take an erased customer's id. Ledger table rows missing from the file (a line lost after
    its commit) are written to it. ``approved_by`` is the operator who runs the replay (recorded
    by the erasure gate). Return counts: ``entries`` in the ledger, ``customers`` re-erased,
    ``rows`` rewritten, ``mismatched`` (customer ids), ``absent`` (customers not in the
    database), ``lines_restored`` (written to the file from the table).
    """
    from accounts.models import Customer

    from .models import DataSubjectRequest

    in_file = _file_entries()
    entries = ledger_entries()
    counts: dict[str, Any] = {
        "entries": 0,
        "customers": 0,
        "rows": 0,
        "mismatched": [],
        "absent": 0,
        "lines_restored": 0,
    }
    for entry in entries:
        counts["entries"] += 1
        if _key(entry) not in in_file:
            _append_on_commit(entry)
            counts["lines_restored"] += 1
        customer = Customer.objects.select_related("user").filter(pk=entry["customer_id"]).first()
        if customer is None:
            counts["absent"] += 1
            continue
        if not _same_subject(entry, customer):
            counts["mismatched"].append(customer.pk)
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
                "customer_created_at": customer.created_at,
                "user_date_joined": customer.user.date_joined,
                "request": DataSubjectRequest.objects.filter(pk=request_id).first(),
                "approved_by_id": entry.get("approved_by_id"),
                "erased_at": datetime.datetime.fromisoformat(entry["erased_at"]),
                "rows_erased": rows,
            },
        )
    if entries:
        _advance_id_sequences(
            {
                Customer: max(int(e["customer_id"]) for e in entries),
                Customer._meta.get_field("user").related_model: max(
                    int(e["user_id"]) for e in entries
                ),
            }
        )
    return counts


def _advance_id_sequences(highest: dict[type[models.Model], int]) -> None:
    """Make the next id of each model greater than ``highest[model]`` (and than its rows).

    A restore resets the sequences to the restored rows; without this, the next sign-up would
    be given the id of a customer erased after the backup was made. PostgreSQL: ``setval`` on
    the column's sequence (never moved back). SQLite: Django's ``AUTOINCREMENT`` tables keep the
    highest id in ``sqlite_sequence``.
    """
    for model, ledgered in highest.items():
        table, column = model._meta.db_table, model._meta.pk.column
        target = max(ledgered, model._base_manager.aggregate(m=models.Max("pk"))["m"] or 0)
        if target < 1:
            continue
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
                sequence = cursor.fetchone()[0]
                if sequence:
                    cursor.execute(
                        f"SELECT setval(%s, GREATEST(%s, (SELECT last_value FROM {sequence})))",
                        [sequence, target],
                    )
            elif connection.vendor == "sqlite":
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                if row is None:
                    cursor.execute(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, target]
                    )
                elif row[0] < target:
                    cursor.execute(
                        "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [target, table]
                    )
