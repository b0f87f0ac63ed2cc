#!/usr/bin/env python3
"""Benchmark: the permission PUT (unchanged and changed states) against a bare one-SELECT view.

Runs gunicorn (sync workers) on loopback with bench.settings and drives it with wrk, bounded in
time: every scenario runs for --seconds, in --rounds interleaved rounds, against the same server
and workers. Prints requests/s, errors and p99 latency per scenario and the ratio of each PUT to
the baseline (goal: >= 0.7, zero errors). Three reference scenarios, not subject to the goal, show
the floor under any implementation of the PUT (bench/urls.py), each one statement: its hot-path
query alone; that query writing the self-access row every API call writes (all an unchanged
report must do); and that plus the changed permission and its history row (all a changed report
must do).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/excelcrm_bench .venv/bin/python \
        bench/devices_bench.py [--seconds 10] [--rounds 2] [--workers 2] [--connections 8] \
        [--pg-setting NAME=VALUE ...]

``--pg-setting`` (repeatable) runs every connection of the run with a PostgreSQL setting
(``ALTER DATABASE … SET``, reset at the end), e.g. ``synchronous_commit=off``: an experiment for
the goal's discussion (README), not a setting of the portal.

Needs PostgreSQL (the database is created and migrated if missing), gunicorn and wrk
(apt-get install -y wrk).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/excelcrm_issue4_bench"
DEVICES = 64
NAMES = ["camera", "internet", "contacts", "calls", "notifications"]

FLOOR = "floor: read only"
FLOOR_LOGGED = "floor: + access row"
FLOOR_CHANGED = "floor: + change"
PUT_PATH = '"/api/v1/devices/" .. id .. "/permissions/"'

LUA_COMMON = """
local ids = {%(ids)s}
local n = #ids
local counter = 0
local token = "%(token)s"
"""

LUA_BARE = (
    LUA_COMMON
    + """
request = function()
  counter = counter + 1
  return wrk.format("GET", "/bench/select/" .. ids[(counter %% n) + 1] .. "/")
end
"""
)

LUA_PUT = (
    LUA_COMMON
    + """
local names = {"camera", "internet", "contacts", "calls", "notifications"}
local changing = %(changing)s
local fixed_at = "%(fixed_at)s"
request = function()
  counter = counter + 1
  local id = ids[(counter %% n) + 1]
  local camera = "granted"
  local at = fixed_at
  if changing then
    -- Each visit to a device flips its camera permission: a real change every request.
    if math.floor(counter / n) %% 2 == 0 then camera = "denied" end
    at = os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ")
  end
  local parts = {}
  for _, name in ipairs(names) do
    local state = "granted"
    if name == "camera" then state = camera end
    local src = "app_prompt"
    if changing then src = "os_settings" end
    parts[#parts + 1] = string.format(
      '"%%s": {"state": "%%s", "observed_at": "%%s", "source": "%%s"}', name, state, at, src)
  end
  local body = '{"permissions": {' .. table.concat(parts, ", ") .. '}}'
  return wrk.format("PUT", "/api/v1/devices/" .. id .. "/permissions/", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end
"""
)


def setup_database(database_url: str) -> tuple[str, list[int], str]:
    """Create, migrate and seed the benchmark database; return (token, device ids, seeded at)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "b" * 40)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    name = database_url.rsplit("/", 1)[1]
    exists = subprocess.run(
        [
            "psql",
            database_url.rsplit("/", 1)[0] + "/postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(
            [
                "psql",
                database_url.rsplit("/", 1)[0] + "/postgres",
                "-c",
                f'CREATE DATABASE "{name}"',
            ],
            check=True,
            capture_output=True,
        )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from accounts.models import Customer
    from accounts.services import customer_register
    from consent.context import Channel, access_context
    from consent.selectors import policy_current
    from devices.services import (
        PermissionReport,
        api_token_create,
        device_permissions_report,
        device_register,
    )

    email = "bench-device-owner@example.com"
    with access_context(actor=None, channel=Channel.COMMAND):
        customer = Customer.objects.filter(user__email=email).select_related("user").first()
        if customer is None:
            customer = customer_register(
                business_name="Bench Co",
                contact_person="Bench Owner",
                phone="+84911111111",
                email=email,
                password="bench-Passw0rd!",
                language="vi",
                policy_version=policy_current(),
                ip_address=None,
                user_agent="bench",
            )
    seeded = timezone.now().replace(microsecond=0)
    ids = []
    with access_context(actor=customer.user, channel=Channel.API):
        token, _row = api_token_create(user=customer.user, name="bench")
        for i in range(DEVICES):
            device, _created = device_register(
                customer=customer,
                install_id=f"bench-{i:04d}",
                platform="android",
                model="Bench Phone",
                os_version="14",
                app_version="1.0",
            )
            device = type(device).objects.prefetch_related("permissions").get(pk=device.pk)
            report = PermissionReport(state="granted", observed_at=seeded, source="app_prompt")
            device_permissions_report(device=device, reports={n: report for n in NAMES})
            ids.append(device.pk)
    return token, ids, seeded.isoformat().replace("+00:00", "Z")


def parse_pg_setting(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not re.fullmatch(r"[a-z_]+", name) or not re.fullmatch(r"[\w.]+", value):
        sys.exit(f"--pg-setting wants NAME=VALUE (e.g. synchronous_commit=off), not {item!r}")
    return name, value


def database_settings(settings: list[tuple[str, str | None]]) -> None:
    """Set (or, with None, reset) PostgreSQL settings for new connections to this database.

    The server's workers connect after this: every connection of the run has them. Names and
    values are checked by ``parse_pg_setting`` (identifiers and plain words only).
    """
    from django.db import connection

    with connection.cursor() as cursor:
        name_of_database = connection.settings_dict["NAME"]
        for name, value in settings:
            action = f"RESET {name}" if value is None else f"SET {name} = '{value}'"
            cursor.execute(f'ALTER DATABASE "{name_of_database}" {action}')


def to_ms(value: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        return float("nan")  # wrk prints no figure when a scenario got no answer in time
    number, unit = float(match.group(1)), match.group(2)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, script: str, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        output = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "--latency",
                "-s",
                handle.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(handle.name)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(g) for g in socket.groups()) if socket else 0
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        # Anchored: the "+/- Stdev" column of the thread stats also ends in "...50%".
        "p50": to_ms(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1)),
        "p99": to_ms(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1)),
        "errors": errors,
        "requests": requests,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--pg-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for this run's connections (ALTER DATABASE … SET, reset at the "
        "end), e.g. synchronous_commit=off or commit_delay=200: experiments, not portal settings",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    if not database_url.startswith("postgres"):
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    pg_settings = [parse_pg_setting(item) for item in args.pg_setting]
    token, ids, seeded_at = setup_database(database_url)
    database_settings(pg_settings)
    try:
        results = run_scenarios(args, database_url, token, ids, seeded_at)
    finally:
        database_settings([(name, None) for name, _value in pg_settings])
    return report(args, results, pg_settings)


