"""Benchmark (issue 19): each key page's latency and throughput against a bare view's.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_scale .venv/bin/python bench/throughput.py

Starts the portal under gunicorn with the production settings (DEBUG=0, a secret key,
ALLOWED_HOSTS=127.0.0.1, no SSL redirect, persistent database connections, the Redis
cache at --cache-url) and the bench URLconf (bench/benchsite: the portal's URLs plus
``/bench/bare/``, a view that only checks the session through the same middleware). It
signs the personas in over HTTP (a professional with TOTP, persons with a portal
account: bench/personas/<database>.json), then for each page of PAGES:

1. checks that it answers 200 (a page that answers 404 does not exist yet: skipped);
2. latency, single client: --warmup requests, then --requests timed ones (p50, p95),
   with the SQL queries of a request and their time from the bench middleware
   (``X-Bench-Queries``, ``X-Bench-SQL-ms``; --no-query-count turns it off);
3. throughput with wrk, --connections connections for --duration seconds: first the
   bare view with the same persona's session, right after it the page, then the bare
   view again (--no-bracket: not); the page's share is its requests/s divided by the
   mean of its bare samples, whose spread shows whether the machine's speed changed
   meanwhile (--rounds R: R bare/page pairs, the page's median kept).

Then it prints a table with the verdicts (share >= 0.30, p50 < 50 ms, p95 < 150 ms) and
the machine's state (load average, CPU steal and busy time from /proc/stat,
PostgreSQL). It stops gunicorn (by pid) on exit, Ctrl-C included. Needs wrk:
``apt-get install -y wrk`` (Debian).

Exit status: 0 when every measured page meets the targets, 1 otherwise, 2 on a set-up
error.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import harness

TARGET_SHARE = 0.30
TARGET_P50_MS = 50.0
TARGET_P95_MS = 150.0


@dataclass(frozen=True)
class Page:
    name: str
    persona: str  # a key of "personas" in the personas file
    path: str  # {heavy}, {light}, {today} are filled in; "a | b": the first that is not 404


# The key pages. A new page (FHIR search, admission…) is one more line; a page that answers
# 404 is reported as "does not exist yet" and skipped.
PAGES = [
    Page("caseload", "professional", "/coordination/personnes/ | /coordination/"),
    Page("person overview, heavy", "professional", "/coordination/personnes/{heavy}/"),
    Page("person overview, light", "professional", "/coordination/personnes/{light}/"),
    Page("notebook p1, heavy", "professional", "/liaison/personnes/{heavy}/"),
    Page("notebook p1, light", "professional", "/liaison/personnes/{light}/"),
    Page("my feed", "professional", "/liaison/"),
    Page("agenda life-line, heavy", "professional", "/agenda/personnes/{heavy}/"),
    Page("agenda week, heavy", "professional", "/agenda/personnes/{heavy}/?vue=semaine&date={today}"),
    Page("PPA, heavy", "professional", "/ppa/personnes/{heavy}/"),
    Page("API persons list", "professional", "/api/coordination/persons/"),
    Page("notification centre", "professional", "/notifications/"),
    Page("dashboard", "professional", "/pro/"),
    Page("user portal home, heavy", "person_heavy", "/mon-espace/"),
    Page("user portal home, light", "person_light", "/mon-espace/"),
    Page("FHIR Patient search", "professional", "/fhir/Patient?_count=20"),
    Page("FHIR DocumentReference, heavy", "professional", "/fhir/DocumentReference?patient={heavy}"),
    Page("admission requests", "professional", "/admission/"),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_scale"),
        help="a seed_scale database (default: $DATABASE_URL, else portal_scale)",
    )
    parser.add_argument("--cache-url", default=harness.DEFAULT_CACHE_URL)
    parser.add_argument("--personas", help="personas file (default bench/personas/<database>.json)")
    parser.add_argument("--port", type=int, default=harness.DEFAULT_PORT)
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--requests", type=int, default=50, help="timed single-client requests per page")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk sample (bare, then page)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="bare/page wrk pairs per page (the page's median is kept)"
    )
    parser.add_argument(
        "--no-bracket", action="store_true", help="no bare sample after the page's (only the one right before)"
    )
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (1 leaves the CPU to the portal)")
    parser.add_argument("--only", action="append", default=[], help="pages whose name contains this (repeatable)")
    parser.add_argument("--no-query-count", action="store_true", help="no bench middleware (no SQL columns)")
    parser.add_argument("--no-wrk", action="store_true", help="latency only")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args()


def fill(path: str, personas: dict) -> list[str]:
    values = {
        "heavy": personas["heavy_person"],
        "light": personas["light_person"],
        "today": datetime.date.today().isoformat(),
    }
    return [alternative.strip().format(**values) for alternative in path.split("|")]


def run_wrk(url: str, cookie: str, args) -> dict:
    lua = harness.BENCH_DIR / "wrk_session.lua"
    command = [
        "wrk",
        f"-t{args.wrk_threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "30s",
        "-s",
        str(lua),
        url,
    ]
    env = {**os.environ, "BENCH_COOKIE": cookie}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    try:
        out, err = process.communicate(timeout=args.duration + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON ") :])
            data["rps"] = data["requests"] / (data["duration_us"] / 1e6) if data["duration_us"] else 0.0
            data["errors"] = data["not_200"] + data["connect"] + data["read"] + data["write"] + data["timeout"]
            return data
    raise RuntimeError(f"wrk printed no summary: {out}\n{err}")


def throughput(cookie: str, path: str, args) -> dict:
    """wrk on the bare view right before the page; with --rounds R: bare, page R times, then a
    last bare sample (bracketed), the share taken against the mean of the bare samples."""
    base = f"http://{harness.HOST}:{args.port}"
    bares, pages = [], []
    for _ in range(args.rounds):
        bares.append(run_wrk(f"{base}/bench/bare/", cookie, args))
        pages.append(run_wrk(f"{base}{path}", cookie, args))
    if not args.no_bracket:
        bares.append(run_wrk(f"{base}/bench/bare/", cookie, args))
    bare_rps = [b["rps"] for b in bares]
    page_rps = harness.median([p["rps"] for p in pages]) if len(pages) > 1 else pages[0]["rps"]
    mean_bare = sum(bare_rps) / len(bare_rps)
    row = {
        "bare_rps": mean_bare,
        "bare_samples": bare_rps,
        "bare_spread": (max(bare_rps) - min(bare_rps)) / mean_bare if mean_bare else None,
        "rps": page_rps,
        "page_samples": [p["rps"] for p in pages],
        "share": page_rps / mean_bare if mean_bare else None,
        "wrk_p50_ms": pages[-1]["p50_us"] / 1000,
        "wrk_p95_ms": pages[-1]["p95_us"] / 1000,
        "bare_p50_ms": bares[0]["p50_us"] / 1000,
    }
    page_errors, bare_errors = sum(p["errors"] for p in pages), sum(b["errors"] for b in bares)
    if page_errors or bare_errors:
        row["note"] = f"{page_errors} page / {bare_errors} bare answers not 200 under wrk"
    return row


def measure_latency(client: harness.Http, path: str, args) -> dict:
    for _ in range(args.warmup):
        client.get(path)
    times, queries, sql_ms, slowest, sizes, statuses = [], [], [], [], [], set()
    for _ in range(args.requests):
        response = client.get(path)
        times.append(response.elapsed_ms)
        statuses.add(response.status)
        sizes.append(len(response.body))
        if "x-bench-queries" in response.headers:
            queries.append(int(response.headers["x-bench-queries"]))
            sql_ms.append(float(response.headers["x-bench-sql-ms"]))
            slowest.append((float(response.headers["x-bench-sql-slowest-ms"]), response.headers["x-bench-sql-slowest"]))
    return {
        "p50_ms": harness.median(times),
        "p95_ms": harness.percentile(times, 0.95),
        "min_ms": min(times),
        "queries": sorted(set(queries)),
        "sql_ms": harness.median(sql_ms) if sql_ms else None,
        # The slowest query of the median request (by its slowest query's time).
        "slowest_sql": sorted(slowest)[len(slowest) // 2] if slowest else None,
        "bytes": int(harness.median(sizes)),
        "statuses": sorted(statuses),
    }


def verdict(row: dict) -> str:
    misses = []
    if row.get("share") is not None and row["share"] < TARGET_SHARE:
        misses.append("share")
    if row["p50_ms"] >= TARGET_P50_MS:
        misses.append("p50")
    if row["p95_ms"] >= TARGET_P95_MS:
        misses.append("p95")
    return "OK" if not misses else "missed: " + ", ".join(misses)


def print_table(rows: list[dict], skipped: list[tuple[str, str]]) -> None:
    header = (
        f"{'page':32} {'p50 ms':>7} {'p95 ms':>7} {'SQL':>4} {'SQL ms':>6} {'req/s':>7} "
        f"{'bare/s':>7} {'±bare':>6} {'share':>6}  verdict"
    )
    print()
    print(header)
    print("-" * len(header))
    for row in rows:
        queries = "/".join(str(q) for q in row["queries"]) or "-"
        sql = f"{row['sql_ms']:.1f}" if row.get("sql_ms") is not None else "-"
        rps = f"{row['rps']:.1f}" if row.get("rps") is not None else "-"
        bare = f"{row['bare_rps']:.1f}" if row.get("bare_rps") is not None else "-"
        share = f"{row['share']:.3f}" if row.get("share") is not None else "-"
        spread = f"{row['bare_spread']:.0%}" if row.get("bare_spread") is not None else "-"
        print(
            f"{row['name']:32} {row['p50_ms']:7.1f} {row['p95_ms']:7.1f} {queries:>4} {sql:>6} {rps:>7} "
            f"{bare:>7} {spread:>6} {share:>6}  {row['verdict']}"
        )
    for name, reason in skipped:
        print(f"{name:32} skipped: {reason}")
    slow = [row for row in rows if row.get("slowest_sql")]
    if slow:
        print("\nslowest query of a median request, per page (ms, SQL without parameters):")
        for row in slow:
            ms, sql = row["slowest_sql"]
            print(f"  {row['name']:30} {ms:7.1f}  {sql[:150]}")


def main() -> int:
    args = parse_args()
    harness.stop_on_signals()
    if not args.no_wrk and shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk (Debian), or run with --no-wrk.", file=sys.stderr)
        return 2
    personas, personas_file = harness.load_personas(args.personas, args.database_url)
    env = harness.server_env(args.database_url, args.cache_url, query_count=not args.no_query_count)
    run_dir = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    server = harness.Server(
        env=env,
        port=args.port,
        worker_class=args.worker_class,
        workers=args.workers,
        threads=args.threads,
        log_path=run_dir / "gunicorn.log",
    )
    machine = harness.machine_description(args.database_url)
    started_at = datetime.datetime.now().astimezone()
    print(f"throughput.py — {started_at:%Y-%m-%d %H:%M %Z}, commit {machine['commit']}")
    print(
        f"machine: {machine['cpus']} × {machine['cpu']}, {machine['ram_gib']} GiB RAM; "
        f"PostgreSQL {machine.get('postgresql')} (shared_buffers {machine.get('shared_buffers', '?')}), "
        f"database {harness.database_name(args.database_url)} ({machine.get('database_size', '?')})"
    )
    print(f"server: {server.describe()}, DEBUG=0, cache {args.cache_url}; personas {personas_file}")
    print(
        f"method: {args.warmup} warm-up + {args.requests} single-client requests per page; wrk "
        f"{args.connections} connections × {args.duration} s: bare view, then the page"
        + (f" ({args.rounds} rounds)" if args.rounds > 1 else "")
        + ("" if args.no_bracket else ", then the bare view again")
    )
    print(f"load average at start: {harness.load_average()}")
    rows: list[dict] = []
    skipped: list[tuple[str, str]] = []
    try:
        harness.collectstatic(env)
        server.start()
        print(f"gunicorn pid {server.process.pid}, log {server.log_path}")
        clients: dict[str, harness.Http] = {}
        for role, email in personas["personas"].items():
            if not any(page.persona == role for page in PAGES):
                continue
            client = harness.Http(args.port)
            secret = personas.get("totp_secret") if role == "professional" else None
            harness.sign_in(client, email, personas["password"], secret)
            clients[role] = client
            print(f"signed in: {role} = {email}")
        bare_client = next(iter(clients.values()))
        bare_latency = measure_latency(bare_client, "/bench/bare/", args)["p50_ms"]
        cpu_before = harness.cpu_times()
        loads = [harness.load_average()]
        for page in PAGES:
            if args.only and not any(word.lower() in page.name.lower() for word in args.only):
                continue
            client = clients.get(page.persona)
            if client is None:
                skipped.append((page.name, f"no persona {page.persona!r} in {personas_file.name}"))
                continue
            path, first = None, None
            for candidate in fill(page.path, personas):
                first = client.get(candidate)
                if first.status != 404:
                    path = candidate
                    break
            if path is None:
                skipped.append((page.name, f"{fill(page.path, personas)[-1]} answers 404 (does not exist yet)"))
                print(f"{page.name}: 404, skipped (does not exist yet)")
                continue
            if first.status != 200:
                skipped.append((page.name, f"{path} answers {first.status} {first.location}".strip()))
                print(f"{page.name}: {path} answered {first.status} {first.location}, skipped")
                continue
            row = {"name": page.name, "path": path, "persona": page.persona}
            row.update(measure_latency(client, path, args))
            if not args.no_wrk:
                row.update(throughput(client.cookie_header(), path, args))
            row["verdict"] = verdict(row) + (f" ({row['note']})" if row.get("note") else "")
            rows.append(row)
            loads.append(harness.load_average())
            print(
                f"{page.name} ({path}): p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms"
                + (
                    f", {row['rps']:.1f} req/s vs bare {row['bare_rps']:.1f} (share {row['share']:.3f})"
                    if "rps" in row
                    else ""
                )
                + f"  [load {loads[-1]}]",
                flush=True,
            )
        cpu_after = harness.cpu_times()
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except harness.SignInError as error:
        print(f"sign-in failed: {error}", file=sys.stderr)
        return 2
    finally:
        server.stop()
    steal = harness.steal_share(cpu_before, cpu_after)
    busy = harness.busy_share(cpu_before, cpu_after)
    print_table(rows, skipped)
    bare_rates = [row["bare_rps"] for row in rows if row.get("bare_rps")]
    print()
    if bare_rates:
        print(
            f"bare view under wrk: {min(bare_rates):.0f}–{max(bare_rates):.0f} req/s over the run's samples "
            f"(median {harness.median(bare_rates):.0f}); single-client bare p50 {bare_latency:.1f} ms"
        )
    print(
        f"machine during the run: load average {loads[0]} → {harness.load_average()}, "
        f"CPU steal {steal:.1%}, CPU busy {busy:.1%} (both cores, /proc/stat)"
    )
    print("targets: share of the bare view's req/s >= 0.30, p50 < 50 ms, p95 < 150 ms (single client)")
    print(
        "±bare: spread of the page's bare samples (max - min) / mean; over about 25 % the machine's "
        "speed changed during the page's samples and its share is uncertain"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "started_at": started_at.isoformat(),
                    "machine": machine,
                    "server": server.describe(),
                    "args": vars(args),
                    "steal": steal,
                    "busy": busy,
                    "loads": loads,
                    "rows": rows,
                    "skipped": skipped,
                },
                indent=2,
                default=str,
            ),
            encoding="utf-8",
        )
    return 0 if rows and all(row["verdict"] == "OK" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
