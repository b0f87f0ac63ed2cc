"""Five failed sign-ins per username, or per address, lock for 15 minutes, before any hashing."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.urls import reverse

from security.backends import LockoutBackend
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.real_otp]

LOGINS = {
    "customer": lambda: reverse("accounts:login"),
    "admin": lambda: reverse("admin:login"),
}


def _without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


def _fail(client, url, username, ip="10.0.0.1", times=5):
    for _ in range(times):
        client.post(url, {"username": username, "password": "wrong-password-1"}, REMOTE_ADDR=ip)


def test_settings_lock_after_5_failures_for_15_minutes_per_username_and_per_ip():
    from axes.backends import AxesStandaloneBackend
    from django.contrib.auth import get_backends

    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME * 60 == 15
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    first = get_backends()[0]
    assert isinstance(first, AxesStandaloneBackend) and isinstance(first, LockoutBackend)


@pytest.mark.parametrize("which", sorted(LOGINS))
def test_five_failures_lock_the_username_even_with_the_right_password(client, customer, which):
    url = LOGINS[which]()
    _fail(client, url, customer.user.email)
    response = client.post(url, {"username": customer.user.email, "password": PASSWORD},
                           REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "15" in response.content.decode()


@pytest.mark.parametrize("which", sorted(LOGINS))
def test_five_failures_from_one_address_lock_that_address_for_every_username(
    client, customer, which
):
    url = LOGINS[which]()
    for n in range(5):
        client.post(url, {"username": f"nobody{n}@example.com", "password": "x"},
                    REMOTE_ADDR="10.0.0.7")
    response = client.post(url, {"username": customer.user.email, "password": PASSWORD},
                           REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 429
    other = client.post(reverse("accounts:login"),
                        {"username": customer.user.email, "password": PASSWORD},
                        REMOTE_ADDR="10.0.0.8")
    assert other.status_code == 302


def test_locked_answer_is_the_same_for_an_existing_and_an_unknown_account(client, customer):
    url = reverse("accounts:login")
    _fail(client, url, customer.user.email, ip="10.0.1.1")
    _fail(client, url, "no-such-person@example.com", ip="10.0.1.2")
    known = client.post(url, {"username": customer.user.email, "password": "x"},
                        REMOTE_ADDR="10.0.1.1")
    unknown = client.post(url, {"username": "no-such-person@example.com", "password": "x"},
                          REMOTE_ADDR="10.0.1.2")
    assert known.status_code == unknown.status_code == 429
    assert _without_csrf(known.content) == _without_csrf(unknown.content)


def test_a_locked_attempt_hashes_no_password(client, customer, monkeypatch):
    url = reverse("accounts:login")
    _fail(client, url, customer.user.email, ip="10.0.2.1")
    calls = []
    for name in ("verify", "encode"):
        original = getattr(MD5PasswordHasher, name)
        monkeypatch.setattr(MD5PasswordHasher, name,
                            lambda self, *a, _o=original: calls.append(1) or _o(self, *a))
    response = client.post(url, {"username": customer.user.email, "password": PASSWORD},
                           REMOTE_ADDR="10.0.2.1")
    assert response.status_code == 429
    assert calls == []
    # …whereas an ordinary attempt does hash.
    client.post(url, {"username": "someone@example.com", "password": "x"},
                REMOTE_ADDR="10.0.2.99")
    assert calls


def test_a_success_before_the_limit_resets_the_count(client, customer):
    url = reverse("accounts:login")
    _fail(client, url, customer.user.email, ip="10.0.3.1", times=4)
    assert client.post(url, {"username": customer.user.email, "password": PASSWORD},
                       REMOTE_ADDR="10.0.3.1").status_code == 302
    client.logout()
    _fail(client, url, customer.user.email, ip="10.0.3.1", times=4)
    assert client.post(url, {"username": customer.user.email, "password": PASSWORD},
                       REMOTE_ADDR="10.0.3.1").status_code == 302


def test_the_lockout_page_is_translated(client, customer):
    url = reverse("accounts:login")
    _fail(client, url, customer.user.email, ip="10.0.4.1")
    vi = client.post(url, {"username": customer.user.email, "password": "x"},
                     REMOTE_ADDR="10.0.4.1", HTTP_ACCEPT_LANGUAGE="vi")
    en = client.post(url, {"username": customer.user.email, "password": "x"},
                     REMOTE_ADDR="10.0.4.1", HTTP_ACCEPT_LANGUAGE="en")
    assert "too many unsuccessful sign-in attempts" in en.content.decode()
    assert "too many unsuccessful sign-in attempts" not in vi.content.decode()
    assert vi.status_code == en.status_code == 429


def _login_routes() -> list[str]:
    """Every sign-in or token URL of the project (from the resolver: covers later APIs too)."""
    from tests.security.test_object_access import PARAM_RE, all_routes

    return sorted({
        "/" + route for route, name in all_routes()
        if name and re.search(r"login|token", name) and "logout" not in name
        # an admin page listing stored tokens (devices_apitoken_changelist) signs no one in
        and not re.search(r"_(changelist|add|change|delete|history)$", name)
        and not PARAM_RE.search(route)
    })


def test_every_sign_in_route_locks_after_five_failures(client, customer):
    routes = _login_routes()
    assert {"/account/login/", "/admin/login/", "/api/v1/auth/token/"} <= set(routes)
    for n, url in enumerate(routes):
        ip = f"10.3.{n}.1"
        is_api = url.startswith("/api/")
        for _ in range(5):
            body = {"username": customer.user.email, "email": customer.user.email,
                    "password": "wrong-password-1"}
            if is_api:  # the API refuses unknown keys: send only what its schema allows
                body.pop("username")
                client.post(url, body, content_type="application/json", REMOTE_ADDR=ip)
            else:
                client.post(url, body, REMOTE_ADDR=ip)
        good = {"email": customer.user.email, "password": PASSWORD}
        if not is_api:
            good["username"] = customer.user.email
        response = (client.post(url, good, content_type="application/json", REMOTE_ADDR=ip)
                    if is_api else client.post(url, good, REMOTE_ADDR=ip))
        assert response.status_code == 429, url
        client.logout()
        from axes.models import AccessAttempt

        AccessAttempt.objects.all().delete()


def test_api_clients_get_the_lockout_as_json(client, customer):
    url = reverse("accounts:login")
    _fail(client, url, customer.user.email, ip="10.0.5.1")
    response = client.post(url, {"username": customer.user.email, "password": "x"},
                           REMOTE_ADDR="10.0.5.1", HTTP_ACCEPT="application/json")
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"


# -- the app API's token endpoint (POST /api/v1/auth/token/) -------------------------------------

TOKEN_URL = "/api/v1/auth/token/"


def _token(client, email, password, ip):
    return client.post(TOKEN_URL, {"email": email, "password": password},
                       content_type="application/json", REMOTE_ADDR=ip)


def test_api_token_locks_after_five_failures_even_with_the_right_password(client, customer):
    from devices.models import ApiToken

    email = customer.user.email
    for _ in range(4):
        assert _token(client, email, "wrong-password-1", "10.6.0.1").status_code == 401
    # The fifth failure reaches the limit: it is answered with the lockout already.
    assert _token(client, email, "wrong-password-1", "10.6.0.1").status_code == 429
    response = _token(client, email, PASSWORD, "10.6.0.1")
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 429 and body["code"] == "locked_out" and body["title"]
    assert ApiToken.objects.count() == 0  # no token was issued while locked
    # The lock is per username: the web sign-in of that login is locked too, from elsewhere.
    web = client.post(reverse("accounts:login"), {"username": email, "password": PASSWORD},
                      REMOTE_ADDR="10.6.0.2")
    assert web.status_code == 429


def test_api_token_locks_an_address_trying_many_usernames(client, customer):
    from devices.models import ApiToken

    for n in range(5):
        _token(client, f"guess{n}@example.com", "wrong-password-1", "10.6.1.1")
    response = _token(client, customer.user.email, PASSWORD, "10.6.1.1")
    assert response.status_code == 429
    assert ApiToken.objects.count() == 0
    assert _token(client, customer.user.email, PASSWORD, "10.6.1.2").status_code == 201