def run_scenarios(
    args: argparse.Namespace, database_url: str, token: str, ids: list[int], seeded_at: str
) -> dict[str, list[dict[str, float]]]:
    """Start gunicorn, warm it up, run every scenario in interleaved rounds, stop it."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "DATABASE_URL": database_url}
    gunicorn = ROOT / ".venv/bin/gunicorn"
    server = subprocess.Popen(
        [
            str(gunicorn) if gunicorn.exists() else "gunicorn",
            "excelcrm.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/bench/select/{ids[0]}/", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            sys.exit("gunicorn did not start")
        values = {"ids": ", ".join(map(str, ids)), "token": token, "fixed_at": seeded_at}
        unchanged = LUA_PUT % {**values, "changing": "false"}
        changed = LUA_PUT % {**values, "changing": "true"}
        scenarios = {
            "bare SELECT view": LUA_BARE % values,
            "PUT unchanged": unchanged,
            "PUT changed": changed,
            # References, not subject to the goal (bench/urls.py): a PUT's unavoidable work.
            FLOOR: unchanged.replace(PUT_PATH, '"/bench/floor/" .. id .. "/"'),
            FLOOR_LOGGED: unchanged.replace(PUT_PATH, '"/bench/floor-logged/" .. id .. "/"'),
            FLOOR_CHANGED: changed.replace(PUT_PATH, '"/bench/floor-changed/" .. id .. "/"'),
        }
        # Warm up the workers (connections, imports) before measuring.
        for script in scenarios.values():
            run_wrk(base, script, 2, args.connections)
        results: dict[str, list[dict[str, float]]] = {name: [] for name in scenarios}
        for _round in range(args.rounds):
            for name, script in scenarios.items():
                results[name].append(run_wrk(base, script, args.seconds, args.connections))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return results


def report(
    args: argparse.Namespace,
    results: dict[str, list[dict[str, float]]],
    pg_settings: list[tuple[str, str]],
) -> int:
    """Print the figures; return 0 when each PUT's ratio is >= 0.7 with zero errors."""

    print(
        f"gunicorn sync workers={args.workers}, wrk 1 thread x {args.connections} connections, "
        f"{args.rounds} interleaved rounds x {args.seconds}s per scenario, PostgreSQL"
        + "".join(f", {name}={value}" for name, value in pg_settings)
    )
    print(
        f"{'scenario':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'requests':>9} {'ratio':>6} {'per round':>11}"
    )
    bare_runs = results["bare SELECT view"]
    baseline = sum(r["rps"] for r in bare_runs) / args.rounds
    ok = True
    for name, runs in results.items():
        rps = sum(r["rps"] for r in runs) / len(runs)
        p50 = sum(r["p50"] for r in runs) / len(runs)
        p99 = max(r["p99"] for r in runs)
        errors = sum(int(r["errors"]) for r in runs)
        requests = sum(int(r["requests"]) for r in runs)
        ratio = rps / baseline
        # Each round's ratio to the bare view of the same round (measured minutes apart at most).
        rounds = [run["rps"] / bare["rps"] for run, bare in zip(runs, bare_runs, strict=True)]
        print(
            f"{name:<20} {rps:>9.1f} {p50:>8.2f} {p99:>8.2f} {errors:>7d} {requests:>9d} "
            f"{ratio:>6.2f} {min(rounds):>5.2f}-{max(rounds):.2f}"
        )
        goal = name.startswith("PUT")
        ok = ok and errors == 0 and (not goal or ratio >= 0.7)
    print("goal (each PUT >= 0.7x the bare view, zero errors):", "met" if ok else "NOT met")
    print(
        f"{FLOOR}: body + the hot-path query, no write; {FLOOR_LOGGED}: that query writing the"
        f" self-access row every API call writes; {FLOOR_CHANGED}: that plus the changed"
        " permission and its history row; each one statement in autocommit, no validation,"
        " comparison or response."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
