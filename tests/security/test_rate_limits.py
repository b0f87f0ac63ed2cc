"""Signup and password-reset POSTs are limited per IP address, with a friendly 429 page."""

import pytest
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def _signup(client, policy, n, ip):
    return client.post(reverse("accounts:signup"), {
        "business_name": f"Công ty {n}", "contact_person": "Trần Thị Bình",
        "phone": f"+8491234{n:04d}", "email": f"rate{n}@example.com",
        "password1": "correct-horse-battery-9", "password2": "correct-horse-battery-9",
        "accept_policy": "on", "policy_version": policy.label,
    }, REMOTE_ADDR=ip)


def test_signup_is_limited_per_address(client, policy, settings):
    settings.RATE_LIMITS = [("signup", r"^/signup/$", 3, 3600)]
    statuses = []
    for n in range(4):
        client.logout()
        statuses.append(_signup(client, policy, n, "10.1.0.1").status_code)
    assert statuses == [302, 302, 302, 429]
    assert User.objects.filter(email__startswith="rate").count() == 3
    client.logout()
    assert _signup(client, policy, 9, "10.1.0.2").status_code == 302  # another address


def test_the_429_page_is_friendly_and_translated(client, policy, settings):
    settings.RATE_LIMITS = [("signup", r"^/signup/$", 0, 3600)]
    en = client.post(reverse("accounts:signup"), {}, HTTP_ACCEPT_LANGUAGE="en")
    vi = client.post(reverse("accounts:signup"), {}, HTTP_ACCEPT_LANGUAGE="vi")
    assert en.status_code == vi.status_code == 429
    assert "Too many requests" in en.content.decode()
    assert "Too many requests" not in vi.content.decode()
    assert User.objects.count() == 0


@pytest.mark.parametrize("path", ["/account/password-reset/", "/account/password_reset/",
                                  "/admin/password_reset/", "/account/passwordreset/"])
def test_password_reset_paths_are_limited_wherever_they_live(client, path):
    # The default rules: five resets per hour and address (whatever the page answers).
    statuses = [client.post(path, {"email": "x@example.com"}, REMOTE_ADDR="10.1.1.1").status_code
                for _ in range(6)]
    assert 429 not in statuses[:5]
    assert statuses[5] == 429


def test_gets_are_not_counted(client):
    for _ in range(20):
        assert client.get(reverse("accounts:signup")).status_code == 200
