#!/usr/bin/env python
"""Benchmark of the audit trail on PostgreSQL: explorer, CSV export, verification, sealing cost.

Creates a dedicated database (default ``excelcrm_audit_bench``), migrates it, loads ``--rows``
access-log rows with COPY, seals them, prints the figures against the goals of issue 8, and drops
the database (``--keep`` keeps it). Usage::

    .venv/bin/python bench/audit_bench.py --rows 10000000
    PGURL=postgres://postgres@127.0.0.1:5432 .venv/bin/python bench/audit_bench.py --rows 2000000

Figures are wall-clock on a shared machine: read them as orders of magnitude and ratios.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PURPOSES = ["licensing", "update_notices", "renewal_notices", "customer_care", "complaints", ""]
ACTIONS = ["view", "list", "change", "export", "search", "history"]
CHANNELS = ["admin", "api", "portal", "command"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--actors", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--database", default="excelcrm_audit_bench")
    parser.add_argument(
        "--pgurl", default=os.environ.get("PGURL", "postgres://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--insert-seconds", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    return parser.parse_args()


def setup_django(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(f"{args.pgurl}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    os.environ["DATABASE_URL"] = f"{args.pgurl}/{args.database}"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "b" * 40)
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("HTTPS", "0")  # the test client speaks plain HTTP
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "excelcrm.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from bench.web import unhashed_static

    unhashed_static()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the test client hand back the template context
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def drop_database(args: argparse.Namespace) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{args.pgurl}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


def timed(label: str, func, *a, **kw):
    start = time.perf_counter()
    result = func(*a, **kw)
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.2f} s", flush=True)
    return result, elapsed


def load_rows(args: argparse.Namespace) -> datetime.datetime:
    """COPY ``--rows`` rows spread over ``--days`` days ending now; return the first row's time."""
    from django.db import connection

    rng = random.Random(8)
    end = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    start = end - datetime.timedelta(days=args.days)
    columns = (
        "at, actor_id, customer_id, purpose, reference, action, fields, channel, request_id,"
        " ip_address, outcome"
    )
    with connection.cursor() as cursor:
        # Indexes are built once after the load (as a restore would), not row by row.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'consent_accesslog'"
            " AND indexname NOT LIKE '%%pkey'"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        t0 = time.perf_counter()
        # Text-format COPY written in blocks: the rows are generated here, the parsing is the
        # server's.
        start_us = int(start.timestamp() * 1_000_000)
        step_us = (end - start) / args.rows / datetime.timedelta(microseconds=1)
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
        rand = rng.random
        with cursor.copy(f"COPY consent_accesslog ({columns}) FROM STDIN") as copy:
            block = []
            for i in range(args.rows):
                if i % 1000 == 0:  # one time string per 1000 rows, then microsecond offsets
                    base = epoch + datetime.timedelta(microseconds=start_us + int(i * step_us))
                    base_text = base.strftime("%Y-%m-%d %H:%M:%S")
                    base_us = base.microsecond
                us = base_us + int((i % 1000) * step_us)
                at_text = f"{base_text}.{us:06d}" if us < 1_000_000 else base_text
                p = PURPOSES[int(rand() * 6)]
                block.append(
                    f"{at_text}+00\t{int(rand() * args.actors) + 1}\t"
                    f"{int(rand() * args.customers) + 1}\t{p}\t{f'T-{i % 9973}' if p else ''}"
                    f"\t{ACTIONS[int(rand() * 6)]}\tcontact_person,email,phone"
                    f"\t{CHANNELS[int(rand() * 4)]}\t{i:032x}\t10.0.0.1"
                    f"\t{'denied' if rand() < 0.01 else 'allowed'}\n"
                )
                if len(block) == 10_000:
                    copy.write("".join(block))
                    block = []
            if block:
                copy.write("".join(block))
        copy_s = time.perf_counter() - t0
        print(f"  COPY {args.rows:,} rows: {copy_s:.1f} s ({args.rows / copy_s:,.0f} rows/s)")
        t0 = time.perf_counter()
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE consent_accesslog")
        print(f"  indexes rebuilt and analysed: {time.perf_counter() - t0:.1f} s", flush=True)
    return start


