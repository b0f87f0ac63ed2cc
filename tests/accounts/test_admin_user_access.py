"""The login admin: a customer's login email is personal data, a staff login's is not."""

import pytest
from django.contrib.auth.models import Permission

from accounts.models import User
from tests.accesslog import force_declaration, rows
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

EMAIL, MASKED = "hoa.sen@example.com", "h***@example.com"


@pytest.fixture
def login(db):
    return make_customer(email=EMAIL).user


@pytest.fixture
def staff(client, support_user):
    support_user.user_permissions.add(Permission.objects.get(codename="delete_user"))
    client.force_login(support_user)
    return support_user


def allowed(user, login, action):
    return (user.pk, login.customer.pk, "customer_care", "", action, "email", "admin", "allowed")


def denied(user, customer_id, action):
    return (user.pk, customer_id, "licensing", "", action, "", "admin", "denied")


def test_changelist_masks_customer_logins_only(client, staff, login):
    html = client.get("/admin/accounts/user/").content.decode()
    assert EMAIL not in html and MASKED in html
    assert "support@excelcrm.example" in html
    assert rows(channel="admin") == []


def test_changelist_with_purpose_logs_customer_logins_only(client, staff, login, declare):
    declare(client, "customer_care")
    html = client.get("/admin/accounts/user/").content.decode()
    assert EMAIL in html
    assert rows(channel="admin") == [allowed(staff, login, "list")]


def test_changelist_refused_with_purpose_user_lacks(client, staff, login):
    force_declaration(client, "licensing")
    assert client.get("/admin/accounts/user/").status_code == 403
    assert rows(channel="admin") == [denied(staff, None, "list")]


@pytest.mark.parametrize("page", ["change", "history", "delete"])
def test_object_pages_masked_without_purpose(client, staff, login, page):
    response = client.get(f"/admin/accounts/user/{login.pk}/{page}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert EMAIL not in html and MASKED in html
    assert 'name="email"' not in html
    assert rows(channel="admin") == []


@pytest.mark.parametrize(
    ("page", "action"), [("change", "view"), ("history", "history"), ("delete", "delete")]
)
def test_object_pages_with_purpose_are_logged(client, staff, login, declare, page, action):
    declare(client, "customer_care")
    response = client.get(f"/admin/accounts/user/{login.pk}/{page}/")
    assert response.status_code == 200
    assert EMAIL in response.content.decode()
    assert rows(channel="admin") == [allowed(staff, login, action)]


@pytest.mark.parametrize(
    ("page", "action"), [("change", "view"), ("history", "history"), ("delete", "delete")]
)
def test_object_pages_refused_with_purpose_user_lacks(client, staff, login, page, action):
    force_declaration(client, "licensing")
    response = client.get(f"/admin/accounts/user/{login.pk}/{page}/")
    assert response.status_code == 403
    assert EMAIL not in response.content.decode()
    assert rows(channel="admin") == [denied(staff, login.customer.pk, action)]


def test_staff_login_is_editable_without_purpose(client, superuser, support_user):
    client.force_login(superuser)
    html = client.get(f"/admin/accounts/user/{support_user.pk}/change/").content.decode()
    assert 'name="email"' in html and 'name="change_reason"' in html
    assert rows(channel="admin") == []


def test_delete_without_purpose_is_refused(client, staff, login):
    response = client.post(f"/admin/accounts/user/{login.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert rows(channel="admin") == []


USER_FIELD = {"app_label": "accounts", "model_name": "customer", "field_name": "user"}


def test_autocomplete_masked_without_purpose(client, staff, login):
    response = client.get("/admin/autocomplete/", {**USER_FIELD, "term": "Hoa.Sen@example.com"})
    assert response.json()["results"] == [{"id": str(login.pk), "text": MASKED}]
    assert rows(channel="admin") == []


def test_autocomplete_without_purpose_does_not_match_parts_of_customer_emails(
    client, staff, login
):
    response = client.get("/admin/autocomplete/", {**USER_FIELD, "term": "hoa.sen"})
    assert response.json()["results"] == []


# -- search ------------------------------------------------------------------------------------


def results(client, term):
    return list(client.get("/admin/accounts/user/", {"q": term}).context["cl"].result_list)


def test_search_without_purpose_finds_a_customer_login_by_its_exact_email_only(
    client, staff, login
):
    assert results(client, "HOA.SEN@Example.com") == [login]
    for term in ["hoa", "hoa.sen", "example.com", "@example.com", "hoa.sen@example.co"]:
        assert results(client, term) == [], term
    assert rows(channel="admin") == []


def test_search_without_purpose_matches_parts_of_staff_emails(client, staff, login):
    assert results(client, "support@") == [staff]
    assert results(client, "excelcrm") == [staff]


def test_search_under_a_purpose_matches_parts_of_any_email(client, staff, login, declare):
    declare(client, "customer_care")
    assert results(client, "hoa.sen") == [login]
    assert rows(channel="admin") == [allowed(staff, login, "search")]


def test_autocomplete_visible_with_purpose(client, staff, login, declare):
    declare(client, "customer_care")
    response = client.get("/admin/autocomplete/", {**USER_FIELD, "term": "hoa.sen"})
    assert response.json()["results"] == [{"id": str(login.pk), "text": EMAIL}]
    assert rows(channel="admin") == [allowed(staff, login, "search")]


def test_autocomplete_refused_with_purpose_user_lacks(client, staff, login):
    force_declaration(client, "licensing")
    response = client.get("/admin/autocomplete/", {**USER_FIELD, "term": "hoa.sen"})
    assert response.status_code == 403
    assert rows(channel="admin") == [denied(staff, None, "search")]


def test_delete_selected_without_purpose_shows_and_deletes_nothing(client, staff, login):
    response = client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [login.pk]},
        follow=True,
    )
    assert EMAIL not in response.content.decode()
    assert rows(channel="admin") == []
    assert User.objects.filter(pk=login.pk).exists()


def test_delete_selected_with_purpose_is_logged(client, staff, login, declare):
    declare(client, "customer_care")
    response = client.post(
        "/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [login.pk]}
    )
    assert response.status_code == 200  # "cannot delete": its customer account protects it
    assert rows(channel="admin", action="delete") == [allowed(staff, login, "delete")]
