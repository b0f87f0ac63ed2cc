import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from care import services
from care.models import CareMessage, CareRequest
from consent.context import Channel, access_context
from consent.models import AccessLog
from licensing.work import WrongPurpose
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def open_as_customer(customer, kind="question", subject="Không đăng nhập được", body="Giúp tôi"):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        return services.care_request_open(customer=customer, kind=kind, subject=subject, body=body)


def as_staff(user, purpose, request=None):
    return access_context(
        actor=user, channel=Channel.ADMIN, purpose=purpose,
        reference=request.reference if request else "",
    )


def test_customer_opens_a_request_as_self_access_with_history(customer):
    request = open_as_customer(customer)
    assert (request.status, request.kind, request.opened_by) == ("new", "question", customer.user)
    assert request.acknowledge_due_at is None and request.due_at > request.created_at
    row = request.history.get()
    assert (row.history_user, row.history_purpose, row.history_channel) == (
        customer.user, "", "portal"
    )
    message = request.messages.get()
    assert (message.from_staff, message.internal, message.body) == (False, False, "Giúp tôi")
    assert message.history.get().history_user == customer.user
    log = AccessLog.objects.get(action="create", fields="messages,subject")
    assert (log.actor_id, log.customer_id, log.purpose) == (customer.user_id, customer.pk, "")


def test_status_flow_with_reopen_under_the_purpose(customer, support_user):
    request = open_as_customer(customer, kind="support")
    with as_staff(support_user, "customer_care", request):
        services.care_message_add(request=request, body="Chúng tôi đang xem.")
        assert request.status == "in_progress" and request.acknowledged_at is not None
        services.care_request_set_status(request=request, status="resolved")
        assert request.resolved_at is not None
        services.care_request_set_status(request=request, status="closed")
        assert request.closed_at is not None
        services.care_request_set_status(request=request, status="in_progress")  # reopen
        assert request.closed_at is None and request.resolved_at is None
        with pytest.raises(ValidationError) as exc:
            services.care_request_set_status(request=request, status="new")
        assert "status" in exc.value.message_dict
    statuses = list(request.history.order_by("history_id").values_list("status", flat=True))
    assert statuses == ["new", "in_progress", "resolved", "closed", "in_progress"]
    staff_rows = request.history.exclude(history_type="+")
    assert set(staff_rows.values_list("history_user", "history_purpose", "history_reference")) == {
        (support_user.pk, "customer_care", request.reference)
    }


def test_complaints_need_the_complaints_purpose(customer, support_user, account_manager):
    complaint = open_as_customer(customer, kind="complaint")
    assert complaint.purpose == "complaints"
    with as_staff(support_user, "customer_care"):
        with pytest.raises(WrongPurpose):
            services.care_message_add(request=complaint, body="x")
    with as_staff(support_user, "complaints"):
        services.care_message_add(request=complaint, body="Đã nhận khiếu nại.")
    with as_staff(support_user, "complaints"):
        with pytest.raises(ValidationError) as exc:
            services.care_request_assign(request=complaint, assignee=account_manager)
        assert "assignee" in exc.value.message_dict
        services.care_request_assign(request=complaint, assignee=support_user)
    assert CareRequest.objects.get().assignee == support_user


def test_customer_cannot_write_internal_notes_or_to_closed_requests(customer, support_user):
    request = open_as_customer(customer)
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        with pytest.raises(ValidationError):
            services.care_message_add(request=request, body="x", internal=True)
    with as_staff(support_user, "customer_care"):
        services.care_message_add(request=request, body="Ghi chú", internal=True)
        assert request.acknowledged_at is None  # an internal note is not an answer
        services.care_request_set_status(request=request, status="closed")
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        with pytest.raises(ValidationError):
            services.care_message_add(request=request, body="còn đó không?")
    assert CareMessage.objects.filter(internal=True).get().from_staff


def test_customer_message_reopens_a_resolved_request(customer, support_user):
    request = open_as_customer(customer)
    with as_staff(support_user, "customer_care"):
        services.care_request_set_status(request=request, status="resolved")
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        services.care_message_add(request=request, body="Vẫn lỗi")
    assert request.status == "in_progress"


def test_another_customer_cannot_write_to_the_request(customer):
    request = open_as_customer(customer)
    stranger = make_customer(email="stranger@example.com")
    with access_context(actor=stranger.user, channel=Channel.PORTAL):
        with pytest.raises(WrongPurpose):
            services.care_message_add(request=request, body="hi")


def test_complaint_deadlines_skip_weekends_and_holidays(settings):
    settings.PUBLIC_HOLIDAYS = ["2026-09-07"]  # an extra day off, as a decree could add
    # Friday 28 Aug 2026, 16:00 in Hà Nội: +2 working days skips Sat 29, Sun 30, and National
    # Day's days off (Mon 31 Aug substituted, Tue 1 and Wed 2 Sep).
    opened = datetime.datetime(2026, 8, 28, 16, 0, tzinfo=HCM)
    ack, due = services.deadlines(kind="complaint", opened_at=opened)
    assert ack.astimezone(HCM) == datetime.datetime(2026, 9, 4, 16, 0, tzinfo=HCM)
    assert due.astimezone(HCM) == datetime.datetime(2026, 9, 12, 16, 0, tzinfo=HCM)
    ack, due = services.deadlines(kind="question", opened_at=opened)
    assert ack is None
    # 5 working days: Thu 3, Fri 4, (Mon 7 off by the setting) Tue 8, Wed 9, Thu 10 Sep.
    assert due.astimezone(HCM) == datetime.datetime(2026, 9, 10, 16, 0, tzinfo=HCM)


def test_deadlines_follow_the_settings(settings):
    settings.PUBLIC_HOLIDAYS = []
    settings.CARE_COMPLAINT_ACK_WORKING_DAYS = 1
    settings.CARE_COMPLAINT_RESOLVE_DAYS = 30
    opened = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=HCM)  # Monday
    ack, due = services.deadlines(kind="complaint", opened_at=opened)
    assert ack.astimezone(HCM).date() == datetime.date(2026, 3, 3)
    assert due.astimezone(HCM).date() == datetime.date(2026, 4, 1)


def test_overdue_means_open_and_past_a_deadline(customer, support_user):
    late = open_as_customer(customer, kind="complaint", subject="late")
    on_time = open_as_customer(customer, subject="fine")
    done = open_as_customer(customer, subject="done")
    with as_staff(support_user, "customer_care"):
        services.care_request_set_status(request=done, status="resolved")
    # Just past the complaint's acknowledgement deadline (2 working days), before the
    # question's (5 working days).
    later = late.acknowledge_due_at + datetime.timedelta(minutes=1)
    assert on_time.due_at > later
    assert set(CareRequest.objects.overdue(now=later)) == {late}
    assert late.is_overdue(now=later) and not done.is_overdue(now=later)
    assert not on_time.is_overdue(now=on_time.created_at)
    with as_staff(support_user, "complaints"):
        services.care_message_add(request=late, body="Đã nhận")
    assert set(CareRequest.objects.overdue(now=later)) == set()
    after_all = late.due_at + datetime.timedelta(minutes=1)
    assert set(CareRequest.objects.overdue(now=after_all)) == {late, on_time}
