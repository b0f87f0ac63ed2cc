import pytest
from django.urls import reverse

from consent.models import AccessLog
from licensing.models import Licence
from tests.work_factories import grant, make_plan

pytestmark = pytest.mark.django_db


def test_grant_in_the_admin_needs_the_licensing_purpose(client, account_manager, customer, declare):
    plan = make_plan(duration_days=30, seats=2)
    client.force_login(account_manager)
    add = reverse("admin:licensing_licence_add")
    data = {"customer": customer.pk, "plan": plan.pk, "seats": "", "starts_on": "",
            "change_reason": "HĐ 2026/11"}
    assert client.post(add, data).status_code == 403
    assert not Licence.objects.exists()
    declare(client, "licensing", "HĐ 2026/11")
    response = client.post(add, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    licence = Licence.objects.get()
    assert licence.seats == 2
    row = licence.history.get()
    assert (row.history_user, row.history_purpose, row.history_change_reason) == (
        account_manager, "licensing", "HĐ 2026/11"
    )
    assert AccessLog.objects.filter(action="create", purpose="licensing",
                                    actor_id=account_manager.pk).count() == 1


def test_suspend_action_and_extend_in_the_change_form(client, account_manager, customer, declare):
    licence = grant(customer, make_plan(duration_days=30))
    client.force_login(account_manager)
    declare(client, "licensing")
    response = client.post(reverse("admin:licensing_licence_changelist"), {
        "action": "suspend", "_selected_action": [licence.pk],
    })
    assert response.status_code == 302
    licence.refresh_from_db()
    assert licence.status == "suspended"
    before = licence.expires_on
    response = client.post(reverse("admin:licensing_licence_change", args=[licence.pk]), {
        "extend_days": "10", "change_reason": "gia hạn",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    licence.refresh_from_db()
    assert (licence.expires_on - before).days == 10
    assert licence.history.latest().history_change_reason == "gia hạn"


def test_extend_days_must_be_positive(client, account_manager, customer, declare):
    licence = grant(customer, make_plan())
    client.force_login(account_manager)
    declare(client, "licensing")
    response = client.post(reverse("admin:licensing_licence_change", args=[licence.pk]), {
        "extend_days": "-3", "change_reason": "x",
    })
    assert response.status_code == 200
    assert "extend_days" in response.context["adminform"].form.errors


def test_support_staff_declaring_customer_care_are_refused_licences(
    client, support_user, customer, declare
):
    from django.contrib.auth.models import Permission

    grant(customer, make_plan())
    # Before signing in: a privilege change ends the user's sessions (security/signals.py).
    support_user.user_permissions.add(Permission.objects.get(codename="view_licence"))
    client.force_login(support_user)
    declare(client, "customer_care")
    response = client.get(reverse("admin:licensing_licence_changelist"))
    assert response.status_code == 403
    assert AccessLog.objects.filter(outcome="denied", actor_id=support_user.pk).count() == 1


@pytest.mark.parametrize("bad", ["abc", "99999999999999999999", "\x00"])
def test_a_malformed_customer_id_is_a_field_error(account_manager, customer, declare, bad):
    from django.test import Client

    plan = make_plan(duration_days=30, seats=2)
    client = Client(raise_request_exception=False)
    client.force_login(account_manager)
    declare(client, "licensing", "HĐ 2026/12")
    response = client.post(reverse("admin:licensing_licence_add"), {
        "customer": bad, "plan": plan.pk, "seats": "", "starts_on": "",
        "change_reason": "HĐ 2026/12",
    })
    assert response.status_code == 200
    assert "customer" in response.context["adminform"].form.errors
    assert not Licence.objects.exists()
