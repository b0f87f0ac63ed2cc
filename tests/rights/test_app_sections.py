"""Other apps' data in My data, the export and erasure (devices)."""

import datetime
import json
from unittest import mock

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from consent.context import Channel, access_context
from consent.models import AccessLog
from rights.erasure import customer_erase
from tests.rights.test_erasure import leftovers

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not apps.is_installed("devices"), reason="devices app not installed"),
]

INSTALL_ID, MODEL = "install-erase-7f3a", "Galaxy Xoá 5"


def register_device(customer):
    from devices.services import PermissionReport, device_permissions_report, device_register

    with access_context(actor=customer.user, channel=Channel.API):
        device, _ = device_register(
            customer=customer, install_id=INSTALL_ID, platform="android", model=MODEL,
            os_version="14", app_version="2.1.0",
        )
        device_permissions_report(
            device=device,
            reports={"camera": PermissionReport("revoked", timezone.now(), "os_settings")},
        )
        device.model = MODEL + " Pro"  # a second history row holding a value
        device.save()
    return device


def test_my_data_shows_devices_and_their_permissions(customer_client, customer):
    register_device(customer)
    html = customer_client.get(reverse("accounts:home")).content.decode()
    assert 'id="section-devices"' in html and MODEL in html
    assert "máy ảnh: đã thu hồi" in html
    row = AccessLog.objects.filter(customer_id=customer.pk, action="view").latest("id")
    assert "install_id" in row.fields


def test_export_holds_devices(customer_client, customer):
    register_device(customer)
    data = json.loads(customer_client.get(reverse("accounts:download_json")).content)
    [device] = data["devices"]
    assert device["install_id"] == INSTALL_ID
    assert device["permissions"][0]["state"] == "revoked"
    page = customer_client.get(reverse("accounts:download_print")).content.decode()
    assert INSTALL_ID in page


def test_export_gives_last_seen_as_the_pages_do(customer_client, customer):
    from devices.services import PERMISSION_FIELDS, log_device_call

    device = register_device(customer)
    later = timezone.now() + datetime.timedelta(hours=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        # A call that wrote nothing to the device (a repeated report): only its access row.
        with access_context(actor=customer.user, channel=Channel.API):
            log_device_call(device, fields=PERMISSION_FIELDS)
    data = json.loads(customer_client.get(reverse("accounts:download_json")).content)
    [exported] = data["devices"]
    assert exported["last_seen"] == later.isoformat()


def test_erasure_removes_device_values_from_live_and_history_rows(customer, support_user):
    register_device(customer)
    assert leftovers([INSTALL_ID, MODEL])
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="complaints"):
        customer_erase(customer=customer, approved_by=support_user)
    assert leftovers([INSTALL_ID, MODEL]) == []
    device = apps.get_model("devices", "Device").objects.get(customer=customer)
    assert device.install_id.startswith("[erased]") and device.platform == "android"
    assert device.registered_at < timezone.now() + datetime.timedelta(seconds=1)
