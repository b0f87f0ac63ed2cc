"""The app's whole flow against the API, and exactly what it stores and logs."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.models import AccessLog
from devices.models import Device, DevicePermission

from .conftest import DEVICE, Api, full_report, iso, issue_token

pytestmark = pytest.mark.django_db

HistPerm = DevicePermission.history.model
WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE)\b")


def test_token_register_report_change_in_os_settings_and_report_again(client, customer):
    api = Api(client, issue_token(client, customer.user.email))

    registered = api.post("/api/v1/devices/", DEVICE)
    assert registered.status_code == 201
    device_id = registered.json()["id"]
    device = Device.objects.get(pk=device_id)
    assert device.customer == customer and device.install_id == DEVICE["install_id"]

    first = api.put(f"/api/v1/devices/{device_id}/permissions/", full_report("granted"))
    assert first.status_code == 200
    assert sorted(first.json()["changed"]) == sorted(
        ["camera", "internet", "contacts", "calls", "notifications"]
    )
    assert first.json()["features_off"] == []

    later = timezone.now() + timedelta(seconds=30)
    revoked = {"state": "revoked", "observed_at": iso(later), "source": "os_settings"}
    second = api.put(
        f"/api/v1/devices/{device_id}/permissions/",
        full_report("granted", at=later, camera=revoked),
    )
    assert second.status_code == 200
    body = second.json()
    assert body["changed"] == ["camera"]
    assert body["permissions"]["camera"] == {
        "state": "revoked",
        "observed_at": iso(later),
        "source": "os_settings",
    }
    assert [off["feature"] for off in body["features_off"]] == ["barcode_scanning"]
    assert body["features_off"][0]["permission"] == "camera"

    stored = api.get(f"/api/v1/devices/{device_id}/permissions/")
    assert stored.status_code == 200
    assert stored.json()["permissions"] == body["permissions"]

    camera = DevicePermission.objects.get(device=device, name="camera")
    rows = list(HistPerm.objects.filter(id=camera.pk).order_by("history_id"))
    assert [(r.history_type, r.state, r.source) for r in rows] == [
        ("+", "granted", "app_prompt"),
        ("~", "revoked", "os_settings"),
    ]
    assert all(r.history_user_id == customer.user.pk for r in rows)
    assert all((r.history_channel, r.history_purpose) == ("api", "") for r in rows)
    # Five permissions created, one changed: six history rows in all.
    assert HistPerm.objects.filter(device_id=device.pk).count() == 6


def test_unchanged_report_adds_no_history_row_and_writes_nothing(api, device_id):
    path = f"/api/v1/devices/{device_id}/permissions/"
    assert api.put(path, full_report("granted")).status_code == 200
    history_before = HistPerm.objects.count()
    device_history_before = Device.history.count()
    later = timezone.now() + timedelta(minutes=1)

    with CaptureQueriesContext(connection) as queries:
        response = api.put(path, full_report("granted", at=later))
    assert response.status_code == 200
    assert response.json()["changed"] == []
    writes = [q["sql"] for q in queries.captured_queries if WRITE.search(q["sql"])]
    # The only write is the access-log row of this call (on PostgreSQL, in the statement that
    # read the device).
    assert len(writes) == 1 and 'INTO "consent_accesslog"' in writes[0]
    row = AccessLog.objects.get(request_id=response.headers["X-Request-ID"])
    assert (row.action, row.fields, row.channel, row.purpose, row.reference) == (
        "api", "device_permissions", "api", "", f"device #{device_id}"
    )
    assert HistPerm.objects.count() == history_before
    assert Device.history.count() == device_history_before
    # The stored observation is the one that set the state, not the repeat.
    assert response.json()["permissions"]["camera"]["observed_at"] != iso(later)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's data-modifying WITH")
@pytest.mark.django_db(transaction=True)
def test_unchanged_report_is_one_statement_outside_any_transaction_on_postgresql(client, customer):
    # Autocommit, as in production (no test transaction around the request): no BEGIN, no
    # COMMIT, no savepoint; the statement that reads the device writes the call's row.
    api = Api(client, issue_token(client, customer.user.email))
    device_id = api.post("/api/v1/devices/", DEVICE).json()["id"]
    path = f"/api/v1/devices/{device_id}/permissions/"
    assert api.put(path, full_report("granted")).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = api.put(path, full_report("granted"))
    assert response.status_code == 200 and response.json()["changed"] == []
    # Django logs BEGIN and COMMIT among the queries when it opens a transaction: none here.
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["WITH"]
    row = AccessLog.objects.get(request_id=response.headers["X-Request-ID"])
    assert (row.actor_id, row.customer_id, row.outcome) == (
        customer.user.pk, customer.pk, "allowed"
    )


def test_report_observed_before_the_stored_state_is_stale_and_ignored(api, device_id):
    path = f"/api/v1/devices/{device_id}/permissions/"
    now = timezone.now()
    api.put(path, full_report("granted", at=now))
    stale = api.put(path, full_report("denied", at=now - timedelta(seconds=10)))
    assert stale.status_code == 200
    assert stale.json()["changed"] == []
    assert set(DevicePermission.objects.values_list("state", flat=True)) == {"granted"}


def test_register_is_idempotent_on_install_id(api, customer):
    first = api.post("/api/v1/devices/", DEVICE)
    again = api.post("/api/v1/devices/", DEVICE)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Device.objects.filter(customer=customer).count() == 1
    assert Device.history.count() == 1  # the unchanged re-registration added no history row

    upgraded = api.post("/api/v1/devices/", {**DEVICE, "app_version": "2.4.0"})
    assert upgraded.status_code == 200 and upgraded.json()["app_version"] == "2.4.0"
    assert list(Device.history.values_list("history_type", "app_version")) == [
        ("~", "2.4.0"),
        ("+", "2.3.1"),
    ]


def test_same_install_id_of_another_customer_is_another_device(api, client, other_customer):
    mine = api.post("/api/v1/devices/", DEVICE).json()["id"]
    theirs_api = Api(client, issue_token(client, other_customer.user.email))
    theirs = theirs_api.post("/api/v1/devices/", DEVICE)
    assert theirs.status_code == 201 and theirs.json()["id"] != mine


def test_unregister_hides_the_device_but_keeps_it_and_its_history(api, device_id):
    path = f"/api/v1/devices/{device_id}/permissions/"
    api.put(path, full_report("granted"))
    assert api.delete(f"/api/v1/devices/{device_id}/").status_code == 204
    assert api.get(f"/api/v1/devices/{device_id}/").status_code == 404
    assert api.get(path).status_code == 404
    device = Device.objects.get(pk=device_id)
    assert device.unregistered_at is not None
    assert DevicePermission.objects.filter(device=device).count() == 5
    assert Device.history.filter(id=device_id).first().unregistered_at is not None

    # The same installation registering again comes back with the same id.
    again = api.post("/api/v1/devices/", DEVICE)
    assert again.status_code == 200 and again.json()["id"] == device_id


def test_every_call_is_logged_as_self_access_on_the_api_channel(api, customer, device_id):
    seen = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    api.put(f"/api/v1/devices/{device_id}/permissions/", full_report("granted"))
    api.get(f"/api/v1/devices/{device_id}/permissions/")
    api.get(f"/api/v1/devices/{device_id}/")
    api.post("/api/v1/devices/", DEVICE)
    api.delete(f"/api/v1/devices/{device_id}/")
    rows = list(AccessLog.objects.filter(id__gt=seen).order_by("id"))
    assert len(rows) == 5
    for row in rows:
        assert (row.actor_id, row.customer_id, row.purpose, row.channel, row.action) == (
            customer.user.pk,
            customer.pk,
            "",
            "api",
            "api",
        )
        assert row.is_self_access
    assert [row.fields for row in rows] == [
        "device_permissions",
        "device,device_permissions",
        "device,device_permissions",
        "device",
        "device",
    ]


def test_put_runs_in_a_bounded_number_of_queries(api, device_id, django_assert_max_num_queries):
    path = f"/api/v1/devices/{device_id}/permissions/"
    api.put(path, full_report("granted"))
    # token, device with its permissions (one query), access log, and the savepoint pair of
    # the test-case transaction around the request
    with django_assert_max_num_queries(5):
        assert api.put(path, full_report("granted")).status_code == 200


def test_concurrent_first_reports_do_not_fail(api, customer, device_id):
    from consent.context import Channel, access_context
    from devices.selectors import device_find_own
    from devices.services import PermissionReport, device_permissions_report

    now = timezone.now()
    report = {n: PermissionReport("granted", now, "app_prompt") for n in ["camera", "calls"]}
    with access_context(actor=customer.user, channel=Channel.API):
        first = device_find_own(customer=customer, device_id=device_id)
        second = device_find_own(customer=customer, device_id=device_id)  # read before the write
        assert device_permissions_report(device=first, reports=report) == ["camera", "calls"]
        assert device_permissions_report(device=second, reports=report) == []
    assert DevicePermission.objects.filter(device_id=device_id).count() == 2
    assert HistPerm.objects.filter(device_id=device_id).count() == 2
