"""Benchmark the cost of purpose-bound access in the admin. Prints figures and ratios.

Run against PostgreSQL, on a database of its own (created and migrated if needed):

    createdb -h 127.0.0.1 -U postgres excelcrm_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/excelcrm_bench SECRET_KEY=bench \\
        .venv/bin/python bench/admin_bench.py [--customers 1000] [--repeat 30]

Measured in one run, on the same data:
1. the customer changelist, 100 rows per page, under an active purpose, with access logging on
   against the same page with logging switched off (goal ≤ 1.15×);
2. one admin save of a customer (``CustomerAdmin.save_model`` → ``customer_update``: history row
   with actor/purpose/reason, one access-log row, in one transaction) against a plain model save
   without history or log (goal ≤ 2.0×). The full HTTP round trip of the admin change form is
   printed too, for scale.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "excelcrm.settings")
os.environ.setdefault("HTTPS", "0")  # the test client speaks plain HTTP


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Return the wall times (ms) of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from bench.web import unhashed_static

    unhashed_static()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import Customer, User
    from accounts.services import customer_update
    from bench.web import verified_client
    from consent import access
    from consent.context import Channel, access_context
    from consent.models import AccessLog
    from consent.purposes import SUPPORT
    from security.locking import VERSION_FIELD

    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL; set DATABASE_URL to a PostgreSQL database", flush=True)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    existing = Customer.objects.filter(user__email__startswith="bench-customer-").count()
    if existing < args.customers:
        from accounts.services import customer_register
        from consent.selectors import policy_current

        policy = policy_current()
        with transaction.atomic(), access_context(actor=None, channel=Channel.COMMAND):
            for i in range(existing, args.customers):
                customer_register(
                    business_name=f"Công ty TNHH Thử nghiệm {i:05d}",
                    contact_person=f"Nguyễn Văn Thử {i}",
                    phone=f"+8491{i:07d}",
                    email=f"bench-customer-{i:05d}@example.com",
                    password="bench-password-2026",
                    language="vi",
                    policy_version=policy,
                    ip_address="127.0.0.1",
                    user_agent="bench",
                )

    from django.contrib.auth.models import Group

    email = "bench-support@excelcrm.example"
    with access_context(actor=None, channel=Channel.COMMAND, reason="benchmark"):
        staff = User.objects.filter(email=email).first() or User.objects.create_user(
            email, "bench-password-2026", is_staff=True
        )
    staff.groups.add(Group.objects.get(name=SUPPORT))

    client = verified_client(staff)
    response = client.post("/admin/purpose/", {"purpose": "customer_care", "reference": "BENCH"})
    assert response.status_code == 302, response.status_code
    assert not response.url.startswith(("/security/", "/admin/login/")), response.url

    @contextmanager
    def logging_off():
        original = access.access_record
        access.access_record = lambda **kwargs: 0
        try:
            yield
        finally:
            access.access_record = original

    def changelist() -> None:
        page = client.get("/admin/accounts/customer/")
        assert page.status_code == 200, page.status_code

    # Warm up caches, then interleave the two variants so drift hits both alike.
    for _ in range(3):
        changelist()
    on, off = [], []
    logged_before = AccessLog.objects.count()
    for _ in range(args.repeat):
        on += timed(changelist, 1)
        with logging_off():
            off += timed(changelist, 1)
    logged = AccessLog.objects.count() - logged_before
    assert logged == 100 * args.repeat, logged

    customer = Customer.objects.select_related("user").order_by("id").first()
    names = ["Nguyễn Văn Bench", "Trần Thị Bench"]
    counter = {"n": 0}

    def next_name() -> str:
        counter["n"] += 1
        return names[counter["n"] % 2]

    def plain_save() -> None:
        with transaction.atomic(), access_context(actor=staff, channel=Channel.ADMIN):
            customer.contact_person = next_name()
            customer.skip_history_when_saving = True
            try:
                customer.save()
            finally:
                del customer.skip_history_when_saving
            customer.remember_loaded_values()

    def admin_save() -> None:
        # What CustomerAdmin.save_model does inside the request's transaction and context.
        with (
            transaction.atomic(),
            access_context(
                actor=staff,
                channel=Channel.ADMIN,
                purpose="customer_care",
                reference="BENCH",
                reason="benchmark",
            ),
        ):
            customer.contact_person = next_name()
            customer_update(customer=customer)

    change_url = f"/admin/accounts/customer/{customer.pk}/change/"

    def edit_version() -> str:
        """What an editor's browser holds: the form's optimistic-lock token (not timed)."""
        html = client.get(change_url).content.decode()
        found = re.search(rf'name="{VERSION_FIELD}" value="([^"]+)"', html)
        assert found, "the change form has no optimistic-lock field"
        return found.group(1)

    def admin_post(version: str) -> None:
        customer.refresh_from_db()
        response = client.post(
            change_url,
            {
                "business_name": customer.business_name,
                "contact_person": next_name(),
                "phone": str(customer.phone),
                "email": customer.user.email,
                "change_reason": "benchmark",
                VERSION_FIELD: version,
            },
        )
        assert response.status_code == 302, response.status_code

    for fn in (plain_save, admin_save):
        fn()
    admin_post(edit_version())
    plain, saved, posted = [], [], []
    for _ in range(args.repeat * 3):
        plain += timed(plain_save, 1)
        saved += timed(admin_save, 1)
        version = edit_version()
        posted += timed(lambda version=version: admin_post(version), 1)

    def med(values: list[float]) -> float:
        return statistics.median(values)

    print(
        f"database: {connection.vendor}, customers: {Customer.objects.count()}, "
        f"repeat: {args.repeat}"
    )
    print(f"changelist 100 rows, purpose, logging on : {med(on):7.2f} ms (median)")
    print(f"changelist 100 rows, purpose, logging off: {med(off):7.2f} ms (median)")
    print(f"  ratio on/off: {med(on) / med(off):.3f}x  (goal <= 1.15x)")
    print(f"plain model save (no history, no log)    : {med(plain):7.2f} ms (median)")
    print(f"admin save (history + access log)        : {med(saved):7.2f} ms (median)")
    print(f"  ratio admin/plain: {med(saved) / med(plain):.3f}x  (goal <= 2.0x)")
    print(f"admin change form POST, full request     : {med(posted):7.2f} ms (median)")


if __name__ == "__main__":
    main()