def reviewer_client():
    from django.contrib.auth.models import Group

    from accounts.models import User
    from bench.web import verified_client
    from consent.context import Channel, access_context

    with access_context(actor=None, channel=Channel.COMMAND):
        user = User.objects.create_user("bench-reviewer@excelcrm.example", "x", is_staff=True)
    user.groups.add(Group.objects.get(name="Compliance reviewer"))
    return verified_client(user)


def median_ms(client, url: str, params: dict, runs: int = 7) -> tuple[float, int]:
    times, rows = [], 0
    client.get(url, params)  # warm the cache, as a reviewer paging would
    for _ in range(runs):
        t0 = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
        rows = len(response.context["rows"])
    return statistics.median(times), rows


def query_ms(flt, runs: int = 7) -> float:
    """Median time of the explorer's page query alone (no rendering, no trail insert)."""
    from audit.selectors import access_log_page

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        access_log_page(flt=flt, after=None, size=50)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def seal_all() -> tuple[int, float]:
    from audit.models import Seal
    from audit.sealing import seal_audit_log

    t0 = time.perf_counter()
    while seal_audit_log(wait_seconds=5, max_rows=1_000_000).seal is not None:
        pass
    return Seal.objects.count(), time.perf_counter() - t0


def _writer(seconds: float, queue) -> None:
    from django.db import connections, transaction

    from consent.access import access_record
    from consent.context import Channel, access_context

    connections.close_all()
    rng = random.Random()
    rows = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        # One request: a transaction that logs access to 5 customers.
        with (
            transaction.atomic(),
            access_context(actor=None, channel=Channel.ADMIN, purpose="customer_care"),
        ):
            access_record(subjects=[rng.randrange(1, 200_000) for _ in range(5)], action="view")
        rows += 5
    queue.put(rows / (time.perf_counter() - start))


def _sealer(stop) -> None:
    from django.db import connections

    from audit.sealing import seal_audit_log

    connections.close_all()
    while not stop.is_set():
        seal_audit_log(wait_seconds=2)
        stop.wait(1.0)


def insert_rate(seconds: float, *, sealing: bool) -> float:
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    queue, stop = ctx.Queue(), ctx.Event()
    sealer = ctx.Process(target=_sealer, args=(stop,)) if sealing else None
    if sealer:
        sealer.start()
    writer = ctx.Process(target=_writer, args=(seconds, queue))
    writer.start()
    writer.join()
    rate = queue.get()
    if sealer:
        stop.set()
        sealer.join()
    return rate


