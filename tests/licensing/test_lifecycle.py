import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from consent.context import Channel, access_context
from consent.models import AccessLog
from licensing import services
from licensing.models import Licence
from licensing.work import WrongPurpose, system_actor
from tests.work_factories import grant, make_plan

pytestmark = pytest.mark.django_db


def test_grant_records_history_and_access_under_licensing(customer, account_manager):
    plan = make_plan(duration_days=30, seats=3)
    with access_context(
        actor=account_manager, channel=Channel.ADMIN, purpose="licensing", reference="ticket 12"
    ):
        licence = services.licence_grant(customer=customer, plan=plan)
    today = timezone.localdate()
    assert (licence.seats, licence.starts_on) == (3, today)
    assert licence.expires_on == today + datetime.timedelta(days=29)
    row = licence.history.get()
    assert (row.history_type, row.history_user, row.history_purpose, row.history_reference) == (
        "+", account_manager, "licensing", "ticket 12"
    )
    log = AccessLog.objects.get(action="create", customer_id=customer.pk, purpose="licensing")
    assert (log.actor_id, log.purpose, log.fields, log.channel) == (
        account_manager.pk, "licensing", "licence", "admin"
    )


def test_services_refuse_another_purpose(customer, support_user):
    plan = make_plan()
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="customer_care"):
        with pytest.raises(WrongPurpose):
            services.licence_grant(customer=customer, plan=plan)
    assert not Licence.objects.exists()


def test_extend_suspend_reinstate_cancel_each_leave_a_history_row(customer, account_manager):
    plan = make_plan(duration_days=10)
    licence = grant(customer, plan, actor=account_manager)
    first_expiry = licence.expires_on
    with access_context(
        actor=account_manager, channel=Channel.ADMIN, purpose="licensing", reason="paid"
    ):
        services.licence_extend(licence=licence, days=5)
        assert licence.expires_on == first_expiry + datetime.timedelta(days=5)
        services.licence_suspend(licence=licence)
        services.licence_reinstate(licence=licence)
        services.licence_cancel(licence=licence)
        with pytest.raises(ValidationError):
            services.licence_extend(licence=licence)
        with pytest.raises(ValidationError):
            services.licence_suspend(licence=licence)
    statuses = list(licence.history.order_by("history_id").values_list("status", flat=True))
    assert statuses == ["active", "active", "suspended", "active", "cancelled"]
    reasons = set(licence.history.exclude(history_type="+").values_list(
        "history_change_reason", "history_purpose"))
    assert reasons == {("paid", "licensing")}
    assert AccessLog.objects.filter(action="change", purpose="licensing").count() == 4


def test_extending_an_expired_licence_counts_from_today(customer):
    plan = make_plan(duration_days=30)
    licence = grant(customer, plan, expires_in=-3)
    with access_context(actor=None, channel=Channel.COMMAND, purpose="licensing"):
        services.licences_expire()
        licence.refresh_from_db()
        assert licence.status == "expired"
        services.licence_extend(licence=licence)
    assert licence.status == "active"
    assert licence.expires_on == timezone.localdate() + datetime.timedelta(days=29)


def test_expired_licence_shows_expired_before_the_command_runs(customer):
    licence = grant(customer, make_plan(duration_days=30), expires_in=-1)
    assert licence.status == "active"
    assert licence.current_status() == "expired"


def test_expire_command_expires_only_past_licences_as_the_system_account(customer, settings):
    plan = make_plan(duration_days=30)
    past = grant(customer, plan, expires_in=-1)
    today_last_day = grant(customer, plan, expires_in=0)
    call_command("expire_licences")
    past.refresh_from_db()
    today_last_day.refresh_from_db()
    assert (past.status, today_last_day.status) == ("expired", "active")
    system = system_actor()
    assert system.email == settings.SYSTEM_ACTOR_EMAIL
    assert not system.is_active and not system.has_usable_password()
    row = past.history.latest()
    assert (row.status, row.history_user, row.history_purpose, row.history_channel) == (
        "expired", system, "licensing", "command"
    )
    log = AccessLog.objects.get(action="change", customer_id=customer.pk)
    assert (log.actor_id, log.purpose, log.channel) == (system.pk, "licensing", "command")
    call_command("expire_licences")
    assert past.history.count() == 2


def test_customer_sees_own_licences_with_a_self_access_row(client, customer):
    from tests.factories import make_customer

    other = make_customer(email="other@example.com")
    plan = make_plan(name="Doanh nghiệp")
    grant(customer, plan)
    grant(other, make_plan(name="Secret plan"))
    client.force_login(customer.user)
    response = client.get("/account/licences/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Doanh nghiệp" in html and "Secret plan" not in html
    log = AccessLog.objects.get(action="list", customer_id=customer.pk)
    assert (log.actor_id, log.purpose, log.channel) == (customer.user_id, "", "portal")
