"""Where a key page's time goes (issue 19): in-process timings and a pyinstrument profile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/speed_scale .venv/bin/python bench/profile_pages.py
    ... bench/profile_pages.py --only caseload --only "my feed" --requests 40 --html /tmp/profiles

Unlike throughput.py (the portal from outside, under gunicorn), this runs the portal in
this process with the production settings (DEBUG off, the bench URLconf, the database
``DATABASE_URL`` names) and Django's test client, signed in as the personas of
``bench/personas/<database>.json`` (``force_login``: the sign-in itself is not measured;
the professionals' TOTP authenticator meets the MFA rule as in production). For each page
of throughput.PAGES (or --only NAME, repeatable, a part of the name):

1. --warmup requests, then --requests timed ones: median and p95 of the whole request
   through the middleware, the SQL queries of a request and their time (median), and
   the time spent rendering the page's template (median; the SQL a template runs
   itself, lazy querysets, is counted in both, and shown apart as "of it SQL"), and the
   CPU time of this process per request (median): the Python side's cost, which the
   load of a shared machine inflates much less than wall-clock times; and the CPU time
   of the PostgreSQL backend serving the connection (mean over the timed requests, from
   /proc: the server must run on this machine), so that "total" is what one request
   costs the machine's cores (--bare measures the bare view the same way first);
2. unless --no-profile, pyinstrument over --profile-requests more requests: the call
   tree, trimmed to the frames over --min-share of the time (text; --html DIR also
   writes one HTML file per page).

It writes into the base as the pages do (access log, record visits, read marks).
Requires pyinstrument (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
sys.path[:0] = [str(BENCH_DIR), str(BASE_DIR)]

import harness  # noqa: E402
from throughput import PAGES, Page  # noqa: E402

# The reference of throughput.py's shares: the same middleware, a signed-in check, a few bytes.
BARE = Page("bare view", "professional", "/bench/bare/")


def _settings(database_url: str, cache_url: str) -> None:
    for name in ("CELERY_BROKER_URL", "DEBUG", "TESTING", "DATABASE_CONN_MAX_AGE"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchsite.settings",
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", harness.BENCH_SECRET_KEY),
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database_url,
            "CACHE_URL": cache_url,
            "EMAIL_URL": "locmem://",
            "BENCH_QUERY_COUNT": "0",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            "VAR_DIR": os.environ.get("BENCH_VAR_DIR", str(BASE_DIR / "var" / "bench")),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH_DIR), str(BASE_DIR), os.environ.get("PYTHONPATH")])),
        }
    )
    harness.collectstatic(dict(os.environ))  # the production storage needs its manifest


class SqlTimer:
    """Counts the queries run through the connection and their time (and keeps them)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.statements: list[tuple[float, str]] = []
        self.template_seconds = 0.0
        self.template_sql_seconds = 0.0
        self.in_template = 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.count += 1
            self.seconds += elapsed
            if self.in_template:
                self.template_sql_seconds += elapsed
            self.statements.append((elapsed * 1000, sql))


_TIMER: SqlTimer | None = None


def _time_templates() -> None:
    """Wrap the Django backend's Template.render (the page's template as a view renders
    it; its includes and extends are inside) to add its time to the current SqlTimer."""
    from django.template.backends.django import Template

    original = Template.render

    def render(self, context=None, request=None):
        timer = _TIMER
        if timer is None:
            return original(self, context, request)
        timer.in_template += 1
        started = time.perf_counter()
        try:
            return original(self, context, request)
        finally:
            timer.in_template -= 1
            if not timer.in_template:
                timer.template_seconds += time.perf_counter() - started

    Template.render = render