def main() -> None:
    args = parse_args()
    print(f"Audit benchmark: {args.rows:,} access-log rows, database {args.database}", flush=True)
    print(f"  load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    setup_django(args)
    try:
        run(args)
    finally:
        if not args.keep:
            drop_database(args)
            print(f"Dropped database {args.database}.")


def run(args: argparse.Namespace) -> None:
    from django.db import connection

    from audit.models import Seal
    from audit.sealing import verify_seals
    from consent.models import AccessLog

    first_at = load_rows(args)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('consent_accesslog'))")
        print(f"  consent_accesslog with indexes: {cursor.fetchone()[0]}")

    print("Sealing everything (1M rows per seal):", flush=True)
    seals, seal_s = seal_all()
    print(f"  {seals} seals in {seal_s:.1f} s ({args.rows / seal_s:,.0f} rows/s)", flush=True)

    client = reviewer_client()
    customer = AccessLog.objects.order_by("-id").values_list("customer_id", flat=True).first()
    from audit.forms import AccessFilter, day_start

    ms, rows = median_ms(client, "/audit/access/", {"customer": customer})
    sql_ms = query_ms(AccessFilter(customer_id=customer))
    print(
        f"Explorer, one customer ({rows} rows on the page): {ms:.1f} ms server time, "
        f"of which the page query {sql_ms:.1f} ms (goal <= 100 ms)"
    )
    month_end = (first_at + datetime.timedelta(days=args.days // 2)).date()
    month_start = month_end - datetime.timedelta(days=30)
    month = {
        "purpose": "complaints",
        "date_from": month_start.isoformat(),
        "date_to": month_end.isoformat(),
    }
    ms, rows = median_ms(client, "/audit/access/", month)
    month_filter = AccessFilter(
        purpose="complaints",
        start=day_start(month_start),
        end=day_start(month_end + datetime.timedelta(days=1)),
    )
    print(
        f"Explorer, one month + one purpose ({rows} rows on the page): {ms:.1f} ms server time, "
        f"of which the page query {query_ms(month_filter):.1f} ms (goal <= 200 ms)"
    )
    cursor_page = client.get("/audit/access/", month).context["next_query"]
    t0 = time.perf_counter()
    client.get("/audit/access/?" + cursor_page)
    print(f"Explorer, same filter, next keyset page: {(time.perf_counter() - t0) * 1000:.1f} ms")

    t0 = time.perf_counter()
    response = client.get("/audit/access/export.csv", month)
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 2
    export_s = time.perf_counter() - t0
    print(
        f"CSV export, one month + one purpose: {lines:,} rows in {export_s:.2f} s = "
        f"{lines / export_s:,.0f} rows/s (goal >= 50,000 rows/s)",
        flush=True,
    )

    def report_ms(params: dict, runs: int = 3) -> str:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            status = client.get("/audit/reports/", params).status_code
            times.append((time.perf_counter() - t0) * 1000)
            if status == 400:  # a query ran past AUDIT_REPORT_QUERY_SECONDS
                return f"refused after {times[-1]:.0f}"
            assert status == 200, status
        return f"{statistics.median(times):.0f}"

    print(f"Reports page, last 8 weeks, counted from the log: {report_ms({})} ms", flush=True)
    from audit.rollup import rollup_audit_log

    t0 = time.perf_counter()
    rolled = rollup_audit_log()
    rollup_s = time.perf_counter() - t0
    print(
        f"Hourly rollup of the whole log (rollup_audit_log): {rolled.hours:,} hours, "
        f"{rolled.rows:,} hourly rows in {rollup_s:.1f} s ({args.rows / rollup_s:,.0f} rows/s)",
        flush=True,
    )
    from django.utils import timezone

    today = timezone.localdate()
    year = {"date_from": (today - datetime.timedelta(days=365)).isoformat(),
            "date_to": today.isoformat()}
    print(f"Reports page, last 8 weeks, with the rollup: {report_ms({})} ms", flush=True)
    print(
        f"Reports page, one year ({args.rows:,} rows), with the rollup: "
        f"{report_ms(year, runs=1)} ms (gunicorn's timeout: 30,000 ms)",
        flush=True,
    )

    last_two = Seal.objects.order_by("-first_id")[1:2].first() or Seal.objects.first()
    since = last_two.sealed_at
    t0 = time.perf_counter()
    result = verify_seals(since=since)
    verify_s = time.perf_counter() - t0
    assert result.ok, result.problem
    print(
        f"Verification of the last {result.seals_checked} seals: {result.rows_checked:,} rows "
        f"in {verify_s:.2f} s = {result.rows_checked / verify_s:,.0f} rows/s "
        f"(goal >= 1,000,000 rows in <= 10 s)",
        flush=True,
    )

    print(f"Insert throughput, {args.insert_seconds:.0f} s per phase, alternating:", flush=True)
    plain, sealed = [], []
    for _ in range(3):
        plain.append(insert_rate(args.insert_seconds, sealing=False))
        sealed.append(insert_rate(args.insert_seconds, sealing=True))
        print(
            f"  without sealing {plain[-1]:,.0f} rows/s, with a sealer every second "
            f"{sealed[-1]:,.0f} rows/s",
            flush=True,
        )
    ratio = statistics.mean(plain) / statistics.mean(sealed)
    print(f"Sealing cost on insert throughput: {ratio:.3f}x (goal <= 1.05x)")
    print(f"  load average at the end: {os.getloadavg()[0]:.1f}")
    final = verify_seals(since=since)
    print(f"Final verification of the recent seals: {'intact' if final.ok else final.problem}")


if __name__ == "__main__":
    main()
