"""Writes for second factors: enrolment, recovery codes, ending a user's sessions."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import UserSession

ENROLMENT_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"


@transaction.atomic
def totp_enrolment_start(*, user: Any) -> TOTPDevice:
    """Return the user's pending (unconfirmed) authenticator device, creating it if needed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=ENROLMENT_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_enrolment_confirm(*, user: Any, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm ``device`` if ``token`` is its current code; return fresh recovery codes.

    Return None (and change nothing) when the code is wrong. Confirming replaces any earlier
    authenticator of the user and issues a new set of single-use recovery codes.
    """
    if device.user_id != user.pk or device.confirmed or not device.verify_token(token):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return recovery_codes_issue(user=user)


@transaction.atomic
def recovery_codes_issue(*, user: Any) -> list[str]:
    """Replace the user's recovery codes with ``OTP_RECOVERY_CODES`` new single-use codes."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.OTP_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def session_register(*, user: Any, session_key: str | None) -> None:
    """Remember that ``session_key`` belongs to ``user``."""
    if session_key:
        UserSession.objects.get_or_create(session_key=session_key, defaults={"user": user})


def session_forget(*, session_key: str | None) -> None:
    """Forget a session that ended (logout)."""
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def sessions_end_for_user(*, user_id: int) -> int:
    """End every session of the user (after a privilege change); return how many ended."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(UserSession.objects.filter(user_id=user_id).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user_id=user_id).delete()
    return len(keys)
