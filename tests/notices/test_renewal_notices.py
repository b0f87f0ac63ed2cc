import datetime

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from consent.models import AccessLog
from licensing.work import system_actor
from notices.models import Notice
from notices.sending import RENEWAL_KEY, Recipient, claim
from tests.factories import make_customer
from tests.notices.backends import FailingBackend, outbox_to
from tests.work_factories import grant, make_plan, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    return make_plan(name="Pro", duration_days=365)


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("send_renewal_notices", "--no-progress", *args, stdout=out)
    return out.getvalue()


def test_sends_one_notice_per_due_licence_in_the_customers_language(plan):
    vi = make_customer(email="vi@example.com", contact_person="Trần Thị Bình", language="vi")
    en = make_customer(email="en@example.com", contact_person="Lê Văn Cường", language="en")
    later = make_customer(email="later@example.com")
    grant(vi, plan, expires_in=7)
    grant(en, plan, expires_in=30)
    grant(later, plan, expires_in=45)

    output = run()

    assert "Sent 2, skipped 0" in output and "failed 0" in output
    assert outbox_to("later@example.com") == []
    [vi_mail] = outbox_to("vi@example.com")
    [en_mail] = outbox_to("en@example.com")
    assert "hết hạn" in vi_mail.subject and "Kính gửi Trần Thị Bình" in vi_mail.body
    assert "còn 7 ngày" in vi_mail.body
    assert "expires on" in en_mail.subject and "Dear Lê Văn Cường" in en_mail.body
    # Only what renewal needs: no phone, no business name.
    for message in (vi_mail, en_mail):
        assert "+84" not in message.body and "Hoa Sen" not in message.body
    notice = Notice.objects.get(customer=vi)
    assert (
        notice.status,
        notice.purpose,
        notice.template,
        notice.window_days,
        notice.language,
    ) == ("sent", "renewal_notices", "notices/email/renewal_notice", 7, "vi")
    assert Notice.objects.get(customer=en).window_days == 30


def test_each_sent_notice_leaves_one_notify_row_as_the_system_account(plan):
    customers = [make_customer(email=f"c{i}@example.com") for i in range(3)]
    for c in customers:
        grant(c, plan, expires_in=1)
    run()
    rows = AccessLog.objects.filter(action="notify")
    assert rows.count() == 3
    assert {r.customer_id for r in rows} == {c.pk for c in customers}
    system = system_actor()
    assert set(rows.values_list("actor_id", "purpose", "channel", "fields")) == {
        (system.pk, "renewal_notices", "command", "contact_person,email,licence")
    }


def test_running_twice_sends_nothing_the_second_time(plan):
    customer = make_customer(email="twice@example.com")
    grant(customer, plan, expires_in=7)
    run()
    output = run()
    assert "Sent 0" in output
    assert len(outbox_to("twice@example.com")) == 1
    assert Notice.objects.count() == 1
    assert AccessLog.objects.filter(action="notify").count() == 1


def test_a_later_window_sends_again_and_a_missed_day_still_sends(plan):
    customer = make_customer(email="w@example.com")
    licence = grant(customer, plan, expires_in=30)
    run()
    # Six days later: 24 days left, still in window 30, nothing new.
    today = timezone.localdate()
    from notices.services import renewal_notices_send

    summary = renewal_notices_send(windows=[30, 7, 1], today=today + datetime.timedelta(days=6))
    assert summary.sent == 0
    # The run on the 7-day mark was missed; five days left still gets the 7-day notice.
    summary = renewal_notices_send(windows=[30, 7, 1], today=today + datetime.timedelta(days=25))
    assert summary.sent == 1
    assert sorted(licence.notices.values_list("window_days", flat=True)) == [7, 30]


def test_two_runs_claiming_at_once_get_disjoint_notices(plan):
    customer = make_customer(email="race@example.com")
    licence = grant(customer, plan, expires_in=7)

    def recipient(run_id):
        return Recipient(
            claim={
                "customer_id": customer.pk,
                "purpose": "renewal_notices",
                "template": "t",
                "language": "vi",
                "licence_id": licence.pk,
                "licence_expires_on": licence.expires_on,
                "window_days": 7,
                "run_id": run_id,
            },
            email="race@example.com",
            context={},
        )

    first = claim(recipients=[recipient("run-a")], run_id="run-a", key=RENEWAL_KEY)
    second = claim(recipients=[recipient("run-b")], run_id="run-b", key=RENEWAL_KEY)
    assert list(first) == [(licence.pk, licence.expires_on, 7)] and second == {}
    assert Notice.objects.get().run_id == "run-a"
    # While run-a still owns its fresh claim, a full run skips the licence.
    assert "skipped 1" in run()
    assert mail.outbox == []
    # Once it failed, exactly one of two retrying runs takes it over.
    Notice.objects.filter(run_id="run-a").update(status="failed")
    taken = [claim(recipients=[recipient(r)], run_id=r, key=RENEWAL_KEY) for r in ("c", "d")]
    assert [len(t) for t in taken] == [1, 0]
    assert Notice.objects.get().run_id == "c"


def test_a_failed_notice_of_another_window_is_left_alone(plan, settings):
    settings.EMAIL_BACKEND = "tests.notices.backends.FailingBackend"
    customer = make_customer(email="old@example.com")
    licence = grant(customer, plan, expires_in=30)
    FailingBackend.fail_for = {"old@example.com"}
    try:
        run()
    finally:
        FailingBackend.fail_for = set()
    from notices.services import renewal_notices_send

    today = timezone.localdate()
    summary = renewal_notices_send(windows=[30, 7, 1], today=today + datetime.timedelta(days=23))
    assert (summary.sent, summary.failed) == (1, 0)
    assert dict(licence.notices.values_list("window_days", "status")) == {
        30: "failed",
        7: "sent",
    }


