"""Reads of devices, permission states and app tokens.

Reads that disclose a customer's device data log an access through ``consent.access``; lookups
that only find the row a service then changes (``device_find_own``, ``api_token_get_valid``) log
nothing themselves: the service logs the call.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from consent import access

from .models import ApiToken, Device, DevicePermission
from .services import DEVICE_FIELDS, PERMISSION_FIELDS, TOKEN_FIELDS, token_hash


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


_HOT_PATH_FIELDS = (
    *(f.attname for f in DevicePermission._meta.concrete_fields),
    *(f"device__{f.attname}" for f in Device._meta.concrete_fields),
    "device__customer__id",
    "device__customer__user_id",
    "device__customer__user__id",
    "device__customer__user__is_active",
)


def device_find_by_token(*, raw: str, device_id: int) -> Device | None:
    """Return the device ``device_id`` with its permissions, customer and login, in one query,
    if it belongs to the holder of the valid token ``raw`` and has reported permissions before.

    None means "not that simple": an invalid token, someone else's or an unregistered device,
    or a device with no permission rows yet; the caller then looks them up one by one.
    """
    rows = list(
        DevicePermission.objects.select_related("device__customer__user")
        # The customer and login are needed only as ids (access log, actor): loading all their
        # fields (and parsing the phone number once per row) cost more than the query itself.
        .only(*_HOT_PATH_FIELDS)
        .filter(
            device_id=device_id,
            device__unregistered_at__isnull=True,
            device__customer__user__is_active=True,
            device__customer__user__api_tokens__key_hash=token_hash(raw),
            device__customer__user__api_tokens__revoked_at__isnull=True,
            device__customer__user__api_tokens__expires_at__gt=timezone.now(),
        )
        .order_by()
    )
    if not rows:
        return None
    device = rows[0].device
    for row in rows:
        row.device = device
    device._prefetched_objects_cache = {"permissions": rows}
    return device


def device_get_own(*, customer: Any, device_id: int) -> Device:
    """Return the customer's own device (as ``device_find_own``), logging a self-access API call."""
    device = device_find_own(customer=customer, device_id=device_id)
    access.access_record(
        subjects=[customer], action=access.Action.API, fields=DEVICE_FIELDS + PERMISSION_FIELDS
    )
    return device


def device_list_own(*, customer: Any) -> QuerySet[Device]:
    """Return all the customer's devices (unregistered too) with permissions, logging a view."""
    access.access_record(
        subjects=[customer], action=access.Action.VIEW, fields=DEVICE_FIELDS + PERMISSION_FIELDS
    )
    return Device.objects.filter(customer=customer).prefetch_related("permissions")


def api_token_list_own(*, user: Any) -> QuerySet[ApiToken]:
    """Return the user's app tokens, newest first (secrets are never stored, so never shown)."""
    customer = getattr(user, "customer", None)
    if customer is not None:
        access.access_record(subjects=[customer], action=access.Action.VIEW, fields=TOKEN_FIELDS)
    return ApiToken.objects.filter(user=user)


def api_token_get_own(*, user: Any, token_id: int) -> ApiToken:
    """Return one of the user's tokens (raises DoesNotExist for anyone else's)."""
    return ApiToken.objects.select_related("user").get(user=user, pk=token_id)
