"""App tokens: issued for email and password, stored hashed, expiring, revocable."""

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth.signals import user_login_failed
from django.utils import timezone

from consent.models import AccessLog
from devices.models import ApiToken

from .conftest import Api, issue_token

pytestmark = pytest.mark.django_db


def test_token_is_stored_only_as_its_sha256_and_expires_after_90_days(client, customer):
    before = timezone.now()
    raw = issue_token(client, customer.user.email)
    token = ApiToken.objects.get()
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.key_hash, token.prefix, token.name}
    assert raw.startswith(token.prefix)
    assert timedelta(days=90) <= token.expires_at - before < timedelta(days=90, minutes=1)
    row = AccessLog.objects.get(fields="api_token")
    assert (row.actor_id, row.customer_id, row.purpose, row.channel, row.action) == (
        customer.user.pk,
        customer.pk,
        "",
        "api",
        "api",
    )


def test_token_lifetime_is_a_setting(client, customer, settings):
    settings.DEVICES_TOKEN_TTL_DAYS = 7
    issue_token(client, customer.user.email)
    token = ApiToken.objects.get()
    assert token.expires_at - token.created_at == timedelta(days=7)


def test_email_is_matched_case_insensitively(client, customer):
    issue_token(client, customer.user.email.upper())
    assert ApiToken.objects.filter(user=customer.user).count() == 1


def test_wrong_password_is_401_and_reported_as_a_failed_login(client, customer):
    failures = []

    def listener(sender, credentials, request=None, **kwargs):
        failures.append((credentials.get("username"), request))

    user_login_failed.connect(listener)
    try:
        response = Api(client).post(
            "/api/v1/auth/token/", {"email": customer.user.email, "password": "wrong"}
        )
    finally:
        user_login_failed.disconnect(listener)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    # The lockout (authentication backends, user_login_failed) sees the request, as for web logins.
    assert len(failures) == 1 and failures[0][0] == customer.user.email
    assert failures[0][1] is not None and failures[0][1].path == "/api/v1/auth/token/"
    assert not ApiToken.objects.exists()


def test_staff_logins_get_no_app_token(client, support_user):
    response = Api(client).post(
        "/api/v1/auth/token/", {"email": support_user.email, "password": "correct-horse-battery-9"}
    )
    assert response.status_code == 401
    assert not ApiToken.objects.exists()


def test_token_request_field_errors(client):
    response = Api(client).post("/api/v1/auth/token/", {"email": 5})
    assert response.status_code == 400
    assert {e["pointer"] for e in response.json()["errors"]} == {"/email", "/password"}


def test_expired_token_is_401(api, device_id):
    token = ApiToken.objects.get()
    token.expires_at = timezone.now() - timedelta(seconds=1)
    token.save()
    response = api.get(f"/api/v1/devices/{device_id}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert (
        response.json()["detail"] == "The token is unknown, expired or revoked: request a new one."
    )


def test_customer_revokes_the_token_in_use_through_the_api(api, customer, device_id):
    assert api.delete("/api/v1/auth/token/").status_code == 204
    token = ApiToken.objects.get()
    assert token.revoked_at is not None and token.revoked_by == customer.user
    assert api.get(f"/api/v1/devices/{device_id}/").status_code == 401
    assert AccessLog.objects.filter(action="change", fields="api_token").count() == 1


def test_customer_revokes_a_token_on_the_devices_page(api, client, customer, device_id):
    token = ApiToken.objects.get()
    client.force_login(customer.user)
    page = client.get("/account/devices/")
    assert token.prefix in page.content.decode()
    response = client.post(f"/account/devices/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == customer.user
    row = AccessLog.objects.get(action="change", fields="api_token")
    assert (row.actor_id, row.purpose, row.channel) == (customer.user.pk, "", "portal")
    client.logout()
    assert api.get(f"/api/v1/devices/{device_id}/").status_code == 401


def test_a_customer_cannot_revoke_someone_elses_token(api, client, other_customer):
    token = ApiToken.objects.get()
    client.force_login(other_customer.user)
    assert client.post(f"/account/devices/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_inactive_user_token_is_401(api, customer, device_id):
    from consent.context import Channel, access_context

    with access_context(actor=None, channel=Channel.COMMAND):
        customer.user.is_active = False
        customer.user.save_tracked()
    assert api.get(f"/api/v1/devices/{device_id}/").status_code == 401
