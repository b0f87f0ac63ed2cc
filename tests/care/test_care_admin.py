import pytest
from django.urls import reverse

from care import services
from care.models import CareRequest
from consent.context import Channel, access_context
from consent.declaration import SESSION_KEY
from consent.models import AccessLog

pytestmark = pytest.mark.django_db


def open_request(customer, kind="complaint", subject="Sai hóa đơn"):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        return services.care_request_open(customer=customer, kind=kind, subject=subject,
                                          body="Nội dung khiếu nại")


def change_url(request):
    return reverse("admin:care_carerequest_change", args=[request.pk])


def test_opening_a_request_declares_its_purpose_with_the_request_as_reference(
    client, support_user, customer
):
    request = open_request(customer)
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="complaints"):
        services.care_message_add(request=request, body="ghi chú nội bộ", internal=True)
    client.force_login(support_user)
    response = client.get(change_url(request))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nội dung khiếu nại" in html and "ghi chú nội bộ" in html
    assert customer.contact_person in html
    assert '<ol class="care-thread"' in html  # the thread is rendered, not escaped
    assert client.session[SESSION_KEY]["purpose"] == "complaints"
    assert client.session[SESSION_KEY]["reference"] == f"care request {request.pk}"
    rows = AccessLog.objects.filter(channel="admin", customer_id=customer.pk, action="view")
    assert {(r.actor_id, r.purpose, r.reference) for r in rows} == {
        (support_user.pk, "complaints", f"care request {request.pk}")
    }
    assert set(rows.values_list("fields", flat=True)) == {"messages", "contact_person,subject"}


def test_staff_without_the_purpose_get_403_and_a_denied_row(client, account_manager, customer):
    request = open_request(customer)
    client.force_login(account_manager)
    response = client.get(change_url(request))
    assert response.status_code == 403
    row = AccessLog.objects.get(outcome="denied")
    assert (row.actor_id, row.customer_id, row.purpose) == (
        account_manager.pk, customer.pk, "complaints"
    )
    assert SESSION_KEY not in client.session


def test_reply_from_the_admin_acknowledges_and_closing_ends_the_declaration(
    client, support_user, customer, edit_version
):
    request = open_request(customer, kind="support")
    client.force_login(support_user)
    response = client.post(change_url(request), {
        "status": "in_progress", "assignee": support_user.pk, "reply": "Chúng tôi đã nhận.",
        "internal_note": "", **edit_version(client, change_url(request)),
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    request.refresh_from_db()
    assert (request.status, request.assignee, request.acknowledged_at is not None) == (
        "in_progress", support_user, True
    )
    reply = request.messages.get(from_staff=True)
    assert reply.history.get().history_purpose == "customer_care"
    assert client.session[SESSION_KEY]["purpose"] == "customer_care"
    client.post(change_url(request), {"status": "resolved", "assignee": support_user.pk,
                                      **edit_version(client, change_url(request))})
    client.post(change_url(request), {"status": "closed", "assignee": support_user.pk,
                                      **edit_version(client, change_url(request))})
    request.refresh_from_db()
    assert request.status == "closed"
    assert SESSION_KEY not in client.session


def test_a_forbidden_transition_is_a_field_error(client, support_user, customer, edit_version):
    request = open_request(customer, kind="question")
    client.force_login(support_user)
    client.post(change_url(request), {"status": "closed", "assignee": "",
                                      **edit_version(client, change_url(request))})
    response = client.post(change_url(request), {"status": "resolved", "assignee": "",
                                                 **edit_version(client, change_url(request))})
    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    request.refresh_from_db()
    assert request.status == "closed"


def test_staff_open_a_request_on_a_customers_behalf(client, support_user, customer):
    client.force_login(support_user)
    response = client.post(reverse("admin:care_carerequest_add"), {
        "customer": customer.pk, "kind": "question", "subject": "Gọi điện hỏi",
        "body": "Khách gọi điện hỏi cách xuất báo cáo.",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    request = CareRequest.objects.get()
    assert (request.opened_by, request.customer) == (support_user, customer)
    assert request.messages.get().from_staff
    assert request.history.get().history_purpose == "customer_care"
    assert client.session[SESSION_KEY]["reference"] == request.reference


def test_staff_cannot_open_a_request_type_their_roles_do_not_cover(
    client, account_manager, customer
):
    from django.contrib.auth.models import Permission

    account_manager.user_permissions.add(Permission.objects.get(codename="add_carerequest"))
    client.force_login(account_manager)
    response = client.post(reverse("admin:care_carerequest_add"), {
        "customer": customer.pk, "kind": "complaint", "subject": "x", "body": "y",
    })
    assert response.status_code == 200
    assert "kind" in response.context["adminform"].form.errors
    assert not CareRequest.objects.exists()


def test_overdue_requests_are_highlighted_and_filterable(client, support_user, customer, settings,
                                                        declare):
    settings.CARE_REQUEST_DUE_WORKING_DAYS = 0  # due the moment it is opened
    late = open_request(customer, kind="question", subject="trễ hạn")
    settings.CARE_REQUEST_DUE_WORKING_DAYS = 5
    on_time = open_request(customer, kind="question", subject="còn hạn")
    client.force_login(support_user)
    declare(client, "customer_care")
    url = reverse("admin:care_carerequest_changelist")
    overdue = client.get(url, {"overdue": "yes"})
    assert list(overdue.context["cl"].result_list) == [late]
    assert "QUÁ HẠN" in overdue.content.decode()  # highlighted, in Vietnamese by default
    assert list(client.get(url, {"overdue": "no"}).context["cl"].result_list) == [on_time]


def test_the_list_masks_subjects_without_a_purpose(client, support_user, customer):
    open_request(customer, subject="Tên riêng Nguyễn")
    client.force_login(support_user)
    html = client.get(reverse("admin:care_carerequest_changelist")).content.decode()
    assert "Tên riêng Nguyễn" not in html


def test_the_list_shows_the_requests_of_the_declared_purpose_only(
    client, support_user, customer, declare
):
    complaint = open_request(customer, kind="complaint", subject="khiếu nại")
    question = open_request(customer, kind="question", subject="câu hỏi")
    client.force_login(support_user)
    url = reverse("admin:care_carerequest_changelist")
    declare(client, "complaints")
    assert list(client.get(url).context["cl"].result_list) == [complaint]
    declare(client, "customer_care")
    assert list(client.get(url).context["cl"].result_list) == [question]
    # Opening the complaint from there switches the declaration to complaints.
    assert client.get(change_url(complaint)).status_code == 200
    assert client.session[SESSION_KEY]["purpose"] == "complaints"


def test_a_request_id_that_does_not_exist_is_not_found(client, support_user):
    client.force_login(support_user)
    for bad in ("999999", "abc"):
        response = client.get(reverse("admin:care_carerequest_change", args=[bad]))
        assert response.status_code == 302  # the admin's "does not exist" redirect
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("bad", ["abc", "-5", "99999999999999999999", "１２", "\x00"])
def test_a_malformed_customer_id_is_a_field_error(support_user, customer, bad):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(support_user)
    response = client.post(reverse("admin:care_carerequest_add"), {
        "customer": bad, "kind": "question", "subject": "Gọi điện hỏi", "body": "Hỏi",
    })
    assert response.status_code == 200
    assert "customer" in response.context["adminform"].form.errors
    assert not CareRequest.objects.exists()
