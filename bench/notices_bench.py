"""Benchmark: one send_renewal_notices run over N due licences (default 100,000), locmem backend.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/excelcrm_bench SECRET_KEY=x \
        .venv/bin/python bench/notices_bench.py [--licences 100000]

Creates the database tables (migrate), fills N customers with one licence each expiring in 7
days (bulk inserts, outside the services: this is set-up, not the thing measured), then times
``renewal_notices_send`` and prints the rate, the access-log rows written and a second run
(which must send nothing). Leaves the data in place; ``--reset`` deletes it first.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "excelcrm.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "b" * 40)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--licences", type=int, default=100_000)
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    mail.outbox = []
    call_command("migrate", verbosity=0)

    from accounts.models import Customer, User
    from consent.context import Channel, access_context
    from consent.history import bulk_create_tracked
    from consent.models import AccessLog
    from licensing.models import Licence, Plan
    from notices.models import Notice
    from notices.services import renewal_notices_send

    if args.reset:
        Notice.objects.all().delete()
        Licence.history.all().delete()
        Licence.objects.all().delete()
    plan, _ = Plan.objects.get_or_create(name="Bench", defaults={"duration_days": 365, "seats": 5})
    today = timezone.localdate()
    expires = today + datetime.timedelta(days=7)
    have = Licence.objects.filter(plan=plan, expires_on=expires).count()
    need = args.licences - have
    t0 = time.perf_counter()
    if need > 0:
        start = User.objects.count()
        batch = 5000
        # Through the tracked path (history rows with the context): plain bulk_create raises
        # on personal-data models.
        with access_context(actor=None, channel=Channel.COMMAND, reason="bench set-up"):
            for offset in range(0, need, batch):
                n = min(batch, need - offset)
                users = bulk_create_tracked(
                    [
                        User(email=f"bench{start + offset + i}@example.com",
                             password="!", language="en" if i % 3 == 0 else "vi")
                        for i in range(n)
                    ]
                )
                customers = bulk_create_tracked(
                    [
                        Customer(user=u, business_name=f"Công ty {u.pk}",
                                 contact_person="Nguyễn Văn A", phone="+84912345678")
                        for u in users
                    ]
                )
                bulk_create_tracked(
                    [
                        Licence(customer=c, plan=plan, seats=5, expires_on=expires,
                                starts_on=expires - datetime.timedelta(days=364))
                        for c in customers
                    ]
                )
        print(f"set-up: {need} customers and licences in {time.perf_counter() - t0:.1f} s")
    Notice.objects.filter(licence__plan=plan).delete()
    logs_before = AccessLog.objects.filter(action="notify").count()
    load0 = f"{os.getloadavg()[0]:.1f}"

    t0, cpu0 = time.perf_counter(), time.process_time()
    if args.workers > 1:
        from notices.parallel import send_in_parallel

        summary = send_in_parallel(windows=[30, 7, 1], workers=args.workers, progress=True)
    else:
        summary = renewal_notices_send(windows=[30, 7, 1], progress=True)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    logs = AccessLog.objects.filter(action="notify").count() - logs_before
    print(
        f"{connection.vendor}: sent {summary.sent} (failed {summary.failed}, skipped"
        f" {summary.skipped}) in {elapsed:.1f} s = {summary.sent / elapsed:,.0f} notices/s;"
        f" access-log rows {logs}; outbox {len(mail.outbox)}"
    )
    print(f"budget: 100,000 in 120 s needs 834/s; ratio {summary.sent / elapsed / 834:.2f}x;"
          f" workers {args.workers}; main-process CPU {cpu:.1f} s;"
          f" load average before/after {load0} / {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    again = renewal_notices_send(windows=[30, 7, 1], progress=False)
    print(f"second run: sent {again.sent}, skipped {again.skipped} in"
          f" {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
