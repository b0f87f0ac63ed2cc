"""Every customer admin page that can show personal data, three ways.

Masked without a purpose (no access row), visible with an allowed purpose (one row per customer),
refused with a purpose the user lacks (403 and a ``denied`` row).
"""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from openpyxl import load_workbook

from accounts.models import Customer
from tests.accesslog import force_declaration, rows
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

PHONE, MASKED_PHONE = "+84912345678", "+84 9** *** 678"
NAME, MASKED_NAME = "Nguyễn Văn An", "Nguyễn V. A***"
ALL = "contact_person,email,phone"


def clear_values(customer):
    return [PHONE, NAME, customer.user.email]


def assert_masked(html, customer):
    for value in clear_values(customer):
        assert value not in html
    assert MASKED_PHONE in html or MASKED_NAME in html or "c***@example.com" in html


def assert_clear(html, customer):
    for value in clear_values(customer):
        assert value in html


@pytest.fixture
def staff(client, support_user):
    client.force_login(support_user)
    return support_user


@pytest.fixture
def with_purpose(client, staff, declare):
    declare(client, "customer_care", "T-1")
    return staff


@pytest.fixture
def lacking_purpose(client, staff):
    force_declaration(client, "licensing")
    return staff


def allowed(user, customer, action, fields=ALL):
    return (user.pk, customer.pk, "customer_care", "T-1", action, fields, "admin", "allowed")


def denied(user, customer_id, action):
    return (user.pk, customer_id, "licensing", "", action, "", "admin", "denied")


# -- changelist --------------------------------------------------------------------------------


def test_changelist_masked_without_purpose(client, staff, customer):
    response = client.get("/admin/accounts/customer/")
    assert response.status_code == 200
    html = response.content.decode()
    assert_masked(html, customer)
    assert MASKED_PHONE in html and MASKED_NAME in html
    assert "Công ty TNHH Hoa Sen" in html  # business name is not personal data
    assert rows(channel="admin") == []


def test_superuser_must_declare_a_purpose_too(client, superuser, customer):
    client.force_login(superuser)
    html = client.get("/admin/accounts/customer/").content.decode()
    assert_masked(html, customer)
    assert (
        'name="phone"'
        not in client.get(f"/admin/accounts/customer/{customer.pk}/change/").content.decode()
    )
    assert rows(channel="admin") == []


def test_masked_columns_cannot_be_sorted(client, staff):
    older = make_customer(contact_person="Bùi Văn Bình", phone="+84987654321")
    newer = make_customer(contact_person="Trần Thị Cúc", phone="+84987654322")
    response = client.get("/admin/accounts/customer/", {"o": "2"})  # the contact person column
    assert response.status_code == 200
    # Still newest first: sorting by the masked name would tell what the mask hides.
    assert list(response.context["cl"].result_list) == [newer, older]


def test_changelist_visible_with_purpose(client, with_purpose, customer):
    other = make_customer(phone="+84987654321", contact_person="Lê Thị Hoa")
    html = client.get("/admin/accounts/customer/").content.decode()
    assert_clear(html, customer)
    assert rows(channel="admin") == [
        allowed(with_purpose, other, "list"),
        allowed(with_purpose, customer, "list"),
    ]


