import json
import re

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import Customer, User
from accounts.services import customer_update
from consent.access import access_record
from consent.context import Channel, access_context
from consent.models import AccessLog, ConsentRecord
from consent.selectors import consent_allows
from tests import factories

pytestmark = pytest.mark.django_db


def staff_reads(customer, staff, purpose):
    with access_context(actor=staff, channel=Channel.ADMIN, purpose=purpose):
        access_record(subjects=[customer], action="view", fields=["phone"])


# --- sign-in, navigation and password reset --------------------------------------------------


def test_login_lands_on_my_data_with_navigation(client, customer):
    response = client.post(
        reverse("accounts:login"),
        {"username": customer.user.email, "password": factories.PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:home")
    page = client.get(reverse("accounts:home")).content.decode()
    for name in ["access_log", "correct", "consents", "download"]:
        assert reverse(f"accounts:{name}") in page
    assert reverse("rights:requests") in page


def test_password_reset_answers_the_same_for_known_and_unknown_emails(client, customer):
    known = client.post(reverse("accounts:password_reset"), {"email": customer.user.email})
    unknown = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [customer.user.email]
    link = re.search(r"https?://[^/]+(/account/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "mot-mat-khau-moi-2026", "new_password2": "mot-mat-khau-moi-2026"},
    )
    assert done["Location"] == reverse("accounts:password_reset_complete")
    assert User.objects.get(pk=customer.user_id).check_password("mot-mat-khau-moi-2026")


def test_password_reset_page_is_translated(client, db):
    page = client.get(reverse("accounts:password_reset")).content.decode()
    assert "Đặt lại mật khẩu" in page


def test_staff_without_customer_account_is_sent_to_the_admin(client, support_user):
    client.force_login(support_user)
    response = client.get(reverse("accounts:access_log"))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


# --- who used my data ----------------------------------------------------------------------


def test_access_log_shows_purpose_name_and_role_never_the_staff_identity(
    customer_client, customer, support_user
):
    staff_reads(customer, support_user, "customer_care")
    page = customer_client.get(reverse("accounts:access_log"))
    html = page.content.decode()
    rows = page.context["rows"]
    assert len(rows) == 1
    assert rows[0]["purpose"] == "Chăm sóc và hỗ trợ sau bán hàng"
    assert rows[0]["role"] == "Hỗ trợ khách hàng"
    assert support_user.email not in html
    # Self-access is shown apart.
    own = customer_client.get(reverse("accounts:access_log") + "?who=me").context["rows"]
    assert own and all(row["purpose_code"] == "" for row in own)


def test_access_log_in_english_and_paginated(customer_client, customer, account_manager):
    for _ in range(55):
        staff_reads(customer, account_manager, "licensing")
    customer_client.post(reverse("set_language"), {"language": "en"})
    first = customer_client.get(reverse("accounts:access_log"))
    assert len(first.context["rows"]) == 50
    assert first.context["rows"][0]["purpose"] == "Licence management"
    assert first.context["rows"][0]["role"] == "Account management"
    second = customer_client.get(reverse("accounts:access_log") + "?page=2")
    assert len(second.context["rows"]) == 5


def test_superuser_without_groups_is_shown_as_administrator(customer_client, customer, superuser):
    staff_reads(customer, superuser, "complaints")
    customer_client.post(reverse("set_language"), {"language": "en"})
    rows = customer_client.get(reverse("accounts:access_log")).context["rows"]
    assert rows[0]["role"] == "Administrator"


# --- correct my data -----------------------------------------------------------------------


def test_correcting_the_phone_writes_history_with_the_customer_as_actor(customer_client, customer):
    response = customer_client.post(
        reverse("accounts:correct"),
        {"save_contact": "1", "contact_person": "Nguyễn Văn An", "phone": "0987 654 321"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert str(customer.phone) == "+84987654321"
    record = customer.history.first()
    assert record.history_user_id == customer.user_id
    assert record.history_purpose == ""
    assert record.history_channel == "portal"
    assert record.history_change_reason == "correction by the customer"
    row = AccessLog.objects.get(customer_id=customer.pk, action="change")
    assert (row.actor_id, row.purpose, row.fields) == (customer.user_id, "", "phone")


def test_correction_with_a_bad_phone_shows_a_field_error(customer_client, customer):
    response = customer_client.post(
        reverse("accounts:correct"),
        {"save_contact": "1", "contact_person": "Nguyễn Văn An", "phone": "12"},
    )
    assert response.status_code == 200
    assert "phone" in response.context["data_form"].errors
    customer.refresh_from_db()
    assert str(customer.phone) == "+84912345678"


def test_correction_with_a_phone_extension_shows_a_field_error(customer_client, customer):
    response = customer_client.post(
        reverse("accounts:correct"),
        {"save_contact": "1", "contact_person": "Nguyễn Văn An", "phone": "0912 345 679 ext 5"},
    )
    assert response.status_code == 200
    assert [e.code for e in response.context["data_form"].errors.as_data()["phone"]] == [
        "extension"
    ]
    customer.refresh_from_db()
    assert str(customer.phone) == "+84912345678"


def test_email_change_takes_effect_only_through_the_link_sent_to_the_new_address(
    customer_client, customer
):
    old = customer.user.email
    customer_client.post(
        reverse("accounts:correct"), {"change_email": "1", "email": "moi@example.com"}
    )
    assert User.objects.get(pk=customer.user_id).email == old
    assert mail.outbox[-1].to == ["moi@example.com"]
    path = re.search(r"https?://[^/]+(/account/email/confirm/\S+/)", mail.outbox[-1].body).group(1)
    customer_client.get(path)
    user = User.objects.get(pk=customer.user_id)
    assert user.email == "moi@example.com"
    record = user.history.first()
    assert record.history_user_id == user.pk and record.email == "moi@example.com"
    # Still signed in after the change; the link is single-use.
    assert customer_client.get(reverse("accounts:home")).status_code == 200
    customer_client.get(path)
    assert User.objects.get(pk=customer.user_id).email == "moi@example.com"
    assert user.history.count() == 2


def test_expired_or_forged_email_link_changes_nothing(customer_client, customer, settings):
    forged = signing.dumps({"u": customer.user_id, "old": customer.user.email, "new": "x@ex.com"})
    customer_client.get(reverse("accounts:email_confirm", args=[forged]))
    settings.EMAIL_CHANGE_MAX_AGE_SECONDS = -1
    customer_client.post(reverse("accounts:correct"), {"change_email": "1", "email": "y@ex.com"})
    path = re.search(r"(/account/email/confirm/\S+/)", mail.outbox[-1].body).group(1)
    customer_client.get(path)
    assert User.objects.get(pk=customer.user_id).email == customer.user.email


def test_email_link_for_an_address_taken_meanwhile_is_refused(customer_client, customer):
    customer_client.post(reverse("accounts:correct"), {"change_email": "1", "email": "z@ex.com"})
    factories.make_customer(email="z@ex.com")
    path = re.search(r"(/account/email/confirm/\S+/)", mail.outbox[-1].body).group(1)
    customer_client.get(path)
    assert User.objects.get(pk=customer.user_id).email == customer.user.email


def test_email_taken_between_the_check_and_the_save_is_refused_cleanly(
    customer_client, customer, monkeypatch
):
    # The race the view's own check cannot see: the uniqueness rule refuses at the save, and the
    # customer gets the same answer as when the check sees it.
    customer_client.post(reverse("accounts:correct"), {"change_email": "1", "email": "r@ex.com"})
    factories.make_customer(email="r@ex.com", phone="+84987000333")
    monkeypatch.setattr("accounts.views.email_in_use", lambda *args, **kwargs: False)
    path = re.search(r"(/account/email/confirm/\S+/)", mail.outbox[-1].body).group(1)

    response = customer_client.get(path, follow=True)

    assert response.status_code == 200
    with translation.override("vi"):
        taken = gettext("This email cannot be used. Choose another one.")
    assert taken in [str(m) for m in response.context["messages"]]
    assert User.objects.get(pk=customer.user_id).email == customer.user.email


# --- consents ------------------------------------------------------------------------------


def test_update_notices_can_be_switched_off_and_on(customer_client, customer):
    assert consent_allows(customer=customer, purpose_code="update_notices")
    customer_client.post(reverse("accounts:consents"), {})
    assert not consent_allows(customer=customer, purpose_code="update_notices")
    record = ConsentRecord.objects.filter(customer=customer, purpose__code="update_notices").get()
    assert record.kind == "withdrawn"
    customer_client.post(reverse("accounts:consents"), {"update_notices": "on"})
    assert consent_allows(customer=customer, purpose_code="update_notices")
    assert ConsentRecord.objects.filter(customer=customer).count() == 3
    # The other four purposes stay allowed and the page says why.
    assert consent_allows(customer=customer, purpose_code="licensing")
    page = customer_client.get(reverse("accounts:consents")).content.decode()
    assert page.count("không thể tắt khi tài khoản còn hoạt động") == 4


def test_unchanged_consent_choice_adds_no_record(customer_client, customer):
    customer_client.post(reverse("accounts:consents"), {"update_notices": "on"})
    assert ConsentRecord.objects.filter(customer=customer).count() == 1


# --- download ------------------------------------------------------------------------------


def test_json_download_holds_everything_and_is_logged_as_export(customer_client, customer):
    response = customer_client.get(reverse("accounts:download_json"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["account"]["contact_person"] == "Nguyễn Văn An"
    assert data["account"]["phone"] == "+84912345678"
    assert data["account"]["email"] == customer.user.email
    assert data["consents"][0]["text_sha256"]
    assert set(data) >= {"account", "consents", "requests", "access_log"}
    row = AccessLog.objects.get(customer_id=customer.pk, action="export")
    assert (row.actor_id, row.purpose, row.channel) == (customer.user_id, "", "portal")
    assert {"contact_person", "email", "phone", "reason", "response"} <= set(row.fields.split(","))


def test_printable_download_is_logged_as_export(customer_client, customer, support_user):
    staff_reads(customer, support_user, "customer_care")
    response = customer_client.get(reverse("accounts:download_print"))
    html = response.content.decode()
    assert "Nguyễn Văn An" in html
    assert "Chăm sóc và hỗ trợ sau bán hàng" in html and "xem" in html
    assert AccessLog.objects.filter(customer_id=customer.pk, action="export").count() == 1


# --- new policy version --------------------------------------------------------------------


def publish_v2():
    import datetime

    from consent.services import policy_publish

    return policy_publish(
        label="2.0",
        effective_date=datetime.date(2027, 1, 1),
        text_vi="Chính sách mới",
        text_en="New policy",
    )


def test_new_policy_version_must_be_accepted_before_going_further(customer_client, customer):
    v2 = publish_v2()
    response = customer_client.get(reverse("accounts:correct"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:policy_accept"))
    page = customer_client.get(response["Location"])
    assert "Chính sách mới" in page.content.decode()
    done = customer_client.post(
        reverse("accounts:policy_accept"),
        {"decision": "accept", "policy_version": "2.0", "next": reverse("accounts:correct")},
    )
    assert done["Location"] == reverse("accounts:correct")
    record = ConsentRecord.objects.get(customer=customer, policy_version=v2)
    assert record.kind == "accepted" and record.text_sha256 == v2.sha256_vi
    assert customer_client.get(reverse("accounts:correct")).status_code == 200


def test_declining_the_new_policy_files_an_account_closure_request(customer_client, customer):
    publish_v2()
    response = customer_client.post(
        reverse("accounts:policy_accept"), {"decision": "decline", "policy_version": "2.0"}
    )
    assert response["Location"] == reverse("accounts:login")
    request = Customer.objects.get(pk=customer.pk).rights_requests.get()
    assert request.kind == "closure" and request.status == "received"
    assert not ConsentRecord.objects.filter(customer=customer, policy_version__label="2.0")
    # Signed out.
    assert customer_client.get(reverse("accounts:home")).status_code == 302


def test_stale_policy_label_is_refused_with_an_error(customer_client, customer):
    publish_v2()
    page = customer_client.post(
        reverse("accounts:policy_accept"), {"decision": "accept", "policy_version": "1.0"}
    )
    assert page.status_code == 200 and "policy_version" in page.context["form"].errors


def test_customer_update_service_used_by_staff_still_works(customer):
    staff = factories.make_staff(email="s@excelcrm.example", role="Support")
    with access_context(actor=staff, channel=Channel.ADMIN, purpose="customer_care"):
        customer_update(customer=customer, contact_person="Trần Thị Bình")
    assert customer.history.first().history_purpose == "customer_care"


def test_access_log_names_the_fields_in_words(customer_client, customer, support_user):
    staff_reads(customer, support_user, "customer_care")
    html = customer_client.get(reverse("accounts:access_log")).content.decode()
    assert "số điện thoại" in html


def test_access_log_page_query_count_does_not_grow_with_rows(
    customer_client, customer, support_user, account_manager
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("accounts:access_log")
    customer_client.get(url)  # the session's one-time bookkeeping happens here
    staff_reads(customer, support_user, "customer_care")
    with CaptureQueriesContext(connection) as few:
        page = customer_client.get(url)
    assert len(page.context["rows"]) == 1
    for staff, purpose in [(support_user, "customer_care"), (account_manager, "licensing")] * 30:
        staff_reads(customer, staff, purpose)
    with CaptureQueriesContext(connection) as many:
        page = customer_client.get(url)
    assert len(page.context["rows"]) == 50
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_policy_page_sends_staff_to_the_admin_and_rejects_a_forged_decision(
    client, customer_client, support_user
):
    publish_v2()
    response = customer_client.post(
        reverse("accounts:policy_accept"), {"decision": "maybe", "policy_version": "2.0"}
    )
    assert response.status_code == 200 and "decision" in response.context["form"].errors
    assert 'id="decision-errors"' in response.content.decode()
    client.force_login(support_user)
    assert client.get(reverse("accounts:policy_accept"))["Location"] == reverse("admin:index")


class _BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_email_change_says_so_when_the_link_could_not_be_sent(
    customer_client, customer, settings
):
    settings.EMAIL_BACKEND = f"{__name__}._BrokenBackend"
    page = customer_client.post(
        reverse("accounts:correct"), {"change_email": "1", "email": "moi@example.com"}
    )
    assert page.status_code == 200
    assert "email" in page.context["email_form"].errors
    assert not any("moi@example.com" in str(m) for m in page.context["messages"])
    assert customer.notices.filter(status="failed").count() == 1


def test_email_link_taken_between_the_check_and_the_save_is_refused_not_a_500(
    customer_client, customer, monkeypatch
):
    customer_client.post(reverse("accounts:correct"), {"change_email": "1", "email": "z@ex.com"})
    factories.make_customer(email="z@ex.com")
    path = re.search(r"(/account/email/confirm/\S+/)", mail.outbox[-1].body).group(1)
    # The other login takes the address after the view's check: the database decides.
    monkeypatch.setattr("accounts.views.email_in_use", lambda *args, **kwargs: False)
    response = customer_client.get(path)
    assert response.status_code == 302
    assert User.objects.get(pk=customer.user_id).email == customer.user.email
