"""Signup under load on loopback: gunicorn + a bounded thread-pool client.

    .venv/bin/python bench/load_bench.py [--requests 200] [--concurrency 8] [--time-limit 120]

Creates a scratch PostgreSQL database (dropped afterwards; --database-url to use another),
migrates it, collects static files, starts gunicorn with production settings on 127.0.0.1 (plain
HTTP: HTTPS=0), and runs each scenario bounded in count and time. It prints throughput, latency
percentiles, the errors, and checks that the stored rows equal the successful responses.

Scenarios are functions in SCENARIOS taking (base_url, n) and returning (ok, status). They run
one after the other, then all of them at the same time ("mixed": signups and permission PUTs of
the mobile app API loaded together); after each run the stored rows are compared with the
successful responses (CHECKS).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.cookiejar
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
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


# The mobile app's side: a few customers with a token and a registered device each (set up once
# through the API itself), then each request reports all five permissions with a new state.
APP_CUSTOMERS = 4
APP_PASSWORD = "correct-horse-battery-9"
PERMISSIONS = ["camera", "internet", "contacts", "calls", "notifications"]
app_devices: list[tuple[str, int]] = []  # (token, device id)
changes_reported = Counter()  # number of permission changes the successful PUTs reported
_changes_lock = threading.Lock()


def _api(base_url: str, method: str, path: str, body: dict, token: str = "") -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{base_url}{path}", data=json.dumps(body).encode(),
                                     headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}


def app_setup(base_url: str) -> None:
    """Sign up APP_CUSTOMERS customers, get each a token and register one device."""
    for k in range(APP_CUSTOMERS):
        n = 9_000_000 + k
        ok, status = signup(base_url, n)
        assert ok, f"signup for the app scenario answered {status}"
        status, body = _api(base_url, "POST", "/api/v1/auth/token/",
                            {"email": f"load-{RUN_ID}-{n}@example.com", "password": APP_PASSWORD})
        assert status == 201, f"token: {status}"
        token = body["token"]
        status, body = _api(base_url, "POST", "/api/v1/devices/", {
            "install_id": f"load-{RUN_ID}-{k}", "platform": "android", "model": "Bench phone",
            "os_version": "14", "app_version": "2.3.1"}, token)
        assert status == 201, f"device: {status}"
        app_devices.append((token, body["id"]))


def permissions_put(base_url: str, n: int) -> tuple[bool, int]:
    """One app report: all five permissions of one device, alternating granted and denied."""
    token, device_id = app_devices[n % len(app_devices)]
    state = "granted" if (n // len(app_devices)) % 2 == 0 else "denied"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    body = {"permissions": {name: {"state": state, "observed_at": now, "source": "os_settings"}
                            for name in PERMISSIONS}}
    status, answer = _api(base_url, "PUT", f"/api/v1/devices/{device_id}/permissions/", body,
                          token)
    if status == 200:
        with _changes_lock:
            changes_reported["changed"] += len(answer.get("changed", []))
    return status == 200, status


SCENARIOS: dict[str, Callable[[str, int], tuple[bool, int]]] = {
    "signup": signup, "permissions": permissions_put,
}
# Rows each scenario's successes must have created (run with the benchmark's environment).
CHECKS = {
    "signup": (
        "from accounts.models import Customer; from consent.models import ConsentRecord; "
        f"print(Customer.objects.filter(user__email__startswith='load-{RUN_ID}-').count(), "
        f"ConsentRecord.objects.filter(customer__user__email__startswith='load-{RUN_ID}-')"
        ".count())"
    ),
    # Permission changes stored (history rows after the first report set) for the bench devices.
    "permissions": (
        "from devices.models import DevicePermission; "
        f"print(DevicePermission.history.filter(device__install_id__startswith='load-{RUN_ID}-')"
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
                 time_limit: float, offset: int = 0) -> tuple[int, Counter, list[float], float]:
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
        for success, status, elapsed in pool.map(one, range(offset, offset + total)):
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
        # one address makes every request: no lockout in the way of the app's token requests
        "AXES_FAILURE_LIMIT": str(10**9),
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
        app_setup(base_url)
        failed = False
        baseline = {name: [int(v) for v in manage(env, "shell", "-v", "0", "-c", CHECKS[name])
                           .split()] for name in SCENARIOS}
        rounds = [[name] for name in SCENARIOS] + [list(SCENARIOS)]
        for round_no, names in enumerate(rounds):
            label = " + ".join(names) + (" (at the same time)" if len(names) > 1 else "")
            changes_reported.clear()
            results: dict[str, tuple] = {}

            def run(name: str, offset: int, results: dict = results) -> None:
                results[name] = run_scenario(name, base_url, args.requests, args.concurrency,
                                             args.time_limit, offset=offset)

            threads = [threading.Thread(target=run, args=(name, 10_000 * (round_no + 1)))
                       for name in names]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            print(f"\n== {label}")
            for name in names:
                ok, statuses, latencies, wall = results[name]
                attempted = sum(v for k, v in statuses.items() if k != "skipped (time limit)")
                errors = attempted - ok
                stored = [int(v) for v in manage(env, "shell", "-v", "0", "-c", CHECKS[name])
                          .split()]
                delta = [now - before for now, before in zip(stored, baseline[name], strict=True)]
                baseline[name] = stored
                expected = ok if name == "signup" else changes_reported["changed"]
                quantiles = (statistics.quantiles(latencies, n=100) if len(latencies) > 1
                             else [0] * 99)
                print(f"   {name}: {attempted} requests in {wall:.1f} s "
                      f"({attempted / wall:.1f}/s), concurrency {args.concurrency}")
                print(f"     successes {ok}, errors {errors}, statuses {dict(statuses)}")
                slowest = max(latencies or [0])
                print(f"     latency p50 {quantiles[49] * 1000:.0f} ms, "
                      f"p95 {quantiles[94] * 1000:.0f} ms, max {slowest * 1000:.0f} ms")
                what = ("customers, consent records" if name == "signup"
                        else "permission changes in history")
                print(f"     stored ({what}): {delta}; expected from responses: {expected}")
                if errors or any(count != expected for count in delta):
                    failed = True
                    print("     FAILED: errors, or stored rows differ from successful responses")
                else:
                    print("     OK: zero errors; stored rows = successful responses")
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
