"""Notices are marked sent in small sub-batches, so a crash re-sends at most a handful."""

import datetime
from collections import Counter
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

import notices.sending as sending
import notices.services as notice_services
from consent.models import AccessLog
from notices.models import Notice
from tests.factories import make_customer
from tests.work_factories import grant, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def due(settings):
    settings.NOTICES_BATCH_SIZE = 50
    settings.NOTICES_MARK_EVERY = 3
    settings.NOTICES_MARK_SECONDS = 60
    plan = make_plan(duration_days=365)
    customers = [make_customer(email=f"d{i}@example.com") for i in range(8)]
    for customer in customers:
        grant(customer, plan, expires_in=7)
    return customers


def run():
    out = StringIO()
    call_command("send_renewal_notices", "--no-progress", stdout=out)
    return out.getvalue()


def age_claims(settings):
    stale = timezone.now() - datetime.timedelta(minutes=settings.NOTICES_STALE_CLAIM_MINUTES + 1)
    for notice in Notice.objects.filter(status="claimed"):
        notice.claimed_at = stale
        notice.save(update_fields=["claimed_at"])


def mails_per_recipient():
    return Counter(m.to[0] for m in mail.outbox)


def test_a_crash_after_a_send_marks_what_left_and_a_rerun_sends_each_mail_once(
    due, settings, monkeypatch
):
    real_build, built = notice_services._build, []

    def crashing_build(recipient, connection):
        if len(built) == 2:
            raise SystemExit("killed after the second message was sent")
        built.append(recipient)
        return real_build(recipient, connection)

    monkeypatch.setattr(notice_services, "_build", crashing_build)
    with pytest.raises(SystemExit):
        run()
    monkeypatch.setattr(notice_services, "_build", real_build)
    # The two messages that left are marked even though the sub-batch (3) was not full.
    assert len(mail.outbox) == 2
    assert Notice.objects.filter(status="sent").count() == 2
    assert AccessLog.objects.filter(action="notify").count() == 2

    age_claims(settings)
    assert "Sent 6" in run()
    assert set(mails_per_recipient().values()) == {1}
    assert len(mails_per_recipient()) == len(due)
    assert AccessLog.objects.filter(action="notify").count() == len(due)


def test_a_run_killed_outright_resends_at_most_one_sub_batch(due, settings, monkeypatch):
    real_mark, marks = sending._mark, []

    def dying_mark(**kwargs):
        # The process dies while committing its second sub-batch: nothing after runs.
        if marks:
            raise SystemExit("killed")
        marks.append(kwargs)
        return real_mark(**kwargs)

    monkeypatch.setattr(sending, "_mark", dying_mark)
    with pytest.raises(SystemExit):
        run()
    monkeypatch.setattr(sending, "_mark", real_mark)
    assert len(mail.outbox) == 6  # two sub-batches left, only the first was marked
    assert Notice.objects.filter(status="sent").count() == 3

    age_claims(settings)
    assert "Sent 5" in run()
    counts = mails_per_recipient()
    assert len(counts) == len(due)
    assert sorted(counts.values()) == [1] * 5 + [2] * 3  # at most NOTICES_MARK_EVERY twice
    assert AccessLog.objects.filter(action="notify").count() == len(due)


def test_marks_are_committed_every_few_messages_or_every_second(due, settings, monkeypatch):
    real_mark, sizes = sending._mark, []

    def counting_mark(**kwargs):
        sizes.append(len(kwargs["sent"]) + len(kwargs["failed"]))
        return real_mark(**kwargs)

    monkeypatch.setattr(sending, "_mark", counting_mark)
    assert "Sent 8" in run()
    assert sizes == [3, 3, 2]

    sizes.clear()
    settings.NOTICES_MARK_SECONDS = 0
    grant(make_customer(email="late1@example.com"), make_plan(name="B"), expires_in=1)
    grant(make_customer(email="late2@example.com"), make_plan(name="C"), expires_in=1)
    assert "Sent 2" in run()
    assert sizes == [1, 1]
