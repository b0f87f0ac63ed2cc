"""Every email to a customer is recorded as a notice: recipient, template, purpose, time, status."""

import json
import re

import pytest
from django.core import mail
from django.urls import reverse

from notices.models import Notice

pytestmark = pytest.mark.django_db


def stored_text(notice):
    return " ".join(str(v) for v in Notice.objects.filter(pk=notice.pk).values().get().values())


def test_a_password_reset_email_is_recorded_as_a_notice(client, customer):
    response = client.post(reverse("accounts:password_reset"), {"email": customer.user.email})

    assert response["Location"] == reverse("accounts:password_reset_done")
    assert [m.to for m in mail.outbox] == [[customer.user.email]]
    notice = Notice.objects.get()
    assert notice.customer == customer
    assert (notice.template, notice.purpose, notice.status) == (
        "accounts/password_reset_email.txt",
        "",
        "sent",
    )
    assert notice.language == "vi" and notice.sent_at is not None
    link = re.search(r"/account/reset/\S+", mail.outbox[0].body).group(0)
    assert link not in stored_text(notice) and customer.user.email not in stored_text(notice)


def test_an_unknown_or_staff_address_gets_no_customer_notice(client, support_user):
    client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert not mail.outbox and not Notice.objects.exists()
    # Staff are no customers: their reset email is sent, but it is no customer notice.
    client.post(reverse("accounts:password_reset"), {"email": support_user.email})
    assert [m.to for m in mail.outbox] == [[support_user.email]]
    assert not Notice.objects.exists()


def test_an_email_change_confirmation_is_recorded_as_a_notice(customer_client, customer):
    customer_client.post(
        reverse("accounts:correct"), {"change_email": "1", "email": "moi@example.com"}
    )

    assert [m.to for m in mail.outbox] == [["moi@example.com"]]
    notice = Notice.objects.get(customer=customer)
    assert (notice.template, notice.purpose, notice.status) == (
        "rights/email_change_confirm",
        "",
        "sent",
    )
    assert "moi@example.com" not in stored_text(notice)


def test_my_data_and_the_export_list_the_mail_sent_at_the_customers_request(client, customer):
    client.post(reverse("accounts:password_reset"), {"email": customer.user.email})
    client.force_login(customer.user)
    html = client.get(reverse("accounts:home")).content.decode()
    assert "accounts/password_reset_email.txt" in html
    assert "sent at your request" in html or "gửi theo yêu cầu của bạn" in html
    data = json.loads(client.get(reverse("accounts:download_json")).content)
    [sent] = data["notices_sent"]
    assert (sent["template"], sent["purpose"], sent["status"]) == (
        "accounts/password_reset_email.txt",
        "",
        "sent",
    )
