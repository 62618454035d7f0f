"""Benchmark: a long conversation opens at the same cost as a short one.

Target (issue 23): "a conversation with 10,000 messages opens in under 50 ms median (last
page first, older ones on scroll), constant queries".

    createdb -h 127.0.0.1 -U postgres bench_exchanges
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_exchanges DEBUG=1 \\
        .venv/bin/python manage.py migrate --noinput
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_exchanges DEBUG=1 \\
        .venv/bin/python bench/exchanges.py [--sizes 100,10000] [--requests 40]

It makes its own data (a structure, a coordinator, a nurse, a person; one conversation
about the person per size, the messages bulk-inserted, then ANALYZE) and times, through
Django's test Client with DEBUG off, the real views, after --warmup requests each:

1. the professionals' conversation page, last page first (exchanges:conversation);
2. the page before it, as "Messages précédents" asks for it (HTMX, `?avant=`);
3. the API's last page (/api/exchanges/conversations/<id>/messages/);
4. one poll of the live stream (the three queries a stream runs each second), timed alone.

Each line gives the median, the p95 and the SQL queries of one more request. The
queries must be the same for every size, and the medians close. Prints the load
average: the machine is shared. Refuses SQLite unless --allow-sqlite. Exits 1 when a
median misses 50 ms on the largest size or the query counts differ between sizes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")

import django  # noqa: E402

django.setup()

from allauth.mfa.models import Authenticator  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from coordination import services as coordination_services  # noqa: E402
from coordination.models import Person, Professional, Structure, TeamRole  # noqa: E402
from exchanges import selectors, services, streams  # noqa: E402
from exchanges.models import ConversationKind, Message  # noqa: E402

MEDIAN_LIMIT_MS = 50.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,10000", help="messages per conversation, comma-separated")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--allow-sqlite", action="store_true")
    return parser.parse_args()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def professional(email: str, first: str, last: str, structure: Structure, role: str, admin):
    User = get_user_model()
    user, created = User.objects.get_or_create(email=email, defaults={"first_name": first, "last_name": last})
    if created:
        user.set_unusable_password()
        user.save()
        pro = Professional.objects.create(user=user, profession="infirmier")
        coordination_services.team_member_add(
            actor=admin, structure=structure, professional=pro, role=role, is_structure_admin=role == TeamRole.REFERENT
        )
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    return user


def world():
    """The same small world on every run (get or create)."""
    User = get_user_model()
    admin, _ = User.objects.get_or_create(
        email="bench-admin@exemple.fr", defaults={"is_staff": True, "is_superuser": True}
    )
    structure, _ = Structure.objects.get_or_create(
        finess="750009999", defaults={"name": "EHPAD Banc d'essai", "kind": "ehpad"}
    )
    referent = professional("bench-coord@exemple.fr", "Rémi", "Coord", structure, TeamRole.REFERENT, admin)
    nurse = professional("bench-ide@exemple.fr", "Inès", "Ide", structure, TeamRole.NURSE, admin)
    person_user, _ = User.objects.get_or_create(email="bench-personne@exemple.fr", defaults={"first_name": "Jeanne"})
    person = Person.objects.filter(user=person_user).first()
    if person is None:
        person = coordination_services.person_create(
            actor=admin,
            structure=structure,
            user=person_user,
            birth_name="BANC",
            birth_first_names="Jeanne",
            first_name="Jeanne",
            birth_date="1938-04-12",
            sex="F",
            birth_place_insee="75056",
        )
    return referent, nurse, person


def conversation_of(size: int, referent, nurse, person):
    subject = f"Banc d'essai : {size} messages"
    conversation = selectors.visible_conversations(referent).filter(subject=subject).first()
    if conversation is None:
        conversation = services.conversation_start(
            actor=referent, kind=ConversationKind.PERSON, person=person, subject=subject, participants=[nurse]
        )
    have = Message.objects.filter(conversation=conversation).count()
    if have < size:
        start = timezone.now() - timezone.timedelta(days=365)
        Message.objects.bulk_create(
            [
                Message(
                    conversation=conversation,
                    author=nurse if n % 2 else referent,
                    body=f"Message {n} : passage du soir, rien à signaler.",
                    created_at=start + timezone.timedelta(minutes=n),
                )
                for n in range(have, size)
            ],
            batch_size=2000,
        )
        conversation.last_message_at = timezone.now()
        conversation.save(update_fields=["last_message_at"])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE exchanges_message")
    return conversation


def check(response, url: str) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code} ({response.get('Location', '')})")


def measure(client: Client, url: str, warmup: int, requests: int, headers=None) -> tuple[list[float], int]:
    headers = headers or {}
    for _ in range(warmup):
        check(client.get(url, headers=headers), url)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        check(response, url)
    with CaptureQueriesContext(connection) as captured:
        client.get(url, headers=headers)
    return times, len(captured.captured_queries)


def measure_poll(conversation, viewer, requests: int) -> tuple[list[float], int]:
    after = streams.last_message_id(conversation)

    def poll():
        streams.messages_after(conversation, after, 50)
        streams.read_marks(conversation, viewer)
        streams.recent_changes(conversation)

    poll()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        poll()
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        poll()
    return times, len(captured.captured_queries)


def main() -> int:
    args = parse_args()
    if connection.vendor == "sqlite" and not args.allow_sqlite:
        raise SystemExit("SQLite: the figures would say nothing about production (--allow-sqlite to run anyway).")
    sizes = [int(s) for s in args.sizes.split(",")]
    referent, nurse, person = world()
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"database: {connection.vendor}, {args.requests} requests after {args.warmup} warm-up")
    results: dict[str, dict[int, tuple[float, float, int]]] = {}
    with override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        for size in sizes:
            conversation = conversation_of(size, referent, nurse, person)
            client = Client()
            client.force_login(referent)
            page = selectors.messages_page(conversation)
            cases = {
                "page, last messages": (reverse("exchanges:conversation", args=[conversation.pk]), {}),
                "page before (htmx)": (
                    reverse("exchanges:conversation", args=[conversation.pk]) + f"?avant={page.older_than}",
                    {"HX-Request": "true"},
                ),
                "API, last page": (reverse("exchanges_api:messages", args=[conversation.pk]), {}),
            }
            for name, (url, headers) in cases.items():
                times, queries = measure(client, url, args.warmup, args.requests, headers)
                results.setdefault(name, {})[size] = (statistics.median(times), percentile(times, 0.95), queries)
            times, queries = measure_poll(conversation, referent, args.requests)
            results.setdefault("live poll (3 queries)", {})[size] = (
                statistics.median(times),
                percentile(times, 0.95),
                queries,
            )
    failed = False
    for name, by_size in results.items():
        line = " | ".join(
            f"{size:>6} msgs: p50 {p50:6.1f} ms, p95 {p95:6.1f} ms, {queries} queries"
            for size, (p50, p95, queries) in by_size.items()
        )
        print(f"{name:<24} {line}")
        if len({q for _, _, q in by_size.values()}) > 1:
            print(f"  !! {name}: the number of queries grows with the conversation")
            failed = True
        if by_size[max(by_size)][0] > MEDIAN_LIMIT_MS:
            print(f"  !! {name}: median over {MEDIAN_LIMIT_MS:.0f} ms")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
