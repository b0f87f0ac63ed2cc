"""The footers say truthfully what the customer can do: only update notices can be switched off."""

from io import StringIO

import pytest
from django.core.management import call_command

from notices.models import Announcement
from tests.factories import make_customer
from tests.notices.backends import outbox_to
from tests.work_factories import grant, make_plan

pytestmark = pytest.mark.django_db


def test_renewal_notices_do_not_promise_a_switch_and_update_notices_name_it():
    plan = make_plan(duration_days=365)
    vi = make_customer(email="vi@example.com", language="vi")
    en = make_customer(email="en@example.com", language="en")
    for customer in (vi, en):
        grant(customer, plan, expires_in=7)
    call_command("send_renewal_notices", "--no-progress", stdout=StringIO())
    [vi_renewal], [en_renewal] = outbox_to("vi@example.com"), outbox_to("en@example.com")
    assert "withdraw" not in en_renewal.body and "cannot be switched off" in en_renewal.body
    assert '"My requests"' in en_renewal.body
    assert "rút lại sự đồng ý" not in vi_renewal.body and "không thể tắt" in vi_renewal.body
    assert '"Yêu cầu của tôi"' in vi_renewal.body

    note = Announcement.objects.create(subject_vi="a", subject_en="a", body_vi="b", body_en="b")
    call_command("send_update_notice", "--no-progress", str(note.pk), stdout=StringIO())
    vi_update, en_update = outbox_to("vi@example.com")[-1], outbox_to("en@example.com")[-1]
    assert 'switch update notices off at any time on the "Consents" page' in en_update.body
    assert 'tắt thông báo cập nhật bất cứ lúc nào tại trang "Sự đồng ý"' in vi_update.body
