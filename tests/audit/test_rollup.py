"""The reports' hourly figures: rolled up only when final, and the reports' figures unchanged by
them (the rolled-up hours summed, the rest counted from the log)."""

import datetime
from unittest import mock

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit import reports, rollup
from audit.models import HourlyActor, HourlyVolume, RollupState
from consent.access import access_record
from consent.context import Channel, access_context
from consent.models import AccessLog
from tests import factories

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def log_at(moment, actor, customers, *, purpose="customer_care", channel=Channel.ADMIN):
    with mock.patch("consent.access.timezone.now", return_value=moment):
        with access_context(actor=actor, channel=channel, purpose=purpose):
            access_record(subjects=customers, action="view", fields=["phone"])


@pytest.fixture
def history(support_user, reviewer, settings):
    """Ten days of access: staff under two purposes (a burst of four customers in one hour),
    a reviewer's oversight (no purpose) and a customer's own use (self-access)."""
    settings.AUDIT_BULK_ACCESS_THRESHOLD = 2
    customers = [factories.make_customer() for _ in range(5)]
    other = factories.make_staff(email="other@excelcrm.example", role="Support")
    base = (timezone.now() - datetime.timedelta(days=12)).replace(minute=0, second=0, microsecond=0)
    for day in range(10):
        for hour in (1, 9, 17):
            moment = base + datetime.timedelta(days=day, hours=hour, minutes=7 * day)
            log_at(moment, support_user, customers[day % 3: day % 3 + 2])
            log_at(moment, other, customers[:1], purpose="licensing")
        log_at(base + datetime.timedelta(days=day, hours=3), reviewer, customers[:1], purpose="",
               channel=Channel.AUDIT)
        log_at(base + datetime.timedelta(days=day, hours=5), customers[4].user, customers[4:],
               purpose="", channel=Channel.PORTAL)
    burst = base + datetime.timedelta(days=4, hours=11, minutes=30)
    log_at(burst, other, customers[:4])
    return base


def figures(start, end):
    return (
        reports.weekly_counts(start, end),
        reports.top_actors(start, end),
        [(r["actor_id"], r["hour"], r["customers"])
         for r in reports.bulk_access_alerts(start, end)],
    )


def test_the_figures_are_the_same_counted_live_partly_rolled_up_and_fully_rolled_up(history):
    periods = [
        (history, history + datetime.timedelta(days=11)),
        # Boundaries inside an hour and inside the rolled-up part.
        (history + datetime.timedelta(days=2, minutes=20),
         history + datetime.timedelta(days=7, minutes=40)),
    ]
    live = [figures(*period) for period in periods]
    in_period = AccessLog.objects.filter(at__gte=periods[0][0], at__lt=periods[0][1]).count()
    assert sum(sum(week.values()) for week in live[0][0].values()) == in_period > 100
    assert live[0][2], "the burst is a bulk-access alert"
    assert rollup.rollup_through() is None

    partly = rollup.rollup_audit_log(now=history + datetime.timedelta(days=5, hours=12))
    assert partly.hours > 0 and partly.through < history + datetime.timedelta(days=6)
    assert rollup.split_period(*periods[0])[0] is not None
    assert [figures(*period) for period in periods] == live

    call_command("rollup_audit_log", verbosity=0)
    assert rollup.rollup_through() > history + datetime.timedelta(days=10)
    rolled = AccessLog.objects.filter(at__lt=rollup.rollup_through()).count()
    assert sum(HourlyVolume.objects.values_list("accesses", flat=True)) == rolled
    assert [figures(*period) for period in periods] == live


def test_self_access_and_oversight_are_their_own_series_and_never_actors(history, reviewer):
    call_command("rollup_audit_log", verbosity=0)
    series = set(HourlyVolume.objects.values_list("series", flat=True))
    assert series == {"customer_care", "licensing", "", rollup.SELF_ACCESS}
    self_users = set(AccessLog.objects.self_access().values_list("actor_id", flat=True))
    assert self_users and not HourlyActor.objects.filter(actor_id__in=self_users).exists()
    assert HourlyActor.objects.filter(actor_id=reviewer.pk).exists()  # oversight is staff use


def test_the_burst_hour_holds_its_distinct_customers(history, support_user):
    call_command("rollup_audit_log", verbosity=0)
    burst = history + datetime.timedelta(days=4, hours=11)
    [row] = HourlyActor.objects.filter(hour=burst)
    assert (row.customers, row.accesses) == (4, 4)


