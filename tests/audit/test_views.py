"""The reviewers' pages: who may see them, what they show, what they log."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.services import customer_update
from audit import reports as audit_reports
from audit.models import ReviewerActivity
from consent.access import access_denied, access_record
from consent.context import Channel, access_context
from consent.models import AccessLog
from tests import factories

pytestmark = pytest.mark.django_db


def _rows(response):
    """The access-log rows an explorer page shows."""
    return [item["row"] for item in response.context["rows"]]


def log(actor, customer, *, purpose="customer_care", action="view", channel=Channel.ADMIN):
    with access_context(actor=actor, channel=channel, purpose=purpose, reference="T-1"):
        access_record(subjects=[customer], action=action, fields=["phone"])


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


PAGES = [
    ("audit:index", {}),
    ("audit:access", {}),
    ("audit:reports", {}),
    ("audit:integrity", {}),
    ("audit:activity", {}),
]


@pytest.mark.parametrize("name,kwargs", PAGES)
def test_anonymous_visitors_go_to_the_sign_in(client, name, kwargs):
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize("name,kwargs", PAGES)
def test_customers_and_other_staff_are_sent_to_the_sign_in(
    client, customer, support_user, name, kwargs
):
    for user in (customer.user, support_user):
        client.force_login(user)
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 302, user
        assert response.url.startswith(reverse("admin:login"))


def test_a_customer_cannot_open_a_dossier(client, customer):
    client.force_login(customer.user)
    response = client.get(reverse("audit:dossier", args=[customer.pk]))
    assert response.status_code == 302
    assert AccessLog.objects.filter(channel=Channel.AUDIT).count() == 0


@pytest.mark.parametrize("name,kwargs", PAGES)
def test_reviewers_and_superusers_get_in(client, reviewer, superuser, name, kwargs):
    for user in (reviewer, superuser):
        client.force_login(user)
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 200


def test_pages_are_read_only(reviewer_client):
    assert reviewer_client.post(reverse("audit:access")).status_code == 405
    assert reviewer_client.post(reverse("audit:reports")).status_code == 405


# --- Explorer -----------------------------------------------------------------------------------


def test_the_explorer_filters_by_customer_and_logs_the_search_not_an_access(
    reviewer_client, reviewer, support_user
):
    alice = factories.make_customer(business_name="Alice Co")
    bob = factories.make_customer(business_name="Bob Co")
    log(support_user, alice)
    log(support_user, bob)
    before = AccessLog.objects.count()
    response = reviewer_client.get(reverse("audit:access"), {"customer": alice.pk})
    assert response.status_code == 200
    rows = _rows(response)
    assert {row.customer_id for row in rows} == {alice.pk}
    assert len(rows) == 2  # signup (self-access) and the support view
    assert "support@excelcrm.example" in response.content.decode()
    assert AccessLog.objects.count() == before
    trail = ReviewerActivity.objects.get()
    assert (trail.actor, trail.action, trail.detail) == (
        reviewer,
        "search",
        f"customer_id={alice.pk}",
    )


def test_the_explorer_combines_filters(reviewer_client, support_user, account_manager, customer):
    log(support_user, customer, purpose="complaints")
    log(account_manager, customer, purpose="licensing", action="change")
    response = reviewer_client.get(
        reverse("audit:access"),
        {
            "actor": "accounts@excelcrm.example",
            "purpose": "licensing",
            "action": "change",
            "outcome": "allowed",
            "channel": "admin",
        },
    )
    rows = _rows(response)
    assert [(r.actor_id, r.purpose) for r in rows] == [(account_manager.pk, "licensing")]
    # The signup row is the customer's own (self-access), not oversight.
    response = reviewer_client.get(reverse("audit:access"), {"purpose": "self"})
    assert [r.action for r in _rows(response)] == ["create"]
    response = reviewer_client.get(reverse("audit:access"), {"purpose": "-"})
    assert [r.action for r in _rows(response)] == []


def test_the_explorer_date_range_is_in_local_days(
    reviewer_client, support_user, customer, monkeypatch
):
    # 2026-11-01 23:30 in Ho Chi Minh City is 16:30 UTC the same day.
    moment = datetime.datetime(2026, 11, 1, 16, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr("consent.access.timezone.now", lambda: moment)
    log(support_user, customer)
    monkeypatch.undo()
    inside = reviewer_client.get(
        reverse("audit:access"), {"date_from": "2026-11-01", "date_to": "2026-11-01"}
    )
    assert [r.at for r in _rows(inside)] == [moment]
    outside = reviewer_client.get(reverse("audit:access"), {"date_from": "2026-11-02"})
    assert all(r.at != moment for r in _rows(outside))


def test_keyset_pages_cover_every_row_once_without_count(reviewer_client, support_user, settings):
    settings.AUDIT_PAGE_SIZE = 2
    customers = [factories.make_customer() for _ in range(3)]
    for c in customers:
        log(support_user, c)
    expected = list(
        AccessLog.objects.filter(actor_id=support_user.pk)
        .order_by("-at", "-id")
        .values_list("id", flat=True)
    )
    seen, query = [], {"actor": str(support_user.pk)}
    with CaptureQueriesContext(connection) as queries:
        while True:
            response = reviewer_client.get(reverse("audit:access"), query)
            seen += [r.pk for r in _rows(response)]
            if "next_query" not in response.context:
                break
            query = response.context["next_query"]
            query = dict(pair.split("=") for pair in query.split("&"))
            query["after"] = query["after"].replace("%3A", ":").replace("%2B", "+")
    assert seen == expected
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"date_from": "2026-11-02", "date_to": "2026-11-01"}, "date_to"),
        ({"date_from": "2026-13-45"}, "date_from"),
        ({"actor": "nobody@example.com"}, "actor"),
        ({"customer": "-3"}, "customer"),
        ({"after": "garbage"}, "after"),
        ({"purpose": "marketing"}, "purpose"),
    ],
)
def test_bad_filters_get_field_errors_in_both_languages(reviewer_client, params, field):
    response = reviewer_client.get(reverse("audit:access"), params)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ReviewerActivity.objects.exists()
    english = reviewer_client.get(reverse("audit:access"), params, HTTP_ACCEPT_LANGUAGE="en")
    assert field in english.context["form"].errors


# --- Export -------------------------------------------------------------------------------------


def test_the_export_streams_exactly_the_filtered_rows(reviewer_client, reviewer, support_user):
    alice, bob = factories.make_customer(), factories.make_customer()
    log(support_user, alice)
    log(support_user, bob, purpose="complaints")
    before = AccessLog.objects.count()
    response = reviewer_client.get(reverse("audit:access_export"), {"customer": alice.pk})
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0][0].startswith(f"# ExcelCRM access log export; filter: customer_id={alice.pk};")
    assert "exported at " in lines[0][0] and "+07:00" in lines[0][0]
    assert lines[1][:3] == ["id", "time_utc", "time_local"]
    assert "time_local is Asia/Ho_Chi_Minh" in lines[0][0]
    expected = list(AccessLog.objects.filter(customer_id=alice.pk).order_by("-at", "-id"))
    assert [int(line[0]) for line in lines[2:]] == [row.pk for row in expected]
    assert lines[2][5] == "customer_care" and lines[2][4] == str(alice.pk)
    at = expected[0].at
    assert lines[2][1] == at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    local = at.astimezone(datetime.timezone(datetime.timedelta(hours=7)))
    assert lines[2][2] == local.strftime("%Y-%m-%dT%H:%M:%S.%f")
    assert AccessLog.objects.count() == before
    trail = ReviewerActivity.objects.get()
    assert (trail.action, trail.detail) == ("export", f"customer_id={alice.pk}")


def test_a_bad_export_filter_is_a_400_with_the_form(reviewer_client):
    response = reviewer_client.get(reverse("audit:access_export"), {"date_from": "x"})
    assert response.status_code == 400
    assert "date_from" in response.context["form"].errors


# --- Dossier ------------------------------------------------------------------------------------


@pytest.fixture
def changed_customer(customer, support_user):
    with access_context(
        actor=support_user,
        channel=Channel.ADMIN,
        purpose="customer_care",
        reference="TICKET-7",
        reason="customer called",
    ):
        customer_update(customer=customer, phone="+84987654321")
    return customer


def test_the_dossier_merges_consent_changes_and_accesses_and_logs_the_view(
    reviewer_client, reviewer, changed_customer
):
    customer = changed_customer
    response = reviewer_client.get(reverse("audit:dossier", args=[customer.pk]))
    assert response.status_code == 200
    events = response.context["events"]
    sources = {event.source for event in events}
    assert {"consent", "history", "access"} <= sources
    change = next(e for e in events if e.source == "history" and e.fields == ("phone",))
    assert (change.actor, change.purpose, change.reference) == (
        "support@excelcrm.example",
        "customer_care",
        "TICKET-7",
    )
    assert change.values == (("phone", "+84 9** *** 678", "+84 9** *** 321"),)
    page = response.content.decode()
    assert "+84987654321" not in page and "+84912345678" not in page
    assert "Nguyễn Văn An" not in page
    row = AccessLog.objects.filter(channel=Channel.AUDIT).get()
    assert (row.actor_id, row.customer_id, row.action, row.purpose, row.fields) == (
        reviewer.pk,
        customer.pk,
        "history",
        "",
        "",
    )
    assert ReviewerActivity.objects.get().action == "dossier"
    assert "media print" in open("audit/static/audit/audit.css").read()


def test_an_unknown_customer_is_a_404_and_logs_nothing(reviewer_client):
    assert reviewer_client.get(reverse("audit:dossier", args=[999999])).status_code == 404
    assert not AccessLog.objects.filter(channel=Channel.AUDIT).exists()


def test_revealing_a_change_needs_a_reason(reviewer_client, changed_customer):
    customer = changed_customer
    key = f"customer:{customer.history.order_by('-history_id').first().history_id}"
    response = reviewer_client.post(
        reverse("audit:reveal", args=[customer.pk]), {"change": key, "reason": "  "}
    )
    assert response.status_code == 400
    assert "reason" in response.context["reveal_form"].errors
    assert "+84987654321" not in response.content.decode()
    assert not AccessLog.objects.filter(purpose="complaints").exists()


def test_revealing_a_change_shows_its_values_and_logs_it_under_complaints(
    reviewer_client, reviewer, changed_customer
):
    customer = changed_customer
    key = f"customer:{customer.history.order_by('-history_id').first().history_id}"
    response = reviewer_client.post(
        reverse("audit:reveal", args=[customer.pk]),
        {"change": key, "reason": "Complaint C-2026-11 about calls"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "+84912345678" in page and "+84987654321" in page
    row = AccessLog.objects.get(purpose="complaints")
    assert (row.actor_id, row.customer_id, row.action, row.fields, row.channel, row.reference) == (
        reviewer.pk,
        customer.pk,
        "view",
        "phone",
        "audit",
        "Complaint C-2026-11 about calls",
    )
    trail = ReviewerActivity.objects.get(action="reveal")
    assert trail.detail == f"change={key}; reason=Complaint C-2026-11 about calls"


def test_revealing_another_customers_change_is_a_404(reviewer_client, changed_customer):
    other = factories.make_customer()
    key = f"customer:{changed_customer.history.first().history_id}"
    response = reviewer_client.post(
        reverse("audit:reveal", args=[other.pk]),
        {"change": key, "reason": "Complaint C-2026-12 check"},
    )
    assert response.status_code == 404
    assert not AccessLog.objects.filter(purpose="complaints").exists()


def test_other_apps_can_add_timeline_sources(reviewer_client, customer):
    from audit import timeline

    @timeline.register_timeline_source("example")
    def example(c, *, limit):
        yield timeline.TimelineEvent(at=c.created_at, source="example", kind="camera granted")

    try:
        response = reviewer_client.get(reverse("audit:dossier", args=[customer.pk]))
        assert "camera granted" in response.content.decode()
    finally:
        timeline._sources.pop("example")


# --- Reports ------------------------------------------------------------------------------------


def test_reports_flag_a_purpose_not_granted_at_that_time(
    reviewer_client, support_user, customer, monkeypatch, settings
):
    from django.contrib.auth.models import Group

    t = datetime.datetime.now(datetime.UTC)
    clock = {"now": t}
    monkeypatch.setattr("consent.access.timezone.now", lambda: clock["now"])
    monkeypatch.setattr("audit.grants.timezone.now", lambda: clock["now"])
    clock["now"] = t + datetime.timedelta(minutes=1)
    log(support_user, customer, purpose="licensing")  # not granted to Support
    log(support_user, customer, purpose="complaints")  # granted
    clock["now"] = t + datetime.timedelta(minutes=2)
    support_user.groups.add(Group.objects.get(name="Account management"))  # granted too late
    clock["now"] = t + datetime.timedelta(minutes=3)
    log(support_user, customer, purpose="renewal_notices")  # granted by now
    support_user.groups.remove(Group.objects.get(name="Support"))
    monkeypatch.undo()
    response = reviewer_client.get(reverse("audit:reports"))
    flagged = [(r.actor_id, r.purpose) for r in response.context["ungranted"]]
    assert flagged == [(support_user.pk, "licensing")]


def test_the_grant_check_reads_each_actor_purpose_and_channel_once(
    reviewer_client, support_user, customer
):
    # The access log's default ordering (at, id) inside DISTINCT made this query return every
    # row of the period (380,000 at 3M rows: 5.3 s of a 9 s page) instead of a few triples.
    for _ in range(3):
        log(support_user, customer, purpose="licensing")
    with CaptureQueriesContext(connection) as queries:
        reviewer_client.get(reverse("audit:reports"))
    [triples] = [q["sql"] for q in queries.captured_queries if "SELECT DISTINCT" in q["sql"]]
    selected = triples.split(" FROM ")[0]
    assert '"at"' not in selected and '"id"' not in selected


def test_reviewer_reveals_are_not_flagged_but_a_staff_without_grants_is(
    reviewer_client, reviewer, changed_customer
):
    key = f"customer:{changed_customer.history.first().history_id}"
    reviewer_client.post(
        reverse("audit:reveal", args=[changed_customer.pk]),
        {"change": key, "reason": "Complaint C-2026-13 check"},
    )
    nobody = factories.make_staff(email="nobody@excelcrm.example")
    log(nobody, changed_customer, purpose="complaints")
    response = reviewer_client.get(reverse("audit:reports"))
    flagged = [(r.actor_id, r.purpose) for r in response.context["ungranted"]]
    assert flagged == [(nobody.pk, "complaints")]


def test_reports_show_bulk_access_denied_attempts_top_actors_and_a_chart(
    reviewer_client, support_user, settings
):
    settings.AUDIT_BULK_ACCESS_THRESHOLD = 2
    customers = [factories.make_customer() for _ in range(3)]
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="customer_care"):
        access_record(subjects=customers, action="list")
        access_denied(subjects=[customers[0]], action="view", purpose="licensing")
    response = reviewer_client.get(reverse("audit:reports"))
    assert [(r["actor_id"], r["customers"]) for r in response.context["bulk"]] == [
        (support_user.pk, 3)
    ]
    assert [r.customer_id for r in response.context["denied"]] == [customers[0].pk]
    assert response.context["top"][0]["actor_id"] == support_user.pk
    assert response.context["top"][0]["customers"] == 3
    page = response.content.decode()
    assert '<svg class="chart"' in page and "<rect" in page
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert ReviewerActivity.objects.get().action == "report"


def test_a_report_period_the_wrong_way_round_is_a_field_error(reviewer_client):
    response = reviewer_client.get(
        reverse("audit:reports"), {"date_from": "2026-11-20", "date_to": "2026-11-01"}
    )
    assert response.status_code == 400
    assert "date_to" in response.context["form"].errors


@pytest.mark.postgres
def test_a_report_query_past_the_time_limit_is_a_field_error_not_a_dead_worker(
    reviewer_client, settings, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's")
    def slow(start, end):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")
        return []

    settings.AUDIT_REPORT_QUERY_SECONDS = 0.2
    monkeypatch.setattr(audit_reports, "top_actors", slow)
    response = reviewer_client.get(reverse("audit:reports"))
    assert response.status_code == 400
    assert "0.2" in response.context["form"].errors["date_from"][0]
    assert ReviewerActivity.objects.filter(action="report").count() == 1  # the trail stays
    today = timezone.localdate()
    default = response.context["form"].data  # the default period, named in the form
    eight_weeks_ago = today - datetime.timedelta(days=56)
    assert (default["date_from"], default["date_to"]) == (eight_weeks_ago, today)
    chosen = {"date_from": "2026-01-01", "date_to": "2026-03-31"}
    response = reviewer_client.get(reverse("audit:reports"), chosen)
    assert response.status_code == 400 and response.context["form"].data.dict() == chosen
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        assert cursor.fetchone()[0] == "0"  # the limit ended with the block

    monkeypatch.undo()
    settings.AUDIT_REPORT_QUERY_SECONDS = 0.2
    assert reviewer_client.get(reverse("audit:reports")).status_code == 200


# --- Integrity and the trail --------------------------------------------------------------------


def test_integrity_shows_the_head_and_verifies_on_request(
    reviewer_client, reviewer, customer, seal_wait
):
    from django.core.management import call_command

    from audit.models import Seal, Verification

    call_command("seal_audit_log", verbosity=0)
    head = Seal.objects.get()
    page = reviewer_client.get(reverse("audit:integrity")).content.decode()
    assert head.digest in page
    response = reviewer_client.post(reverse("audit:integrity"), {"since": ""})
    assert response.context["result"].ok
    run = Verification.objects.get()
    assert (run.actor, run.channel, run.ok, run.head_digest) == (
        reviewer,
        "audit",
        True,
        head.digest,
    )
    assert ReviewerActivity.objects.get().detail == "since=all; ok"


def test_reviewers_read_each_others_activity(client, reviewer, customer):
    other = factories.make_staff(email="reviewer2@excelcrm.example", role="Compliance reviewer")
    client.force_login(other)
    client.get(reverse("audit:access"), {"customer": customer.pk})
    client.force_login(reviewer)
    response = client.get(reverse("audit:activity"))
    assert [(r.actor, r.action) for r in response.context["rows"]] == [(other, "search")]
    assert "reviewer2@excelcrm.example" in response.content.decode()


def test_pages_are_translated(reviewer_client):
    vi = reviewer_client.get(reverse("audit:access"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    en = reviewer_client.get(reverse("audit:access"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Access log explorer" in en
    assert "Access log explorer" not in vi


def test_an_actor_with_no_grant_on_record_is_flagged(reviewer_client, customer):
    # A customer's own login never holds purposes: a purpose-bound access by it is flagged.
    log(customer.user, customer, purpose="licensing")
    response = reviewer_client.get(reverse("audit:reports"))
    flagged = [(r.actor_id, r.purpose, r.granted) for r in response.context["ungranted"]]
    assert flagged == [(customer.user_id, "licensing", "")]
    assert "chưa ghi nhận" in response.content.decode() or "none recorded" in (
        response.content.decode()
    )


def test_many_suspicious_triples_fall_back_to_the_row_check(reviewer_client, customer, monkeypatch):
    monkeypatch.setattr("audit.reports.MAX_SUSPICIOUS_TRIPLES", 0)
    log(customer.user, customer, purpose="licensing")
    response = reviewer_client.get(reverse("audit:reports"))
    assert [(r.actor_id, r.purpose) for r in response.context["ungranted"]] == [
        (customer.user_id, "licensing")
    ]
