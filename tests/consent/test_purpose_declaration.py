"""Declaring a purpose in the admin: granted ones only, a reference, the header, idle expiry."""

import time

import pytest

from consent.declaration import SESSION_KEY
from tests.accesslog import rows

pytestmark = pytest.mark.django_db


def test_purpose_page_lists_only_the_users_purposes(client, support_user):
    client.force_login(support_user)
    response = client.get("/admin/purpose/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="customer_care"' in html and 'value="complaints"' in html
    assert 'value="licensing"' not in html


def test_declaring_a_granted_purpose_shows_it_in_the_header(client, support_user, declare):
    client.force_login(support_user)
    response = client.post(
        "/admin/purpose/",
        {
            "purpose": "complaints",
            "reference": "  TICKET-42  ",
            "next": "/admin/accounts/customer/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/customer/"
    assert client.session[SESSION_KEY]["reference"] == "TICKET-42"
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="access-purpose" class="active"' in page
    assert "TICKET-42" in page and "End purpose" in page and "Change purpose" in page
    assert rows() == []


def test_header_offers_a_declaration_when_none_is_active(client, support_user):
    client.force_login(support_user)
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="access-purpose" class="none"' in page
    assert "Declare a purpose" in page


def test_next_url_to_another_host_is_ignored(client, support_user):
    client.force_login(support_user)
    response = client.post(
        "/admin/purpose/", {"purpose": "complaints", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/admin/"


def test_ungranted_purpose_gets_a_403_that_says_why_and_a_denied_row(client, support_user):
    client.force_login(support_user)
    response = client.post("/admin/purpose/", {"purpose": "licensing"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "None of your roles grants this purpose" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert rows() == [
        (support_user.pk, None, "licensing", "", "view", "", "admin", "denied"),
    ]


def test_refusal_is_explained_in_vietnamese(client, support_user):
    client.force_login(support_user)
    response = client.post("/admin/purpose/", {"purpose": "licensing"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 403
    assert "Không vai trò nào của bạn" in response.content.decode()


def test_reviewer_has_no_purpose_to_declare(client, reviewer):
    client.force_login(reviewer)
    page = client.get("/admin/purpose/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "None of your roles grants a purpose" in page
    response = client.post("/admin/purpose/", {"purpose": "customer_care"})
    assert response.status_code == 403
    assert rows() == [(reviewer.pk, None, "customer_care", "", "view", "", "admin", "denied")]


def test_superuser_may_declare_any_purpose(client, superuser, declare):
    client.force_login(superuser)
    page = client.get("/admin/purpose/").content.decode()
    for code in ["licensing", "update_notices", "renewal_notices", "customer_care", "complaints"]:
        assert f'value="{code}"' in page
    declare(client, "licensing")
    assert client.session[SESSION_KEY]["purpose"] == "licensing"


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "Use at most 200 characters (you typed 201)."), ("vi", "Tối đa 200 ký tự")],
)
def test_reference_longer_than_200_characters_is_a_field_error(
    client, support_user, language, message
):
    client.force_login(support_user)
    response = client.post(
        "/admin/purpose/",
        {"purpose": "complaints", "reference": "x" * 201},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert message in response.context["form"].errors["reference"][0]
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(
    ("data", "language", "message"),
    [
        ({}, "en", "Choose the purpose you are working for."),
        ({}, "vi", "Hãy chọn mục đích bạn"),
        ({"purpose": "marketing"}, "en", "Choose one of the purposes listed."),
        ({"purpose": "marketing"}, "vi", "Hãy chọn một trong các mục đích"),
    ],
)
def test_missing_or_unknown_purpose_is_a_field_error(client, support_user, data, language, message):
    client.force_login(support_user)
    response = client.post("/admin/purpose/", data, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    assert message in response.context["form"].errors["purpose"][0]
    assert rows() == []


def test_ending_the_purpose_masks_again(client, support_user, declare):
    client.force_login(support_user)
    declare(client, "customer_care")
    assert client.get("/admin/purpose/end/").status_code == 403
    response = client.post("/admin/purpose/end/", {"next": "/admin/accounts/customer/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/customer/"
    assert SESSION_KEY not in client.session


def test_declaration_expires_after_the_idle_time(client, support_user, declare, settings):
    settings.ACCESS_PURPOSE_IDLE_SECONDS = 60
    client.force_login(support_user)
    declare(client, "customer_care")
    session = client.session
    data = session[SESSION_KEY]
    data["last_seen"] = time.time() - 61
    session[SESSION_KEY] = data
    session.save()
    page = client.get("/admin/").content.decode()
    assert 'id="access-purpose" class="none"' in page
    assert SESSION_KEY not in client.session


def test_activity_keeps_the_declaration_alive(client, support_user, declare, settings):
    settings.ACCESS_PURPOSE_IDLE_SECONDS = 60
    client.force_login(support_user)
    declare(client, "customer_care")
    session = client.session
    data = session[SESSION_KEY]
    data["last_seen"] = time.time() - 59
    session[SESSION_KEY] = data
    session.save()
    client.get("/admin/")
    assert time.time() - client.session[SESSION_KEY]["last_seen"] < 5


def test_purpose_page_needs_a_staff_login(client, customer):
    assert client.get("/admin/purpose/").status_code == 302
    client.force_login(customer.user)
    response = client.get("/admin/purpose/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_nul_in_the_reference_gets_an_error_in_the_active_language(client, support_user):
    client.force_login(support_user)
    response = client.post(
        "/admin/purpose/", {"purpose": "complaints", "reference": "T\x00-1"},
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert response.status_code == 400
    assert response.context["form"].errors["reference"] == [
        "Trường này chứa ký tự không được phép."
    ]
    assert SESSION_KEY not in client.session
