"""Two staff edit the same customer: the second save is refused with what changed meanwhile."""

import pytest
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
