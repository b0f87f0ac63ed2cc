"""Helpers for the security tests: one-time codes and sign-ins through the real pages."""

from __future__ import annotations

from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD


def totp_code(device: TOTPDevice) -> str:
    """Return the device's current code (what the phone would show)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def enrolled_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def admin_login(client, user, *, token: str = "", password: str = PASSWORD, next_url: str = ""):
    return client.post(reverse("admin:login"), {
        "username": user.email, "password": password, "otp_token": token,
        "next": next_url or reverse("admin:index"),
    })
