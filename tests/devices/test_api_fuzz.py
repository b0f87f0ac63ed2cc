"""Hypothesis drives every payload of /api/v1/: a problem+json 4xx or a success, never a 500, never
a partial write (clause 5: the app's data is changed completely or not at all).

Each endpoint gets at least 500 generated requests: bodies built from the documented fields with
valid and hostile values, arbitrary JSON documents, and bytes that are not JSON at all.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from consent.models import AccessLog
from devices.models import ApiToken, Device, DevicePermission
from tests.factories import PASSWORD

from .conftest import DEVICE, NAMES, Api, iso

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=500, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

# Any code point, lone UTF-16 surrogates included: JSON can spell them as escapes ("\ud800").
any_text = st.text(st.characters(exclude_categories=()), max_size=80)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False), st.text(max_size=80), any_text,
    st.sampled_from(["", " ", "\x00", "a" * 5000, "\u202e", "NaN", "null", "<script>", "'; --",
                     "\ud800", "a\udfffb"]),
)
keys = st.one_of(st.text(max_size=12), st.sampled_from(["\ud800", "\udc00x"]))
any_json = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12)
not_json = st.one_of(st.binary(max_size=200), st.sampled_from([b"", b"{", b"[1,", b"\xff\xfe",
                                                               b"{\"a\": NaN}", b"1e999999"]))


def maybe(good):
    return st.one_of(good, any_json)


def optional_keys(required: dict, optional: dict | None = None):
    """A dict of the given field strategies, any of them left out, plus unknown keys sometimes."""
    fields = {**required, **(optional or {})}
    return st.fixed_dictionaries({}, optional=fields).flatmap(
        lambda body: st.one_of(
            st.just(body),
            st.dictionaries(keys, any_json, max_size=2).map(
                lambda extra: {**extra, **body})))


def _send(api: Api, method: str, path: str, payload):
    if isinstance(payload, bytes):
        return api.send(method, path, raw=payload)
    return api.send(method, path, raw=json.dumps(payload))


def _assert_problem_or(response, ok: set[int]):
    assert response.status_code != 500
    if response.status_code in ok:
        return True
    assert 400 <= response.status_code < 500, response.status_code
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == response.status_code and body["title"]
    return False


@pytest.fixture
def unlimited(settings):
    """Hundreds of requests from one address: no lockout, no rate limit in the way."""
    settings.AXES_FAILURE_LIMIT = 10**9
    settings.RATE_LIMITS = []


# -- POST /api/v1/auth/token/ --------------------------------------------------------------------

token_bodies = st.one_of(
    optional_keys({
        "email": maybe(st.sampled_from(["customer@fuzz.example", "CUSTOMER@fuzz.example",
                                        "nobody@fuzz.example", "a@b"])),
        "password": maybe(st.sampled_from([PASSWORD, "wrong-password-1", ""])),
    }, {"name": maybe(st.text(max_size=120))}),
    # well-formed requests with generated names and credentials: successes and 401s
    st.fixed_dictionaries({
        "email": st.sampled_from(["customer@fuzz.example", "CUSTOMER@fuzz.example",
                                  "nobody@fuzz.example"]),
        "password": st.sampled_from([PASSWORD, PASSWORD, "wrong-password-1"]),
    }, optional={"name": st.text(max_size=100)}),
    any_json,
    not_json,
)


@pytest.fixture
def fuzz_customer(db):
    from tests.factories import make_customer

    return make_customer(email="customer@fuzz.example")


@FUZZ
@given(payload=token_bodies)
def test_token_payloads(unlimited, client, fuzz_customer, payload):
    before = ApiToken.objects.count(), AccessLog.objects.count()
    response = _send(Api(client), "POST", "/api/v1/auth/token/", payload)
    event(f"HTTP {response.status_code}")
    if _assert_problem_or(response, {201}):
        body = response.json()
        assert body["token_type"] == "Bearer" and body["token"]
        assert ApiToken.objects.count() == before[0] + 1
        assert ApiToken.objects.filter(user=fuzz_customer.user).count() == before[0] + 1
    else:
        assert ApiToken.objects.count() == before[0]


# -- POST /api/v1/devices/ -----------------------------------------------------------------------

device_bodies = st.one_of(
    optional_keys({
        "install_id": maybe(st.one_of(st.sampled_from([DEVICE["install_id"], "a" * 64, "a" * 65,
                                                       "x y", ""]),
                                      st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True))),
        "platform": maybe(st.sampled_from(["android", "ios", "windows", ""])),
        "model": maybe(st.text(max_size=120)),
        "os_version": maybe(st.text(max_size=50)),
        "app_version": maybe(st.text(max_size=50)),
    }),
    st.just(DEVICE),
    # well-formed registrations with generated values: successes and field errors
    st.fixed_dictionaries({
        "install_id": st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True),
        "platform": st.sampled_from(["android", "ios"]),
        "model": st.text(st.characters(categories=["L", "N", "Zs"]), min_size=1, max_size=100),
        "os_version": st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True),
        "app_version": st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True),
    }),
    any_json,
    not_json,
)


@pytest.fixture
def fuzz_api(client, customer):
    from .conftest import issue_token

    return Api(client, issue_token(client, customer.user.email))


@FUZZ
@given(payload=device_bodies)
def test_device_register_payloads(unlimited, fuzz_api, customer, payload):
    before = Device.objects.count(), Device.history.count()
    response = _send(fuzz_api, "POST", "/api/v1/devices/", payload)
    event(f"HTTP {response.status_code}")
    if _assert_problem_or(response, {200, 201}):
        device = Device.objects.get(pk=response.json()["id"])
        assert device.customer_id == customer.pk
        assert device.install_id == payload["install_id"]
        if response.status_code == 201:
            assert Device.objects.count() == before[0] + 1
            assert Device.history.count() == before[1] + 1
        else:  # the same installation again: updated in place, never a second row
            assert Device.objects.count() == before[0]
    else:
        assert (Device.objects.count(), Device.history.count()) == before


# -- PUT /api/v1/devices/{id}/permissions/ -------------------------------------------------------


def _observed():
    now = timezone.now()
    return st.one_of(
        st.sampled_from([iso(now), iso(now - timedelta(minutes=1)), iso(now + timedelta(days=1)),
                         iso(now - timedelta(days=3650)), "2026-13-45T00:00:00Z", "yesterday",
                         "2026-01-01T00:00:00", ""]),
        any_json,
    )


def _entry():
    return st.one_of(
        optional_keys({
            "state": maybe(st.sampled_from(["granted", "denied", "not_asked", "revoked", "maybe"])),
            "observed_at": _observed(),
            "source": maybe(st.sampled_from(["app_prompt", "os_settings", "system", ""])),
        }),
        any_json,
    )


permission_bodies = st.one_of(
    st.fixed_dictionaries({"permissions": st.fixed_dictionaries(
        {}, optional={name: _entry() for name in NAMES})}),
    # all five present and well-formed but for the generated states: many successes
    st.fixed_dictionaries({"permissions": st.fixed_dictionaries({
        name: st.fixed_dictionaries({
            "state": st.sampled_from(["granted", "denied", "not_asked", "revoked"]),
            "observed_at": st.just("NOW"),
            "source": st.sampled_from(["app_prompt", "os_settings"]),
        }) for name in NAMES})}),
    any_json,
    not_json,
)


@pytest.fixture
def fuzz_device_id(fuzz_api):
    response = _send(fuzz_api, "POST", "/api/v1/devices/", DEVICE)
    assert response.status_code == 201
    return response.json()["id"]


@FUZZ
@given(payload=permission_bodies)
def test_permissions_put_payloads(unlimited, fuzz_api, fuzz_device_id, payload):
    device_id = fuzz_device_id
    if isinstance(payload, dict) and isinstance(payload.get("permissions"), dict):
        for entry in payload["permissions"].values():
            if isinstance(entry, dict) and entry.get("observed_at") == "NOW":
                entry["observed_at"] = iso(timezone.now())
    stored = lambda: sorted(  # noqa: E731
        DevicePermission.objects.filter(device_id=device_id).values_list("name", "state"))
    before = stored(), DevicePermission.history.count()
    response = _send(fuzz_api, "PUT", f"/api/v1/devices/{device_id}/permissions/", payload)
    event(f"HTTP {response.status_code}")
    if _assert_problem_or(response, {200}):
        body = response.json()
        assert sorted(body["permissions"]) == sorted(NAMES)
        reported = {name: payload["permissions"][name]["state"] for name in NAMES}
        now_stored = dict(stored())
        assert {name: now_stored.get(name, "not_asked") for name in NAMES} == reported
        # one history row per permission whose state changed, nothing else
        assert DevicePermission.history.count() - before[1] == len(body["changed"])
    else:
        assert (stored(), DevicePermission.history.count()) == before
