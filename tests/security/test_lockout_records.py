"""Lockout records (emails, addresses) are not shown in the admin; operators unlock by command."""

import io

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/admin/axes/", "/admin/axes/accessattempt/",
                                  "/admin/axes/accesslog/", "/admin/axes/accessfailurelog/",
                                  "/admin/axes/accessattempt/1/change/"])
def test_the_lockout_records_have_no_admin_pages(client, superuser, path):
    client.force_login(superuser)
    assert client.get(path).status_code == 404


def test_the_admin_index_does_not_list_them(client, superuser):
    client.force_login(superuser)
    html = client.get(reverse("admin:index")).content.decode()
    assert "/admin/axes/" not in html


def test_an_operator_unlocks_a_login_with_axes_reset_username(client, customer):
    url = reverse("accounts:login")
    for _ in range(5):
        client.post(url, {"username": customer.user.email.upper(), "password": "wrong-1"},
                    REMOTE_ADDR="10.8.0.1")
    good = {"username": customer.user.email, "password": PASSWORD}
    assert client.post(url, good, REMOTE_ADDR="10.8.0.2").status_code == 429
    assert AccessAttempt.objects.filter(username=customer.user.email).exists()
    call_command("axes_reset_username", customer.user.email, stdout=io.StringIO())
    assert client.post(url, good, REMOTE_ADDR="10.8.0.2").status_code == 302
