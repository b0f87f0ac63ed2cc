"""The customer's devices page: each device's permissions, the features off and why."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import AccessLog

from .conftest import full_report, iso

pytestmark = pytest.mark.django_db


def test_devices_page_shows_features_off_and_why(api, client, customer, device_id):
    later = timezone.now() + timedelta(seconds=5)
    api.put(
        f"/api/v1/devices/{device_id}/permissions/",
        full_report(
            "granted",
            calls={"state": "revoked", "observed_at": iso(later), "source": "os_settings"},
            notifications={"state": "denied", "observed_at": iso(later), "source": "app_prompt"},
        ),
    )
    seen = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    client.force_login(customer.user)
    client.post("/i18n/setlang/", {"language": "en"})
    page = client.get("/account/devices/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Samsung Galaxy A54" in html
    section = html.split(f'id="device-{device_id}"')[1].split("</section>")[0]
    off = section.split('class="features-off"')[1].split("</ul>")[0]
    assert "Recording when a call ends" in off
    assert "calls: revoked (changed in the phone&#x27;s settings)" in off
    assert "Reminders and update notices on the phone" in off
    assert "notifications: denied (answer to the app&#x27;s prompt)" in off
    assert "Barcode and QR code scanning" not in off
    # The table of what each permission is for.
    assert "Importing contacts" in html and "Synchronisation" in html

    rows = list(AccessLog.objects.filter(id__gt=seen).order_by("id"))
    assert [(r.action, r.fields, r.actor_id, r.purpose, r.channel) for r in rows] == [
        ("view", "device,device_permissions", customer.user.pk, "", "portal"),
        ("view", "api_token", customer.user.pk, "", "portal"),
    ]


def test_devices_page_in_vietnamese_by_default(client, customer):
    client.force_login(customer.user)
    page = client.get("/account/devices/")
    assert page.status_code == 200
    assert 'id="no-devices"' in page.content.decode()


def test_account_home_links_to_the_devices_page(client, customer):
    client.force_login(customer.user)
    assert 'href="/account/devices/"' in client.get("/account/").content.decode()


def test_devices_page_needs_a_sign_in(client):
    response = client.get("/account/devices/")
    assert response.status_code == 302 and "/account/login/" in response["Location"]
