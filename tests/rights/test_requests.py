import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from consent.context import Channel, access_context
from consent.models import AccessLog
from rights import services
from rights.models import DataSubjectRequest
from rights.selectors import restricted_customer_ids, restriction_veto

pytestmark = pytest.mark.django_db


def file(customer, kind="access", reason="Cho tôi bản sao dữ liệu"):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        return services.request_file(customer=customer, kind=kind, reason=reason)


def as_staff(staff, purpose="complaints"):
    return access_context(actor=staff, channel=Channel.ADMIN, purpose=purpose)


def test_customer_files_a_request_and_sees_its_status_and_dates(customer_client, customer):
    response = customer_client.post(
        reverse("rights:requests"), {"kind": "erasure", "reason": "Tôi không dùng nữa"}
    )
    assert response.status_code == 302
    request = DataSubjectRequest.objects.get()
    assert (request.kind, request.status, request.reason) == (
        "erasure",
        "received",
        "Tôi không dùng nữa",
    )
    assert request.complete_due == request.filed_at + datetime.timedelta(days=15)
    record = request.history.get()
    assert record.history_user_id == customer.user_id and record.history_channel == "portal"
    row = AccessLog.objects.get(customer_id=customer.pk, action="create", fields="reason")
    assert (row.actor_id, row.purpose) == (customer.user_id, "")
    page = customer_client.get(reverse("rights:requests")).content.decode()
    assert "Tôi không dùng nữa" in page and "đã nhận" in page


def test_request_form_errors_are_field_level(customer_client):
    response = customer_client.post(reverse("rights:requests"), {"kind": "nonsense", "reason": ""})
    assert response.status_code == 200 and "kind" in response.context["form"].errors
    response = customer_client.post(
        reverse("rights:requests"), {"kind": "access", "reason": "x" * 2001}
    )
    assert "reason" in response.context["form"].errors
    assert not DataSubjectRequest.objects.exists()


def test_acknowledge_clock_skips_weekends_and_holidays(customer, settings):
    settings.PUBLIC_HOLIDAYS = ["2026-12-31", "2027-01-01"]
    # Wednesday 30 December 2026, 10:00 in Hanoi (UTC+7).
    filed = datetime.datetime(2026, 12, 30, 3, 0, tzinfo=datetime.UTC)
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        request = services.request_file(customer=customer, kind="access", reason="")
    from rights.services import _deadlines

    ack, done = _deadlines(filed)
    assert timezone.localtime(ack).date() == datetime.date(2027, 1, 5)
    assert done - filed == datetime.timedelta(days=15)
    assert request.acknowledge_due > request.filed_at


def test_staff_flow_acknowledge_extend_once_complete(customer, support_user):
    request = file(customer)
    with as_staff(support_user):
        services.request_acknowledge(request=request, actor=support_user)
        due = request.complete_due
        services.request_extend(request=request, actor=support_user, days=10, reason="Cần xác minh")
        assert request.complete_due == due + datetime.timedelta(days=10)
        with pytest.raises(ValidationError):
            services.request_extend(request=request, actor=support_user, days=1, reason="again")
        services.request_complete(request=request, actor=support_user, response="Đã gửi")
    request.refresh_from_db()
    assert request.status == "completed" and request.closed_at and request.acknowledged_at
    records = list(request.history.order_by("history_date"))
    assert [r.status for r in records] == ["received", "acknowledged", "acknowledged", "completed"]
    assert records[-1].history_user_id == support_user.pk
    assert records[-1].history_purpose == "complaints"
    assert (
        AccessLog.objects.filter(
            customer_id=customer.pk, actor_id=support_user.pk, action="change"
        ).count()
        == 3
    )


def test_extension_beyond_the_limit_is_refused(customer, support_user):
    request = file(customer)
    with as_staff(support_user), pytest.raises(ValidationError) as error:
        services.request_extend(request=request, actor=support_user, days=16, reason="x")
    assert "days" in error.value.message_dict


def test_overdue_requests_are_filterable_and_highlighted(client, customer, superuser):
    client.force_login(superuser)
    admin_client = client
    late = file(customer)
    late.acknowledge_due = timezone.now() - datetime.timedelta(hours=1)
    with access_context(actor=None, channel=Channel.COMMAND):
        late.save()
    fresh = file(customer, kind="correction")
    response = admin_client.get(
        reverse("admin:rights_datasubjectrequest_changelist") + "?clock=overdue"
    )
    ids = [obj.pk for obj in response.context["cl"].result_list]
    assert ids == [late.pk]
    assert "rights-overdue" in response.content.decode()
    response = admin_client.get(
        reverse("admin:rights_datasubjectrequest_changelist") + "?clock=open"
    )
    assert [obj.pk for obj in response.context["cl"].result_list] == [fresh.pk]


