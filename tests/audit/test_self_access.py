"""Self-access (a customer using their own data) is shown apart from staff use in every report."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from audit import reports
from consent.access import access_record
from consent.context import Channel, access_context
from consent.models import AccessLog
from tests import factories
from tests.devices.conftest import DEVICE, Api, issue_token

pytestmark = pytest.mark.django_db


def _rows(response):
    """The access-log rows an explorer page shows."""
    return [item["row"] for item in response.context["rows"]]


@pytest.fixture
def reviewer_client(reviewer):
    client = Client()
    client.force_login(reviewer)
    return client


@pytest.fixture
def scene(client, customer, support_user, reviewer_client):
    """The customer uses the app API and their account page; support looks them up; a reviewer
    opens their dossier (oversight: no purpose, not self-access)."""
    api = Api(client, issue_token(client, customer.user.email))
    api.post("/api/v1/devices/", DEVICE)
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        access_record(subjects=[customer], action="view", fields=["phone"])
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="customer_care"):
        access_record(subjects=[customer], action="view", fields=["phone"])
    assert reviewer_client.get(reverse("audit:dossier", args=[customer.pk])).status_code == 200
    return customer


def test_self_access_is_defined_once_as_no_purpose_and_the_customers_own_login(
    scene, reviewer, support_user
):
    customer = scene
    own = set(AccessLog.objects.self_access().values_list("actor_id", "channel"))
    assert own == {(customer.user_id, "portal"), (customer.user_id, "api")}
    staff = set(AccessLog.objects.staff_use().values_list("actor_id", flat=True))
    assert staff == {support_user.pk, reviewer.pk}
    dossier_row = AccessLog.objects.get(actor_id=reviewer.pk)
    assert dossier_row.purpose == "" and not dossier_row.is_self_access
    api_row = AccessLog.objects.filter(channel="api").first()
    assert api_row.is_self_access
    assert AccessLog.objects.with_self_access().get(pk=api_row.pk).is_self is True


def test_top_actors_and_bulk_alerts_count_staff_only(scene, reviewer_client, support_user,
                                                     reviewer, settings):
    settings.AUDIT_BULK_ACCESS_THRESHOLD = 0
    response = reviewer_client.get(reverse("audit:reports"))
    top = {row["actor_id"] for row in response.context["top"]}
    bulk = {row["actor_id"] for row in response.context["bulk"]}
    assert scene.user_id not in top and scene.user_id not in bulk
    assert {support_user.pk, reviewer.pk} <= top


def test_the_chart_has_a_self_access_series_apart_from_oversight(scene):
    from django.utils import timezone

    now = timezone.now()
    chart = reports.weekly_by_purpose(now - timezone.timedelta(days=7), now)
    legend = [name for _color, name in chart.legend]
    assert "tự truy cập (khách hàng dùng dữ liệu của mình)" in legend or (
        "self-access (customers' own use)" in legend
    )
    labels = " ".join(bar.label for bar in chart.bars)
    self_bars = [b for b in chart.bars if "self-access" in b.label or "tự truy cập" in b.label]
    assert self_bars and self_bars[0].label.endswith(": 4")  # signup, token, device, page
    assert "oversight" in labels or "giám sát" in labels  # the reviewer's dossier view


def test_the_explorer_filters_self_access_apart_from_oversight_and_marks_it(
    scene, reviewer_client, reviewer
):
    own = reviewer_client.get(reverse("audit:access"), {"purpose": "self"})
    rows = _rows(own)
    assert rows and {r.actor_id for r in rows} == {scene.user_id}
    assert all(r.is_self for r in rows)
    assert own.content.decode().count('data-self-access="true"') == len(rows)
    oversight = reviewer_client.get(reverse("audit:access"), {"purpose": "-"})
    assert [r.actor_id for r in _rows(oversight)] == [reviewer.pk]
    choices = dict(own.context["form"].fields["purpose"].choices)
    assert choices["self"] != choices["-"]


def test_the_dossier_and_the_export_mark_self_access(scene, reviewer_client):
    page = reviewer_client.get(reverse("audit:dossier", args=[scene.pk]))
    marked = [e for e in page.context["events"] if e.source == "access" and e.self_access]
    assert {e.channel for e in marked} == {"portal", "api"}
    assert 'data-self-access="true"' in page.content.decode()

    response = reviewer_client.get(reverse("audit:access_export"), {"customer": scene.pk})
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, rows = lines[1], lines[2:]
    assert header[-1] == "self_access"
    by_id = {int(r[0]): r[-1] for r in rows}
    for row in AccessLog.objects.filter(customer_id=scene.pk):
        assert by_id[row.pk] == ("true" if row.is_self_access else "false")
    assert set(by_id.values()) == {"true", "false"}


def test_the_explorer_page_stays_one_query_for_the_rows(scene, reviewer_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    factories.make_customer()
    with CaptureQueriesContext(connection) as queries:
        response = reviewer_client.get(reverse("audit:access"), {"purpose": "self"})
    assert response.status_code == 200
    log_queries = [q["sql"] for q in queries if 'FROM "consent_accesslog"' in q["sql"]]
    assert len(log_queries) == 1, log_queries  # one keyset page, EXISTS inside it; no COUNT
    assert "COUNT(" not in log_queries[0].upper()


def test_both_forms_of_the_definition_agree_and_keep_rows_without_a_customer(scene, support_user):
    from consent.access import access_denied

    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="licensing"):
        access_denied(subjects=[None], action="notify")
    with access_context(actor=None, channel=Channel.COMMAND):
        access_record(subjects=[scene], action="view")
    everything = set(AccessLog.objects.values_list("pk", flat=True))
    rows = AccessLog.objects
    split = {}
    for aggregate in (False, True):
        own = set(rows.self_access(for_aggregates=aggregate).values_list("pk", flat=True))
        rest = set(rows.staff_use(for_aggregates=aggregate).values_list("pk", flat=True))
        assert own | rest == everything and not own & rest
        assert AccessLog.objects.get(customer_id=None).pk in rest
        assert AccessLog.objects.get(actor_id=None, channel="command").pk in rest
        split[aggregate] = own
    # The two forms pick the same rows, and those are the customer's own portal and API calls.
    assert split[False] == split[True]
    own_rows = AccessLog.objects.filter(pk__in=split[False])
    assert set(own_rows.values_list("actor_id", "channel", "purpose")) == {
        (scene.user_id, "portal", ""),
        (scene.user_id, "api", ""),
    }
