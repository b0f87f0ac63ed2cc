"""Writes of devices, permission states and app tokens. The only code that writes them.

Each runs in the open access context (the API sets its actor to the token's user: a customer acting
on their own data, so no purpose) and logs its access through ``consent.access``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from consent import access
from consent.context import context_changed
from consent.history import history_insert_select

from .models import ApiToken, Device, DevicePermission

# Field names as they appear in access-log rows.
DEVICE_FIELDS = ("device",)
PERMISSION_FIELDS = ("device_permissions",)
TOKEN_FIELDS = ("api_token",)

TOKEN_PREFIX = "exc_"


DEVICE_REFERENCE_PREFIX = "device #"


def device_reference(device_id: int) -> str:
    """The access-log reference of an app call about one device (``"device #17"``).

    Every such call leaves a self-access row, so the newest row with this reference is when the
    device was last seen (``selectors.with_last_call``), though a repeated report writes nothing
    to the device itself.
    """
    return f"{DEVICE_REFERENCE_PREFIX}{device_id}"


def log_device_call(device: Any, *, fields: tuple[str, ...]) -> None:
    """Log the app's call about ``device`` as self-access, referencing the device."""
    with context_changed(reference=device_reference(device.pk)):
        access.access_record(subjects=[device.customer_id], action=access.Action.API, fields=fields)


def commit_asynchronously() -> None:
    """Let the open transaction commit without waiting for the WAL flush (PostgreSQL only).

    For the app's idempotent full-state calls (register, reads, a permission report stored on the
    fallback path): a crash of the database server can lose at most the last fraction of a
    second of them, never leave them half-written, and the app sends the full state again at its
    next start. Token issuance, revocation and unregistering keep synchronous commits; a report
    stored by the hot path's statement has no transaction to set this in. Only when the
    setting ``DEVICES_API_ASYNC_COMMIT`` is on (it is off by default).
    """
    if settings.DEVICES_API_ASYNC_COMMIT and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def token_hash(raw: str) -> str:
    """Return the SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _only_uniqueness(error: ValidationError) -> bool:
    errors = getattr(error, "error_dict", {})
    return set(errors) == {NON_FIELD_ERRORS} and all(
        e.code in ("unique", "unique_together") for e in errors[NON_FIELD_ERRORS]
    )


@dataclass(frozen=True)
class PermissionReport:
    state: str
    observed_at: datetime
    source: str


@transaction.atomic
def api_token_create(*, user: Any, name: str = "") -> tuple[str, ApiToken]:
    """Create a bearer token for ``user`` (already authenticated); return the secret and the row.

    The secret is shown once: only its SHA-256 is stored. It expires after
    ``DEVICES_TOKEN_TTL_DAYS`` days.
    """
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        key_hash=token_hash(raw),
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        name=name[:100],
        created_at=now,
        expires_at=now + timedelta(days=settings.DEVICES_TOKEN_TTL_DAYS),
    )
    customer = getattr(user, "customer", None)
    if customer is not None:
        access.access_record(subjects=[customer], action=access.Action.API, fields=TOKEN_FIELDS)
    return raw, token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Any) -> bool:
    """Revoke ``token`` (by its owner or by staff). Return False if it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    customer = getattr(token.user, "customer", None)
    if customer is not None:
        access.access_record(subjects=[customer], action=access.Action.CHANGE, fields=TOKEN_FIELDS)
    return True


@transaction.atomic
def device_register(
    *,
    customer: Any,
    install_id: str,
    platform: str,
    model: str,
    os_version: str,
    app_version: str,
) -> tuple[Device, bool]:
    """Register an installation of the app, once per ``install_id``; return (device, created).

    Registering a known installation again returns the same device, records new platform, model
    or versions (a history row only if one changed), and brings back an unregistered device.
    ``last_seen`` is set each time (it is not part of the history).
    """
    now = timezone.now()
    values = {
        "platform": platform,
        "model": model,
        "os_version": os_version,
        "app_version": app_version,
    }
    device = Device.objects.filter(customer=customer, install_id=install_id).first()
    created = False
    if device is None:
        try:
            with transaction.atomic():
                device = Device(
                    customer=customer,
                    install_id=install_id,
                    registered_at=now,
                    last_seen=now,
                    **values,
                )
                device.full_clean()
                device.save()
                created = True
        except IntegrityError:
            # The same installation registered concurrently: use the row that won.
            device = Device.objects.get(customer=customer, install_id=install_id)
    if not created:
        for name, value in values.items():
            setattr(device, name, value)
        device.unregistered_at = None
        device.last_seen = now
        device.save_tracked()
    log_device_call(device, fields=DEVICE_FIELDS)
    return device, created


