"""Signup under load on loopback: gunicorn + a bounded thread-pool client.

    .venv/bin/python bench/load_bench.py [--requests 200] [--concurrency 8] [--time-limit 120]

Creates a scratch PostgreSQL database (dropped afterwards; --database-url to use another),
migrates it, collects static files, starts gunicorn with production settings on 127.0.0.1 (plain
HTTP: HTTPS=0), and runs each scenario bounded in count and time. It prints throughput, latency
percentiles, the errors, and checks that the stored rows equal the successful responses.

Scenarios are functions in SCENARIOS taking (base_url, n) and returning (ok, status) — add the
mobile permission API here once it exists (issue 4): e.g. a scenario that signs a customer in via
the API token endpoint and toggles a permission, with a stored-row check in CHECKS.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.cookiejar
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RUN_ID = secrets.token_hex(3)
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
POLICY_RE = re.compile(r'name="policy_version" value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
    )


def signup(base_url: str, n: int) -> tuple[bool, int]:
    """One visitor: load the signup page, then post a valid signup. Success = 302."""
    opener = _opener()
    page = opener.open(f"{base_url}/signup/", timeout=30).read().decode()
    data = {
        "csrfmiddlewaretoken": CSRF_RE.search(page).group(1),
        "policy_version": POLICY_RE.search(page).group(1),
        "business_name": f"Công ty Tải thử {RUN_ID} {n}",
        "contact_person": "Nguyễn Văn Tải",
        "phone": f"+8491{n % 10_000_000:07d}",
        "email": f"load-{RUN_ID}-{n}@example.com",
        "password1": "correct-horse-battery-9",
        "password2": "correct-horse-battery-9",
        "accept_policy": "on",
    }
    request = urllib.request.Request(
        f"{base_url}/signup/", data=urllib.parse.urlencode(data).encode(),
        headers={"Referer": f"{base_url}/signup/"},
    )
    try:
        response = opener.open(request, timeout=30)
        return False, response.status  # 200 = a form error: counts as an error here
    except urllib.error.HTTPError as error:
        return error.code == 302, error.code


SCENARIOS: dict[str, Callable[[str, int], tuple[bool, int]]] = {"signup": signup}
# Rows each scenario's successes must have created (run with the benchmark's environment).
CHECKS = {
    "signup": (
        "from accounts.models import Customer; from consent.models import ConsentRecord; "
        f"print(Customer.objects.filter(user__email__startswith='load-{RUN_ID}-').count(), "
        f"ConsentRecord.objects.filter(customer__user__email__startswith='load-{RUN_ID}-')"
        ".count())"
    ),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def run_scenario(name: str, base_url: str, total: int, concurrency: int,
                 time_limit: float) -> tuple[int, Counter, list[float], float]:
    func = SCENARIOS[name]
    latencies: list[float] = []
    statuses: Counter = Counter()
    ok = 0
    deadline = time.monotonic() + time_limit
    started = time.monotonic()

    def one(n: int) -> tuple[bool, int, float]:
        if time.monotonic() > deadline:
            return False, -1, 0.0  # not attempted: over the time limit
        t0 = time.monotonic()
        try:
            success, status = func(base_url, n)
        except Exception as error:  # noqa: BLE001 - every failure is counted
            success, status = False, f"{type(error).__name__}"
        return success, status, time.monotonic() - t0

    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        for success, status, elapsed in pool.map(one, range(total)):
            if status == -1:
                statuses["skipped (time limit)"] += 1
                continue
            statuses[status] += 1
            latencies.append(elapsed)
            ok += success
    return ok, statuses, latencies, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    scratch = f"excelcrm_loadbench_{RUN_ID}"
    database_url = args.database_url or f"postgres://postgres@127.0.0.1:5432/{scratch}"
    if not args.database_url:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", scratch], check=True)
    port = free_port()
    env = {
        **os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "HTTPS": "0",
        "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "127.0.0.1",
        "RATE_LIMIT_SIGNUP": str(10**9), "LOG_LEVEL": "WARNING",
    }
    server = None
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        server = subprocess.Popen(
            [str(Path(PYTHON).with_name("gunicorn")), "excelcrm.wsgi", "--bind",
             f"127.0.0.1:{port}", "--workers", str(args.workers), "--access-logfile", "-",
             "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        base_url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base_url}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        print(f"gunicorn: {args.workers} workers on {base_url}; database {database_url}")
        failed = False
        for name in SCENARIOS:
            ok, statuses, latencies, wall = run_scenario(
                name, base_url, args.requests, args.concurrency, args.time_limit
            )
            attempted = sum(v for k, v in statuses.items() if k != "skipped (time limit)")
            errors = attempted - ok
            stored = manage(env, "shell", "-v", "0", "-c", CHECKS[name]).split()
            quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
            print(f"\n== {name}: {attempted} requests in {wall:.1f} s "
                  f"({attempted / wall:.1f}/s), concurrency {args.concurrency}")
            print(f"   successes {ok}, errors {errors}, statuses {dict(statuses)}")
            print(f"   latency p50 {quantiles[49] * 1000:.0f} ms, "
                  f"p95 {quantiles[94] * 1000:.0f} ms, max {max(latencies or [0]) * 1000:.0f} ms")
            print(f"   stored (customers, consent records): {stored}; successes: {ok}")
            if errors or any(int(count) != ok for count in stored):
                failed = True
                print("   FAILED: errors, or stored rows differ from successful responses")
            else:
                print("   OK: zero errors; stored rows = successful responses")
        return 1 if failed else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.database_url:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists",
                            scratch], check=False)


if __name__ == "__main__":
    sys.exit(main())
