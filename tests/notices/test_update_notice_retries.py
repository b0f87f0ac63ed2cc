"""An update notice stays queued until every notice went out; reruns count what was sent."""

from io import StringIO

import pytest
from django.core.management import call_command

from notices.models import Announcement, Notice
from tests.factories import make_customer
from tests.notices.backends import FailingBackend, outbox_to
from tests.work_factories import withdraw

pytestmark = pytest.mark.django_db


def send(*args):
    out = StringIO()
    call_command("send_update_notice", "--no-progress", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def failing(settings):
    settings.EMAIL_BACKEND = "tests.notices.backends.FailingBackend"
    FailingBackend.fail_for = {"down@example.com"}
    yield FailingBackend
    FailingBackend.fail_for = set()


def test_a_failed_notice_keeps_the_announcement_queued_until_the_queued_run_retries_it(failing):
    make_customer(email="up@example.com")
    make_customer(email="down@example.com")
    note = Announcement.objects.create(
        subject_vi="Bản 5", subject_en="Version 5", body_vi="Mới.", body_en="New.", state="queued"
    )
    output = send("--queued")
    assert "Sent 1" in output and "failed 1" in output
    note.refresh_from_db()
    assert note.state == "queued"

    failing.fail_for = set()  # the mail server is back
    output = send("--queued")
    assert "Sent 1, skipped 1 (already sent: 1;" in output and "failed 0" in output
    note.refresh_from_db()
    assert note.state == "sent"
    assert len(outbox_to("up@example.com")) == 1 and len(outbox_to("down@example.com")) == 1
    assert set(Notice.objects.values_list("status", flat=True)) == {"sent"}
    # Nothing queued any more: the next cron run leaves it alone.
    assert f"#{note.pk}" not in send("--queued")


def test_a_rerun_by_id_counts_the_already_sent_notices():
    for i in range(3):
        make_customer(email=f"r{i}@example.com")
    note = Announcement.objects.create(
        subject_vi="Bản 5", subject_en="Version 5", body_vi="Mới.", body_en="New."
    )
    send(str(note.pk))
    assert "Sent 0, skipped 3 (already sent: 3;" in send(str(note.pk))
    assert "would send 0; skipped 3 (already sent: 3;" in send(str(note.pk), "--dry-run")


def queued_note():
    return Announcement.objects.create(
        subject_vi="Bản 5", subject_en="Version 5", body_vi="Mới.", body_en="New.", state="queued"
    )


def test_a_customer_who_withdrew_after_a_failure_no_longer_keeps_it_queued(failing):
    make_customer(email="up@example.com")
    down = make_customer(email="down@example.com")
    note = queued_note()
    send("--queued")
    note.refresh_from_db()
    assert note.state == "queued"

    withdraw(down, "update_notices")
    send("--queued")
    note.refresh_from_db()
    assert note.state == "sent"
    assert Notice.objects.get(customer=down).status == "failed"  # still listed as it ended
    assert f"#{note.pk}" not in send("--queued")


def test_an_address_that_keeps_failing_is_tried_notices_max_attempts_times(failing, settings):
    settings.NOTICES_MAX_ATTEMPTS = 3
    make_customer(email="down@example.com")
    note = queued_note()
    states = []
    for _ in range(4):
        send("--queued")
        note.refresh_from_db()
        states.append(note.state)
    assert states == ["queued", "queued", "sent", "sent"]
    assert Notice.objects.get().attempts == 3
