"""The breach register: 72-hour clock to the authority, notifications logged under complaints."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from consent.context import Channel, access_context
from rights import services
from rights.models import Breach, BreachNotification
from tests.accesslog import rows
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def record(actor, *, hours_ago, affected=(), notified=None):
    breach = Breach(
        detected_at=timezone.now() - datetime.timedelta(hours=hours_ago),
        description="Laptop with a customer export was stolen.",
        categories="contact_person,phone",
        authority_notified_at=notified,
    )
    with access_context(actor=actor, channel=Channel.ADMIN):
        return services.breach_save(breach=breach, actor=actor, affected=affected)


def test_clock_shows_time_left_and_highlights_overdue(client, reviewer):
    fresh = record(reviewer, hours_ago=10)
    late = record(reviewer, hours_ago=80)
    done = record(reviewer, hours_ago=80, notified=timezone.now())
    assert not fresh.notify_overdue() and late.notify_overdue() and not done.notify_overdue()
    client.force_login(reviewer)
    html = client.get(reverse("admin:rights_breach_changelist")).content.decode()
    assert "61 h" in html or "62 h" in html
    assert html.count("rights-overdue") == 1


def test_reviewer_records_a_breach_in_the_admin(client, reviewer):
    customer = make_customer()
    client.force_login(reviewer)
    detected = timezone.localtime() - datetime.timedelta(hours=2)
    response = client.post(
        reverse("admin:rights_breach_add"),
        {
            "detected_at_0": detected.strftime("%Y-%m-%d"),
            "detected_at_1": detected.strftime("%H:%M:%S"),
            "description": "Misdirected email",
            "categories": ["email"],
            "affected": [customer.pk],
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    breach = Breach.objects.get()
    assert breach.recorded_by == reviewer and breach.categories == "email"
    assert list(breach.affected.all()) == [customer]


def test_future_detection_time_is_a_field_error(client, reviewer):
    client.force_login(reviewer)
    future = timezone.localtime() + datetime.timedelta(days=1)
    response = client.post(
        reverse("admin:rights_breach_add"),
        {
            "detected_at_0": future.strftime("%Y-%m-%d"),
            "detected_at_1": "10:00:00",
            "description": "x",
            "categories": ["email"],
        },
    )
    assert response.status_code == 200
    assert "detected_at" in response.context["adminform"].form.errors


def test_notifying_affected_customers_emails_each_once_and_logs_under_complaints(reviewer):
    first = make_customer(email="a@example.com")
    second = make_customer(email="b@example.com", language="en")
    breach = record(reviewer, hours_ago=1, affected=[first, second])
    with access_context(actor=reviewer, channel=Channel.ADMIN):
        assert services.breach_notify_customers(breach=breach, actor=reviewer) == 2
        assert services.breach_notify_customers(breach=breach, actor=reviewer) == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.com", "b@example.com"]
    english = next(m for m in mail.outbox if m.to == ["b@example.com"])
    assert "personal-data breach" in english.subject
    assert BreachNotification.objects.filter(breach=breach).count() == 2
    assert sorted(rows(action="notify")) == sorted(
        (reviewer.pk, c.pk, "complaints", "", "notify", "email", "admin", "allowed")
        for c in (first, second)
    )


def test_notification_shows_in_the_customers_own_access_log(client, reviewer):
    customer = make_customer()
    breach = record(reviewer, hours_ago=1, affected=[customer])
    with access_context(actor=reviewer, channel=Channel.ADMIN):
        services.breach_notify_customers(breach=breach, actor=reviewer)
    client.force_login(customer.user)
    listed = client.get(reverse("accounts:access_log")).context["rows"]
    assert [(r["purpose_code"], r["action_code"], r["role"]) for r in listed] == [
        ("complaints", "notify", "Kiểm soát tuân thủ")
    ]


def test_admin_action_notifies_and_support_cannot_run_it(client, reviewer, support_user):
    customer = make_customer()
    breach = record(reviewer, hours_ago=1, affected=[customer])
    url = reverse("admin:rights_breach_changelist")
    client.force_login(support_user)
    client.post(url, {"action": "notify_affected", "_selected_action": [breach.pk]})
    assert not mail.outbox
    client.force_login(reviewer)
    client.post(url, {"action": "notify_affected", "_selected_action": [breach.pk]})
    assert [m.to for m in mail.outbox] == [[customer.user.email]]
