"""Benchmark: a person's agenda page with 1 million events in the base (PostgreSQL).

Target (issue 6): the person's agenda page answers with a median under 50 ms (p95 under
150 ms for key pages, from the design), with 1 million events in the base.

    createdb -h 127.0.0.1 -U postgres bench_agenda
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_agenda DEBUG=1 \\
        .venv/bin/python manage.py migrate --noinput
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_agenda \\
        .venv/bin/python bench/agenda_person.py

Self-contained: the first run creates a structure, a referent, --persons persons (through
the services, so that the gate's matrix is real) and then loads the events with
PostgreSQL COPY until the base holds --events events: the measured person gets
--person-events of them over two years (one in fifty a weekly series, endless or
counted), the others are spread over the other persons. Later runs reuse them. Then the
referent, signed in with `force_login`, requests the real view (middleware, gate, access
log, queries, template) --warmup times, then --requests times for each view of the page
(life-line, week, month), with DEBUG off. Exits 1 when a median or a p95 misses its limit.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
# Persistent database connections, as in production (the default when DEBUG is off).
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")

import django  # noqa: E402

django.setup()

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from allauth.mfa.utils import is_mfa_enabled  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from agenda.models import Event  # noqa: E402
from coordination import services  # noqa: E402
from coordination.models import Person, Structure, TeamRole  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")
MARKER = "BENCHAGENDA"
COLUMNS = (
    "uid",
    "source",
    "source_reference",
    "person_id",
    "structure_id",
    "created_by_id",
    "title",
    "motive",
    "event_type",
    "starts_at",
    "ends_at",
    "is_all_day",
    "time_zone",
    "status",
    "visibility",
    "rrule",
    "exdates",
    "series_ends_at",
    "sequence",
    "created_at",
    "updated_at",
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def setup(persons: int):
    User = get_user_model()
    admin = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        email="bench-admin@exemple.fr", password=None
    )
    structure = Structure.objects.filter(finess="759999999").first() or services.structure_create(
        actor=admin, name="Bench agenda", finess="759999999", kind="ehpad"
    )
    user = User.objects.filter(email="bench-agenda-referent@exemple.fr").first()
    if user is None:
        user = User.objects.create_user(
            email="bench-agenda-referent@exemple.fr", password=None, first_name="Rémi", last_name="Bench"
        )
        professional = services.professional_create(actor=admin, user=user, profession="coordinateur")
        services.team_member_add(
            actor=admin, structure=structure, professional=professional, role=TeamRole.REFERENT, is_structure_admin=True
        )
    if not is_mfa_enabled(user):
        TOTP.activate(user, generate_totp_secret())
    existing = Person.objects.filter(birth_name=MARKER).count()
    for i in range(existing, persons):
        services.person_create(
            actor=admin,
            structure=structure,
            birth_name=MARKER,
            birth_first_names=f"P{i}",
            first_name=f"P{i}",
            birth_date="1940-01-01",
            sex="F",
            birth_place_insee="75056",
        )
    ids = list(Person.objects.filter(birth_name=MARKER).order_by("pk").values_list("pk", flat=True))
    return user, structure, ids


def load_events(total: int, person_events: int, user, structure, person_ids: list[int]) -> None:
    have = Event.objects.count()
    if have >= total:
        print(f"{have} events already in the base.")
        return
    rng = random.Random(42)
    now = timezone.now()
    origin = now - timedelta(days=365)
    target = person_ids[0]
    heavy = Event.objects.filter(person_id=target).count()
    to_load = total - have
    print(f"Loading {to_load} events with COPY…", flush=True)
    started = time.perf_counter()
    batch = 100_000
    done = 0
    with connection.cursor() as cursor:
        while done < to_load:
            buffer = io.StringIO()
            for _ in range(min(batch, to_load - done)):
                if heavy < person_events:
                    person_id, heavy = target, heavy + 1
                else:
                    person_id = rng.choice(person_ids[1:]) if len(person_ids) > 1 else target
                local = (origin + timedelta(minutes=rng.randrange(0, 730 * 24 * 4) * 15)).astimezone(PARIS)
                local = local.replace(hour=8 + rng.randrange(0, 10))
                start = local.astimezone(ZoneInfo("UTC"))
                end = start + timedelta(minutes=rng.choice((30, 45, 60, 90)))
                rrule, series_end = "", end.isoformat()
                if rng.random() < 0.02:
                    if rng.random() < 0.5:
                        rrule, series_end = "FREQ=WEEKLY", "\\N"
                    else:
                        rrule, series_end = "FREQ=WEEKLY;COUNT=10", (end + timedelta(weeks=9)).isoformat()
                visibility = "internal" if rng.random() < 0.2 else "shared"
                status = "cancelled" if rng.random() < 0.05 else ("done" if start < now else "confirmed")
                done += 1
                row = (
                    f"bench-{done + have}@portail",
                    "portal",
                    "",
                    str(person_id),
                    str(structure.pk),
                    str(user.pk),
                    f"Rendez-vous {done}",
                    "",
                    "rdv_sante",
                    start.isoformat(),
                    end.isoformat(),
                    "f",
                    "Europe/Paris",
                    status,
                    visibility,
                    rrule,
                    "[]",
                    series_end,
                    "0",
                    now.isoformat(),
                    now.isoformat(),
                )
                buffer.write("\t".join(row) + "\n")
            buffer.seek(0)
            with cursor.copy(f"COPY {Event._meta.db_table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                copy.write(buffer.read())
            print(f"  {done}/{to_load} ({time.perf_counter() - started:.0f} s)", flush=True)
        cursor.execute(f"ANALYZE {Event._meta.db_table}")


def run(client: Client, url: str, warmup: int, requests: int) -> tuple[list[float], int, int]:
    for _ in range(warmup):
        client.get(url)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    items = response.content.decode().count('<li class="agenda-item')
    return times, len(queries), items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the base (default 1,000,000)")
    parser.add_argument(
        "--person-events", type=int, default=1000, help="events of the measured person over two years (default 1000)"
    )
    parser.add_argument("--persons", type=int, default=200, help="persons sharing the events (default 200)")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--median-ms", type=float, default=50.0)
    parser.add_argument("--p95-ms", type=float, default=150.0)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("PostgreSQL only (set DATABASE_URL).")
        return 2
    user, structure, person_ids = setup(args.persons)
    load_events(args.events, args.person_events, user, structure, person_ids)
    person_id = person_ids[0]
    print(
        f"{Event.objects.count()} events in the base; the person has "
        f"{Event.objects.filter(person_id=person_id).count()}."
    )
    failed = False
    with override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        client = Client()
        client.force_login(user)
        base = reverse("agenda:person", args=[person_id])
        today = timezone.localdate().isoformat()
        for name, query in (
            ("life-line (default)", ""),
            ("week", f"?vue=semaine&date={today}"),
            ("month", f"?vue=mois&date={today}"),
        ):
            times, queries, items = run(client, base + query, args.warmup, args.requests)
            median, p95 = statistics.median(times), percentile(times, 0.95)
            ok = median <= args.median_ms and p95 <= args.p95_ms
            failed |= not ok
            print(
                f"{name:22} median {median:6.1f} ms  p95 {p95:6.1f} ms  {queries} queries  {items} items"
                f"  {'OK' if ok else 'MISSED'}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
