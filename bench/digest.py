"""Benchmark: the daily digest for N users with M pending items each.

Target (design): "Digest build for 10,000 users with 20 pending items each: under
60 seconds with one worker on this machine." Issue 19: "built **and sent** with one
worker under 60 s".

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_digest \
        .venv/bin/python bench/digest.py --users 10000 --items 20

Creates N users (e-mail @bench.portail.test, unusable password) and N×M pending daily
notifications wanting an e-mail, spread over the catalogue's daily types and over the
past day, then measures separately:

1. the build, `build_digests("daily")`: grouping, one Delivery per user, items marked
   digested. The deliveries are not sent from it: `notifications.tasks.dispatch_digests`
   is replaced by a function that only collects their ids;
2. the sending of every digest e-mail, in this process (one worker's work, without the
   broker's hand-off), by the real tasks: `--path batch` (default) as the build queues
   them, `deliver_batch` on batches of `BATCH_SIZE` ids (one SMTP connection each);
   `--path single`, `deliver` for each id (one connection per message), the path before
   the batches. `--email smtp` (default) sends to an SMTP sink (aiosmtpd) that this
   script starts in a process of its own on a free local port, which records each
   accepted Message-ID: the script checks that each delivery arrived exactly once;
   `--email locmem` uses Django's in-memory backend (no network). The SQL queries are
   counted on a sample.

The bench rows are deleted at the end, and at the start if an interrupted run left some.
Exits 1 when the build and the sending together exceed the limit (60 s by default). Refuses SQLite unless
--allow-sqlite, and refuses a database holding other pending daily notifications (the
build would digest them).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path


def run_sink(port: int, log: str) -> None:
    """The SMTP sink (`--sink PORT LOG`, started by this script in another process):
    accepts every message and appends its Message-ID to LOG, one a line."""
    import asyncio

    from aiosmtpd.controller import Controller

    pattern = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)

    class Sink:
        def __init__(self, out):
            self.out = out

        async def handle_DATA(self, server, session, envelope):
            found = pattern.search(envelope.content)
            self.out.write((found.group(1).decode() if found else "-") + "\n")
            return "250 OK"

    with open(log, "a", buffering=1) as out:
        controller = Controller(Sink(out), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            asyncio.run(asyncio.Event().wait())
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--sink":
    run_sink(int(sys.argv[2]), sys.argv[3])
    sys.exit(0)

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core import mail  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

import notifications.tasks  # noqa: E402
from common.notify import Frequency, catalogue  # noqa: E402
from notifications.models import Delivery, DeliveryStatus, Notification  # noqa: E402
from notifications.tasks import BATCH_SIZE, build_digests, deliver, deliver_batch  # noqa: E402

DOMAIN = "@bench.portail.test"
# The catalogue's types whose default frequency is the daily digest.
EVENT_TYPES = [key for key, kind in catalogue().items() if kind.default_frequency == Frequency.DAILY]
BATCH = 5000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="users with pending items (default 10000)")
    parser.add_argument("--items", type=int, default=20, help="pending daily items per user (default 20)")
    parser.add_argument(
        "--sample", type=int, default=100, help="deliveries whose SQL queries are counted (default 100)"
    )
    parser.add_argument(
        "--path",
        choices=["batch", "single"],
        default="batch",
        help="batch: deliver_batch by BATCH_SIZE ids (as the build queues them); single: deliver per id",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="processes sending (default 1; the production worker runs 2: --concurrency=2); needs --email smtp",
    )
    parser.add_argument(
        "--email", choices=["smtp", "locmem"], default="smtp", help="smtp: a sink of this script's own (default)"
    )
    parser.add_argument("--limit", type=float, default=60.0, help="build + send time limit in seconds (default 60)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--allow-sqlite", action="store_true", help="run on SQLite anyway (figures not comparable)")
    return parser.parse_args()


def cleanup() -> dict[str, int]:
    """Delete every bench row (deliveries and notifications first: cheaper than the cascade)."""
    users = get_user_model().objects.filter(email__endswith=DOMAIN)
    deleted = {
        "deliveries": Delivery.objects.filter(user__in=users).delete()[0],
        "notifications": Notification.objects.filter(recipient__in=users).delete()[0],
    }
    deleted["users"] = users.delete()[1].get(get_user_model()._meta.label, 0)
    return deleted


def populate(n_users: int, n_items: int, seed: int) -> None:
    User = get_user_model()
    rng = random.Random(seed)
    unusable = make_password(None)  # "!" + random: no password can match it
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(email=f"bench{i:06d}{DOMAIN}", password=unusable, first_name="Bench", last_name=f"{i:06d}")
            for i in range(n_users)
        ],
        batch_size=BATCH,
    )
    batch: list[Notification] = []
    for user in users:
        for _ in range(n_items):
            batch.append(
                Notification(
                    recipient_id=user.pk,
                    event_type=rng.choice(EVENT_TYPES),
                    url="/notifications/",
                    created_at=now - timedelta(seconds=rng.randint(60, 86_400)),
                    is_in_app=True,
                    frequency=Frequency.DAILY,
                    wants_email=True,
                    wants_sms=False,
                )
            )
            if len(batch) >= BATCH:
                Notification.objects.bulk_create(batch)
                batch = []
    if batch:
        Notification.objects.bulk_create(batch)


def main() -> int:
    args = parse_args()
    vendor = connection.vendor
    if vendor == "sqlite" and not args.allow_sqlite:
        print(
            "Refusing to run on SQLite: set DATABASE_URL to a PostgreSQL database of its own "
            "(or pass --allow-sqlite; the figures would not be comparable).",
            file=sys.stderr,
        )
        return 2
    settings_dict = connection.settings_dict
    print(f"Database: {vendor} {settings_dict.get('NAME')} on {settings_dict.get('HOST') or 'local socket'}")

    leftover = cleanup()
    if any(leftover.values()):
        print(f"Removed rows left by an interrupted run: {leftover}")
    others = Notification.objects.filter(frequency=Frequency.DAILY, digested_at__isnull=True).count()
    if others:
        print(
            f"Refusing to run: {others} pending daily notification(s) of other users are in this database and "
            "the build would digest them. Use a database of its own.",
            file=sys.stderr,
        )
        return 2

    collected: list[int] = []

    def collect_only(deliveries) -> None:
        collected.extend(d.pk for d in deliveries if d.pk is not None)

    if args.processes > 1 and args.email != "smtp":
        print("--processes needs --email smtp (the locmem outbox is per process)", file=sys.stderr)
        return 2
    sink = sink_log = None
    if args.email == "smtp":
        sink, sink_log, email_settings = start_sink()
    else:
        email_settings = {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    try:
        print(
            f"Creating {args.users} users and {args.users * args.items} pending daily items "
            f"({', '.join(EVENT_TYPES)})…",
            flush=True,
        )
        start = time.perf_counter()
        populate(args.users, args.items, args.seed)
        print(f"  created in {time.perf_counter() - start:.1f} s", flush=True)
        load_before = os.getloadavg()

        # 1. The build.
        original = notifications.tasks.dispatch_digests
        notifications.tasks.dispatch_digests = collect_only
        try:
            with CaptureQueriesContext(connection) as build_queries:
                start = time.perf_counter()
                built = build_digests(Frequency.DAILY)
                build_seconds = time.perf_counter() - start
            build_query_count = len(build_queries)  # now: DEBUG's query log is a bounded deque
        finally:
            notifications.tasks.dispatch_digests = original
        still_pending = Notification.objects.filter(recipient__email__endswith=DOMAIN, digested_at__isnull=True).count()
        wrong_counts = Delivery.objects.filter(id__in=collected).exclude(item_count=args.items).count()

        # 2. Rendering and sending every digest e-mail, in-process.
        if args.path == "batch":
            units = [collected[i : i + BATCH_SIZE] for i in range(0, len(collected), BATCH_SIZE)]
            task = deliver_batch
            sample_units = max(1, args.sample // BATCH_SIZE)
        else:
            units = list(collected)
            task = deliver
            sample_units = args.sample
        sample_queries: list[int] = []
        sample_messages = 0
        sample_seconds: list[float] = []
        outcomes: Counter = Counter()
        sent_messages = 0
        example = None
        with override_settings(**email_settings):
            mail.outbox = []
            print(f"Sending {len(collected)} digests ({args.path}, {args.email})…", flush=True)
            start = time.perf_counter()
            rest = units[sample_units:]
            for unit in units[:sample_units]:
                with CaptureQueriesContext(connection) as queries:
                    one = time.perf_counter()
                    outcome = task(unit)
                    sample_seconds.append(time.perf_counter() - one)
                sample_queries.append(len(queries))
                sample_messages += len(unit) if args.path == "batch" else 1
                outcomes.update(outcome if isinstance(outcome, dict) else {outcome: 1})
            if args.processes > 1:
                # As the worker's prefork pool: each process its own database connection.
                connections.close_all()
                with multiprocessing.get_context("fork").Pool(args.processes) as pool:
                    for outcome in pool.imap_unordered(run_task, [(task.name, unit) for unit in rest]):
                        outcomes.update(outcome if isinstance(outcome, dict) else {outcome: 1})
            else:
                for unit in rest:
                    outcome = task(unit)
                    outcomes.update(outcome if isinstance(outcome, dict) else {outcome: 1})
                    if len(mail.outbox) >= 1000:  # keep memory flat
                        sent_messages += len(mail.outbox)
                        example = mail.outbox[-1]
                        mail.outbox = []
            send_seconds = time.perf_counter() - start
            sent_messages += len(mail.outbox)
            example = mail.outbox[-1] if mail.outbox else example
            mail.outbox = []
        load_after = os.getloadavg()
        sent_rows = Delivery.objects.filter(id__in=collected, status=DeliveryStatus.SENT).count()
        message_ids = set(Delivery.objects.filter(id__in=collected).values_list("message_id", flat=True))
    finally:
        if sink is not None:
            sink.terminate()
            sink.wait(10)
        start = time.perf_counter()
        deleted = cleanup()
        cleanup_seconds = time.perf_counter() - start

    received: Counter = Counter()
    if sink_log is not None:
        received = Counter(Path(sink_log).read_text().split())
        sent_messages = sum(received.values())
        Path(sink_log).unlink()

    n = len(collected)
    total = build_seconds + send_seconds
    ok = total <= args.limit
    print()
    print(f"Digest benchmark — {args.users} users × {args.items} pending daily items, {vendor}")
    print(
        f"Load average: {' / '.join(f'{x:.2f}' for x in load_before)} before the build, "
        f"{' / '.join(f'{x:.2f}' for x in load_after)} after the sending ({os.cpu_count()} CPUs)"
    )
    print("1. Build: build_digests('daily')")
    print(f"   time                 {build_seconds:8.2f} s")
    print(f"   deliveries           {built:8d}   (ids collected: {n})")
    print(f"   SQL queries          {build_query_count:8d}")
    print(f"   items left pending   {still_pending:8d}   deliveries with a wrong item_count: {wrong_counts}")
    how = f"deliver_batch by {BATCH_SIZE}" if args.path == "batch" else "deliver per message"
    where = "SMTP sink (aiosmtpd, own process)" if args.email == "smtp" else "locmem e-mail backend"
    procs = "in this process" if args.processes == 1 else f"in {args.processes} processes"
    print(f"2. Send: notifications.tasks {how}, {procs}, {where}")
    if n:
        print(f"   total                {send_seconds:8.2f} s   for {n} deliveries ({dict(outcomes)})")
        print(f"   per message (mean)   {send_seconds / n * 1000:8.2f} ms")
        print(f"   messages received    {sent_messages:8d}   rows marked sent: {sent_rows}")
    if received:
        doubled = sum(1 for count in received.values() if count > 1)
        unknown = sum(1 for mid in received if mid not in message_ids)
        print(f"   distinct Message-IDs {len(received):8d}   received twice: {doubled}, unknown: {unknown}")
    if sample_queries:
        print(
            f"   SQL queries over a sample of {sample_messages} message(s): "
            f"{sum(sample_queries) / sample_messages:.2f} per message "
            f"({'per batch' if args.path == 'batch' else 'per delivery'}: min {min(sample_queries)}, "
            f"max {max(sample_queries)})"
        )
        print(f"   sample time per message: {sum(sample_seconds) / sample_messages * 1000:.2f} ms")
    if example is not None:
        print("   example message: " + example.subject)
        for line in example.body.splitlines():
            if line.startswith("- "):
                print("     " + line)
    print(f"Build + send with one worker: {total:.1f} s   (limit {args.limit:g} s: {'OK' if ok else 'EXCEEDED'})")
    print(f"Cleanup: {deleted} in {cleanup_seconds:.1f} s")
    return 0 if ok else 1


def run_task(job: tuple[str, object]):
    """In a pool process: run the task on its unit (ids) in-process."""
    name, unit = job
    task = deliver_batch if name == deliver_batch.name else deliver
    return task(unit)


def start_sink() -> tuple[subprocess.Popen, str, dict]:
    """Start the SMTP sink in its own process on a free port; wait until it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tempfile.NamedTemporaryFile(prefix="digest-sink-", suffix=".log", delete=False).name
    sink = subprocess.Popen([sys.executable, __file__, "--sink", str(port), log])  # noqa: S603 — this script
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        sink.terminate()
        raise SystemExit("the SMTP sink did not start")
    return (
        sink,
        log,
        {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": port,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_TIMEOUT": 10,
        },
    )


if __name__ == "__main__":
    sys.exit(main())
