"""A standing restriction stops licence work on the customer, admin actions and adds included."""

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse

from consent.context import Channel, access_context
from licensing import services
from licensing.models import Licence
from licensing.work import Restricted
from rights import services as rights
from tests.accesslog import rows
from tests.factories import make_customer
from tests.work_factories import grant, make_plan

pytestmark = pytest.mark.django_db


def restrict(customer):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        return rights.request_file(customer=customer, kind="restriction", reason="stop")


@pytest.fixture
def manager(client, account_manager, declare):
    client.force_login(account_manager)
    declare(client, "licensing", "HĐ-7")
    return account_manager


def test_the_suspend_action_refuses_a_restricted_customer_with_a_message_and_a_denied_row(
    client, manager, customer
):
    licence = grant(customer, make_plan(duration_days=30))
    free = grant(make_customer(email="free@example.com"), make_plan(name="Basic"))
    restrict(customer)
    response = client.post(
        reverse("admin:licensing_licence_changelist"),
        {"action": "suspend", "_selected_action": [licence.pk, free.pk]},
    )
    assert response.status_code == 302
    licence.refresh_from_db()
    free.refresh_from_db()
    assert (licence.status, free.status) == ("active", "suspended")
    assert licence.history.count() == 1  # the grant only
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("hạn chế xử lý" in t for t in texts), texts
    assert rows(actor_id=manager.pk, customer_id=customer.pk) == [
        (manager.pk, customer.pk, "licensing", "HĐ-7", "change", "", "admin", "denied")
    ]


def test_granting_a_licence_to_a_restricted_customer_is_a_field_error_and_a_denied_row(
    client, manager, customer
):
    plan = make_plan(duration_days=30)
    restrict(customer)
    response = client.post(
        reverse("admin:licensing_licence_add"),
        {"customer": customer.pk, "plan": plan.pk, "seats": "", "starts_on": "",
         "change_reason": "HĐ-7"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "hạn chế xử lý" in " ".join(errors["customer"])
    assert not Licence.objects.exists()
    assert rows(actor_id=manager.pk, customer_id=customer.pk) == [
        (manager.pk, customer.pk, "licensing", "HĐ-7", "create", "", "admin", "denied")
    ]


def test_the_services_refuse_and_log_when_called_directly(customer, account_manager):
    plan = make_plan(duration_days=30)
    licence = grant(customer, plan)
    restrict(customer)
    for call in (
        lambda: services.licence_grant(customer=customer, plan=plan),
        lambda: services.licence_extend(licence=licence, days=5),
        lambda: services.licence_suspend(licence=licence),
        lambda: services.licence_cancel(licence=licence),
    ):
        with pytest.raises(Restricted):
            with access_context(actor=account_manager, channel=Channel.ADMIN, purpose="licensing"):
                call()
    assert Licence.objects.count() == 1
    assert [r[4] + "/" + r[7] for r in rows(actor_id=account_manager.pk)] == [
        "create/denied", "change/denied", "change/denied", "change/denied"
    ]


def test_the_expiry_run_leaves_a_restricted_customers_licence_alone(customer):
    plan = make_plan(duration_days=30)
    restricted = grant(customer, plan, expires_in=-2)
    other = grant(make_customer(email="o@example.com"), plan, expires_in=-2)
    restrict(customer)
    call_command("expire_licences")
    restricted.refresh_from_db()
    other.refresh_from_db()
    assert (restricted.status, other.status) == ("active", "expired")
    assert restricted.current_status() == "expired"  # still shown as expired
    assert restricted.history.count() == 1


def test_a_withdrawn_restriction_lets_the_work_go_on(customer, account_manager):
    licence = grant(customer, make_plan(duration_days=30))
    request = restrict(customer)
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        rights.request_withdraw(request=request)
    with access_context(actor=account_manager, channel=Channel.ADMIN, purpose="licensing"):
        services.licence_suspend(licence=licence)
    licence.refresh_from_db()
    assert licence.status == "suspended"