def test_admin_handle_view_needs_the_complaints_purpose(client, customer, support_user, declare):
    request = file(customer)
    client.force_login(support_user)
    url = reverse("admin:rights_datasubjectrequest_handle", args=[request.pk])
    assert client.post(url, {"step": "acknowledge"}).status_code == 403
    declare(client, "customer_care")
    assert client.post(url, {"step": "acknowledge"}).status_code == 403
    row = AccessLog.objects.get(customer_id=customer.pk, outcome="denied")
    assert (row.actor_id, row.purpose, row.action) == (support_user.pk, "customer_care", "change")
    request.refresh_from_db()
    assert request.status == "received"


def test_admin_handle_view_runs_the_service_and_shows_field_errors(
    client, customer, support_user, declare
):
    request = file(customer)
    client.force_login(support_user)
    declare(client, "complaints", "DSR-1")
    url = reverse("admin:rights_datasubjectrequest_handle", args=[request.pk])
    response = client.post(url, {"step": "extend", "days": "", "note": ""})
    assert response.status_code == 200
    assert {"days", "note"} <= set(response.context["form"].errors)
    response = client.post(url, {"step": "acknowledge"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "acknowledged" and request.handled_by == support_user
    record = request.history.first()
    assert (record.history_purpose, record.history_reference) == ("complaints", "DSR-1")


def test_admin_change_page_masks_without_purpose_and_logs_with_it(
    client, customer, support_user, declare
):
    request = file(customer, reason="Số của tôi là 0912345678")
    client.force_login(support_user)
    url = reverse("admin:rights_datasubjectrequest_change", args=[request.pk])
    assert "0912345678" not in client.get(url).content.decode()
    assert not AccessLog.objects.filter(actor_id=support_user.pk).exists()
    declare(client, "complaints")
    assert "0912345678" in client.get(url).content.decode()
    row = AccessLog.objects.get(customer_id=customer.pk, actor_id=support_user.pk)
    assert (row.action, row.fields, row.channel, row.purpose) == (
        "view",
        "reason,response",
        "admin",
        "complaints",
    )


def test_customer_withdraws_a_request_and_cannot_touch_others(customer_client, customer):
    from tests.factories import make_customer

    other = file(make_customer(email="other@example.com"))
    mine = file(customer)
    customer_client.post(reverse("rights:request_withdraw", args=[mine.pk]))
    mine.refresh_from_db()
    assert mine.status == "withdrawn"
    response = customer_client.post(reverse("rights:request_withdraw", args=[other.pk]))
    assert response.status_code == 404


def test_restriction_stands_until_withdrawn_and_exempts_complaints(customer, support_user):
    request = file(customer, kind="restriction")
    assert restricted_customer_ids([customer.pk]) == {customer.pk}
    assert restriction_veto(customer_ids=[customer.pk], purpose="customer_care") == {customer.pk}
    assert restriction_veto(customer_ids=[customer.pk], purpose="complaints") == set()
    with as_staff(support_user):
        services.request_complete(request=request, actor=support_user)
    assert restricted_customer_ids([customer.pk]) == {customer.pk}
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        services.request_withdraw(request=request)
    assert restricted_customer_ids([customer.pk]) == set()


def test_completing_an_erasure_in_the_admin_erases_the_customer(
    client, customer, support_user, declare
):
    from rights.models import ErasureRecord

    request = file(customer, kind="erasure", reason="Xoá giúp tôi")
    client.force_login(support_user)
    declare(client, "complaints", "DSR-7")
    url = reverse("admin:rights_datasubjectrequest_handle", args=[request.pk])
    assert client.post(url, {"step": "complete", "note": "Đã xoá"}).status_code == 302
    customer.refresh_from_db()
    assert customer.contact_person == "[erased]"
    ledger = ErasureRecord.objects.get(customer_id=customer.pk)
    assert (ledger.request_id, ledger.approved_by_id) == (request.pk, support_user.pk)
    record = customer.history.first()
    assert (record.history_user_id, record.history_purpose, record.history_reference) == (
        support_user.pk, "complaints", "DSR-7"
    )
    # The customer can no longer sign in.
    client.logout()
    response = client.post(
        reverse("accounts:login"), {"username": customer.user.email, "password": "x"}
    )
    assert response.status_code == 200


def test_each_step_takes_the_request_as_it_is_now_not_as_the_caller_loaded_it(
    customer, support_user
):
    # The customer's page loaded the request before staff completed it: withdrawing it from that
    # stale copy must see "completed" and refuse, not overwrite the completion.
    request = file(customer)
    stale = DataSubjectRequest.objects.get(pk=request.pk)
    with as_staff(support_user):
        services.request_complete(request=request, actor=support_user, response="Đã gửi")
    with access_context(actor=customer.user, channel=Channel.PORTAL), pytest.raises(
        ValidationError
    ):
        services.request_withdraw(request=stale)
    assert DataSubjectRequest.objects.get(pk=request.pk).status == "completed"
    assert stale.status == "completed"