def main() -> int:
    global _TIMER
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", harness.DEFAULT_CACHE_URL))
    parser.add_argument("--personas", help="personas file (default: bench/personas/<database>.json)")
    parser.add_argument("--only", action="append", default=[], help="pages whose name contains this (repeatable)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--profile-requests", type=int, default=20)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--min-share", type=float, default=0.02, help="hide frames under this share of the time")
    parser.add_argument("--html", help="also write each page's profile as HTML into this folder")
    parser.add_argument("--sql", action="store_true", help="print the statements of the median request")
    parser.add_argument("--show-all", action="store_true", help="do not fold the library frames of the profile")
    parser.add_argument("--bare", action="store_true", help="also measure the bare view (/bench/bare/), first")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        print("DATABASE_URL must name a seed_scale PostgreSQL base (bench/README.md).", file=sys.stderr)
        return 2
    personas, _file = harness.load_personas(args.personas, args.database_url)
    _settings(args.database_url, args.cache_url)

    import django

    django.setup()
    _time_templates()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    clients: dict[str, Client] = {}
    for key, email in personas["personas"].items():
        user = get_user_model().objects.filter(email=email).first()
        if user is None:
            print(f"persona {key}: no account {email} in this base, its pages are skipped", file=sys.stderr)
            continue
        client = Client(raise_request_exception=False)
        client.force_login(user)
        clients[key] = client
    values = {
        "heavy": personas["heavy_person"],
        "light": personas["light_person"],
        "today": datetime.date.today().isoformat(),
    }
    pages = [p for p in PAGES if not args.only or any(o.lower() in p.name.lower() for o in args.only)]
    if args.bare:
        pages.insert(0, BARE)
    if args.html:
        Path(args.html).mkdir(parents=True, exist_ok=True)
    rows = []
    for page in pages:
        if page.persona not in clients:
            continue
        client = clients[page.persona]
        path = None
        for candidate in (c.strip().format(**values) for c in page.path.split("|")):
            status = client.get(candidate).status_code
            if status != 404:
                path = candidate
                break
        if path is None:
            print(f"{page.name}: 404, does not exist yet")
            continue
        if status != 200:
            print(f"{page.name}: {path} answers {status}, skipped")
            continue
        for _ in range(args.warmup):
            client.get(path)
        times, cpu, counts, sql_ms, timers = [], [], [], [], []
        backend, backend_started = _backend_cpu(connection)
        for _ in range(args.requests):
            timer = _TIMER = SqlTimer()
            with connection.execute_wrapper(timer):
                started, cpu_started = time.perf_counter(), time.process_time()
                client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
            _TIMER = None
            counts.append(timer.count)
            sql_ms.append(timer.seconds * 1000)
            timers.append(timer)
        backend_after, backend_ended = _backend_cpu(connection)
        backend_ms = (backend_ended - backend_started) / args.requests if backend == backend_after else float("nan")
        row = (
            page.name,
            path,
            statistics.median(times),
            harness.percentile(times, 0.95),
            int(statistics.median(counts)),
            statistics.median(sql_ms),
            statistics.median(t.template_seconds * 1000 for t in timers),
            statistics.median(t.template_sql_seconds * 1000 for t in timers),
            statistics.median(cpu),
            backend_ms,
        )
        rows.append(row)
        print(
            f"\n=== {page.name} {path}: p50 {row[2]:.1f} ms, p95 {row[3]:.1f} ms, {row[4]} SQL, {row[5]:.1f} SQL ms,"
            f" template {row[6]:.1f} ms (of it SQL {row[7]:.1f} ms), this process's CPU {row[8]:.1f} ms,"
            f" PostgreSQL backend's CPU {row[9]:.1f} ms (mean)"
        )
        if args.sql:
            middle = sorted(range(len(times)), key=times.__getitem__)[len(times) // 2]
            for ms, sql in timers[middle].statements:
                print(f"  {ms:7.1f} ms  {sql[:300]}")
        if args.no_profile:
            continue
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.profile_requests):
            client.get(path)
        profiler.stop()
        text = profiler.output_text(unicode=True, color=False, show_all=args.show_all, short_mode=False)
        print(_trim(text, args.min_share))
        if args.html:
            name = re.sub(r"[^a-z0-9]+", "-", page.name.lower()).strip("-")
            (Path(args.html) / f"{name}.html").write_text(profiler.output_html(), encoding="utf-8")
    load = os.getloadavg()
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    header = f"{'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>4} {'SQL ms':>7} {'tpl ms':>7} {'tpl SQL':>7}"
    print(f"{header} {'CPU ms':>7} {'PG CPU':>7} {'total':>7}")
    for name, _path, p50, p95, count, sql, tpl, tpl_sql, cpu_ms, pg_ms in rows:
        print(
            f"{name:<32} {p50:8.1f} {p95:8.1f} {count:4d} {sql:7.1f} {tpl:7.1f} {tpl_sql:7.1f} {cpu_ms:7.1f}"
            f" {pg_ms:7.1f} {cpu_ms + pg_ms:7.1f}"
        )
    return 0


def _backend_cpu(connection) -> tuple[int | None, float]:
    """The PostgreSQL backend serving this process's connection (same machine) and its
    CPU time so far, ms (user + system, from /proc: 10 ms ticks, so only a mean over
    many requests means anything). (None, nan) when it cannot be read."""
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    except (OSError, IndexError, ValueError):
        return None, float("nan")
    return pid, ticks * 1000 / os.sysconf("SC_CLK_TCK")


def _trim(text: str, min_share: float) -> str:
    """Keep the profile's lines whose time is at least min_share of the total."""
    lines = text.splitlines()
    total = None
    kept = []
    for line in lines:
        match = re.match(r"^[\s│├└─]*([\d.]+) ", line)
        if match is None:
            kept.append(line)
            continue
        seconds = float(match.group(1))
        if total is None:
            total = seconds or 1.0
        if seconds / total >= min_share:
            kept.append(line)
    return "\n".join(kept)


if __name__ == "__main__":
    sys.exit(main())
