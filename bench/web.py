"""What the benchmarks need to drive the pages in-process: verified staff clients, plain static."""

from __future__ import annotations


def verified_client(user):
    """Return a test client signed in as ``user`` with a confirmed authenticator verified.

    Staff pages require a one-time code (security/middleware.py); the benchmarks measure the
    pages, not the sign-in, so the session is marked verified the way django-otp marks it.
    """
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def unhashed_static() -> None:
    """Serve static URLs without the hashed manifest (the benchmarks run no collectstatic)."""
    from django.conf import settings
    from django.test.utils import override_settings

    override_settings(STORAGES={
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }).enable()
