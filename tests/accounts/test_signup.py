import unicodedata

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import Customer, User
from consent.models import AccessLog, ConsentRecord

pytestmark = pytest.mark.django_db


def signup_data(policy, **overrides):
    data = {
        "business_name": "Công ty TNHH Hoa Sen",
        "contact_person": "Nguyễn Văn An",
        "phone": "0912 345 678",
        "email": "an.nguyen@Example.COM",
        "password1": "mat-khau-rat-dai-2026",
        "password2": "mat-khau-rat-dai-2026",
        "accept_policy": "on",
        "policy_version": policy.label,
    }
    data.update(overrides)
    return data


def test_signup_page_shows_an_unticked_consent_box_linking_to_the_policy(client, policy):
    response = client.get(reverse("accounts:signup"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="accept_policy"' in html
    assert "checked" not in html.split('name="accept_policy"')[1].split(">")[0]
    assert reverse("consent:policy") in html


def test_signup_creates_user_customer_and_consent_record_and_signs_in(client, policy):
    response = client.post(
        reverse("accounts:signup"),
        signup_data(policy),
        HTTP_USER_AGENT="Mozilla/5.0 test",
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:home")

    user = User.objects.get()
    assert user.email == "an.nguyen@example.com"
    customer = Customer.objects.get(user=user)
    assert str(customer.phone) == "+84912345678"
    consent = ConsentRecord.objects.get(customer=customer)
    assert consent.policy_version == policy
    assert consent.text_sha256 == policy.sha256_vi
    assert consent.language == "vi"
    assert consent.ip_address == "203.0.113.7"
    assert consent.user_agent == "Mozilla/5.0 test"
    assert consent.kind == "accepted"

    row = AccessLog.objects.get(customer_id=customer.pk, action="create")
    assert (row.actor_id, row.purpose, row.channel) == (user.pk, "", "portal")

    page = client.get(reverse("accounts:home"))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Nguyễn Văn An" in content and "an.nguyen@example.com" in content
    for code in ["licensing", "update_notices", "renewal_notices", "customer_care", "complaints"]:
        assert page.context["purposes"].filter(code=code).exists()
    assert content.count("<li><strong>") == 5


def test_signup_in_english_records_the_english_text_hash(client, policy):
    client.post(reverse("set_language"), {"language": "en"})
    client.post(reverse("accounts:signup"), signup_data(policy))
    consent = ConsentRecord.objects.get()
    assert consent.language == "en"
    assert consent.text_sha256 == policy.sha256_en


def test_signup_without_ticking_the_box_is_refused(client, policy):
    data = signup_data(policy)
    del data["accept_policy"]
    response = client.post(reverse("accounts:signup"), data)
    assert response.status_code == 200
    assert "accept_policy" in response.context["form"].errors
    assert not User.objects.exists()


@pytest.mark.parametrize("value", ["off", "0", "false", "\x00", "yes", "1", "ON", " on"])
def test_only_the_value_a_ticked_box_sends_counts_as_consent(client, policy, value):
    response = client.post(reverse("accounts:signup"), signup_data(policy, accept_policy=value))
    assert response.status_code == 200
    assert "accept_policy" in response.context["form"].errors
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "typed",
    ["+84 912 345 678 ext 5", "0912 345 678 ext. 12", "0912345678;ext=7", "0912 345 678 x5"],
)
def test_signup_refuses_a_phone_number_with_an_extension(client, policy, typed):
    """E.164 keeps no extension: it would be dropped without a word."""
    for language in ("vi", "en"):
        client.cookies["django_language"] = language
        response = client.post(reverse("accounts:signup"), signup_data(policy, phone=typed))
        assert response.status_code == 200
        errors = response.context["form"].errors.as_data()["phone"]
        assert [e.code for e in errors] == ["extension"]
        with translation.override(language):
            expected = translation.gettext("Enter the phone number without an extension.")
        assert response.context["form"].errors["phone"] == [expected]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "typed", ["0912 345 678", "+84 912 345 678", "84912345678", "(+84) 912-345-678"]
)
def test_signup_stores_every_format_of_one_number_in_e164(client, policy, typed):
    client.post(reverse("accounts:signup"), signup_data(policy, phone=typed))
    assert str(Customer.objects.get().phone) == "+84912345678"


def test_signup_accepts_a_landline(client, policy):
    client.post(reverse("accounts:signup"), signup_data(policy, phone="024 3825 1234"))
    assert str(Customer.objects.get().phone) == "+842438251234"


@pytest.mark.parametrize("bad", ["12345", "0912 345", "abc", "+1 555 0100", "0000000000"])
def test_signup_rejects_an_invalid_phone_with_a_field_error(client, policy, bad):
    response = client.post(reverse("accounts:signup"), signup_data(policy, phone=bad))
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert not User.objects.exists()


def test_phone_error_is_in_the_active_language(client, policy):
    response = client.post(reverse("accounts:signup"), signup_data(policy, phone="12"))
    assert "số điện thoại" in response.context["form"].errors["phone"][0].lower()
    client.post(reverse("set_language"), {"language": "en"})
    response = client.post(reverse("accounts:signup"), signup_data(policy, phone="12"))
    assert "phone number" in response.context["form"].errors["phone"][0].lower()


def test_repeated_signup_with_other_case_is_refused_without_saying_the_account_exists(
    client, policy
):
    client.post(reverse("accounts:signup"), signup_data(policy))
    client.logout()
    response = client.post(
        reverse("accounts:signup"), signup_data(policy, email="AN.NGUYEN@example.com")
    )
    assert response.status_code == 200
    error = response.context["form"].errors["email"][0]
    assert reverse("accounts:login") in error
    assert "already exists" not in error and "đã tồn tại" not in error
    assert User.objects.count() == 1


def test_email_uniqueness_is_enforced_by_the_database(db):
    from django.db import IntegrityError, transaction

    from consent.context import Channel, access_context

    with access_context(actor=None, channel=Channel.COMMAND):
        User.objects.create_user("dup@example.com", "x")
        with pytest.raises(IntegrityError), transaction.atomic():
            User(email="DUP@example.com").save()


def test_names_are_trimmed_and_nfc_normalised(client, policy):
    decomposed = unicodedata.normalize("NFD", "  Nguyễn   Văn An  ")
    client.post(reverse("accounts:signup"), signup_data(policy, contact_person=decomposed))
    customer = Customer.objects.get()
    assert customer.contact_person == "Nguyễn Văn An"
    assert Customer.objects.filter(contact_person=unicodedata.normalize("NFC", "Nguyễn Văn An"))


@pytest.mark.parametrize("name", ["", "   ", "a" * 201, "An\x00", "An\u202e"])
def test_bad_names_get_a_field_error(client, policy, name):
    response = client.post(reverse("accounts:signup"), signup_data(policy, contact_person=name))
    assert response.status_code == 200
    assert "contact_person" in response.context["form"].errors
    assert not User.objects.exists()


def test_a_name_of_exactly_200_characters_is_accepted(client, policy):
    client.post(reverse("accounts:signup"), signup_data(policy, business_name="B" * 200))
    assert Customer.objects.get().business_name == "B" * 200


def test_mismatched_passwords_get_a_field_error(client, policy):
    response = client.post(reverse("accounts:signup"), signup_data(policy, password2="other"))
    assert "password2" in response.context["form"].errors


def test_a_stale_policy_version_is_refused(client, policy):
    response = client.post(reverse("accounts:signup"), signup_data(policy, policy_version="0.9"))
    assert "policy_version" in response.context["form"].errors
    assert not User.objects.exists()


def test_a_failure_half_way_leaves_nothing_behind(client, policy, monkeypatch):
    from consent import services

    def explode(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("accounts.services.consent_record", explode)
    assert services  # the real module stays importable
    client.raise_request_exception = False
    response = client.post(reverse("accounts:signup"), signup_data(policy))
    assert response.status_code == 500
    assert not User.objects.exists()
    assert not Customer.objects.exists()
    assert not ConsentRecord.objects.exists()
    assert not AccessLog.objects.exists()
