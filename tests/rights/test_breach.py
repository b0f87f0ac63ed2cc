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
    with access_context(actor=reviewer, channel=Channel.ADMIN, reference="INV-7") as ctx:
        assert services.breach_notify_customers(breach=breach, actor=reviewer).notified == 2
        assert services.breach_notify_customers(breach=breach, actor=reviewer).notified == 0
        assert ctx.reference == "INV-7"  # the declared reference is back afterwards
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.com", "b@example.com"]
    english = next(m for m in mail.outbox if m.to == ["b@example.com"])
    assert "personal-data breach" in english.subject
    assert BreachNotification.objects.filter(breach=breach).count() == 2
    assert sorted(rows(action="notify")) == sorted(
        (reviewer.pk, c.pk, "complaints", f"breach #{breach.pk}", "notify", "email", "admin",
         "allowed")
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


def test_erased_and_closed_accounts_are_skipped_counted_and_shown(client, reviewer, support_user):
    from django.contrib.messages import get_messages

    from accounts.models import User
    from rights.erasure import customer_erase

    reachable = make_customer(email="still.here@example.com")
    erased = make_customer(email="erased@example.com")
    closed = make_customer(email="closed@example.com")
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="complaints"):
        customer_erase(customer=erased, approved_by=support_user)
    with access_context(actor=None, channel=Channel.COMMAND):
        user = User.objects.get(pk=closed.user_id)
        user.is_active = False
        user.save()
    breach = record(reviewer, hours_ago=1, affected=[reachable, erased, closed])

    client.force_login(reviewer)
    response = client.post(
        reverse("admin:rights_breach_changelist"),
        {"action": "notify_affected", "_selected_action": [breach.pk]},
    )

    assert [m.to for m in mail.outbox] == [["still.here@example.com"]]
    assert list(breach.notifications.values_list("customer_id", flat=True)) == [reachable.pk]
    assert [c for _, c, *_ in rows(action="notify")] == [reachable.pk]
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Đã thông báo cho 1 khách hàng." in shown or "1 customers notified." in shown
    assert any(text.startswith("2 ") for text in shown[1:]), shown


def test_each_breach_email_is_recorded_as_a_notice_without_its_body(reviewer):
    from notices.models import Notice

    customer = make_customer(email="told@example.com", language="en")
    breach = record(reviewer, hours_ago=1, affected=[customer])
    with access_context(actor=reviewer, channel=Channel.ADMIN):
        services.breach_notify_customers(breach=breach, actor=reviewer)
    notice = Notice.objects.get(customer=customer)
    assert (notice.template, notice.purpose, notice.language, notice.status) == (
        "rights/breach_notification",
        "complaints",
        "en",
        "sent",
    )
    assert notice.sent_at is not None
    stored = [str(v) for v in Notice.objects.filter(pk=notice.pk).values().get().values()]
    assert not any("Laptop" in v or "told@" in v for v in stored)


def test_a_breach_email_that_fails_is_recorded_and_retried(reviewer, settings):
    from notices.models import Notice

    customer = make_customer(email="unlucky@example.com")
    breach = record(reviewer, hours_ago=1, affected=[customer])
    settings.EMAIL_BACKEND = "tests.rights.test_breach.FailingBackend"
    with access_context(actor=reviewer, channel=Channel.ADMIN):
        outcome = services.breach_notify_customers(breach=breach, actor=reviewer)
    assert (outcome.notified, outcome.failed) == (0, 1)
    failed = Notice.objects.get(customer=customer)
    assert (failed.status, failed.error, failed.sent_at) == ("failed", "SMTPException", None)
    assert not breach.notifications.exists() and not rows(action="notify")

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with access_context(actor=reviewer, channel=Channel.ADMIN):
        assert services.breach_notify_customers(breach=breach, actor=reviewer).notified == 1


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPException("relay refused unlucky@example.com")
