"""Neither notice run emails a customer under a data-subject restriction; both count them."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from consent.context import Channel, access_context
from consent.models import AccessLog
from notices.models import Announcement, Notice
from rights import services as rights
from tests.factories import make_customer
from tests.notices.backends import outbox_to
from tests.work_factories import grant, make_plan

pytestmark = pytest.mark.django_db


def restrict(customer):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        return rights.request_file(customer=customer, kind="restriction", reason="stop")


def command(name, *args):
    out = StringIO()
    call_command(name, "--no-progress", *args, stdout=out)
    return out.getvalue()


def test_the_renewal_run_skips_restricted_customers_and_says_so():
    plan = make_plan(duration_days=365)
    restricted = make_customer(email="restricted@example.com")
    free = make_customer(email="free@example.com")
    for customer in (restricted, free):
        grant(customer, plan, expires_in=7)
    restrict(restricted)

    assert "would send 1" in command("send_renewal_notices", "--dry-run")
    output = command("send_renewal_notices")

    assert "Sent 1, skipped 1" in output and "restricted: 1" in output
    assert outbox_to("restricted@example.com") == [] and len(outbox_to("free@example.com")) == 1
    assert not Notice.objects.filter(customer=restricted).exists()
    assert not AccessLog.objects.filter(customer_id=restricted.pk, action="notify").exists()


def test_the_update_run_skips_restricted_customers_and_says_so():
    restricted = make_customer(email="restricted@example.com")
    make_customer(email="free@example.com")
    restrict(restricted)
    note = Announcement.objects.create(
        subject_vi="Bản 5", subject_en="Version 5", body_vi="Mới.", body_en="New."
    )
    output = command("send_update_notice", str(note.pk))
    assert "Sent 1, skipped 1" in output and "restricted: 1" in output
    assert [m.to for m in mail.outbox] == [["free@example.com"]]
    assert not Notice.objects.filter(customer=restricted).exists()
    note.refresh_from_db()
    assert note.state == "sent"


def test_a_lifted_restriction_lets_the_next_run_send():
    plan = make_plan(duration_days=365)
    customer = make_customer(email="later@example.com")
    grant(customer, plan, expires_in=7)
    request = restrict(customer)
    assert "Sent 0" in command("send_renewal_notices")
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        rights.request_withdraw(request=request)
    assert "Sent 1" in command("send_renewal_notices")
