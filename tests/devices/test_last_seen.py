"""A device's "last seen" follows every app call, though a repeated report writes nothing to it.

Each app call about a device leaves a self-access row referencing the device (``device #<id>``);
the customer's page and the admin show the later of that row and the stored ``last_seen``.
"""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import formats, timezone, translation

from consent.models import AccessLog
from devices.models import Device
from devices.selectors import with_last_call
from tests.accesslog import force_declaration

from .conftest import DEVICE, full_report, iso

pytestmark = pytest.mark.django_db


def shown(value):
    with translation.override("en"):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def test_every_call_about_a_device_references_it(api, device_id):
    api.put(f"/api/v1/devices/{device_id}/permissions/", full_report())
    api.get(f"/api/v1/devices/{device_id}/permissions/")
    api.get(f"/api/v1/devices/{device_id}/")
    api.delete(f"/api/v1/devices/{device_id}/")
    calls = AccessLog.objects.filter(channel="api").order_by("id")
    assert [(row.fields, row.reference) for row in calls] == [
        ("api_token", ""),
        ("device", f"device #{device_id}"),
        ("device_permissions", f"device #{device_id}"),
        ("device,device_permissions", f"device #{device_id}"),
        ("device,device_permissions", f"device #{device_id}"),
        ("device", f"device #{device_id}"),
    ]


def test_a_repeated_report_moves_last_seen_without_writing_the_device(
    api, client, customer, device_id
):
    first = full_report()
    api.put(f"/api/v1/devices/{device_id}/permissions/", first)
    stored = Device.objects.get(pk=device_id).last_seen
    later = timezone.now() + timedelta(hours=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = api.put(f"/api/v1/devices/{device_id}/permissions/", first)
    assert response.status_code == 200 and response.json()["changed"] == []

    device = with_last_call(Device.objects.filter(pk=device_id)).get()
    assert device.last_seen == stored  # nothing written to the device
    assert device.seen_at == later

    client.force_login(customer.user)
    client.post("/i18n/setlang/", {"language": "en"})
    section = client.get("/account/devices/").content.decode().split(f'id="device-{device_id}"')[1]
    assert f"Last seen: {shown(later)}" in section.split("</p>")[0]


def test_calls_about_one_device_do_not_move_another(api, device_id):
    other = api.post("/api/v1/devices/", {**DEVICE, "install_id": "second-install"}).json()["id"]
    later = timezone.now() + timedelta(hours=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        api.put(f"/api/v1/devices/{device_id}/permissions/", full_report())
    seen = {d.pk: d.seen_at for d in with_last_call(Device.objects.all())}
    assert seen[device_id] == later
    assert seen[other] < later


def test_staff_see_the_last_call_in_the_admin(api, client, support_user, device_id):
    later = timezone.now() + timedelta(hours=3)
    with mock.patch("django.utils.timezone.now", return_value=later):
        api.put(f"/api/v1/devices/{device_id}/permissions/", full_report())
    client.force_login(support_user)
    client.post("/i18n/setlang/", {"language": "en"})
    force_declaration(client, "customer_care")
    listing = client.get("/admin/devices/device/").content.decode()
    detail = client.get(f"/admin/devices/device/{device_id}/change/").content.decode()
    assert shown(later) in listing and shown(later) in detail


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_the_last_call_is_one_index_probe_per_device(api, device_id):
    api.put(f"/api/v1/devices/{device_id}/permissions/", full_report())
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan TO off")
        cursor.execute("SET LOCAL enable_seqscan TO off")
        plan = with_last_call(Device.objects.filter(pk=device_id)).explain()
    assert "devices_accesslog_api_reference_at" in plan


def test_the_api_answers_the_last_call_as_the_pages_do(api, device_id):
    api.put(f"/api/v1/devices/{device_id}/permissions/", full_report())
    stored = Device.objects.get(pk=device_id).last_seen
    later = timezone.now() + timedelta(hours=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert api.put(f"/api/v1/devices/{device_id}/permissions/", full_report()).json()[
            "changed"
        ] == []
    answer = api.get(f"/api/v1/devices/{device_id}/").json()
    assert answer["last_seen"] == iso(later)
    assert Device.objects.get(pk=device_id).last_seen == stored  # still nothing written

    # A read is a call too; the answer counts the calls before the one it answers.
    read_at, next_at = later + timedelta(minutes=5), later + timedelta(minutes=9)
    with mock.patch("django.utils.timezone.now", return_value=read_at):
        api.get(f"/api/v1/devices/{device_id}/permissions/")
    with mock.patch("django.utils.timezone.now", return_value=next_at):
        answer = api.get(f"/api/v1/devices/{device_id}/").json()
    assert answer["last_seen"] == iso(read_at)


def test_registering_again_answers_this_call(api, device_id):
    later = timezone.now() + timedelta(hours=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        answer = api.post("/api/v1/devices/", DEVICE).json()
    assert answer["id"] == device_id and answer["last_seen"] == iso(later)
