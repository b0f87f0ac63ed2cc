"""One client address for lockout, rate limits and the access log: the proxy's forwarded one when a
trusted proxy is configured, never a header the client could have written itself."""

import pytest
from django.urls import reverse

from accounts.models import Customer
from consent.models import AccessLog, ConsentRecord
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.real_otp]

PROXY = "10.0.0.1"  # every request reaches the portal from the reverse proxy


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


def _via_proxy(client_address: str, *, spoofed: str = "") -> dict:
    """What one proxy (nginx, $proxy_add_x_forwarded_for) sends: the client's header, then it."""
    forwarded = f"{spoofed}, {client_address}" if spoofed else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}


def _fail_five(client, url, address_meta):
    for n in range(5):
        client.post(url, {"username": f"nobody{n}@example.com", "password": "x"}, **address_meta)


def _signup(client, policy, n, meta):
    return client.post(reverse("accounts:signup"), {
        "business_name": f"Công ty {n}", "contact_person": "Trần Thị Bình",
        "phone": f"+8491234{n:04d}", "email": f"ip{n}@example.com",
        "password1": "correct-horse-battery-9", "password2": "correct-horse-battery-9",
        "accept_policy": "on", "policy_version": policy.label,
    }, **meta)


def test_behind_a_proxy_two_clients_are_locked_out_independently(
    client, customer, behind_one_proxy
):
    url = reverse("accounts:login")
    _fail_five(client, url, _via_proxy("203.0.113.5"))
    good = {"username": customer.user.email, "password": PASSWORD}
    assert client.post(url, good, **_via_proxy("203.0.113.5")).status_code == 429
    # Same proxy address, another client behind it: not locked.
    assert client.post(url, good, **_via_proxy("203.0.113.6")).status_code == 302


def test_behind_a_proxy_the_clients_own_forwarded_entries_do_not_escape_the_lock(
    client, customer, behind_one_proxy
):
    url = reverse("accounts:login")
    for n in range(5):  # a new made-up left-hand entry on every attempt
        client.post(url, {"username": f"nobody{n}@example.com", "password": "x"},
                    **_via_proxy("203.0.113.5", spoofed=f"198.51.100.{n}"))
    good = {"username": customer.user.email, "password": PASSWORD}
    assert client.post(url, good,
                       **_via_proxy("203.0.113.5", spoofed="198.51.100.99")).status_code == 429


def test_without_a_proxy_setting_x_forwarded_for_is_ignored(client, customer, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    url = reverse("accounts:login")
    for n in range(5):  # one real address pretending to be five
        client.post(url, {"username": f"nobody{n}@example.com", "password": "x"},
                    REMOTE_ADDR="10.7.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = client.post(url, {"username": customer.user.email, "password": PASSWORD},
                           REMOTE_ADDR="10.7.0.1", HTTP_X_FORWARDED_FOR="203.0.113.77")
    assert response.status_code == 429


def test_behind_a_proxy_rate_limits_count_each_client(client, policy, settings,
                                                      behind_one_proxy):
    settings.RATE_LIMITS = [("signup", r"^/signup/$", 2, 3600)]
    statuses = []
    for n in range(3):
        client.logout()
        statuses.append(_signup(client, policy, n, _via_proxy("203.0.113.5")).status_code)
    assert statuses == [302, 302, 429]
    client.logout()
    assert _signup(client, policy, 7, _via_proxy("203.0.113.6")).status_code == 302


def test_without_a_proxy_setting_rate_limits_ignore_x_forwarded_for(client, policy, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.RATE_LIMITS = [("signup", r"^/signup/$", 2, 3600)]
    statuses = []
    for n in range(3):
        client.logout()
        statuses.append(_signup(client, policy, n, {
            "REMOTE_ADDR": "10.7.0.2", "HTTP_X_FORWARDED_FOR": f"203.0.113.{n}",
        }).status_code)
    assert statuses == [302, 302, 429]


def test_behind_a_proxy_consent_and_access_log_rows_store_the_clients_address(
    client, policy, behind_one_proxy
):
    assert _signup(client, policy, 1, _via_proxy("203.0.113.9", spoofed="1.2.3.4")
                   ).status_code == 302
    customer = Customer.objects.get(user__email="ip1@example.com")
    assert ConsentRecord.objects.get(customer=customer).ip_address == "203.0.113.9"
    rows = AccessLog.objects.filter(customer_id=customer.pk)
    assert rows and {row.ip_address for row in rows} == {"203.0.113.9"}


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "203.0.113.9:443", "fe80::1%eth0"])
def test_a_missing_or_malformed_forwarded_address_falls_back_to_the_proxy(
    client, policy, behind_one_proxy, forwarded
):
    meta = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}
    assert _signup(client, policy, 2, meta).status_code == 302
    assert ConsentRecord.objects.get().ip_address == PROXY


def test_without_a_proxy_setting_rows_store_the_connecting_address(client, policy, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    _signup(client, policy, 3, {"REMOTE_ADDR": "10.7.0.3", "HTTP_X_FORWARDED_FOR": "1.2.3.4"})
    assert ConsentRecord.objects.get().ip_address == "10.7.0.3"


def test_the_request_id_in_the_access_log_is_never_the_clients(client, policy):
    response = _signup(client, policy, 4, {"REMOTE_ADDR": "10.7.0.4",
                                            "HTTP_X_REQUEST_ID": "forged-request-id"})
    assert response.status_code == 302
    customer = Customer.objects.get(user__email="ip4@example.com")
    ids = set(AccessLog.objects.filter(customer_id=customer.pk)
              .values_list("request_id", flat=True))
    assert ids and "forged-request-id" not in ids
    assert ids == {response["X-Request-ID"]}
    assert len(response["X-Request-ID"]) == 32
