"""Canary personal values never reach logs, error pages or error emails."""

import io
import logging

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import views as account_views
from security.logging import ScrubbingAdminEmailHandler, ScrubbingFormatter, scrub

pytestmark = pytest.mark.django_db

CANARY = {
    "business_name": "Canary Quokka Trading",
    "contact_person": "Canary Person Quokka",
    "phone": "+84912000777",
    "email": "canary.quokka@example.com",
}
CANARY_FORMS = [*CANARY.values(), "0912000777", "0912 000 777", "912000777"]


@pytest.fixture
def captured_log():
    """Route the configured console handler (with its formatter) into a buffer."""
    handlers = [h for h in logging.getLogger("django").handlers
                if isinstance(h.formatter, ScrubbingFormatter)]
    assert handlers, "the django logger writes through the scrubbing formatter"
    buffer = io.StringIO()
    old = [h.setStream(buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, old, strict=True):
        handler.setStream(stream)


def _assert_clean(*texts: str) -> None:
    for text in texts:
        for value in CANARY_FORMS:
            assert value not in text, f"{value!r} leaked"


def _signup_data(policy) -> dict:
    return {**CANARY, "password1": "correct-horse-battery-9",
            "password2": "correct-horse-battery-9", "accept_policy": "on",
            "policy_version": policy.label}


def test_forced_server_error_during_signup_leaks_nothing(policy, settings, monkeypatch,
                                                         captured_log):
    settings.ADMINS = [("ops", "ops@excelcrm.example")]

    def explode(**kwargs):
        raise RuntimeError(f"cannot store {kwargs['email']} / {kwargs['phone']} / "
                           f"{kwargs['contact_person']} / {kwargs['business_name']}")

    monkeypatch.setattr(account_views, "customer_register", explode)
    client = Client(raise_request_exception=False)
    response = client.post(reverse("accounts:signup"), _signup_data(policy),
                           QUERY_STRING="ref=canary.quokka@example.com")
    assert response.status_code == 500
    assert len(mail.outbox) == 1  # the error email was sent …
    email = mail.outbox[0]
    bodies = [email.subject, email.body,
              *(alt[0] for alt in getattr(email, "alternatives", []))]
    assert "RuntimeError" in email.body  # … with the traceback …
    _assert_clean(response.content.decode(), captured_log.getvalue(), *bodies)  # … but no data
    assert "RuntimeError" in captured_log.getvalue()


def test_signup_login_and_admin_edit_log_no_personal_values(client, policy, superuser,
                                                            captured_log, declare):
    client.post(reverse("accounts:signup"), _signup_data(policy))
    client.logout()
    for _ in range(6):  # failed logins and a lockout: axes logs the username
        client.post(reverse("accounts:login"),
                    {"username": CANARY["email"], "password": "wrong-password"})
    from accounts.models import Customer

    customer = Customer.objects.get(user__email=CANARY["email"])
    staff = Client()
    staff.force_login(superuser)
    declare(staff, "customer_care")  # editing shows the values: it needs a purpose
    url = reverse("admin:accounts_customer_change", args=[customer.pk])
    page = staff.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(contact_person="Canary Person Quokka Junior", change_reason="canary")
    assert staff.post(url, data).status_code == 302
    staff.get(reverse("admin:accounts_customer_changelist"), {"q": CANARY["phone"]})
    staff.get("/no-such-page/canary.quokka@example.com")
    logged = captured_log.getvalue()
    assert "AXES" in logged and "Not Found" in logged  # the lockout and the 404 were logged …
    assert "[redacted]" in logged  # (axes logs the username: it was there to scrub)
    _assert_clean(logged)  # … and none of it carries the canary


def test_error_email_handler_scrubs_subject_and_body(settings):
    settings.ADMINS = [("ops", "ops@excelcrm.example")]
    handler = ScrubbingAdminEmailHandler()
    handler.send_mail("Error for canary.quokka@example.com", "phone +84912000777 here")
    assert "canary" not in mail.outbox[0].subject and "+849" not in mail.outbox[0].body


def test_scrub_covers_vietnamese_phone_formats():
    for text in ["+84912000777", "0912000777", "0912 000 777", "+84 912 000 777"]:
        assert scrub(f"x {text} y") == "x [redacted] y"


API_CANARY = {"install_id": "canary-install-QUOKKA-42", "model": "CanaryQuokkaPhone X",
              "platform": "android", "os_version": "14", "app_version": "1.0"}


def test_forced_server_error_in_the_api_leaks_nothing_and_answers_problem_json(
    customer, settings, monkeypatch, captured_log
):
    from devices import api as device_api
    from tests.factories import PASSWORD

    settings.ADMINS = [("ops", "ops@excelcrm.example")]
    client = Client(raise_request_exception=False)
    token_response = client.post("/api/v1/auth/token/",
                                 {"email": customer.user.email, "password": PASSWORD},
                                 content_type="application/json")
    assert token_response.status_code == 201
    token = token_response.json()["token"]

    def explode(**kwargs):
        raise RuntimeError(f"cannot store {kwargs['install_id']} / {kwargs['model']}")

    monkeypatch.setattr(device_api.services, "device_register", explode)
    response = client.post("/api/v1/devices/", API_CANARY, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 500 and problem["instance"] == "/api/v1/devices/"
    assert response["X-Request-ID"]
    assert len(mail.outbox) == 1 and "RuntimeError" in mail.outbox[0].body
    email = mail.outbox[0]
    texts = [response.content.decode(), captured_log.getvalue(), email.subject, email.body,
             *(alt[0] for alt in getattr(email, "alternatives", []))]
    assert "RuntimeError" in captured_log.getvalue()
    for text in texts:
        for value in (API_CANARY["install_id"], API_CANARY["model"], token):
            assert value not in text, f"{value!r} leaked"


@pytest.mark.parametrize("body", [
    '{"install_id": "canary-install-QUOKKA-42", "nested": [{"model": "CanaryQuokkaPhone X"}]}',
    '{"install_id": "canary-install-QUOKKA-42", "model": "CanaryQuokkaPhone X", "x": ',
])
def test_json_body_values_are_scrubbed_from_logs_while_the_request_runs(body, captured_log):
    from django.test import RequestFactory

    from security.logging import PostedValuesScrubMiddleware

    def view(request):
        logging.getLogger("django").warning("failed on %s", request.body.decode())
        return None

    request = RequestFactory().put("/api/v1/devices/1/permissions/", body,
                                   content_type="application/json")
    PostedValuesScrubMiddleware(view)(request)
    logged = captured_log.getvalue()
    assert "failed on" in logged and "install_id" in logged  # keys stay readable
    assert "canary-install-QUOKKA-42" not in logged and "CanaryQuokkaPhone X" not in logged
