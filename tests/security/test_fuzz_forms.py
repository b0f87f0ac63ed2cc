"""Hypothesis drives every public form: a field error or a success, never a 500 or a half write."""

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Customer, User
from consent.models import ConsentRecord
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=500, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
# Any text, including control characters, NUL, surrogates-free Unicode and very long values.
any_text = st.text(max_size=300)
maybe = lambda good: st.one_of(good, any_text)  # noqa: E731


@pytest.fixture
def unlimited(settings):
    settings.RATE_LIMITS = []
    settings.AXES_FAILURE_LIMIT = 10**9


def _counts() -> tuple[int, int, int]:
    return User.objects.count(), Customer.objects.count(), ConsentRecord.objects.count()


@FUZZ
@given(data=st.fixed_dictionaries({
    "business_name": maybe(st.just("Công ty TNHH Hoa Sen")),
    "contact_person": maybe(st.just("Nguyễn Văn An")),
    "phone": maybe(st.from_regex(r"\+849[0-9]{8}", fullmatch=True)),
    "email": maybe(st.emails()),
    "password": maybe(st.just("correct-horse-battery-9")),
    "accept_policy": st.sampled_from(["on", "", "off", "yes"]),
    "policy_version": maybe(st.just("1.0")),
    "same_password": st.booleans(),
}))
def test_signup_form_never_fails_or_half_writes(unlimited, policy, data):
    post = dict(data)
    password = post.pop("password")
    post["password1"] = password
    post["password2"] = password if post.pop("same_password") else password + "x"
    before = _counts()
    response = Client().post(reverse("accounts:signup"), post)
    after = _counts()
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert after == (before[0] + 1, before[1] + 1, before[2] + 1)
    else:
        assert after == before
        assert response.context["form"].errors


@FUZZ
@given(username=maybe(st.emails()), password=maybe(st.just(PASSWORD)))
def test_customer_login_form_never_fails(unlimited, customer, username, password):
    response = Client().post(reverse("accounts:login"),
                             {"username": username, "password": password})
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert username.lower() == customer.user.email and password == PASSWORD


@FUZZ
@given(username=maybe(st.emails()), password=any_text, token=any_text)
def test_admin_login_form_never_fails(unlimited, superuser, username, password, token):
    response = Client().post(reverse("admin:login"),
                             {"username": username, "password": password, "otp_token": token})
    assert response.status_code == 200


