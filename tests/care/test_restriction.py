"""A standing restriction stops customer-care work on the customer, complaints excepted."""

import pytest

from care import services
from care.models import CareRequest
from consent.context import Channel, access_context
from rights import services as rights
from tests.accesslog import rows

pytestmark = pytest.mark.django_db


def restrict(customer):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        return rights.request_file(customer=customer, kind="restriction", reason="stop")


def as_staff(user, purpose):
    return access_context(actor=user, channel=Channel.ADMIN, purpose=purpose)


def open_as_customer(customer, kind="question"):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        return services.care_request_open(
            customer=customer, kind=kind, subject="Không đăng nhập được", body="Giúp tôi"
        )


def test_opening_a_request_in_the_admin_for_a_restricted_customer_is_refused_and_logged(
    client, support_user, customer, declare
):
    restrict(customer)
    client.force_login(support_user)
    declare(client, "customer_care", "T-3")
    response = client.post(
        "/admin/care/carerequest/add/",
        {"customer": customer.pk, "kind": "question", "subject": "Hỏi", "body": "Nội dung"},
    )
    assert response.status_code == 200  # the form again, with a field error
    errors = response.context["adminform"].form.errors
    assert "hạn chế xử lý" in " ".join(errors["customer"])
    assert not CareRequest.objects.filter(customer=customer).exists()
    assert rows(actor_id=support_user.pk, customer_id=customer.pk) == [
        (support_user.pk, customer.pk, "customer_care", "T-3", "create", "", "admin", "denied")
    ]


def test_staff_cannot_open_answer_move_or_assign_under_customer_care(support_user, customer):
    request = open_as_customer(customer)
    restrict(customer)
    calls = [
        lambda: services.care_request_open(
            customer=customer, kind="support", subject="s", body="b"
        ),
        lambda: services.care_message_add(request=request, body="Chào anh"),
        lambda: services.care_request_set_status(request=request, status="in_progress"),
        lambda: services.care_request_assign(request=request, assignee=support_user),
    ]
    for call in calls:
        with pytest.raises(services.Restricted):
            with as_staff(support_user, "customer_care"):
                call()
    request.refresh_from_db()
    assert (request.status, request.assignee, request.messages.count()) == ("new", None, 1)
    assert [r[4] + "/" + r[7] for r in rows(actor_id=support_user.pk)] == [
        "create/denied", "change/denied", "change/denied", "change/denied"
    ]


def test_complaints_and_the_customers_own_requests_go_on(support_user, customer):
    restrict(customer)
    complaint = open_as_customer(customer, kind="complaint")
    question = open_as_customer(customer)
    with as_staff(support_user, "complaints"):
        services.care_message_add(request=complaint, body="Chúng tôi đã nhận.")
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        services.care_message_add(request=question, body="Còn nữa")
    assert complaint.messages.count() == 2 and question.messages.count() == 2
    assert not [r for r in rows() if r[7] == "denied"]
