"""Licences and support requests in My data, the export and erasure."""

import json

import pytest
from django.apps import apps
from django.urls import reverse

from consent.context import Channel, access_context
from rights.erasure import customer_erase
from tests.rights.test_erasure import leftovers

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (apps.is_installed("care") and apps.is_installed("licensing")),
        reason="care and licensing apps not installed",
    ),
]

SUBJECT, BODY = "Không xuất được Excel", "Số của tôi 0933 111 222, gọi lại giúp"


def make_data(customer, account_manager):
    from care.services import care_request_open
    from licensing.models import Plan
    from licensing.services import licence_grant

    plan = Plan.objects.create(name="Chuẩn", duration_days=365, seats=5)
    with access_context(actor=account_manager, channel=Channel.ADMIN, purpose="licensing"):
        licence_grant(customer=customer, plan=plan)
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        care_request_open(customer=customer, kind="question", subject=SUBJECT, body=BODY)


def test_my_data_and_export_hold_licences_and_support_requests(
    customer_client, customer, account_manager
):
    make_data(customer, account_manager)
    html = customer_client.get(reverse("accounts:home")).content.decode()
    assert 'id="section-licences"' in html and "Chuẩn" in html
    assert 'id="section-support_requests"' in html and SUBJECT in html
    assert 'id="section-notices_sent"' in html
    data = json.loads(customer_client.get(reverse("accounts:download_json")).content)
    assert data["licences"][0]["plan"] == "Chuẩn"
    assert data["support_requests"][0]["messages"][0]["body"] == BODY
    assert data["notices_sent"] == []


def test_erasure_removes_support_texts_and_keeps_the_licence(
    customer, account_manager, support_user
):
    make_data(customer, account_manager)
    assert leftovers([SUBJECT, BODY])
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="complaints"):
        customer_erase(customer=customer, approved_by=support_user)
    assert leftovers([SUBJECT, BODY]) == []
    licence = apps.get_model("licensing", "Licence").objects.get(customer=customer)
    assert licence.customer.business_name == "Công ty TNHH Hoa Sen"
