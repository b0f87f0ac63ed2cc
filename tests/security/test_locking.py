"""Two staff edit the same customer: the second save is refused with what changed meanwhile."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import Customer
from security.locking import VERSION_FIELD
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def _form_data(page) -> dict:
    form = page.context["adminform"].form
    return {name: form[name].value() for name in form.fields
            if form[name].value() is not None}


@pytest.fixture
def two_staff(superuser, declare):
    other = make_staff(email="second@excelcrm.example", superuser=True)
    first_client, second_client = Client(), Client()
    first_client.force_login(superuser)
    second_client.force_login(other)
    # Personal values are shown and editable only under a declared purpose.
    declare(first_client, "customer_care")
    declare(second_client, "customer_care")
    return first_client, second_client


def test_second_save_is_refused_and_nothing_is_overwritten(two_staff, customer):
    first, second = two_staff
    url = reverse("admin:accounts_customer_change", args=[customer.pk])
    first_data = _form_data(first.get(url))
    second_data = _form_data(second.get(url))
    assert first_data[VERSION_FIELD] and first_data[VERSION_FIELD] == second_data[VERSION_FIELD]

    first_data.update(phone="+84987654321", change_reason="ticket 1")
    assert first.post(url, first_data).status_code == 302
    history_count = customer.history.count()

    second_data.update(contact_person="Lê Văn Cường", change_reason="ticket 2")
    response = second.post(url, second_data)
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert "Phone" in errors or "Số điện thoại" in errors or "phone" in errors.lower()
    assert "second" not in errors  # names the last change's author: the first editor
    assert "root@excelcrm.example" in errors

    customer.refresh_from_db()
    assert str(customer.phone) == "+84987654321"  # the first change stands
    assert customer.contact_person == "Nguyễn Văn An"  # the second was not written
    assert customer.history.count() == history_count


def test_saving_again_after_reading_the_conflict_is_a_deliberate_overwrite(two_staff, customer):
    first, second = two_staff
    url = reverse("admin:accounts_customer_change", args=[customer.pk])
    first_data = _form_data(first.get(url))
    second_data = _form_data(second.get(url))
    first.post(url, {**first_data, "phone": "+84987654321", "change_reason": "t1"})
    conflict = second.post(url, {**second_data, "contact_person": "Lê Văn Cường",
                                 "change_reason": "t2"})
    refreshed = _form_data(conflict)
    assert refreshed[VERSION_FIELD] != second_data[VERSION_FIELD]
    assert second.post(url, {**refreshed, "change_reason": "t2"}).status_code == 302
    customer.refresh_from_db()
    assert customer.contact_person == "Lê Văn Cường"


def test_a_tampered_version_is_a_conflict(two_staff, customer):
    first, _ = two_staff
    url = reverse("admin:accounts_customer_change", args=[customer.pk])
    data = _form_data(first.get(url))
    data.update({VERSION_FIELD: "forged", "contact_person": "Lê Văn Cường",
                 "change_reason": "t"})
    assert first.post(url, data).status_code == 200
    assert Customer.objects.get(pk=customer.pk).contact_person == "Nguyễn Văn An"


def test_user_admin_detects_a_group_change_made_meanwhile(two_staff, support_user):
    from django.contrib.auth.models import Group

    first, second = two_staff
    url = reverse("admin:accounts_user_change", args=[support_user.pk])
    first_data = _form_data(first.get(url))
    second_data = _form_data(second.get(url))
    first_data.update(groups=[Group.objects.get(name="Compliance reviewer").pk],
                      change_reason="t1")
    for data in (first_data, second_data):
        for flag in ("is_active", "is_staff", "is_superuser"):
            data[flag] = "on" if data.get(flag) else ""
    assert first.post(url, first_data).status_code == 302
    second_data.update(language="en", change_reason="t2")
    response = second.post(url, second_data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    support_user.refresh_from_db()
    assert support_user.language == "vi"


def test_a_login_email_changed_meanwhile_is_a_conflict(two_staff, customer):
    """The customer form's email is not a Customer field (it lives on the login): still locked."""
    from accounts import services
    from consent.context import access_context

    first, _ = two_staff
    url = reverse("admin:accounts_customer_change", args=[customer.pk])
    data = _form_data(first.get(url))
    with access_context(actor=customer.user, channel="portal"):
        user = customer.user
        user.email = "moi.doi@example.com"
        services.user_update(user=user)
    data.update(contact_person="Lê Văn Cường", change_reason="t")
    response = first.post(url, data)
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert "Email" in errors or "email" in errors
    customer.refresh_from_db()
    assert customer.contact_person == "Nguyễn Văn An"
    assert customer.user.email == "moi.doi@example.com"


def _open_care_request(customer):
    from care import services as care_services
    from consent.context import Channel, access_context

    with access_context(actor=customer.user, channel=Channel.PORTAL):
        return care_services.care_request_open(customer=customer, kind="support",
                                               subject="Không in được", body="Máy in báo lỗi")


