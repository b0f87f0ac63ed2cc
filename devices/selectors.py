"""Reads of devices, permission states and app tokens.

Reads that disclose a customer's device data log an access through ``consent.access``; lookups
that only find the row a service then changes (``device_find_own``, ``api_token_get_valid``) log
nothing themselves: the service logs the call. The one exception is the app's hot path
(``device_find_by_token``): its one statement may also store the permission report it reads
for, with the write composed by ``services.permissions_store_sql``.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from consent import access
from consent.context import Channel

from .models import PERMISSION_NAMES, ApiToken, Device, DevicePermission
from .services import (
    DEVICE_FIELDS,
    DEVICE_REFERENCE_PREFIX,
    PERMISSION_FIELDS,
    TOKEN_FIELDS,
    PermissionReport,
    device_reference,
    log_device_call,
    permissions_store_sql,
    token_hash,
)
from .validation import registered_by


def api_token_get_valid(*, raw: str) -> ApiToken | None:
    """Return the unrevoked, unexpired token whose secret is ``raw``, with its user and customer."""
    if not raw:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__customer")
        .filter(key_hash=token_hash(raw))
        .first()
    )
    if token is None or not token.is_valid(timezone.now()) or not token.user.is_active:
        return None
    return token


def device_find_own(*, customer: Any, device_id: int) -> Device:
    """Return the customer's registered device with its permissions (raises DoesNotExist).

    Another customer's device, an unregistered one and a missing one look the same. A device
    that has reported its permissions is read in one query (permissions joined to their device):
    this is the app's hot path.
    """
    rows = list(
        DevicePermission.objects.select_related("device").filter(
            device_id=device_id, device__customer=customer, device__unregistered_at__isnull=True
        )
    )
    if rows:
        device = rows[0].device
        for row in rows:
            row.device = device
    else:
        device = Device.objects.get(customer=customer, pk=device_id, unregistered_at__isnull=True)
    device._prefetched_objects_cache = {"permissions": rows}
    return device


def _columns(model: Any, alias: str) -> tuple[list[str], str]:
    names = [f.attname for f in model._meta.concrete_fields]
    sql = ", ".join(f'{alias}."{f.column}"' for f in model._meta.concrete_fields)
    return names, sql


def _converters(models: list[Any]) -> list[tuple[int, list, Any]]:
    """The database converters of these models' columns, as the ORM applies them (SQLite
    returns times as naive values, for one)."""
    found = []
    position = 0
    for model in models:
        for field in model._meta.concrete_fields:
            col = field.get_col(model._meta.db_table)
            functions = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            if functions:
                found.append((position, functions, col))
            position += 1
    return found


@functools.cache
def _hot_path_sql() -> tuple[list[str], list[str], str]:
    """The app's hot-path query, written once per process (see ``device_find_by_token``).

    Its last column is the policy re-acceptance rule of
    ``rights.selectors.customer_needs_policy_acceptance`` (accepted some version, but not the
    newest), so that the API's policy gate costs no query of its own; the call's self-access
    row (``hot_path_statement``) reads it too.
    """
    from accounts.models import Customer, User
    from consent.models import ConsentRecord, PolicyVersion

    permission_names, permission_sql = _columns(DevicePermission, "p")
    device_names, device_sql = _columns(Device, "d")
    tables = {
        model: model._meta.db_table
        for model in (DevicePermission, Device, Customer, User, ConsentRecord, PolicyVersion)
    }
    accepted = f"""
        SELECT 1 FROM "{tables[ConsentRecord]}" r
        WHERE r."customer_id" = c."id" AND r."purpose_id" IS NULL AND r."kind" = %s"""
    newest = f"""
        SELECT v."id" FROM "{tables[PolicyVersion]}" v
        ORDER BY v."effective_date" DESC, v."published_at" DESC LIMIT 1"""
    sql = f"""
        SELECT {permission_sql}, {device_sql},
            c."id" AS "hot_customer_id", c."user_id" AS "hot_customer_user_id",
            u."id" AS "hot_user_id",
            (EXISTS ({accepted})
             AND NOT EXISTS ({accepted} AND r."policy_version_id" = ({newest})))
            AS "hot_policy_pending"
        FROM "{tables[DevicePermission]}" p
        JOIN "{tables[Device]}" d ON d."id" = p."device_id"
        JOIN "{tables[Customer]}" c ON c."id" = d."customer_id"
        JOIN "{tables[User]}" u ON u."id" = c."user_id"
        JOIN "{ApiToken._meta.db_table}" t ON t."user_id" = u."id"
        WHERE p."device_id" = %s AND d."unregistered_at" IS NULL AND u."is_active"
          AND t."key_hash" = %s AND t."revoked_at" IS NULL AND t."expires_at" > %s
    """
    return permission_names, device_names, sql


@functools.cache
def _hot_path_converters(vendor: str) -> list[tuple[int, list, Any]]:
    return _converters([DevicePermission, Device])


def _convert(row: tuple, converters: list[tuple[int, list, Any]]) -> list:
    values = list(row)
    for position, functions, col in converters:
        value = values[position]
        for function in functions:
            value = function(value, col, connection)
        values[position] = value
    return values


# The hot-path rows as the source of its self-access row: one row, only when the call is
# answered (the customer has no newer policy version to accept first).
_ANSWERED_CALL = '(SELECT * FROM "hot" LIMIT 1) "h" WHERE NOT "h"."hot_policy_pending"'


class HotStatement(NamedTuple):
    """The hot-path statement (``hot_path_statement``) and what it writes besides reading."""

    sql: str
    params: list[Any]
    logs: bool  # the call's self-access row
    stores: bool  # the permission report, when the statement's condition holds
    now: datetime


def hot_path_statement(
    *,
    raw: str,
    device_id: int,
    log_fields: tuple[str, ...] = (),
    reports: dict[str, PermissionReport] | None = None,
) -> HotStatement:
    """The statement of ``device_find_by_token`` (the benchmark's floors run it too).

    On PostgreSQL, with ``log_fields`` it writes the call's self-access row; with ``reports``
    as well (a permission report already checked, except against the device's registration), it
    stores them (``services.permissions_store_sql``) if the call is answered, the device has
    all its permissions stored, and it was registered early enough for the reports'
    observations (``validation.registered_by``). Its rows then end with
    ``hot_changed`` (whether the statement changed that permission) and ``hot_stored`` (whether
    it stored the report: the condition, evaluated once, in SQL only).
    """
    from consent.models import ConsentRecord

    _permission_names, _device_names, sql = _hot_path_sql()
    accepted = ConsentRecord.Kind.ACCEPTED.value
    now = timezone.now()
    params = [accepted, accepted, device_id, token_hash(raw), now]
    logs = bool(log_fields) and connection.vendor == "postgresql"
    stores = logs and bool(reports)
    if logs:
        insert, insert_params = access.access_insert_select(
            source=_ANSWERED_CALL,
            actor='"h"."hot_user_id"',
            customer='"h"."hot_customer_id"',
            action=access.Action.API,
            fields=log_fields,
            reference=device_reference(device_id),
        )
        sql = f'WITH "hot" AS ({sql}), "logged" AS ({insert})'
        params += insert_params
        if stores:
            store, store_params = permissions_store_sql(
                device_id=device_id,
                reports=reports,
                when='(SELECT "ok" FROM "stores")',
                when_params=[],
                now=now,
            )
            sql += (
                f', "stores" AS (SELECT {_STORES_REPORT} AS "ok"), {store} SELECT "hot".*,'
                ' "hot"."name" IN (SELECT "name" FROM "changed") AS "hot_changed",'
                ' (SELECT "ok" FROM "stores") AS "hot_stored" FROM "hot"'
            )
            params += [registered_by(reports), len(PERMISSION_NAMES), *store_params]
        else:
            sql += ' SELECT * FROM "hot"'
    return HotStatement(sql, params, logs, stores, now)


# When the hot-path statement stores the report: the call is answered, the device was
# registered by the given time, and every permission has its row.
_STORES_REPORT = (
    f'EXISTS (SELECT 1 FROM {_ANSWERED_CALL} AND "h"."registered_at" <= %s)'
    ' AND (SELECT count(*) FROM "hot") = %s'
)


def device_find_by_token(
    *,
    raw: str,
    device_id: int,
    log_fields: tuple[str, ...] = (),
    reports: dict[str, PermissionReport] | None = None,
) -> Device | None:
    """Return the device ``device_id`` with its permissions, customer and login, in one query,
    if it belongs to the holder of the valid token ``raw`` and has reported permissions before.

    None means "not that simple": an invalid token, someone else's or an unregistered device,
    or a device with no permission rows yet; the caller then looks them up one by one.

    With ``log_fields`` on PostgreSQL, the same statement also writes the call's self-access row
    (the row ``services.log_device_call`` queues) when the device is found and the customer has
    no newer policy version to accept: a data-modifying ``WITH``, so that the app's report costs
    one statement and no transaction of its own. ``device.call_logged`` then says the row is
    written; otherwise the caller logs the call as usual. With ``reports`` (checked but for the
    device's registration) too, the statement stores the report (``hot_path_statement``):
    ``device.report_changed`` is then the list ``services.device_permissions_report`` returns,
    and the device and its permissions hold what was stored; it is None when the statement
    stored nothing (the caller checks and stores the report as usual).

    This is the app's hot path (every start of the app reports its permissions): one SQL
    statement composed once per process, rows turned into model instances with ``from_db``.
    Building the equivalent ORM query cost more than running it. The customer and login are
    needed only as ids (access log, actor), so only those columns are loaded; the customer's
    ``policy_pending`` says whether the newest policy version awaits their acceptance.
    """
    from accounts.models import Customer, User

    permission_names, device_names, _sql = _hot_path_sql()
    statement = hot_path_statement(
        raw=raw,
        device_id=device_id,
        log_fields=log_fields,
        reports=reports,
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall()
    if not rows:
        return None
    converters = _hot_path_converters(connection.vendor)
    if converters:
        rows = [_convert(row, converters) for row in rows]
    db = connection.alias
    split = len(permission_names)
    first = rows[0]
    device = Device.from_db(db, device_names, first[split:split + len(device_names)])
    customer_at = split + len(device_names)
    customer = Customer.from_db(db, ["id", "user_id"], first[customer_at:customer_at + 2])
    # The query matched active logins only.
    user = User.from_db(db, ["id", "is_active"], [first[customer_at + 2], True])
    Customer.user.field.set_cached_value(customer, user)
    customer.policy_pending = bool(first[customer_at + 3])
    Device.customer.field.set_cached_value(device, customer)
    permissions = []
    for row in rows:
        permission = DevicePermission.from_db(db, permission_names, row[:split])
        DevicePermission.device.field.set_cached_value(permission, device)
        permissions.append(permission)
    device._prefetched_objects_cache = {"permissions": permissions}
    device.call_logged = statement.logs and not customer.policy_pending
    device.report_changed = None
    if statement.stores and first[-1]:
        # The statement stored the report. Its rows are as they were read.
        flagged = {p.name for p, row in zip(permissions, rows, strict=True) if row[-2]}
        device.report_changed = [name for name in reports if name in flagged]
        for permission in permissions:
            if permission.name in flagged:
                report = reports[permission.name]
                permission.state = report.state
                permission.observed_at = report.observed_at
                permission.source = report.source
                permission.remember_loaded_values()
        if flagged:
            device.last_seen = statement.now
            device.remember_loaded_values()
    return device


def device_get_own(*, customer: Any, device_id: int) -> Device:
    """Return the customer's own device (as ``device_find_own``), logging a self-access API call."""
    device = device_find_own(customer=customer, device_id=device_id)
    log_device_call(device, fields=DEVICE_FIELDS + PERMISSION_FIELDS)
    return device


def device_list_own(*, customer: Any) -> QuerySet[Device]:
    """Return all the customer's devices (unregistered too) with permissions, logging a view."""
    access.access_record(
        subjects=[customer], action=access.Action.VIEW, fields=DEVICE_FIELDS + PERMISSION_FIELDS
    )
    return with_last_call(Device.objects.filter(customer=customer).prefetch_related("permissions"))


def with_last_call(devices: QuerySet[Device]) -> QuerySet[Device]:
    """Annotate each device with ``last_call_at``: its newest self-access row from the app.

    A report that repeats the stored state writes nothing to the device (not even
    ``last_seen``), but every app call leaves a self-access row referencing its device
    (``services.device_reference``, unique to the device); ``Device.seen_at`` is the later of
    the two. One index probe per device (devices migration 0003: a partial index on the API
    rows' ``(reference, at)``).
    """
    from consent.models import AccessLog

    calls = AccessLog.objects.filter(
        channel=Channel.API,
        reference=Concat(Value(DEVICE_REFERENCE_PREFIX), Cast(OuterRef("pk"), CharField())),
    ).order_by("-at")
    return devices.annotate(last_call_at=Subquery(calls.values("at")[:1]))


def device_with_last_call(device: Device) -> Device:
    """Give ``device`` the ``last_call_at`` of ``with_last_call`` (one index probe), so that its
    ``seen_at`` counts the app's calls that wrote nothing to the device."""
    device.last_call_at = (
        with_last_call(Device.objects.filter(pk=device.pk))
        .values_list("last_call_at", flat=True)
        .first()
    )
    return device


def api_token_list_own(*, user: Any) -> QuerySet[ApiToken]:
    """Return the user's app tokens, newest first (secrets are never stored, so never shown)."""
    customer = getattr(user, "customer", None)
    if customer is not None:
        access.access_record(subjects=[customer], action=access.Action.VIEW, fields=TOKEN_FIELDS)
    return ApiToken.objects.filter(user=user)


def api_token_get_own(*, user: Any, token_id: int) -> ApiToken:
    """Return one of the user's tokens (raises DoesNotExist for anyone else's)."""
    return ApiToken.objects.select_related("user").get(user=user, pk=token_id)
