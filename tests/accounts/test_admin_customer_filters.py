"""Customer admin filters (signup date, accepted policy version) and ordering."""

import datetime

import pytest
from django.utils import timezone

from consent.context import Channel, access_context
from consent.services import consent_record, policy_publish
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, support_user):
    client.force_login(support_user)
    return support_user


def test_filter_by_accepted_policy_version(client, staff, policy):
    old = make_customer(phone="+84912345601")
    new = make_customer(phone="+84912345602")
    version = policy_publish(
        label="2.0", effective_date=datetime.date(2026, 6, 1), text_vi="Mới", text_en="New"
    )
    with access_context(actor=new.user, channel=Channel.PORTAL):
        consent_record(
            customer=new, policy_version=version, language="vi", ip_address=None, user_agent=""
        )
    response = client.get("/admin/accounts/customer/", {"policy": "2.0"})
    assert list(response.context["cl"].result_list) == [new]
    response = client.get("/admin/accounts/customer/", {"policy": "1.0"})
    assert list(response.context["cl"].result_list) == [new, old]


def test_filter_by_signup_date(client, staff):
    today = make_customer(phone="+84912345601")
    with access_context(actor=None, channel=Channel.COMMAND, reason="test backdating"):
        earlier = make_customer(phone="+84912345602")
        earlier.created_at = timezone.now() - datetime.timedelta(days=40)
        earlier.save_tracked()
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    # The "Today" link of Django's date filter.
    response = client.get("/admin/accounts/customer/", {"created_at__gte": str(midnight)})
    assert list(response.context["cl"].result_list) == [today]


def test_default_ordering_is_newest_first(client, staff):
    first = make_customer(phone="+84912345601")
    second = make_customer(phone="+84912345602")
    response = client.get("/admin/accounts/customer/")
    assert list(response.context["cl"].result_list) == [second, first]
