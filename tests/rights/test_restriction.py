"""A standing restriction: staff access under any purpose but complaints is refused and logged."""

import pytest
from django.urls import reverse

from consent.context import Channel, access_context
from rights import services
from tests.accesslog import rows
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def restrict(customer):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        return services.request_file(customer=customer, kind="restriction", reason="")


@pytest.fixture
def staff(client, support_user):
    client.force_login(support_user)
    return support_user


def test_change_page_of_a_restricted_customer_is_refused_under_customer_care(
    client, staff, customer, declare
):
    restrict(customer)
    declare(client, "customer_care", "T-9")
    response = client.get(reverse("admin:accounts_customer_change", args=[customer.pk]))
    assert response.status_code == 403
    assert "0912345678" not in response.content.decode()
    assert rows(actor_id=staff.pk) == [
        (staff.pk, customer.pk, "customer_care", "T-9", "view", "", "admin", "denied")
    ]


def test_history_of_a_restricted_customer_is_refused(client, staff, customer, declare):
    restrict(customer)
    declare(client, "customer_care")
    response = client.get(reverse("admin:accounts_customer_history", args=[customer.pk]))
    assert response.status_code == 403
    assert [r[4:] for r in rows(actor_id=staff.pk)] == [("history", "", "admin", "denied")]


def test_complaints_may_still_see_a_restricted_customer(client, staff, customer, declare):
    restrict(customer)
    declare(client, "complaints")
    response = client.get(reverse("admin:accounts_customer_change", args=[customer.pk]))
    assert response.status_code == 200
    assert [r[2] + "/" + r[7] for r in rows(actor_id=staff.pk)] == ["complaints/allowed"]


def test_changelist_hides_restricted_customers_and_logs_them_denied(
    client, staff, customer, declare
):
    other = make_customer(email="free@example.com", contact_person="Lê Thị Hoa")
    restrict(customer)
    declare(client, "customer_care")
    response = client.get(reverse("admin:accounts_customer_changelist"))
    html = response.content.decode()
    assert "Lê Thị Hoa" in html and "Nguyễn Văn An" not in html
    logged = {(r[1], r[7]) for r in rows(actor_id=staff.pk)}
    assert logged == {(customer.pk, "denied"), (other.pk, "allowed")}


def test_withdrawn_restriction_lets_access_through_again(client, staff, customer, declare):
    request = restrict(customer)
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        services.request_withdraw(request=request)
    declare(client, "customer_care")
    response = client.get(reverse("admin:accounts_customer_change", args=[customer.pk]))
    assert response.status_code == 200
