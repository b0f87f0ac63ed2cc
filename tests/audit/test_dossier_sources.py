"""The dossier shows what the other apps did with the customer's data: device permission changes,
notices sent, and the history of licences, care requests and data-subject requests (masked,
revealable with a reason)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from care import services as care
from consent.context import Channel, access_context
from consent.models import AccessLog
from licensing import services as licensing
from rights import services as rights
from tests.devices.conftest import DEVICE, Api, full_report, issue_token
from tests.work_factories import grant, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer_client(reviewer):
    client = Client()
    client.force_login(reviewer)
    return client


def dossier(client, customer):
    response = client.get(reverse("audit:dossier", args=[customer.pk]))
    assert response.status_code == 200
    return response


def test_permissions_withdrawn_through_the_api_appear_with_old_and_new_state(
    client, reviewer_client, reviewer, customer
):
    api = Api(client, issue_token(client, customer.user.email))
    device_id = api.post("/api/v1/devices/", DEVICE).json()["id"]
    assert api.put(f"/api/v1/devices/{device_id}/permissions/", full_report()).status_code == 200
    withdrawn = full_report(camera={"state": "revoked", "observed_at": full_report()[
        "permissions"]["camera"]["observed_at"], "source": "os_settings"})
    response = api.put(f"/api/v1/devices/{device_id}/permissions/", withdrawn)
    assert response.json()["changed"] == ["camera"]

    page = dossier(reviewer_client, customer)
    events = [e for e in page.context["events"] if e.source == "devices"]
    assert len(events) == 6  # five first reports, then the camera withdrawn
    camera = events[0]
    assert camera.kind == "máy ảnh: đã cấp → đã thu hồi"
    assert f"#{device_id}" in camera.summary and "cài đặt của điện thoại" in camera.summary
    assert (camera.actor, camera.channel, camera.purpose, camera.self_access) == (
        "khách hàng", "api", "", True
    )
    html = page.content.decode()
    assert "Samsung Galaxy A54" not in html and DEVICE["install_id"] not in html
    # The dossier shows permission states in clear, so its access row names them.
    row = AccessLog.objects.get(channel="audit", actor_id=reviewer.pk)
    assert (row.action, row.purpose, row.fields) == ("history", "", "device_permissions")


def test_notices_sent_appear_without_their_body(reviewer_client, customer):
    grant(customer, make_plan(name="Pro", duration_days=365), expires_in=7)
    call_command("send_renewal_notices", "--no-progress", stdout=StringIO())
    page = dossier(reviewer_client, customer)
    [notice] = [e for e in page.context["events"] if e.source == "notices"]
    assert (notice.purpose, notice.channel, notice.kind) == ("renewal_notices", "command", "đã gửi")
    assert "notices/email/renewal_notice" in notice.summary and "7" in notice.summary
    html = page.content.decode()
    assert "Kính gửi" not in html and customer.contact_person not in html


def test_licence_care_and_rights_history_is_masked_and_revealable(
    reviewer_client, reviewer, customer, support_user, account_manager
):
    licence = grant(customer, make_plan(name="Pro", duration_days=365))
    with access_context(actor=account_manager, channel=Channel.ADMIN, purpose="licensing",
                        reference="HĐ-9", reason="unpaid"):
        licensing.licence_suspend(licence=licence)
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        request = care.care_request_open(
            customer=customer,
            kind="complaint",
            subject="Hóa đơn sai số tiền",
            body="Tính hai lần 1.250.000 đ",
        )
        rights.request_file(customer=customer, kind="access", reason="Tôi muốn xem dữ liệu")

    page = dossier(reviewer_client, customer)
    html = page.content.decode()
    history = [e for e in page.context["events"] if e.source == "history"]
    suspended = next(e for e in history if ("status", "đang hoạt động", "tạm ngưng") in e.values)
    assert suspended.kind.startswith(f"giấy phép #{licence.pk}")
    assert (suspended.actor, suspended.purpose, suspended.reference, suspended.summary) == (
        "accounts@excelcrm.example", "licensing", "HĐ-9", "unpaid"
    )
    opened = next(
        e for e in history if e.kind.startswith(f"yêu cầu chăm sóc khách hàng #{request.pk}")
    )
    assert ("subject", "", "***") in opened.values and opened.self_access
    filed = next(e for e in history if "reason" in e.fields)
    assert ("reason", "", "***") in filed.values
    for words in ("Hóa đơn sai số tiền", "Tính hai lần", "Tôi muốn xem dữ liệu"):
        assert words not in html

    response = reviewer_client.post(
        reverse("audit:reveal", args=[customer.pk]),
        {"change": opened.change_key, "reason": "Complaint C-7 about an invoice"},
    )
    assert response.status_code == 200
    assert "Hóa đơn sai số tiền" in response.content.decode()
    row = AccessLog.objects.get(purpose="complaints", actor_id=reviewer.pk)
    assert (row.action, row.fields, row.reference) == (
        "view", "subject", "Complaint C-7 about an invoice"
    )


def test_single_messages_of_the_outbox_appear_without_a_run_sender(reviewer_client, customer):
    from django.core.mail import EmailMessage

    from notices.outbox import PASSWORD_RESET, outbox_send

    outbox_send(
        customer=customer,
        template=PASSWORD_RESET,
        purpose="",
        message=EmailMessage("Đặt lại mật khẩu", "Liên kết bí mật", None, [customer.user.email]),
    )
    page = dossier(reviewer_client, customer)
    [notice] = [e for e in page.context["events"] if e.source == "notices"]
    assert (notice.actor, notice.channel, notice.purpose) == ("", "", "")
    assert PASSWORD_RESET in notice.summary
    assert "Liên kết bí mật" not in page.content.decode()


def test_the_device_track_is_the_newest_changes_found_in_the_database(client, customer):
    from datetime import timedelta

    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from devices.dossier import device_permission_events

    api = Api(client, issue_token(client, customer.user.email))
    device_id = api.post("/api/v1/devices/", DEVICE).json()["id"]
    start = timezone.now()
    for step, state in enumerate(["granted", "denied", "granted", "denied"]):
        at = full_report(at=start + timedelta(seconds=step))["permissions"]["camera"]["observed_at"]
        report = full_report(at=start, camera={"state": state, "observed_at": at,
                                                "source": "os_settings"})
        assert api.put(f"/api/v1/devices/{device_id}/permissions/", report).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        events = list(device_permission_events(customer, limit=2))
    assert [e.kind for e in events] == [
        "máy ảnh: đã cấp → bị từ chối",
        "máy ảnh: bị từ chối → đã cấp",
    ]
    sql = [q["sql"] for q in queries.captured_queries]
    history = [text for text in sql if "historicaldevicepermission" in text]
    assert len(history) == 1 and "LIMIT 2" in history[0]
