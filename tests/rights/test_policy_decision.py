"""Declining a new policy files a closure request; accepting it later withdraws that request."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from consent.context import Channel, access_context
from consent.models import AccessLog
from rights import services
from rights.models import DataSubjectRequest
from tests.accounts.test_account_pages import publish_v2
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def decide(client, decision):
    return client.post(
        reverse("accounts:policy_accept"), {"decision": decision, "policy_version": "2.0"}
    )


def test_accepting_after_declining_withdraws_the_closure_request(client, customer):
    publish_v2()
    assert client.login(username=customer.user.email, password=PASSWORD)
    decide(client, "decline")
    closure = DataSubjectRequest.objects.get(customer=customer)
    assert (closure.kind, closure.status) == ("closure", "received")

    assert client.login(username=customer.user.email, password=PASSWORD)
    # Signed in again, the customer is sent to the policy first.
    assert client.get(reverse("accounts:home"))["Location"].startswith(
        reverse("accounts:policy_accept")
    )
    response = decide(client, "accept")

    assert response["Location"] == reverse("accounts:home")
    closure.refresh_from_db()
    assert closure.status == "withdrawn" and closure.closed_at is not None
    last = closure.history.latest("history_date")
    assert (last.status, last.history_user_id) == ("withdrawn", customer.user_id)
    row = AccessLog.objects.filter(customer_id=customer.pk, fields="request_status").get()
    assert (row.actor_id, row.purpose, row.action) == (customer.user_id, "", "change")
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(f"#{closure.pk}" in text for text in shown)
    assert client.get(reverse("accounts:home")).status_code == 200


def test_accepting_withdraws_an_acknowledged_closure_too(client, customer, support_user):
    publish_v2()
    client.force_login(customer.user)
    decide(client, "decline")
    closure = DataSubjectRequest.objects.get(customer=customer)
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="complaints"):
        services.request_acknowledge(request=closure, actor=support_user)

    client.force_login(customer.user)
    decide(client, "accept")

    closure.refresh_from_db()
    assert closure.status == "withdrawn"


def test_accepting_leaves_other_requests_alone(customer_client, customer):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        erasure = services.request_file(customer=customer, kind="erasure", reason="")
    publish_v2()
    decide(customer_client, "accept")
    erasure.refresh_from_db()
    assert erasure.status == "received"