def test_care_request_second_save_is_refused_and_writes_nothing(support_user, customer):
    from care.models import CareRequest

    request = _open_care_request(customer)
    other = make_staff(email="support2@excelcrm.example", role="Support")
    first, second = Client(), Client()
    first.force_login(support_user)
    second.force_login(other)
    url = reverse("admin:care_carerequest_change", args=[request.pk])
    first_data = _form_data(first.get(url))
    second_data = _form_data(second.get(url))
    assert first_data[VERSION_FIELD] and first_data[VERSION_FIELD] == second_data[VERSION_FIELD]

    first_data.update(status="in_progress", assignee=support_user.pk)
    assert first.post(url, first_data).status_code == 302
    messages_before = request.messages.count()

    second_data.update(status="in_progress", assignee=other.pk, internal_note="ghi chú của B")
    response = second.post(url, second_data)
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert "support@excelcrm.example" in errors  # the last change's author
    request = CareRequest.objects.get(pk=request.pk)
    assert (request.status, request.assignee) == ("in_progress", support_user)
    assert request.messages.count() == messages_before  # the note was not added either

    # Saving the refreshed form is a deliberate decision.
    refreshed = _form_data(response)
    assert second.post(url, {**refreshed, "assignee": other.pk}).status_code == 302
    assert CareRequest.objects.get(pk=request.pk).assignee == other


def test_care_request_post_without_the_version_is_a_conflict(support_user, customer):
    request = _open_care_request(customer)
    client = Client()
    client.force_login(support_user)
    url = reverse("admin:care_carerequest_change", args=[request.pk])
    client.get(url)
    response = client.post(url, {"status": "in_progress", "assignee": support_user.pk})
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.status == "new" and request.assignee is None


def _breach_form_data(page) -> dict:
    form = page.context["adminform"].form
    data = {}
    for name in ("detected_at", "authority_notified_at"):
        value = form[name].value()
        if value:
            from django.utils import timezone

            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = (local.strftime("%Y-%m-%d"),
                                                    local.strftime("%H:%M:%S"))
    data.update(description=form["description"].value(), categories=form["categories"].value(),
                affected=[str(pk) for pk in form["affected"].value()],
                **{VERSION_FIELD: form[VERSION_FIELD].value()})
    return data


def test_breach_second_save_is_refused_and_nothing_is_overwritten(reviewer, customer):
    import datetime

    from django.utils import timezone

    from consent.context import Channel, access_context
    from rights import services as rights_services
    from rights.models import Breach
    from tests.factories import make_customer

    with access_context(actor=reviewer, channel=Channel.ADMIN):
        breach = rights_services.breach_save(
            breach=Breach(detected_at=timezone.now() - datetime.timedelta(hours=3),
                          description="Gửi nhầm email", categories="email"),
            actor=reviewer, affected=[customer],
        )
    other_reviewer = make_staff(email="reviewer2@excelcrm.example", role="Compliance reviewer")
    first, second = Client(), Client()
    first.force_login(reviewer)
    second.force_login(other_reviewer)
    url = reverse("admin:rights_breach_change", args=[breach.pk])
    first_data = _breach_form_data(first.get(url))
    second_data = _breach_form_data(second.get(url))
    assert first_data[VERSION_FIELD] == second_data[VERSION_FIELD]

    first_data.update(description="Gửi nhầm email cho 2 khách hàng")
    assert first.post(url, first_data).status_code == 302

    another = make_customer(email="another@example.com")
    second_data.update(affected=[str(customer.pk), str(another.pk)])
    response = second.post(url, second_data)
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert errors
    breach.refresh_from_db()
    assert breach.description == "Gửi nhầm email cho 2 khách hàng"
    assert list(breach.affected.all()) == [customer]


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SELECT … FOR UPDATE is PostgreSQL's; SQLite locks the whole file")
def test_a_rights_request_step_is_taken_on_the_row_locked_for_update(
    support_user, customer, declare
):
    """Two staff clicking at once: the second step waits for the first and then sees its state
    (a closed request is a form error), because the step reads the row FOR UPDATE first."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from consent.context import Channel, access_context
    from rights import services as rights_services
    from rights.models import DataSubjectRequest

    with access_context(actor=customer.user, channel=Channel.PORTAL):
        filed = rights_services.request_file(customer=customer, kind="access", reason="bản sao")
    client = Client()
    client.force_login(support_user)
    declare(client, "complaints")
    url = reverse("admin:rights_datasubjectrequest_handle", args=[filed.pk])
    with CaptureQueriesContext(db) as queries:
        response = client.post(url, {"step": "acknowledge"})
    assert response.status_code == 302
    table = DataSubjectRequest._meta.db_table
    sql = [q["sql"] for q in queries.captured_queries]
    locked = [i for i, q in enumerate(sql) if f'FROM "{table}"' in q and "FOR UPDATE" in q]
    updated = [i for i, q in enumerate(sql) if q.startswith(f'UPDATE "{table}"')]
    assert locked and updated and locked[0] < updated[0]
