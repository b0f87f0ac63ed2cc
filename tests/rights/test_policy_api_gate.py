"""A customer who must accept a new policy version cannot use the app's API until they do."""

import json

import pytest
from django.apps import apps
from django.urls import reverse

from consent.models import AccessLog
from tests.accounts.test_account_pages import publish_v2
from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not apps.is_installed("devices"), reason="devices app not installed"),
]

DEVICE = {
    "install_id": "inst-policy-1",
    "platform": "android",
    "model": "Pixel",
    "os_version": "14",
    "app_version": "1.0",
}


def token(client, customer):
    response = client.post(
        "/api/v1/auth/token/",
        json.dumps({"email": customer.user.email, "password": PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}


def register(client, bearer):
    return client.post(
        "/api/v1/devices/", json.dumps(DEVICE), content_type="application/json", **bearer
    )


def test_api_calls_are_refused_until_the_new_policy_is_accepted(client, customer):
    bearer = token(client, customer)
    publish_v2()

    response = register(client, bearer)

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "policy_acceptance_required" and body["status"] == 403
    assert body["accept_url"].endswith(reverse("accounts:policy_accept"))
    assert body["instance"] == "/api/v1/devices/"
    assert not customer.devices.exists()
    assert client.get("/api/v1/devices/1/", **bearer).status_code == 403

    client.force_login(customer.user)
    client.post(reverse("accounts:policy_accept"), {"decision": "accept", "policy_version": "2.0"})
    client.logout()
    assert register(client, bearer).status_code == 201


def test_the_app_may_still_get_a_token_read_the_description_and_sign_out(client, customer):
    publish_v2()
    bearer = token(client, customer)
    assert client.get("/api/v1/openapi.json", **bearer).status_code == 200
    assert client.delete("/api/v1/auth/token/", **bearer).status_code == 204
    # A revoked token is the API's own 401, not a policy problem.
    assert register(client, bearer).status_code == 401


def test_customers_up_to_date_with_the_policy_use_the_api_as_before(client, customer):
    assert register(client, token(client, customer)).status_code == 201


def report(client, bearer, device_id, state):
    from tests.devices.conftest import full_report

    return client.put(
        f"/api/v1/devices/{device_id}/permissions/",
        json.dumps(full_report(state)),
        content_type="application/json",
        **bearer,
    )


def test_a_device_that_reported_before_is_refused_too(client, customer):
    # The app's hot path (a device with stored permissions) reads the token, the device and the
    # policy rule in one query: it must refuse exactly as the other calls do.
    bearer = token(client, customer)
    device_id = register(client, bearer).json()["id"]
    assert report(client, bearer, device_id, "granted").status_code == 200
    publish_v2()

    response = report(client, bearer, device_id, "denied")

    assert response.status_code == 403
    assert response.json()["code"] == "policy_acceptance_required"
    # Refused, so not an access: the statement that read the device wrote no row for it.
    assert not AccessLog.objects.filter(request_id=response["X-Request-ID"]).exists()
    assert set(customer.devices.get().permissions.values_list("state", flat=True)) == {"granted"}
    assert client.get(f"/api/v1/devices/{device_id}/permissions/", **bearer).status_code == 403

    client.force_login(customer.user)
    client.post(reverse("accounts:policy_accept"), {"decision": "accept", "policy_version": "2.0"})
    client.logout()
    assert report(client, bearer, device_id, "denied").status_code == 200


def test_the_gate_answers_alike_for_own_other_and_missing_devices(client, customer):
    # A pending policy is answered before the device lookup, whoever's device the URL names:
    # the 403 reveals nothing about another customer's device or a missing one.
    from tests.factories import make_customer

    other = make_customer(email="other-gate@example.com", phone="+84987000222")
    others_device = register(client, token(client, other)).json()["id"]
    bearer = token(client, customer)
    own = register(client, bearer).json()["id"]
    report(client, bearer, own, "granted")
    publish_v2()
    answers = [
        report(client, bearer, device_id, "granted")
        for device_id in (own, others_device, others_device + 1000)
    ]
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert len({a.json()["title"] for a in answers}) == 1
    assert not other.devices.get().permissions.exists()


def test_customers_without_any_acceptance_on_record_are_not_gated(client):
    # Customers from before consent records have nothing to re-accept (same rule as the pages).
    from accounts.models import Customer, User
    from consent.context import Channel, access_context

    with access_context(actor=None, channel=Channel.COMMAND):
        user = User.objects.create_user("legacy@example.com", PASSWORD)
        customer = Customer.objects.create(
            user=user, business_name="Legacy Co", contact_person="Trần Thị B", phone="+84911000111"
        )
    bearer = token(client, customer)
    device_id = register(client, bearer).json()["id"]
    publish_v2()
    assert report(client, bearer, device_id, "granted").status_code == 200
    assert report(client, bearer, device_id, "denied").status_code == 200