def test_changelist_refused_with_purpose_user_lacks(client, lacking_purpose, customer):
    response = client.get("/admin/accounts/customer/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "None of your roles grants the purpose you declared" in response.content.decode()
    assert PHONE not in response.content.decode()
    assert rows(channel="admin") == [denied(lacking_purpose, None, "list")]


def test_purpose_revoked_after_declaring_is_refused(client, with_purpose, customer):
    # The purpose stops being granted to the user's groups without a signal (a bulk delete on the
    # through table, as a data migration might; through the ORM the session would end, see
    # tests/security/test_sessions.py): the declaration made earlier no longer opens anything.
    from consent.models import Purpose

    Purpose.groups.through.objects.filter(
        purpose__code="customer_care", group__in=with_purpose.groups.all()
    ).delete()
    response = client.get("/admin/accounts/customer/")
    assert response.status_code == 403
    assert rows(channel="admin") == [
        (with_purpose.pk, None, "customer_care", "T-1", "list", "", "admin", "denied")
    ]


def test_leaving_the_group_after_declaring_ends_the_session(client, with_purpose, customer):
    # Changing a user's groups ends their sessions (security/signals.py): sign in again.
    with_purpose.groups.clear()
    response = client.get("/admin/accounts/customer/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert rows(channel="admin") == []


# -- change form -------------------------------------------------------------------------------


def test_change_form_masked_and_read_only_without_purpose(client, staff, customer):
    response = client.get(f"/admin/accounts/customer/{customer.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert_masked(html, customer)
    assert 'name="phone"' not in html and 'name="contact_person"' not in html
    assert 'name="change_reason"' not in html
    assert rows(channel="admin") == []
    post = client.post(
        f"/admin/accounts/customer/{customer.pk}/change/",
        {
            "business_name": "X",
            "contact_person": "Y",
            "phone": "0912345679",
            "email": "x@example.com",
            "change_reason": "r",
        },
    )
    assert post.status_code == 403
    customer.refresh_from_db()
    assert customer.contact_person == NAME


def test_change_form_visible_and_editable_with_purpose(client, with_purpose, customer):
    html = client.get(f"/admin/accounts/customer/{customer.pk}/change/").content.decode()
    assert_clear(html, customer)
    assert 'name="phone"' in html and 'name="change_reason"' in html
    assert rows(channel="admin") == [allowed(with_purpose, customer, "view")]


def test_change_form_refused_with_purpose_user_lacks(client, lacking_purpose, customer):
    response = client.get(f"/admin/accounts/customer/{customer.pk}/change/")
    assert response.status_code == 403
    assert_masked(response.content.decode() + MASKED_PHONE, customer)
    assert rows(channel="admin") == [denied(lacking_purpose, customer.pk, "view")]


# -- history -----------------------------------------------------------------------------------


def _change_phone(client, customer):
    url = f"/admin/accounts/customer/{customer.pk}/change/"
    loaded = client.get(url).context["adminform"].form
    response = client.post(
        url,
        {
            "edit_version": loaded["edit_version"].value(),
            "business_name": customer.business_name,
            "contact_person": NAME,
            "phone": "0912 345 679",
            "email": customer.user.email,
            "change_reason": "Ticket 9",
        },
    )
    assert response.status_code == 302


def test_history_masked_without_purpose(client, staff, customer, declare):
    declare(client, "customer_care", "T-1")
    _change_phone(client, customer)
    client.post("/admin/purpose/end/")
    before = len(rows())
    html = client.get(f"/admin/accounts/customer/{customer.pk}/history/").content.decode()
    assert "+84912345679" not in html and PHONE not in html
    assert "+84 9** *** 678&nbsp;&rarr;&nbsp;+84 9** *** 679" in html
    assert "customer_care" in html and "T-1" in html and "Ticket 9" in html
    assert len(rows()) == before


def test_history_shows_field_diffs_purpose_reference_reason(client, with_purpose, customer):
    _change_phone(client, customer)
    html = client.get(f"/admin/accounts/customer/{customer.pk}/history/").content.decode()
    assert f"{PHONE}&nbsp;&rarr;&nbsp;+84912345679" in html
    assert '<td class="history-purpose">customer_care</td>' in html
    assert '<td class="history-reference">T-1</td>' in html
    assert '<td class="history-reason">Ticket 9</td>' in html
    assert rows(channel="admin", action="history") == [
        allowed(with_purpose, customer, "history"),
    ]


def _change_email(client, customer, new, reason):
    url = f"/admin/accounts/customer/{customer.pk}/change/"
    loaded = client.get(url).context["adminform"].form
    response = client.post(
        url,
        {
            "edit_version": loaded["edit_version"].value(),
            "business_name": customer.business_name,
            "contact_person": NAME,
            "phone": "0912 345 678",
            "email": new,
            "change_reason": reason,
        },
    )
    assert response.status_code == 302


def history_rows(html):
    body = html.split('<table id="change-history"', 1)[1].split("</tbody>", 1)[0]
    return body.split("<tr>")[2:]  # after the header row


def test_history_shows_the_logins_email_changes_among_the_customers_by_date(
    client, with_purpose, customer
):
    old = customer.user.email
    _change_email(client, customer, "moi.email@example.com", "Ticket 11")
    customer.user.refresh_from_db()
    _change_phone(client, customer)
    html = client.get(
        f"/admin/accounts/customer/{customer.pk}/history/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    rows_on_page = history_rows(html)
    # Newest first: the phone change, the email change (on the login), then signup (both).
    assert len(rows_on_page) == 4
    assert "+84912345679" in rows_on_page[0] and "(Login)" not in rows_on_page[0]
    assert f"{old}&nbsp;&rarr;&nbsp;moi.email@example.com" in rows_on_page[1]
    assert "Ticket 11" in rows_on_page[1] and "(Login)" in rows_on_page[1]
    assert sorted(r.count("(Login)") for r in rows_on_page[2:]) == [0, 1]
    # Rows of the login link to no past version of the customer.
    assert "/history/" not in rows_on_page[1] and "/history/" in rows_on_page[0]
    assert rows(channel="admin", action="history") == [
        allowed(with_purpose, customer, "history"),
    ]


def test_history_masks_the_logins_email_changes_without_purpose(client, staff, customer, declare):
    old = customer.user.email
    declare(client, "customer_care", "T-1")
    _change_email(client, customer, "moi.email@example.com", "Ticket 11")
    client.post("/admin/purpose/end/")
    before = len(rows())
    html = client.get(f"/admin/accounts/customer/{customer.pk}/history/").content.decode()
    assert old not in html and "moi.email@example.com" not in html
    assert "c***@example.com&nbsp;&rarr;&nbsp;m***@example.com" in html
    assert "Ticket 11" in html
    assert len(rows()) == before


def test_history_refused_with_purpose_user_lacks(client, lacking_purpose, customer):
    response = client.get(f"/admin/accounts/customer/{customer.pk}/history/")
    assert response.status_code == 403
    assert rows(channel="admin") == [denied(lacking_purpose, customer.pk, "history")]


def test_past_version_needs_a_purpose(client, staff, customer):
    record = customer.history.first()
    url = f"/admin/accounts/customer/{customer.pk}/history/{record.history_id}/"
    assert client.get(url).status_code == 403
    assert rows(channel="admin") == []


# -- delete confirmation -----------------------------------------------------------------------


@pytest.fixture
def may_delete(staff):
    staff.user_permissions.add(Permission.objects.get(codename="delete_customer"))
    return staff


def test_delete_page_masked_and_refused_without_purpose(client, may_delete, customer):
    url = f"/admin/accounts/customer/{customer.pk}/delete/"
    response = client.get(url)
    assert response.status_code == 200
    assert PHONE not in response.content.decode()
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert rows(channel="admin") == []


def test_delete_page_with_purpose_is_logged(client, may_delete, declare, customer):
    declare(client, "customer_care", "T-1")
    response = client.get(f"/admin/accounts/customer/{customer.pk}/delete/")
    assert response.status_code == 200
    assert rows(channel="admin") == [allowed(may_delete, customer, "delete", "")]


def test_delete_page_refused_with_purpose_user_lacks(client, may_delete, customer):
    force_declaration(client, "licensing")
    response = client.get(f"/admin/accounts/customer/{customer.pk}/delete/")
    assert response.status_code == 403
    assert rows(channel="admin") == [denied(may_delete, customer.pk, "delete")]


def test_delete_selected_is_not_offered_without_purpose(client, may_delete, customer):
    response = client.get("/admin/accounts/customer/")
    choices = [value for value, _ in response.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in choices
    response = client.post(
        "/admin/accounts/customer/",
        {"action": "delete_selected", "_selected_action": [customer.pk]},
    )
    assert response.status_code == 302  # "no action selected": nothing shown, nothing deleted
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert rows(channel="admin") == []


def test_delete_selected_with_purpose_is_logged(client, may_delete, declare, customer):
    declare(client, "customer_care", "T-1")
    response = client.post(
        "/admin/accounts/customer/",
        {"action": "delete_selected", "_selected_action": [customer.pk]},
    )
    assert response.status_code == 200  # the confirmation page (consent records protect it)
    assert rows(channel="admin", action="delete") == [
        allowed(may_delete, customer, "delete", fields="")
    ]


def test_delete_selected_refused_with_purpose_user_lacks(client, may_delete, customer):
    force_declaration(client, "licensing")
    response = client.post(
        "/admin/accounts/customer/",
        {"action": "delete_selected", "_selected_action": [customer.pk]},
    )
    assert response.status_code == 403
    assert rows(channel="admin") == [denied(may_delete, customer.pk, "change")]


def test_deleting_a_queryset_without_purpose_is_refused(may_delete, customer):
    from django.contrib import admin
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory

    from consent.context import AccessContext, Channel

    request = RequestFactory().post("/admin/accounts/customer/")
    request.user = may_delete
    request.access_context = AccessContext(actor=may_delete, channel=Channel.ADMIN)
    with pytest.raises(PermissionDenied):
        admin.site._registry[Customer].delete_queryset(request, Customer.objects.all())
    assert Customer.objects.filter(pk=customer.pk).exists()


# -- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["0912 345 678", "+84 912 345 678", "84912345678", "(+84) 912-345-678"]
)
def test_search_by_phone_in_any_format_finds_masked_without_purpose(client, staff, typed):
    customer = make_customer()
    make_customer(phone="+84987654321", business_name="Công ty Khác")
    response = client.get("/admin/accounts/customer/", {"q": typed})
    results = list(response.context["cl"].result_list)
    assert results == [customer]
    assert_masked(response.content.decode(), customer)
    assert rows(channel="admin") == []


@pytest.mark.parametrize(
    "typed", ["0912 345 678", "+84 912 345 678", "84912345678", "(+84) 912-345-678"]
)
def test_search_by_phone_with_purpose_is_logged(client, with_purpose, typed):
    customer = make_customer()
    make_customer(phone="+84987654321", business_name="Công ty Khác")
    response = client.get("/admin/accounts/customer/", {"q": typed})
    assert list(response.context["cl"].result_list) == [customer]
    assert_clear(response.content.decode(), customer)
    assert rows(channel="admin") == [allowed(with_purpose, customer, "search")]


def test_search_by_email_and_business_name(client, staff):
    customer = make_customer(email="Hoa.Sen@Example.COM")
    make_customer(business_name="Công ty Khác", phone="+84987654321")
    for term in ["hoa.sen@example.com", "Hoa.Sen@EXAMPLE.com", " HOA.SEN@example.com ", "Hoa Sen"]:
        response = client.get("/admin/accounts/customer/", {"q": term})
        assert list(response.context["cl"].result_list) == [customer], term


@pytest.mark.parametrize(
    "term", ["s", "secret", "secret.p", "hidden-domain", "@hidden-domain.vn", "secret.person@"]
)
def test_search_without_purpose_does_not_match_parts_of_emails(client, staff, term):
    make_customer(email="secret.person@hidden-domain.vn", business_name="Công ty Khác")
    response = client.get("/admin/accounts/customer/", {"q": term})
    assert list(response.context["cl"].result_list) == []
    assert rows(channel="admin") == []


def test_search_without_purpose_does_not_match_parts_of_phone_numbers(client, staff):
    make_customer(phone="+84987654321", business_name="Công ty Khác")
    for term in ["987654", "+8498765", "4321"]:
        response = client.get("/admin/accounts/customer/", {"q": term})
        assert list(response.context["cl"].result_list) == [], term


def test_search_under_a_purpose_matches_parts_of_emails_and_is_logged(client, with_purpose):
    customer = make_customer(email="secret.person@hidden-domain.vn", business_name="Công ty Khác")
    response = client.get("/admin/accounts/customer/", {"q": "secret.p"})
    assert list(response.context["cl"].result_list) == [customer]
    assert rows(channel="admin") == [allowed(with_purpose, customer, "search")]


def test_search_matches_business_name_typed_with_combining_marks(client, staff):
    import unicodedata

    customer = make_customer(business_name="Công ty Đông Á")
    typed = unicodedata.normalize("NFD", "Đông Á")
    response = client.get("/admin/accounts/customer/", {"q": typed})
    assert list(response.context["cl"].result_list) == [customer]


def test_search_refused_with_purpose_user_lacks(client, lacking_purpose, customer):
    response = client.get("/admin/accounts/customer/", {"q": "0912345678"})
    assert response.status_code == 403
    assert rows(channel="admin") == [denied(lacking_purpose, None, "search")]


# -- autocomplete ------------------------------------------------------------------------------

AUTOCOMPLETE = "/admin/autocomplete/"
CUSTOMER_FIELD = {"app_label": "consent", "model_name": "consentrecord", "field_name": "customer"}


def test_autocomplete_masked_without_purpose(client, staff, customer):
    response = client.get(AUTOCOMPLETE, {**CUSTOMER_FIELD, "term": "0912 345 678"})
    assert response.json()["results"] == [
        {"id": str(customer.pk), "text": f"Công ty TNHH Hoa Sen — {MASKED_NAME}"}
    ]
    assert rows(channel="admin") == []


def test_autocomplete_visible_with_purpose(client, with_purpose, customer):
    response = client.get(AUTOCOMPLETE, {**CUSTOMER_FIELD, "term": "Hoa Sen"})
    assert response.json()["results"] == [
        {"id": str(customer.pk), "text": f"Công ty TNHH Hoa Sen — {NAME}"}
    ]
    assert rows(channel="admin") == [allowed(with_purpose, customer, "search", "contact_person")]


def test_autocomplete_refused_with_purpose_user_lacks(client, lacking_purpose, customer):
    response = client.get(AUTOCOMPLETE, {**CUSTOMER_FIELD, "term": "Hoa Sen"})
    assert response.status_code == 403
    assert rows(channel="admin") == [denied(lacking_purpose, None, "search")]


# -- exports -----------------------------------------------------------------------------------


def _export(client, action, *customers):
    return client.post(
        "/admin/accounts/customer/",
        {"action": action, "_selected_action": [c.pk for c in customers]},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_export_refused_without_purpose(client, staff, customer):
    response = _export(client, "export_csv", customer)
    assert response.status_code == 302
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert "Declare a purpose before exporting personal data." in messages
    assert rows(channel="admin") == []


def test_csv_export_gives_the_fields_of_the_purpose_and_logs_each_customer(
    client, with_purpose, customer
):
    other = make_customer(contact_person='=HYPERLINK("http://x")', phone="+84987654321")
    response = _export(client, "export_csv", customer, other)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == ["Business name", "Contact person", "Phone number", "Email"]
    by_email = {row[3]: row for row in table[1:]}
    assert by_email[customer.user.email] == [
        "Công ty TNHH Hoa Sen",
        NAME,
        "'" + PHONE,
        customer.user.email,
    ]
    assert by_email[other.user.email][1] == '\'=HYPERLINK("http://x")'
    assert sorted(rows(channel="admin")) == sorted(
        [allowed(with_purpose, customer, "export"), allowed(with_purpose, other, "export")]
    )


def test_xlsx_export_under_renewal_notices_has_only_name_contact_email(
    client, account_manager, declare, customer
):
    client.force_login(account_manager)
    declare(client, "renewal_notices")
    response = _export(client, "export_xlsx", customer)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values == [
        ["Business name", "Contact person", "Email"],
        ["Công ty TNHH Hoa Sen", NAME, customer.user.email],
    ]
    assert rows(channel="admin") == [
        (
            account_manager.pk,
            customer.pk,
            "renewal_notices",
            "",
            "export",
            "contact_person,email",
            "admin",
            "allowed",
        ),
    ]


def test_export_refused_with_purpose_user_lacks(client, lacking_purpose, customer):
    response = _export(client, "export_xlsx", customer)
    assert response.status_code == 403
    assert rows(channel="admin") == [denied(lacking_purpose, customer.pk, "export")]
