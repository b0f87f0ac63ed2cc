"""A reviewer's lawful breach notification is not an access under a purpose not granted."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consent.access import access_record
from consent.context import Channel, access_context
from rights import services
from rights.models import Breach
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_breach_notifications_by_a_reviewer_are_not_flagged_but_other_notify_rows_are(reviewer):
    affected = make_customer(email="affected@example.com")
    other = make_customer(email="other@example.com")
    client = Client()
    client.force_login(reviewer)
    breach = services.breach_save(
        breach=Breach(
            detected_at=timezone.now() - datetime.timedelta(hours=1),
            description="Một bản sao lưu bị lộ",
            categories="email",
        ),
        actor=reviewer,
        affected=[affected],
    )
    response = client.post(
        "/admin/rights/breach/", {"action": "notify_affected", "_selected_action": [breach.pk]}
    )
    assert response.status_code == 302
    # The notification itself is logged (so the report has a row to leave out).
    from consent.models import AccessLog

    assert AccessLog.objects.filter(
        actor_id=reviewer.pk, customer_id=affected.pk, action="notify", outcome="allowed"
    ).exists()
    # The same kind of row with no breach notification behind it is still flagged.
    with access_context(actor=reviewer, channel=Channel.ADMIN, purpose="complaints"):
        access_record(subjects=[other], action="notify", fields=["email"])

    report = client.get(reverse("audit:reports"))
    flagged = [(r.actor_id, r.customer_id, r.action) for r in report.context["ungranted"]]
    assert flagged == [(reviewer.pk, other.pk, "notify")]