def test_an_hour_waits_for_the_margin_and_the_reports_count_it_live(support_user, customer):
    now = timezone.now()
    log_at(now - datetime.timedelta(minutes=2), support_user, [customer])
    result = rollup.rollup_audit_log(now=now)
    assert result.hours == 0 and not HourlyVolume.objects.exists()
    start = now - datetime.timedelta(days=1)
    counts = reports.weekly_counts(start, now)
    in_period = AccessLog.objects.filter(at__gte=start, at__lt=now).count()
    assert sum(sum(week.values()) for week in counts.values()) == in_period >= 1


def test_the_command_says_how_far_it_rolled_up_and_rebuild_gives_the_same_rows(history, capsys):
    call_command("rollup_audit_log")
    first = capsys.readouterr().out
    assert first.startswith("Rolled up ") and "figures until" in first
    rows = sorted(HourlyVolume.objects.values_list("hour", "series", "accesses"))
    call_command("rollup_audit_log")
    assert "(every final hour is rolled up)" in capsys.readouterr().out
    call_command("rollup_audit_log", "--rebuild")
    assert sorted(HourlyVolume.objects.values_list("hour", "series", "accesses")) == rows
    assert RollupState.objects.count() == 1


def test_max_days_stops_after_that_many_days(history):
    result = rollup.rollup_audit_log(max_days=2)
    assert result.hours == 48 and result.reason == "stopped after --max-days"
    earliest = AccessLog.objects.order_by("at").values_list("at", flat=True).first()
    assert rollup.rollup_through() == rollup.floor_hour(earliest) + datetime.timedelta(days=2)


def test_max_days_below_one_is_refused_by_the_command(history):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--max-days must be at least 1"):
        call_command("rollup_audit_log", "--max-days", "0")
    assert rollup.rollup_audit_log(max_days=0).hours == 0  # the service does nothing, no error
    assert rollup.rollup_through() is None


def test_an_empty_log_rolls_up_nothing():
    result = rollup.rollup_audit_log()
    assert (result.hours, result.through, result.reason) == (0, None, "the access log is empty")


def test_a_zone_off_the_whole_hour_counts_live(history, settings):
    call_command("rollup_audit_log", verbosity=0)
    start, end = history, history + datetime.timedelta(days=11)
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+5:30: its hours are not UTC hours
    assert rollup.split_period(start, end) == (None, [(start, end)])
    counts = reports.weekly_counts(start, end)
    in_period = AccessLog.objects.filter(at__gte=start, at__lt=end).count()
    assert sum(sum(week.values()) for week in counts.values()) == in_period > 100


@pytest.mark.postgres
def test_an_hour_is_not_rolled_up_while_an_older_transaction_is_open(support_user, customer):
    if connection.vendor != "postgresql":
        pytest.skip("pg_stat_activity is PostgreSQL's")
    now = timezone.now()
    log_at(now - datetime.timedelta(hours=5), support_user, [customer])
    db = connection.settings_dict
    with psycopg.connect(dbname=db["NAME"], host=db["HOST"], port=db["PORT"] or 5432,
                         user=db["USER"]) as other:
        other.execute("SELECT 1")  # a transaction now open, begun before the next hours end
        started = other.execute("SELECT xact_start FROM pg_stat_activity"
                                " WHERE pid = pg_backend_pid()").fetchone()[0]
        result = rollup.rollup_audit_log(now=now + datetime.timedelta(hours=6))
        margin = datetime.timedelta(minutes=10)
        assert result.through <= started - margin
        other.rollback()
    result = rollup.rollup_audit_log(now=now + datetime.timedelta(hours=6))
    assert result.through >= rollup.floor_hour(now)


def test_top_actors_in_one_step_and_in_two_give_the_same_rows(history, monkeypatch):
    start, end = history, history + datetime.timedelta(days=11)
    one_step = reports.top_actors(start, end)
    assert len(one_step) == 3 and one_step[0]["customers"] >= one_step[-1]["customers"]
    monkeypatch.setattr(reports, "TOP_ACTORS_IN_TWO_STEPS_AFTER", datetime.timedelta(0))
    assert reports.top_actors(start, end) == one_step



def test_the_reports_page_says_how_far_the_hourly_figures_reach(history, reviewer):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(reviewer)
    page = client.get(reverse("audit:reports")).content.decode()
    assert "rollup_audit_log" in page  # none yet: the page says how to make them
    call_command("rollup_audit_log", verbosity=0)
    through = timezone.localtime(rollup.rollup_through())
    page = client.get(reverse("audit:reports")).content.decode()
    assert f"{through:%Y-%m-%d %H:%M}" in page and "rollup_audit_log" not in page