def _password_reset_url() -> str | None:
    """The customer password-reset request page, found by URL name (issue 6 adds it)."""
    for name in ("accounts:password_reset", "account:password_reset", "password_reset"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def test_password_reset_form_never_fails(unlimited, customer):
    url = _password_reset_url()
    if url is None:
        pytest.skip("no customer password reset yet (issue 6)")

    @FUZZ
    @given(email=maybe(st.emails()))
    def run(email):
        before = _counts()
        response = Client().post(url, {"email": email})
        assert response.status_code in (200, 302)
        assert _counts() == before

    run()


# -- the signed-in customer's forms, the reset confirmation, support and rights requests ---------
# Each example is one POST through the real URL with the test client; the state a failed
# submission could have touched is compared before and after.

def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form_errors(response) -> bool:
    context = response.context or {}
    return any(getattr(form, "errors", None)
               for name in ("form", "data_form", "email_form") if (form := context.get(name)))


def _same_site(location: str) -> bool:
    from urllib.parse import urlparse

    parsed = urlparse(location)
    return not parsed.scheme and not parsed.netloc and not location.startswith(("//", "\\"))


def test_password_reset_confirm_form_never_fails_or_half_writes(unlimited, customer):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = customer.user
    uid = urlsafe_base64_encode(force_bytes(user.pk))

    @FUZZ
    @given(password1=maybe(st.just("a-new-horse-battery-7")), same=st.booleans(),
           extra=st.dictionaries(st.sampled_from(["new_password1", "new_password2", "x"]),
                                 any_text, max_size=1))
    def run(password1, same, extra):
        client = Client()
        fresh = User.objects.get(pk=user.pk)  # the token binds the current password hash
        link = reverse("accounts:password_reset_confirm",
                       args=[uid, default_token_generator.make_token(fresh)])
        set_password_url = client.get(link)["Location"]  # the token moves into the session
        before = User.objects.get(pk=user.pk).password
        post = {"new_password1": password1,
                "new_password2": password1 if same else password1 + "x", **extra}
        response = client.post(set_password_url, post)
        after = User.objects.get(pk=user.pk)
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            assert after.check_password(post["new_password1"])
            assert post["new_password1"] == post["new_password2"]
        else:
            assert after.password == before
            assert _form_errors(response)

    run()


def _customer_state(customer):
    fresh = Customer.objects.get(pk=customer.pk)
    return fresh.contact_person, str(fresh.phone), fresh.history.count()


@FUZZ
@given(contact_person=maybe(st.just("Trần Thị Bình")),
       phone=maybe(st.from_regex(r"(\+84|0)9[0-9]{8}", fullmatch=True)))
def test_correct_data_form_never_fails_or_half_writes(unlimited, customer_client, customer,
                                                      contact_person, phone):
    before = _customer_state(customer)
    response = customer_client.post(reverse("accounts:correct"), {
        "save_contact": "1", "contact_person": contact_person, "phone": phone,
    })
    after = _customer_state(customer)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert after == before and _form_errors(response)
    elif after[:2] == before[:2]:
        assert after[2] == before[2]  # "nothing changed": no history row either
    else:
        assert after[2] == before[2] + 1


@FUZZ
@given(email=maybe(st.emails()))
def test_email_change_form_never_fails_or_half_writes(unlimited, customer_client, customer,
                                                      email):
    from django.core import mail

    from notices.models import Notice

    sent, notices = len(mail.outbox), Notice.objects.count()
    response = customer_client.post(reverse("accounts:correct"),
                                    {"change_email": "1", "email": email})
    assert response.status_code in (200, 302)
    assert User.objects.get(pk=customer.user_id).email == customer.user.email  # not yet
    if response.status_code == 302:
        assert len(mail.outbox) == sent + 1 and Notice.objects.count() == notices + 1
    else:
        assert _form_errors(response) and len(mail.outbox) == sent
        # Nothing recorded, or (the mail backend refused it) one notice recorded as failed.
        recorded = list(Notice.objects.order_by("pk")[notices:])
        assert all(notice.status == Notice.Status.FAILED for notice in recorded)


@FUZZ
@given(value=st.one_of(st.sampled_from(["on", "", "off", "false", "0", "1"]), any_text),
       present=st.booleans())
def test_update_notices_consent_form_never_fails_or_half_writes(unlimited, customer_client,
                                                                customer, value, present):
    from consent.selectors import consent_allows

    before_state = consent_allows(customer=customer, purpose_code="update_notices")
    before = ConsentRecord.objects.count()
    response = customer_client.post(reverse("accounts:consents"),
                                    {"update_notices": value} if present else {})
    assert response.status_code in (200, 302)
    after_state = consent_allows(customer=customer, purpose_code="update_notices")
    expected = before + (1 if after_state != before_state else 0)
    assert ConsentRecord.objects.count() == expected
    if response.status_code == 200:
        assert after_state == before_state and _form_errors(response)


@FUZZ
@given(decision=maybe(st.sampled_from(["accept", "decline"])),
       version=maybe(st.just("1.0")),
       next_url=st.one_of(st.just(""), st.sampled_from(["/account/", "https://evil.example/",
                                                        "//evil.example/", "/\\evil.example"]),
                          any_text))
def test_policy_decision_form_never_fails_or_half_writes(unlimited, customer, decision, version,
                                                         next_url):
    from rights.models import DataSubjectRequest

    client = _signed_in(customer.user)  # a decline signs the customer out
    before = ConsentRecord.objects.count(), DataSubjectRequest.objects.count()
    response = client.post(reverse("accounts:policy_accept"),
                           {"decision": decision, "policy_version": version, "next": next_url})
    after = ConsentRecord.objects.count(), DataSubjectRequest.objects.count()
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert _same_site(response["Location"])
        if decision == "accept":
            assert after[0] == before[0] + 1
        else:
            assert after[1] in (before[1], before[1] + 1) and after[0] == before[0]
    else:
        assert after == before and _form_errors(response)


@FUZZ
@given(kind=maybe(st.sampled_from(["question", "support", "complaint"])),
       subject=maybe(st.just("Không in được báo cáo")),
       body=maybe(st.just("Máy in báo lỗi khi xuất báo cáo.")))
def test_care_request_form_never_fails_or_half_writes(unlimited, customer_client, kind, subject,
                                                      body):
    from care.models import CareMessage, CareRequest

    before = CareRequest.objects.count(), CareMessage.objects.count()
    response = customer_client.post(reverse("care:new"),
                                    {"kind": kind, "subject": subject, "body": body})
    after = CareRequest.objects.count(), CareMessage.objects.count()
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert after == (before[0] + 1, before[1] + 1)
    else:
        assert after == before and _form_errors(response)


def test_care_message_form_never_fails_or_half_writes(unlimited, customer_client, customer):
    from care import services as care_services
    from care.models import CareMessage
    from consent.context import Channel, access_context

    with access_context(actor=customer.user, channel=Channel.PORTAL):
        request = care_services.care_request_open(customer=customer, kind="question",
                                                  subject="Hỏi", body="Câu hỏi")
    url = reverse("care:detail", args=[request.pk])

    @FUZZ
    @given(body=maybe(st.just("Cảm ơn, tôi hiểu rồi.")),
           extra=st.dictionaries(st.sampled_from(["body", "internal", "from_staff"]), any_text,
                                 max_size=2))
    def run(body, extra):
        before = CareMessage.objects.count()
        response = customer_client.post(url, {"body": body, **extra})
        after = CareMessage.objects.count()
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            assert after == before + 1
            assert not CareMessage.objects.order_by("-pk").first().internal
        else:
            assert after == before and _form_errors(response)

    run()


@FUZZ
@given(kind=maybe(st.sampled_from(["access", "correction", "erasure", "restriction",
                                   "objection", "withdrawal", "closure"])),
       reason=maybe(st.just("Cho tôi bản sao dữ liệu")))
def test_data_subject_request_form_never_fails_or_half_writes(unlimited, customer_client, kind,
                                                              reason):
    from rights.models import DataSubjectRequest

    before = DataSubjectRequest.objects.count()
    response = customer_client.post(reverse("rights:requests"), {"kind": kind, "reason": reason})
    after = DataSubjectRequest.objects.count()
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert after == before + 1
        assert DataSubjectRequest.objects.order_by("-pk").first().kind != "closure"
    else:
        assert after == before and _form_errors(response)
