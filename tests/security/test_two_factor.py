"""Staff pages need a second factor: a password alone reaches no /admin/ or /audit/ page."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD
from tests.security.helpers import admin_login, enrolled_device, totp_code

pytestmark = [pytest.mark.django_db, pytest.mark.real_otp]

STAFF_PAGES = [
    "/admin/",
    "/admin/accounts/customer/",
    "/admin/accounts/user/",
    "/audit/",
    "/audit/anything/below/",
]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_password_alone_reaches_no_staff_page_for_enrolled_staff(client, superuser, path):
    enrolled_device(superuser)
    assert client.login(username=superuser.email, password=PASSWORD)  # password only
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith(reverse("security:verify"))


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_without_device_is_sent_to_enrolment_not_the_admin(client, support_user, path):
    client.force_login(support_user)  # real_otp: not verified
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith(reverse("security:enrol"))


def test_admin_login_refuses_password_without_code_for_enrolled_staff(client, superuser):
    enrolled_device(superuser)
    response = admin_login(client, superuser, token="")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors


def test_admin_login_refuses_a_wrong_code(client, superuser):
    device = enrolled_device(superuser)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = admin_login(client, superuser, token=wrong)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_admin_login_with_password_and_code_opens_the_admin(client, superuser):
    device = enrolled_device(superuser)
    response = admin_login(client, superuser, token=totp_code(device))
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/customer/").status_code == 200


def test_verify_page_accepts_the_code_after_a_password_only_sign_in(client, superuser):
    device = enrolled_device(superuser)
    client.login(username=superuser.email, password=PASSWORD)
    response = client.post(reverse("security:verify"),
                           {"otp_token": totp_code(device), "next": "/admin/"})
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_enrolment_shows_a_qr_code_and_confirming_it_issues_single_use_recovery_codes(
    client, support_user
):
    admin_login(client, support_user)  # no device yet: password only
    assert client.get("/admin/").url.startswith(reverse("security:enrol"))
    page = client.get(reverse("security:enrol"))
    assert page.status_code == 200
    assert reverse("security:enrol_qr").encode() in page.content
    qr = client.get(reverse("security:enrol_qr"))
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    device = TOTPDevice.objects.get(user=support_user, confirmed=False)
    assert page.context["secret"] and page.context["secret"].encode() in page.content

    response = client.post(reverse("security:enrol"), {"token": totp_code(device),
                                                       "next": "/admin/"})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    codes_page = client.get(response.url)
    codes = codes_page.context["codes"]
    assert len(codes) == 10
    assert set(StaticToken.objects.filter(device__user=support_user)
               .values_list("token", flat=True)) == set(codes)
    assert client.get("/admin/").status_code == 200
    # Shown once only.
    assert client.get(reverse("security:recovery_codes")).context["codes"] is None

    # A recovery code signs in once, and only once.
    client.logout()
    other = client.__class__()
    assert admin_login(other, support_user, token=codes[0]).status_code == 302
    assert other.get("/admin/").status_code == 200
    third = client.__class__()
    assert admin_login(third, support_user, token=codes[0]).status_code == 200
    assert StaticToken.objects.filter(device__user=support_user).count() == 9


def test_enrolment_rejects_a_wrong_code(client, support_user):
    admin_login(client, support_user)
    client.get(reverse("security:enrol"))
    device = TOTPDevice.objects.get(user=support_user, confirmed=False)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("security:enrol"), {"token": wrong})
    assert response.status_code == 200 and response.context["form"].errors["token"]
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/admin/").status_code == 302


def test_enrolled_staff_cannot_enrol_another_device_with_a_password_alone(client, superuser):
    enrolled_device(superuser)
    client.login(username=superuser.email, password=PASSWORD)
    response = client.get(reverse("security:enrol"))
    assert response.status_code == 302 and response.url.startswith(reverse("security:verify"))
    assert client.get(reverse("security:enrol_qr")).status_code == 403


def test_customer_is_sent_to_the_admin_sign_in_from_staff_pages(client, customer):
    client.force_login(customer.user)
    for path in STAFF_PAGES:
        response = client.get(path)
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    assert client.get(reverse("security:enrol")).status_code == 403


@pytest.mark.real_otp
def test_marker_keeps_force_login_unverified(client, superuser):
    client.force_login(superuser)
    assert client.get("/admin/").status_code == 302