@transaction.atomic
def device_unregister(*, device: Device) -> None:
    """Unregister ``device``: it disappears from the app's API, its rows and history stay."""
    device.unregistered_at = timezone.now()
    device.save_tracked()
    log_device_call(device, fields=DEVICE_FIELDS)


def device_permissions_report(
    *, device: Device, reports: dict[str, PermissionReport], log_call: bool = True
) -> list[str]:
    """Store the permission states the app reported; return the names that really changed.

    Only a new state is a change: its observation time and source are stored with it. A report
    that repeats the stored state writes nothing and adds no history row, and so does a report
    observed before the stored state was (it arrived late and is already out of date): it opens
    no transaction either. Prefetch ``device.permissions`` (``device_find_own`` does) to read
    them in one query. The call is logged as the customer's self-access unless ``log_call`` is
    False (the API logs it while authenticating).
    """
    stored = {p.name: p for p in device.permissions.all()}
    news = {
        name: report
        for name, report in reports.items()
        if (current := stored.get(name)) is None
        or (current.state != report.state and report.observed_at >= current.observed_at)
    }
    if log_call:
        log_device_call(device, fields=PERMISSION_FIELDS)
    if not news:
        return []
    # No savepoint: inside the request's transaction any error rolls the whole request back
    # anyway (a savepoint costs two round trips to the database).
    with transaction.atomic(savepoint=False):
        commit_asynchronously()
        return _permissions_store(device, stored, news)


def permissions_store_sql(
    *,
    device_id: int,
    reports: dict[str, PermissionReport],
    when: str,
    when_params: list[Any],
    now: datetime,
) -> tuple[str, list[Any]]:
    """Return ``(sql, params)``: the data-modifying ``WITH`` parts that store ``reports`` as
    ``device_permissions_report`` does, for the app's hot-path statement (PostgreSQL).

    ``"changed"`` updates the permissions whose state is new and not observed before the stored
    one, returning them; ``"history"`` writes their history rows (``history_insert_select``, the
    customer's login as the user); ``"seen"`` sets the device's ``last_seen`` if any changed.
    Nothing is written unless the SQL condition ``when`` (with ``when_params``) holds over the
    statement's ``"hot"`` rows (the call is answered, every permission is stored, the
    observations are valid for the device). Another report of the same device committed first
    makes this one's rows no longer differ, so they are left alone: the history never repeats a
    state.
    """
    table = DevicePermission._meta.db_table
    values = ", ".join(["(%s, %s, %s::timestamptz, %s)"] * len(reports))
    reported = []
    for name, report in reports.items():
        reported += [name, report.state, report.observed_at, report.source]
    history, history_params = history_insert_select(
        DevicePermission,
        source='"changed"',
        history_type="~",
        actor='(SELECT "hot_user_id" FROM "hot" LIMIT 1)',
    )
    sql = f"""
        "reported" ("name", "state", "observed_at", "source") AS (VALUES {values}),
        "changed" AS (
            UPDATE "{table}" p
            SET "state" = r."state", "observed_at" = r."observed_at", "source" = r."source"
            FROM "reported" r
            WHERE p."device_id" = %s AND p."name" = r."name" AND p."state" <> r."state"
              AND r."observed_at" >= p."observed_at" AND ({when})
            RETURNING p.*),
        "history" AS ({history}),
        "seen" AS (
            UPDATE "{Device._meta.db_table}" d SET "last_seen" = %s
            WHERE d."id" = %s AND EXISTS (SELECT 1 FROM "changed"))"""
    return sql, [*reported, device_id, *when_params, *history_params, now, device_id]


def _permissions_store(
    device: Device, stored: dict[str, DevicePermission], news: dict[str, PermissionReport]
) -> list[str]:
    changed: list[str] = []
    for name, report in news.items():
        current = stored.get(name) or DevicePermission(device=device, name=name)
        current.state = report.state
        current.observed_at = report.observed_at
        current.source = report.source
        if current._state.adding:
            try:
                with transaction.atomic():
                    current.save_tracked()
            except (IntegrityError, ValidationError) as error:
                if isinstance(error, ValidationError) and not _only_uniqueness(error):
                    raise
                # A concurrent first report of the same device stored this permission first:
                # its row stands, and the next report is compared with it.
                continue
            changed.append(name)
            stored[name] = current
        elif current.save_tracked():
            changed.append(name)
            stored[name] = current
    if changed:
        device.last_seen = timezone.now()
        device.save(update_fields=["last_seen"])
        # Keep the prefetched rows in step with what was stored.
        cache = getattr(device, "_prefetched_objects_cache", None)
        if cache is not None:
            cache["permissions"] = list(stored.values())
    return changed
