"""Benchmark: the daily digest for N users with M pending items each.

Target (design): "Digest build for 10,000 users with 20 pending items each: under
60 seconds with one worker on this machine."

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_digest \
        .venv/bin/python bench/digest.py --users 10000 --items 20

Creates N users (e-mail @bench.portail.test, unusable password) and N×M pending daily
notifications wanting an e-mail, spread over the catalogue's daily types and over the
past day, then measures separately:

1. the build, `build_digests("daily")`: grouping, one Delivery per user, items marked
   digested. The deliveries are not sent from it: `dispatch_after_commit` is replaced by
   a function that only collects their ids;
2. the sending of every digest e-mail with the real `notifications.tasks.deliver` task
   called in-process, through Django's locmem e-mail backend (no network), with the
   number of SQL queries of each delivery measured on a sample.

The bench rows are deleted at the end, and at the start if an interrupted run left some.
Exits 1 when the build exceeds the limit (60 s by default). Refuses SQLite unless
--allow-sqlite, and refuses a database holding other pending daily notifications (the
build would digest them).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core import mail  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

import notifications.services  # noqa: E402
from common.notify import Frequency, catalogue  # noqa: E402
from notifications.models import Delivery, DeliveryStatus, Notification  # noqa: E402
from notifications.tasks import build_digests, deliver  # noqa: E402

DOMAIN = "@bench.portail.test"
# The catalogue's types whose default frequency is the daily digest.
EVENT_TYPES = [key for key, kind in catalogue().items() if kind.default_frequency == Frequency.DAILY]
BATCH = 5000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="users with pending items (default 10000)")
    parser.add_argument("--items", type=int, default=20, help="pending daily items per user (default 20)")
    parser.add_argument(
        "--sample", type=int, default=100, help="deliveries whose SQL queries are counted one by one (default 100)"
    )
    parser.add_argument("--limit", type=float, default=60.0, help="build time limit in seconds (default 60)")
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

    try:
        print(
            f"Creating {args.users} users and {args.users * args.items} pending daily items "
            f"({', '.join(EVENT_TYPES)})…",
            flush=True,
        )
        start = time.perf_counter()
        populate(args.users, args.items, args.seed)
        print(f"  created in {time.perf_counter() - start:.1f} s")

        # 1. The build.
        original = notifications.services.dispatch_after_commit
        notifications.services.dispatch_after_commit = collect_only
        try:
            with CaptureQueriesContext(connection) as build_queries:
                start = time.perf_counter()
                built = build_digests(Frequency.DAILY)
                build_seconds = time.perf_counter() - start
            build_query_count = len(build_queries)  # now: DEBUG's query log is a bounded deque
        finally:
            notifications.services.dispatch_after_commit = original
        still_pending = Notification.objects.filter(recipient__email__endswith=DOMAIN, digested_at__isnull=True).count()
        wrong_counts = Delivery.objects.filter(id__in=collected).exclude(item_count=args.items).count()

        # 2. Rendering and sending every digest e-mail, in-process, without network.
        per_delivery_queries: list[int] = []
        sample_seconds: list[float] = []
        outcomes: dict[str, int] = {}
        sent_messages = 0
        example = None
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            start = time.perf_counter()
            for index, delivery_id in enumerate(collected):
                if index < args.sample:
                    with CaptureQueriesContext(connection) as queries:
                        one = time.perf_counter()
                        outcome = deliver(delivery_id)
                        sample_seconds.append(time.perf_counter() - one)
                    per_delivery_queries.append(len(queries))
                else:
                    outcome = deliver(delivery_id)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if len(mail.outbox) >= 1000:  # keep memory flat
                    sent_messages += len(mail.outbox)
                    example = mail.outbox[-1]
                    mail.outbox = []
            send_seconds = time.perf_counter() - start
            sent_messages += len(mail.outbox)
            example = mail.outbox[-1] if mail.outbox else example
            mail.outbox = []
        sent_rows = Delivery.objects.filter(id__in=collected, status=DeliveryStatus.SENT).count()
    finally:
        start = time.perf_counter()
        deleted = cleanup()
        cleanup_seconds = time.perf_counter() - start

    n = len(collected)
    ok = build_seconds <= args.limit
    print()
    print(f"Digest benchmark — {args.users} users × {args.items} pending daily items, {vendor}")
    print("1. Build: build_digests('daily')")
    print(f"   time                 {build_seconds:8.2f} s   (limit {args.limit:g} s: {'OK' if ok else 'EXCEEDED'})")
    print(f"   deliveries           {built:8d}   (ids collected: {n})")
    print(f"   SQL queries          {build_query_count:8d}")
    print(f"   items left pending   {still_pending:8d}   deliveries with a wrong item_count: {wrong_counts}")
    print("2. Send: notifications.tasks.deliver in-process, locmem e-mail backend")
    if n:
        print(f"   total                {send_seconds:8.2f} s   for {n} deliveries ({outcomes})")
        print(f"   per message (mean)   {send_seconds / n * 1000:8.2f} ms")
        print(f"   messages in outbox   {sent_messages:8d}   rows marked sent: {sent_rows}")
    if per_delivery_queries:
        print(
            f"   SQL queries / delivery over a sample of {len(per_delivery_queries)}: "
            f"min {min(per_delivery_queries)}, mean {statistics.mean(per_delivery_queries):.1f}, "
            f"max {max(per_delivery_queries)}"
        )
        print(f"   sample time / delivery: median {statistics.median(sample_seconds) * 1000:.2f} ms")
    if example is not None:
        print("   example message: " + example.subject)
        for line in example.body.splitlines():
            if line.startswith("- "):
                print("     " + line)
    print(f"Build + send with one worker: {build_seconds + send_seconds:.1f} s")
    print(f"Cleanup: {deleted} in {cleanup_seconds:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