def test_a_stale_claim_from_a_crashed_run_is_retried(plan, settings):
    customer = make_customer(email="crash@example.com")
    licence = grant(customer, plan, expires_in=7)
    Notice.objects.create(
        customer=customer,
        purpose="renewal_notices",
        template="t",
        language="vi",
        licence=licence,
        licence_expires_on=licence.expires_on,
        window_days=7,
        run_id="crashed",
        claimed_at=timezone.now()
        - datetime.timedelta(minutes=settings.NOTICES_STALE_CLAIM_MINUTES + 1),
    )
    assert "Sent 1" in run()
    notice = Notice.objects.get()
    assert (notice.status, notice.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


def test_mail_failure_mid_run_is_marked_and_a_rerun_sends_only_the_rest(plan, settings):
    settings.NOTICES_BATCH_SIZE = 2
    settings.EMAIL_BACKEND = "tests.notices.backends.FailingBackend"
    customers = [make_customer(email=f"m{i}@example.com") for i in range(5)]
    for c in customers:
        grant(c, plan, expires_in=7)
    FailingBackend.fail_for = {"m1@example.com", "m3@example.com"}
    try:
        output = run()
    finally:
        FailingBackend.fail_for = set()
    assert "Sent 3" in output and "failed 2" in output
    failed = Notice.objects.filter(status="failed")
    assert {n.customer.email for n in failed} == {"m1@example.com", "m3@example.com"}
    assert set(failed.values_list("error", flat=True)) == {"ConnectionError: SMTP server went away"}
    assert AccessLog.objects.filter(action="notify").count() == 3

    output = run()
    assert "Sent 2" in output and "failed 0" in output
    for c in customers:
        assert len(outbox_to(c.email)) == 1
    assert Notice.objects.filter(status="sent").count() == 5
    assert AccessLog.objects.filter(action="notify").count() == 5
    assert set(
        Notice.objects.filter(customer__in=customers[1:4:2]).values_list("attempts", flat=True)
    ) == {2}


def test_customers_who_withdrew_renewal_notices_are_skipped_and_counted(plan):
    stays = make_customer(email="stays@example.com")
    leaves = make_customer(email="leaves@example.com")
    back = make_customer(email="back@example.com")
    for c in (stays, leaves, back):
        grant(c, plan, expires_in=1)
    withdraw(leaves, "renewal_notices")
    withdraw(back, "renewal_notices", accept_again=True)
    withdraw(stays, "update_notices")
    output = run()
    assert "Sent 2" in output and "consent withdrawn: 1" in output
    assert outbox_to("leaves@example.com") == []
    assert not Notice.objects.filter(customer=leaves).exists()


def test_dry_run_counts_and_writes_nothing(plan):
    grant(make_customer(email="dry@example.com"), plan, expires_in=7)
    before = AccessLog.objects.count()
    output = run("--dry-run")
    assert "would send 1" in output
    assert mail.outbox == [] and not Notice.objects.exists()
    assert AccessLog.objects.count() == before


def test_suspended_cancelled_and_expired_licences_get_no_renewal_notice(plan):
    from consent.context import Channel, access_context
    from licensing import services

    customer = make_customer(email="s@example.com")
    suspended = grant(customer, plan, expires_in=7)
    grant(customer, plan, expires_in=-1)
    with access_context(actor=None, channel=Channel.COMMAND, purpose="licensing"):
        services.licence_suspend(licence=suspended)
    assert "Sent 0" in run()


@pytest.mark.parametrize("days", ["30,abc", "-1", "400", ","])
def test_bad_days_are_refused_with_a_clear_message(days):
    with pytest.raises(CommandError):
        run("--days", days)


def test_custom_days_choose_the_windows(plan):
    grant(make_customer(email="d@example.com"), plan, expires_in=14)
    assert "Sent 0" in run("--days", "7,1")
    assert "Sent 1" in run("--days", "14")
    assert Notice.objects.get().window_days == 14


def test_a_crash_half_way_leaves_claims_that_a_later_run_finishes(plan, settings, monkeypatch):
    import notices.services as notice_services

    settings.NOTICES_BATCH_SIZE = 2
    customers = [make_customer(email=f"k{i}@example.com") for i in range(5)]
    for c in customers:
        grant(c, plan, expires_in=7)
    real_build, built = notice_services._build, []

    def crashing_build(recipient, connection):
        if len(built) == 2:
            raise SystemExit("killed")  # the process dies while sending the second batch
        built.append(recipient)
        return real_build(recipient, connection)

    monkeypatch.setattr(notice_services, "_build", crashing_build)
    with pytest.raises(SystemExit):
        run()
    monkeypatch.setattr(notice_services, "_build", real_build)
    assert Notice.objects.filter(status="sent").count() == 2
    assert Notice.objects.filter(status="claimed").count() == 2
    # Straight after the crash the orphaned claims look like a run still working: left alone.
    assert "Sent 1" in run()
    # Once they are stale they are retried.
    stale = timezone.now() - datetime.timedelta(minutes=settings.NOTICES_STALE_CLAIM_MINUTES + 1)
    for notice in Notice.objects.filter(status="claimed"):
        notice.claimed_at = stale
        notice.save(update_fields=["claimed_at"])
    assert "Sent 2" in run()
    for c in customers:
        assert len(outbox_to(c.email)) == 1
    assert AccessLog.objects.filter(action="notify").count() == 5
