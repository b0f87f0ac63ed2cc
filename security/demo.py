"""A fixed authenticator secret for the demo staff (DEBUG only, printed by ``seed_demo``)."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

DEMO_TOTP_KEY = b"ExcelCRM-demo-2fa-01"  # 20 bytes; public, demo data only
DEMO_DEVICE_NAME = "demo authenticator"


def demo_secret_base32() -> str:
    return base64.b32encode(DEMO_TOTP_KEY).decode().rstrip("=")


def demo_code_now() -> str:
    """Return the demo authenticator's current 6-digit code."""
    return f"{TOTP(DEMO_TOTP_KEY).token():06d}"


def demo_devices_ensure(*, users: Iterable[Any]) -> str:
    """Give each demo staff user the demo authenticator; return sign-in instructions.

    Refuses outside DEBUG: a shared, published secret must never guard real staff pages.
    """
    if not settings.DEBUG:
        raise RuntimeError("The demo authenticator exists only with DEBUG on.")
    for user in users:
        TOTPDevice.objects.get_or_create(
            user=user, name=DEMO_DEVICE_NAME,
            defaults={"key": DEMO_TOTP_KEY.hex(), "confirmed": True},
        )
    return (
        "Staff pages (/admin/) also ask for a one-time code. Every demo staff login uses the demo\n"
        f"authenticator secret {demo_secret_base32()} (add it to any authenticator app), or run\n"
        "  .venv/bin/python -c \"from django_otp.oath import TOTP; "
        "print('%06d' % TOTP(b'ExcelCRM-demo-2fa-01').token())\"\n"
        f"for the current code (right now: {demo_code_now()}; it changes every 30 seconds)."
    )
