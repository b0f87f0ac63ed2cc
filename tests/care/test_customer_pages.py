import pytest
from django.urls import reverse

from care import services
from care.models import CareRequest
from consent.context import Channel, access_context
from consent.models import AccessLog
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer.user)
    return client


def test_pages_need_a_signed_in_customer(client):
    response = client.get(reverse("care:list"))
    assert response.status_code == 302 and "/account/login/" in response["Location"]


def test_customer_opens_a_complaint_and_reads_it(signed_in, customer):
    response = signed_in.post(
        reverse("care:new"),
        {
            "kind": "complaint",
            "subject": "Hóa đơn sai",
            "body": "Hóa đơn tháng 10 bị tính hai lần.",
        },
    )
    request = CareRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("care:detail", args=[request.pk])
    assert (request.kind, request.customer, request.acknowledge_due_at is not None) == (
        "complaint",
        customer,
        True,
    )
    page = signed_in.get(reverse("care:detail", args=[request.pk]))
    html = page.content.decode()
    assert "Hóa đơn tháng 10 bị tính hai lần." in html
    view = AccessLog.objects.get(action="view", customer_id=customer.pk, fields="messages,subject")
    assert (view.actor_id, view.purpose, view.channel) == (customer.user_id, "", "portal")
    listing = signed_in.get(reverse("care:list"))
    assert "Hóa đơn sai" in listing.content.decode()
    assert AccessLog.objects.filter(action="list", customer_id=customer.pk, purpose="").count() == 1


def test_internal_notes_stay_hidden_from_the_customer(signed_in, customer, support_user):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        request = services.care_request_open(
            customer=customer, kind="question", subject="Hỏi", body="Câu hỏi"
        )
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="customer_care"):
        services.care_message_add(request=request, body="BÍ MẬT nội bộ", internal=True)
        services.care_message_add(request=request, body="Trả lời công khai")
    html = signed_in.get(reverse("care:detail", args=[request.pk])).content.decode()
    assert "Trả lời công khai" in html and "BÍ MẬT" not in html


def test_customer_replies_on_the_detail_page(signed_in, customer):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        request = services.care_request_open(
            customer=customer, kind="support", subject="S", body="1"
        )
    response = signed_in.post(reverse("care:detail", args=[request.pk]), {"body": "thêm chi tiết"})
    assert response.status_code == 302
    assert request.messages.count() == 2


def test_another_customers_request_is_not_found(signed_in):
    other = make_customer(email="other@example.com")
    with access_context(actor=other.user, channel=Channel.PORTAL):
        request = services.care_request_open(
            customer=other, kind="question", subject="riêng", body="riêng tư"
        )
    assert signed_in.get(reverse("care:detail", args=[request.pk])).status_code == 404
    assert (
        signed_in.post(reverse("care:detail", args=[request.pk]), {"body": "x"}).status_code == 404
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "complaint", "subject": "", "body": "x"}, "subject"),
        ({"kind": "complaint", "subject": "   ", "body": "x"}, "subject"),
        ({"kind": "refund", "subject": "a", "body": "x"}, "kind"),
        ({"kind": "question", "subject": "a" * 201, "body": "x"}, "subject"),
        ({"kind": "question", "subject": "a\x00b", "body": "x"}, "subject"),
        ({"kind": "question", "subject": "a", "body": "x" * 5001}, "body"),
        ({"kind": "question", "subject": "a", "body": ""}, "body"),
    ],
)
def test_bad_input_gets_a_field_error_and_writes_nothing(signed_in, data, field):
    response = signed_in.post(reverse("care:new"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not CareRequest.objects.exists()


def test_field_errors_are_in_vietnamese_by_default(signed_in):
    response = signed_in.post(reverse("care:new"), {"kind": "question", "subject": "", "body": "x"})
    assert "Trường này là bắt buộc." in response.content.decode()


def test_replying_to_a_closed_request_shows_a_field_error(signed_in, customer, support_user):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        request = services.care_request_open(
            customer=customer, kind="question", subject="x", body="y"
        )
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="customer_care"):
        services.care_request_set_status(request=request, status="closed")
    response = signed_in.post(reverse("care:detail", args=[request.pk]), {"body": "again"})
    assert response.status_code == 200
    assert "body" in response.context["form"].errors
    assert request.messages.count() == 1


def test_account_home_links_to_licences_and_support(signed_in):
    html = signed_in.get(reverse("accounts:home")).content.decode()
    assert reverse("licensing:mine") in html and reverse("care:list") in html
