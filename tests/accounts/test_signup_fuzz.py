"""Hypothesis drives the signup form: a field error or a success, never a 500 or half an account."""

import pytest
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from accounts.forms import SignupForm
from accounts.models import Customer, User
from consent.models import AccessLog, ConsentRecord

pytestmark = pytest.mark.django_db

odd_text = st.one_of(
    st.text(max_size=50),
    # Every code point an HTTP form can carry (lone surrogates cannot be encoded in UTF-8).
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.sampled_from([
        "", " ", "Nguyễn Văn An", "Nguye\u0302\u0303n", "'; DROP TABLE accounts_user; --",
        "\x00", "\u202eevil", "a" * 5000, "<script>alert(1)</script>", "Robert'); --",
        "\U0001f600" * 50, "null", "NaN", "%00", "\r\n\t",
    ]),
)
phones = st.one_of(
    st.sampled_from([
        "0912 345 678", "+84 912 345 678", "84912345678", "(+84) 912-345-678", "024 3825 1234",
        "12", "+1", "++84912345678", "0912-345-678-999", "０９１２３４５６７８", "+84 000 000 000",
        "9" * 40, "phone", "",
    ]),
    st.text(alphabet="0123456789+-() .x", max_size=30),
    st.text(max_size=30),
)
emails = st.one_of(
    st.emails().map(str),
    st.sampled_from(["a@b", "@example.com", "x@example..com", "Ä@exämple.com", "a" * 300 + "@x.vn",
                     "an@EXAMPLE.com", "an@example.com", "an @example.com", ""]),
    st.text(max_size=60),
)
passwords = st.one_of(st.just("mat-khau-rat-dai-2026"), st.text(max_size=40))


GOOD = {
    "business_name": "Công ty Hoa Sen",
    "contact_person": "Nguyễn Văn An",
    "phone": "0912 345 678",
    "email": "an@example.com",
    "password": "mat-khau-rat-dai-2026",
    "accept": "on",
    "language": "vi",
}


def untranslated_errors(data, policy):
    """Return the errors that read the same in Vietnamese as in English, on fields holding NUL."""
    def errors(language):
        with translation.override(language):
            form = SignupForm(data, current_policy=policy)
            return {name: [str(e) for e in errs] for name, errs in form.errors.items()}

    vi, en = errors("vi"), errors("en")
    return {
        name: sorted(set(messages) & set(en.get(name, [])))
        for name, messages in vi.items()
        if "\x00" in str(data.get(name, "")) and set(messages) & set(en.get(name, []))
    }


@pytest.fixture
def no_rate_limits(settings):
    """Hundreds of signups from one address: the per-IP limit (tests/security) would answer 429."""
    settings.RATE_LIMITS = []


@settings(
    max_examples=320,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    business_name=odd_text,
    contact_person=odd_text,
    phone=phones,
    email=emails,
    password=passwords,
    accept=st.sampled_from(["on", "", "off", "1", None]),
    language=st.sampled_from(["vi", "en"]),
)
@example(
    business_name="Công ty Hoa Sen", contact_person="Nguye\u0302\u0303n Văn An",
    phone="(+84) 912-345-678", email="an@example.com", password="mat-khau-rat-dai-2026",
    accept="on", language="vi",
)
# Valid as typed, not once the domain is lowercased (İ becomes two code points): was a 500.
@example(**{**GOOD, "email": "a@" + "İ" * 40 + ".vn"})
@example(**{**GOOD, "email": "a@" + ".".join(["İ" * 60] * 4) + ".vn"})
@example(**{**GOOD, "email": "a@xİ.example.com"})
@example(**{**GOOD, "email": "İ" * 64 + "@example.com"})
@example(**{**GOOD, "email": "a\x00b@example.org"})
@example(**{**GOOD, "email": "user@bücher.example"})
# NUL in every kind of field: the error is in Vietnamese (Django's vi catalogue lacks it).
@example(**{**GOOD, "business_name": "A\x00"})
@example(**{**GOOD, "contact_person": "\x00"})
@example(**{**GOOD, "phone": "0912\x00345678"})
@example(**{**GOOD, "password": "mat-khau\x00-rat-dai-2026"})
@example(**{**GOOD, "phone": "+84 912 345 678 ext 5"})
@example(**{**GOOD, "accept": "off"})
@example(**{**GOOD, "accept": "\x00"})
@example(**{**GOOD, "accept": "false"})
def test_signup_never_fails_and_never_half_writes(
    no_rate_limits, client, policy, business_name, contact_person, phone, email, password, accept,
    language,
):
    client.logout()
    client.cookies["django_language"] = language
    data = {
        "business_name": business_name,
        "contact_person": contact_person,
        "phone": phone,
        "email": email,
        "password1": password,
        "password2": password,
        "policy_version": policy.label,
    }
    if accept is not None:
        data["accept_policy"] = accept
    response = client.post(reverse("accounts:signup"), data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert response.context["form"].errors
    if accept != "on":  # only the browser's value for a ticked box is consent
        assert response.status_code == 200
        assert "accept_policy" in response.context["form"].errors
    if language == "vi" and any("\x00" in str(v) for v in data.values()):
        assert untranslated_errors(data, policy) == {}
    event(f"status {response.status_code}")
    users, customers = User.objects.count(), Customer.objects.count()
    assert users == customers == ConsentRecord.objects.count()
    assert AccessLog.objects.filter(action="create").count() == customers


def test_signup_with_bytes_that_are_not_utf8_gets_field_errors(client, policy):
    body = (
        b"business_name=%FF%FE&contact_person=%C3%28&phone=%E2%82&email=%80%40x.vn"
        b"&policy_version=1.0"
    )
    response = client.post(
        reverse("accounts:signup"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not User.objects.exists()
