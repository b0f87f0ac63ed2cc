"""Benchmark: erasure, replay and the restriction veto at scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/excelcrm_bench_rights SECRET_KEY=x \
        .venv/bin/python bench/rights_bench.py [--customers 2000] [--changes 20] [--erase 50]

Migrates the database, registers N customers through the signup service (each then corrected
``--changes`` times, so each has that many history rows), files a restriction for one customer in
ten, then prints: the veto's cost for one admin page of 100 customers, the time to erase one
customer (and the rows rewritten), to erase ``--erase`` customers, and to replay the whole
ledger after it (nothing left to rewrite: the idempotent pass). Times are wall-clock; read ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "excelcrm.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "b" * 40)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--erase", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ERASURE_LEDGER_FILE = Path(tempfile.mkdtemp()) / "ledger.jsonl"
    call_command("migrate", verbosity=0)

    from accounts.models import Customer, User
    from accounts.services import customer_register, customer_update
    from consent.context import Channel, access_context
    from consent.selectors import policy_current
    from rights.erasure import customer_erase, erasures_replay
    from rights.selectors import restriction_veto
    from rights.services import request_file

    run = str(int(time.time()))
    policy = policy_current()
    started = time.perf_counter()
    customers = []
    for i in range(args.customers):
        with access_context(actor=None, channel=Channel.PORTAL):
            customer = customer_register(
                business_name=f"Bench {run} {i}",
                contact_person=f"Người {i}",
                phone=f"+8491{i % 10_000_000:07d}",
                email=f"bench-{run}-{i}@example.com",
                password="x" * 12,
                language="vi",
                policy_version=policy,
                ip_address="127.0.0.1",
                user_agent="bench",
            )
        with access_context(actor=customer.user, channel=Channel.PORTAL):
            for change in range(args.changes - 1):
                customer_update(customer=customer, contact_person=f"Người {i} v{change}")
            if i % 10 == 0:
                request_file(customer=customer, kind="restriction", reason="bench")
        customers.append(customer)
    print(f"set-up: {len(customers)} customers x {args.changes} history rows "
          f"in {time.perf_counter() - started:.1f} s ({connection.vendor})")

    ids = [c.pk for c in customers[:100]]
    rounds = 200
    t0 = time.perf_counter()
    for _ in range(rounds):
        vetoed = restriction_veto(customer_ids=ids, purpose="customer_care")
    veto_ms = (time.perf_counter() - t0) / rounds * 1000
    print(f"restriction veto for a page of 100 customers: {veto_ms:.2f} ms ({len(vetoed)} vetoed)")

    approver = User.objects.filter(is_superuser=True).first() or customers[0].user
    victims = customers[-args.erase:]
    with access_context(actor=approver, channel=Channel.COMMAND, purpose="complaints"):
        t0 = time.perf_counter()
        record = customer_erase(customer=victims[0], approved_by=approver)
        one = time.perf_counter() - t0
        t0 = time.perf_counter()
        for customer in victims[1:]:
            customer_erase(customer=Customer.objects.get(pk=customer.pk), approved_by=approver)
        many = time.perf_counter() - t0
        print(f"erase one customer: {one * 1000:.1f} ms, {record.rows_erased} rows rewritten")
        print(f"erase {len(victims) - 1} more: {many:.2f} s "
              f"({many / max(1, len(victims) - 1) * 1000:.1f} ms each)")
        t0 = time.perf_counter()
        counts = erasures_replay(approved_by=approver)
        replay = time.perf_counter() - t0
    print(f"replay of {counts['entries']} ledger entries (nothing left): {replay:.2f} s, "
          f"{counts['rows']} rows rewritten; replay/erase ratio {replay / (one + many):.2f}")


if __name__ == "__main__":
    main()
