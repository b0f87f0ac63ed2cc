"""Staff see devices, permission states and app tokens only under customer care or licensing.

Three ways for each page: masked without a purpose (no access row), clear with an allowed purpose
(one row per customer), refused with a purpose the admin does not allow (403 and a denied row).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from devices.models import ApiToken, DevicePermission
from tests.accesslog import force_declaration, rows

from .conftest import DEVICE, full_report, iso

pytestmark = pytest.mark.django_db

MODEL = DEVICE["model"]


@pytest.fixture
def reported(api, device_id):
    later = timezone.now() + timedelta(seconds=5)
    api.put(
        f"/api/v1/devices/{device_id}/permissions/",
        full_report(
            "granted",
            camera={"state": "revoked", "observed_at": iso(later), "source": "os_settings"},
        ),
    )
    return device_id


@pytest.fixture
def staff(client, support_user, reported):
    client.force_login(support_user)
    client.post("/i18n/setlang/", {"language": "en"})
    return support_user


def admin_rows():
    return rows(channel="admin")


def test_device_list_is_masked_without_a_purpose_and_logs_nothing(client, staff):
    html = client.get("/admin/devices/device/").content.decode()
    assert "Công ty TNHH Hoa Sen" in html  # business name is not personal
    assert MODEL not in html and "Barcode and QR code scanning" not in html
    assert "***" in html
    assert admin_rows() == []


def test_device_list_and_page_show_features_off_under_customer_care(
    client, staff, declare, customer, reported
):
    declare(client, "customer_care", "T-9")
    html = client.get("/admin/devices/device/").content.decode()
    assert MODEL in html
    assert "Barcode and QR code scanning (camera: revoked (changed in the phone" in html
    page = client.get(f"/admin/devices/device/{reported}/change/").content.decode()
    assert DEVICE["install_id"] in page and "camera: revoked" in page
    logged = admin_rows()
    assert [(r[0], r[1], r[2], r[3], r[4], r[7]) for r in logged] == [
        (staff.pk, customer.pk, "customer_care", "T-9", "list", "allowed"),
        (staff.pk, customer.pk, "customer_care", "T-9", "view", "allowed"),
    ]
    assert logged[0][5] == "app_version,features_off_summary,model"


def test_licensing_is_allowed_too(client, account_manager, declare, reported):
    client.force_login(account_manager)
    declare(client, "licensing", "L-1")
    assert MODEL in client.get("/admin/devices/device/").content.decode()


def test_device_pages_are_refused_under_complaints(client, staff, declare, customer, reported):
    declare(client, "complaints", "C-1")
    response = client.get("/admin/devices/device/")
    assert response.status_code == 403
    assert MODEL not in response.content.decode()
    response = client.get(f"/admin/devices/device/{reported}/change/")
    assert response.status_code == 403
    denied = [r for r in admin_rows() if r[7] == "denied"]
    assert [(r[1], r[2], r[4]) for r in denied] == [
        (None, "complaints", "list"),
        (customer.pk, "complaints", "view"),
    ]


def test_permission_history_is_shown_under_an_allowed_purpose(
    client, staff, declare, customer, reported
):
    camera = DevicePermission.objects.get(device_id=reported, name="camera")
    masked = client.get(f"/admin/devices/devicepermission/{camera.pk}/history/")
    assert masked.status_code == 200
    assert "os_settings" not in masked.content.decode()
    declare(client, "customer_care", "T-2")
    page = client.get(f"/admin/devices/devicepermission/{camera.pk}/history/")
    assert page.status_code == 200
    assert ("history", customer.pk) in [(r[4], r[1]) for r in admin_rows()]


def test_staff_revoke_tokens_under_an_allowed_purpose(client, staff, declare, customer, api):
    token = ApiToken.objects.get()
    declare(client, "customer_care", "T-3")
    response = client.post(
        "/admin/devices/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == staff
    change = [r for r in admin_rows() if r[4] == "change"]
    assert change == [
        (staff.pk, customer.pk, "customer_care", "T-3", "change", "api_token", "admin", "allowed")
    ]
    assert api.get("/api/v1/devices/1/").status_code == 401


def test_token_revocation_is_not_offered_without_a_purpose(client, staff, api):
    token = ApiToken.objects.get()
    page = client.get("/admin/devices/apitoken/").content.decode()
    assert "revoke_tokens" not in page
    client.post(
        "/admin/devices/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_revocation_is_refused_under_another_purpose(client, staff, api):
    token = ApiToken.objects.get()
    force_declaration(client, "complaints")
    response = client.post(
        "/admin/devices/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
