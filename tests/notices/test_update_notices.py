from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import translation

from accounts.models import Customer
from consent.context import Channel, access_context
from consent.models import AccessLog
from consent.selectors import consent_allows, consent_filter_allowed
from licensing import services as licensing
from licensing.work import system_actor
from notices.models import Announcement, Notice
from notices.selectors import notices_for_customer
from notices.services import announcement_preview
from tests.factories import make_customer
from tests.notices.backends import outbox_to
from tests.work_factories import grant, make_plan, withdraw

pytestmark = pytest.mark.django_db


def announcement(**overrides):
    values = {
        "subject_vi": "Phiên bản 5.0",
        "subject_en": "Version 5.0",
        "body_vi": "Có báo cáo mới.",
        "body_en": "New reports are here.",
    }
    values.update(overrides)
    return Announcement.objects.create(**values)


def send(*args):
    out = StringIO()
    call_command("send_update_notice", "--no-progress", *args, stdout=out)
    return out.getvalue()


def test_sends_to_all_active_customers_in_their_language_and_logs_each():
    vi = make_customer(email="vi@example.com", contact_person="Phạm Minh", language="vi")
    en = make_customer(email="en@example.com", contact_person="Võ Lan", language="en")
    note = announcement()
    output = send(str(note.pk))
    assert "Sent 2, skipped 0" in output
    [vi_mail], [en_mail] = outbox_to("vi@example.com"), outbox_to("en@example.com")
    assert vi_mail.subject == "[ExcelCRM] Phiên bản 5.0" and "Có báo cáo mới." in vi_mail.body
    assert "Kính gửi Phạm Minh" in vi_mail.body
    assert en_mail.subject == "[ExcelCRM] Version 5.0" and "Dear Võ Lan" in en_mail.body
    assert "+84" not in vi_mail.body
    rows = AccessLog.objects.filter(action="notify")
    assert {(r.customer_id, r.actor_id, r.purpose, r.channel, r.fields) for r in rows} == {
        (c.pk, system_actor().pk, "update_notices", "command", "contact_person,email")
        for c in (vi, en)
    }
    assert set(rows.values_list("reference", flat=True)) == {f"announcement {note.pk}"}
    note.refresh_from_db()
    assert note.state == "sent" and note.sent_at is not None


def test_rerun_sends_nobody_twice():
    make_customer(email="a@example.com")
    note = announcement()
    send(str(note.pk))
    assert "Sent 0" in send(str(note.pk))
    assert len(mail.outbox) == 1 and Notice.objects.count() == 1


def test_customers_who_withdrew_update_notices_are_skipped_and_counted():
    keeps = make_customer(email="keeps@example.com")
    left = make_customer(email="left@example.com")
    back = make_customer(email="back@example.com")
    withdraw(left, "update_notices")
    withdraw(back, "update_notices", accept_again=True)
    withdraw(keeps, "renewal_notices")
    output = send(str(announcement().pk))
    assert "Sent 2" in output and "consent withdrawn: 1" in output
    assert outbox_to("left@example.com") == []
    assert not Notice.objects.filter(customer=left).exists()
    assert consent_allows(customer=left, purpose_code="update_notices") is False
    assert consent_allows(customer=back, purpose_code="update_notices") is True
    assert consent_allows(customer=keeps, purpose_code="update_notices") is True
    allowed = consent_filter_allowed(Customer.objects.all(), purpose_code="update_notices")
    assert set(allowed) == {keeps, back}


def test_audience_by_plan_and_by_licence_status():
    pro, basic = make_plan(name="Pro"), make_plan(name="Basic")
    on_pro = make_customer(email="pro@example.com")
    on_basic = make_customer(email="basic@example.com")
    lapsed = make_customer(email="lapsed@example.com")
    make_customer(email="none@example.com")
    grant(on_pro, pro)
    grant(on_basic, basic)
    grant(lapsed, basic, expires_in=-2)  # past its date, not yet stored as expired
    by_plan = announcement(audience="plan", plan=pro)
    assert "Sent 1" in send(str(by_plan.pk))
    assert [m.to for m in mail.outbox] == [["pro@example.com"]]
    mail.outbox.clear()
    expired = announcement(audience="licence_status", licence_status="expired")
    assert "Sent 1" in send(str(expired.pk))
    assert [m.to for m in mail.outbox] == [["lapsed@example.com"]]
    mail.outbox.clear()
    active = announcement(audience="licence_status", licence_status="active")
    assert "Sent 2" in send(str(active.pk))
    assert sorted(m.to[0] for m in mail.outbox) == ["basic@example.com", "pro@example.com"]


def test_suspended_audience_follows_the_licence_service():
    basic = make_plan(name="Basic")
    customer = make_customer(email="s@example.com")
    licence = grant(customer, basic)
    with access_context(actor=None, channel=Channel.COMMAND, purpose="licensing"):
        licensing.licence_suspend(licence=licence)
    assert "Sent 1" in send(
        str(announcement(audience="licence_status", licence_status="suspended").pk)
    )


def test_queued_notices_are_sent_by_the_queued_run():
    make_customer(email="q@example.com")
    queued = announcement(state="queued")
    draft = announcement(subject_en="Draft")
    output = send("--queued")
    assert f"#{queued.pk}" in output and f"#{draft.pk}" not in output
    queued.refresh_from_db()
    assert queued.state == "sent"


def test_an_audience_missing_its_plan_is_refused():
    note = announcement(audience="plan")
    with pytest.raises(CommandError, match="Hãy chọn gói"):
        send(str(note.pk))
    with translation.override("en"), pytest.raises(CommandError, match="Choose the plan"):
        send(str(note.pk))
    with pytest.raises(CommandError):
        send("999999")
    with pytest.raises(CommandError):
        send()


def test_dry_run_sends_nothing():
    make_customer(email="dry@example.com")
    assert "would send 1" in send("--dry-run", str(announcement().pk))
    assert mail.outbox == [] and not Notice.objects.exists()


def test_preview_shows_both_languages_with_a_sample_name():
    note = announcement()
    subject, body = announcement_preview(announcement=note, language="en")
    assert subject == "[ExcelCRM] Version 5.0" and "New reports are here." in body
    subject, body = announcement_preview(announcement=note, language="vi")
    assert "Có báo cáo mới." in body


def test_notices_for_customer_lists_what_was_sent_without_bodies():
    customer = make_customer(email="d@example.com")
    grant(customer, make_plan(), expires_in=7)
    call_command("send_renewal_notices", "--no-progress", stdout=StringIO())
    send(str(announcement().pk))
    notices = list(notices_for_customer(customer=customer))
    assert sorted((n.purpose, n.status, n.template) for n in notices) == [
        ("renewal_notices", "sent", "notices/email/renewal_notice"),
        ("update_notices", "sent", "notices/email/update_notice"),
    ]
    assert not {"body", "subject"} & {f.name for f in Notice._meta.fields}
