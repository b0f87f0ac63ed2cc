"""On PostgreSQL the app's permission report is stored by the statement that reads the device.

The same report through the portal's usual path (the ORM and simple-history, as on SQLite) must
give the very same rows: these tests compare the two, and check the statement's conditions.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.context import Channel, access_context
from consent.models import AccessLog
from devices import api as devices_api
from devices import selectors
from devices.models import Device, DevicePermission
from devices.services import PERMISSION_FIELDS, PermissionReport

from .conftest import DEVICE, Api, full_report, iso, issue_token

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL's data-modifying WITH"
    ),
]

HistPerm = DevicePermission.history.model


def revoke_camera(at):
    revoked = {"state": "revoked", "observed_at": iso(at), "source": "os_settings"}
    return full_report("granted", at=at, camera=revoked)


def register_and_report(api, install_id, at=None):
    device_id = api.post("/api/v1/devices/", {**DEVICE, "install_id": install_id}).json()["id"]
    path = f"/api/v1/devices/{device_id}/permissions/"
    assert api.put(path, full_report("granted", at=at)).status_code == 200
    return device_id, path


def history_values(device_id):
    skip = {"history_id", "history_date", "id", "device_id"}
    return [
        {k: v for k, v in row.items() if k not in skip}
        for row in HistPerm.objects.filter(device_id=device_id).order_by("history_id").values()
    ]


@pytest.mark.django_db(transaction=True)
def test_changed_report_is_one_statement_outside_any_transaction(client, customer):
    api = Api(client, issue_token(client, customer.user.email))
    device_id, path = register_and_report(api, "one-statement")
    seen_before = Device.objects.get(pk=device_id).last_seen
    later = timezone.now() + timedelta(seconds=30)

    with CaptureQueriesContext(connection) as queries:
        response = api.put(path, revoke_camera(later))

    assert response.status_code == 200
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["WITH"]
    body = response.json()
    assert body["changed"] == ["camera"]
    assert body["permissions"]["camera"] == {
        "state": "revoked", "observed_at": iso(later), "source": "os_settings"
    }
    assert [off["feature"] for off in body["features_off"]] == ["barcode_scanning"]
    camera = DevicePermission.objects.get(device_id=device_id, name="camera")
    assert (camera.state, camera.observed_at, camera.source) == ("revoked", later, "os_settings")
    device = Device.objects.get(pk=device_id)
    assert device.last_seen > seen_before
    assert body["permissions"] == api.get(path).json()["permissions"]
    row = AccessLog.objects.get(request_id=response.headers["X-Request-ID"])
    assert (row.actor_id, row.customer_id, row.action, row.reference) == (
        customer.user.pk, customer.pk, "api", f"device #{device_id}"
    )


def test_the_statement_writes_the_rows_the_orm_path_writes(client, customer, monkeypatch):
    api = Api(client, issue_token(client, customer.user.email))
    first = timezone.now()
    fast_id, fast_path = register_and_report(api, "statement", first)
    orm_id, orm_path = register_and_report(api, "orm", first)
    later = timezone.now() + timedelta(seconds=30)

    fast = api.put(fast_path, revoke_camera(later))
    # Without the report checked ahead, the hot path only reads: the view stores the report
    # through the services and simple-history, as on SQLite.
    monkeypatch.setattr(devices_api, "_reports_checked", lambda request: None)
    with CaptureQueriesContext(connection) as queries:
        orm = api.put(orm_path, revoke_camera(later))
    assert any(q["sql"].startswith("UPDATE") for q in queries.captured_queries)

    assert fast.json()["changed"] == orm.json()["changed"] == ["camera"]
    assert fast.json()["permissions"] == orm.json()["permissions"]
    assert history_values(fast_id) == history_values(orm_id)
    assert [r["history_type"] for r in history_values(fast_id)] == ["+"] * 5 + ["~"]
    assert HistPerm.objects.get(device_id=fast_id, history_type="~").history_date > later - (
        timedelta(seconds=31)
    )
    states = {
        device_id: sorted(
            DevicePermission.objects.filter(device_id=device_id).values_list(
                "name", "state", "observed_at", "source"
            )
        )
        for device_id in (fast_id, orm_id)
    }
    assert states[fast_id] == states[orm_id]
    seen = dict(Device.objects.filter(pk__in=[fast_id, orm_id]).values_list("pk", "last_seen"))
    assert abs(seen[fast_id] - seen[orm_id]) < timedelta(seconds=10)
    assert Device.history.filter(id__in=[fast_id, orm_id]).count() == 2  # registrations only


def test_an_observation_before_registration_stores_none_of_the_report(api, device_id):
    path = f"/api/v1/devices/{device_id}/permissions/"
    assert api.put(path, full_report("granted")).status_code == 200
    history_before = HistPerm.objects.count()
    later = timezone.now() + timedelta(seconds=30)
    before = timezone.now() - timedelta(hours=1)
    report = revoke_camera(later)
    report["permissions"]["notifications"]["observed_at"] = iso(before)

    response = api.put(path, report)

    assert response.status_code == 400
    errors = {(e["pointer"], e["code"]) for e in response.json()["errors"]}
    assert errors == {("/permissions/notifications/observed_at", "before_registration")}
    assert DevicePermission.objects.get(device_id=device_id, name="camera").state == "granted"
    assert HistPerm.objects.count() == history_before


@pytest.mark.django_db(transaction=True)
def test_a_report_already_stored_by_a_concurrent_call_changes_nothing(api, customer, device_id):
    # Two reports of the same change at once: the second statement waits for the first one's
    # row lock, then finds the state no longer differs. One history row, not two.
    assert api.put(f"/api/v1/devices/{device_id}/permissions/", full_report()).status_code == 200
    now = timezone.now()
    names = full_report()["permissions"]
    revoked = {n: PermissionReport("granted", now, "app_prompt") for n in names}
    revoked["camera"] = PermissionReport("revoked", now, "os_settings")

    def report():
        with access_context(actor=customer.user, channel=Channel.API):
            return selectors.device_find_by_token(
                raw=api.token,
                device_id=device_id,
                log_fields=PERMISSION_FIELDS,
                reports=revoked,
            )

    results = {}

    def second():
        try:
            results["second"] = report()
        finally:
            connection.close()

    with transaction.atomic():
        results["first"] = report()
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second statement is waiting for the camera row's lock
        assert thread.is_alive()
    thread.join(timeout=10)

    assert results["first"].report_changed == ["camera"]
    assert results["second"].report_changed == []
    assert HistPerm.objects.filter(device_id=device_id, history_type="~").count() == 1
    assert AccessLog.objects.filter(reference=f"device #{device_id}").count() >= 2


def test_a_device_missing_some_permission_rows_gets_them_all(api, customer, device_id):
    # Rows of only two permissions (stored before the app sent full reports): the statement
    # leaves the report to the usual path, which creates the three missing rows.
    from devices.services import device_permissions_report

    now = timezone.now()
    with access_context(actor=customer.user, channel=Channel.API):
        device = selectors.device_find_own(customer=customer, device_id=device_id)
        two = {n: PermissionReport("granted", now, "app_prompt") for n in ("camera", "calls")}
        device_permissions_report(device=device, reports=two)

    later = timezone.now() + timedelta(seconds=30)
    response = api.put(f"/api/v1/devices/{device_id}/permissions/", revoke_camera(later))

    assert response.status_code == 200
    assert response.json()["changed"] == ["camera", "internet", "contacts", "notifications"]
    assert DevicePermission.objects.filter(device_id=device_id).count() == 5
    assert HistPerm.objects.filter(device_id=device_id).count() == 2 + 4
