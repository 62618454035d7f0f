"""Benchmark: slot search for 10 professionals over a 3-month window, each with 5,000 busy
events (some recurring).

Target (design): "The meeting-slot search for 10 professionals over 3 months, each with
5,000 busy events, answers in under 200 ms."

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_slots .venv/bin/python bench/agenda_slots.py

Creates 10 professionals (e-mail @bench-slots.portail.test) with weekday availability
(09:00–12:30 and 13:30–18:00) and, for each, 5,000 busy events over two years around the
search window: 4,950 single events (30 min to 2 h, in working hours, a few declined or
cancelled) and 50 weekly recurring series (RRULE with COUNT, in Europe/Paris), plus 200
imported busy times. Then times `agenda.slots.find_slots` (loader + search) for the ten
together, 1-hour meeting, 15-minute buffers, 15-minute step, 3 months, and prints the
median and p95 and the number of SQL queries. The bench rows are deleted at the end (and
at the start if an interrupted run left some). Exits 1 when the median exceeds 200 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from agenda import slots  # noqa: E402
from agenda.models import (  # noqa: E402
    AvailabilityWindow,
    Event,
    ExternalBusyTime,
    ExternalCalendar,
    Participant,
)
from coordination.models import Professional, Structure  # noqa: E402

DOMAIN = "@bench-slots.portail.test"
FINESS = "759999991"


def cleanup() -> None:
    User = get_user_model()
    users = User.objects.filter(email__endswith=DOMAIN)
    Participant.objects.filter(professional__user__in=users).delete()
    Event.objects.filter(created_by__in=users).delete()
    ExternalCalendar.objects.filter(professional__user__in=users).delete()
    AvailabilityWindow.objects.filter(professional__user__in=users).delete()
    Professional.objects.filter(user__in=users).delete()
    users.delete()
    Structure.objects.filter(finess=FINESS).delete()


@transaction.atomic
def seed(professionals: int, events: int, recurring: int, start: dt.datetime) -> list[int]:
    rng = random.Random(42)
    User = get_user_model()
    structure = Structure.objects.create(name="Bench créneaux", finess=FINESS, kind="ehpad")
    password = make_password(None)
    ids = []
    for n in range(professionals):
        user = User.objects.create(email=f"pro{n}{DOMAIN}", password=password, first_name="Pro", last_name=str(n))
        pro = Professional.objects.create(user=user, profession="infirmier")
        ids.append(pro.pk)
        AvailabilityWindow.objects.bulk_create(
            [
                AvailabilityWindow(
                    professional=pro,
                    structure=structure,
                    weekday=d,
                    start_time=dt.time(9),
                    end_time=dt.time(12, 30),
                    valid_from=dt.date(2020, 1, 1),
                )
                for d in range(5)
            ]
            + [
                AvailabilityWindow(
                    professional=pro,
                    structure=structure,
                    weekday=d,
                    start_time=dt.time(13, 30),
                    end_time=dt.time(18),
                    valid_from=dt.date(2020, 1, 1),
                )
                for d in range(5)
            ]
        )
        rows = []
        first_day = (start - dt.timedelta(days=365)).date()
        for i in range(events):
            day = first_day + dt.timedelta(days=rng.randrange(730))
            begin = slots.local(day, dt.time(rng.randrange(8, 18), rng.choice((0, 15, 30, 45))))
            end = begin + dt.timedelta(minutes=rng.choice((30, 45, 60, 90, 120)))
            rule = ""
            series_end = end
            if i < recurring:
                rule = f"FREQ=WEEKLY;COUNT={rng.randrange(10, 60)}"
                series_end = None  # computed below
            rows.append(
                Event(
                    created_by=user,
                    title="Occupé",
                    starts_at=begin,
                    ends_at=end,
                    rrule=rule,
                    status="cancelled" if rng.random() < 0.03 else "confirmed",
                    series_ends_at=series_end or end + dt.timedelta(weeks=60),
                )
            )
        created = Event.objects.bulk_create(rows, batch_size=2000)
        Participant.objects.bulk_create(
            [
                Participant(
                    event=e,
                    kind="professional",
                    professional=pro,
                    user=user,
                    response="declined" if rng.random() < 0.02 else "accepted",
                )
                for e in created
            ],
            batch_size=2000,
        )
        calendar = ExternalCalendar.objects.create(professional=pro, name="Cabinet", kind="url")
        busy = []
        for k in range(200):
            day = start.date() + dt.timedelta(days=rng.randrange(-180, 180))
            begin = slots.local(day, dt.time(rng.randrange(8, 18)))
            busy.append(
                ExternalBusyTime(
                    calendar=calendar,
                    professional=pro,
                    external_uid=f"b{k}",
                    starts_at=begin,
                    ends_at=begin + dt.timedelta(hours=1),
                )
            )
        ExternalBusyTime.objects.bulk_create(busy)
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--professionals", type=int, default=10)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--recurring", type=int, default=50)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--limit-ms", type=float, default=200.0)
    parser.add_argument("--allow-sqlite", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql" and not args.allow_sqlite:
        print("Refusing to run outside PostgreSQL (use --allow-sqlite to try anyway).")
        return 2
    cleanup()
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())
    window_start = slots.local(monday, dt.time(0))
    began = time.perf_counter()
    ids = seed(args.professionals, args.events, args.recurring, window_start)
    print(
        f"Seed: {args.professionals} professionals × {args.events} events ({args.recurring} recurring) "
        f"in {time.perf_counter() - began:.1f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE agenda_event; ANALYZE agenda_participant; ANALYZE agenda_externalbusytime")
    criteria = slots.Criteria(
        duration=dt.timedelta(hours=1),
        window_start=window_start,
        window_end=window_start + dt.timedelta(days=91),
        minimum_notice=dt.timedelta(0),
        buffer_before=dt.timedelta(minutes=15),
        buffer_after=dt.timedelta(minutes=15),
        step=dt.timedelta(minutes=15),
        limit=20,
    )
    try:
        now = window_start - dt.timedelta(hours=1)
        for _ in range(3):
            slots.find_slots(ids, criteria, now=now)
        timings = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            result = slots.find_slots(ids, criteria, now=now)
            timings.append((time.perf_counter() - t0) * 1000)
        with CaptureQueriesContext(connection) as queries:
            result = slots.find_slots(ids, criteria, now=now)
        load_t0 = time.perf_counter()
        calendars = slots.load_calendars(ids, criteria.window_start, criteria.window_end, now=now)
        load_ms = (time.perf_counter() - load_t0) * 1000
        busy = sum(len(c.busy) for c in calendars.values())
        timings.sort()
        median = statistics.median(timings)
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(
            f"Slot search, {args.professionals} required professionals, 3 months, {args.runs} runs: "
            f"median {median:.1f} ms, p95 {p95:.1f} ms, min {timings[0]:.1f} ms; {len(queries)} SQL queries; "
            f"loader alone {load_ms:.1f} ms ({busy} merged busy spans in the window); "
            f"{len(result.slots)} slots returned, first {result.slots[0].start if result.slots else '-'}"
        )
        verdict = "OK" if median <= args.limit_ms else "MISSED"
        print(f"Target median ≤ {args.limit_ms:.0f} ms: {verdict}")
        return 0 if median <= args.limit_ms else 1
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
