"""Reads about second factors and sessions."""

from __future__ import annotations

from typing import Any

from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


def has_confirmed_device(*, user: Any) -> bool:
    """Return whether ``user`` has a confirmed one-time-code device (authenticator or codes)."""
    return any(True for _ in devices_for_user(user, confirmed=True))


def totp_device_get(*, user: Any) -> TOTPDevice | None:
    """Return the user's confirmed authenticator device, if any."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def recovery_device_get(*, user: Any) -> StaticDevice | None:
    """Return the user's recovery-code device, if any."""
    return StaticDevice.objects.devices_for_user(user, confirmed=True).first()


def recovery_codes_left(*, user: Any) -> int:
    """Return how many unused recovery codes the user has."""
    device = StaticDevice.objects.devices_for_user(user, confirmed=True).first()
    return device.token_set.count() if device else 0
