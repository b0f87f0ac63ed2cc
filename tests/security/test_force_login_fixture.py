"""Without the real_otp marker, force_login'd staff are verified (fixture in tests/conftest.py)."""

import pytest

pytestmark = pytest.mark.django_db


def test_force_login_staff_reaches_the_admin(client, superuser):
    client.force_login(superuser)
    assert client.get("/admin/").status_code == 200


def test_force_login_customer_is_not_made_staff(client, customer):
    client.force_login(customer.user)
    assert client.get("/admin/").status_code == 302


def test_client_login_staff_reaches_the_admin_too(client, superuser):
    from tests.factories import PASSWORD

    assert client.login(username=superuser.email, password=PASSWORD)
    assert client.get("/admin/").status_code == 200
