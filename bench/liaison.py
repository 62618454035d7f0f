"""Benchmark: the liaison notebook of a person with many transmissions, and "my feed".

Target (issue): "With one person holding 100,000 transmissions and the whole base at 5
million (on PostgreSQL), the person's notebook first page and "my feed" answer with a
median under 50 ms (record p50/p95 and the query count)." The design adds a p95 under
150 ms for key pages.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_liaison \\
        .venv/bin/python bench/liaison.py

on a database filled by `manage.py seed_scale ... --transmissions 4900000
--heavy-person-transmissions 100000` (see bench/README.md), then ANALYZEd.

The person is the one with the most transmissions (or --person). The reader is a
professional of a structure accompanying them, with `liaison` write (a nurse when there
is one; or --user), given a TOTP authenticator if they have none (the MFA middleware
would redirect them), signed in with `force_login`. Django's test Client then requests
the real views, after --warmup requests each, --requests times each:

1. the notebook, first page: reverse("liaison:notebook", args=[person]);
2. its second page, following the cursor of the first as the "older" button does (htmx);
3. the notebook with a full-text query (?q=chute by default), first page;
4. "my feed", first page: reverse("liaison:feed");
5. its second page, following the cursor (htmx);
6. unless --skip-all-read: "Tout marquer comme lu" (one POST to liaison:feed_mark_read,
   timed), then "my feed" again, first page, now that everything is read
   (--all-read-requests times after one warm-up: the state of a reader who keeps up).

Each page is timed end to end (middleware, gate, queries, template), with DEBUG off
during the measurement; its SQL queries are counted on one more request
(CaptureQueriesContext), with their total time. When a page misses its median or p95
limit (or with --explain), its slowest queries are listed and the EXPLAIN (ANALYZE,
BUFFERS) of its list query printed, and of its slowest SELECT when that is another one.
Exits 1 when a median or a p95 misses its limit.

The views write what they always write (access log rows, read marks of the notebook
pages shown, and the reader's FeedState "all read" mark for "Tout marquer comme lu",
which writes no read mark); the read marks the run added are deleted at the end (and the
table vacuumed), the reader's FeedState is put back as it was (deleted when the run
created it), the access log is append-only and is left alone. Takes
about 5 minutes at the target scale. Refuses SQLite unless --allow-sqlite.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
# Persistent database connections, as in production (the default when DEBUG is off).
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")

import django  # noqa: E402

django.setup()

from allauth.mfa.models import Authenticator  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from allauth.mfa.utils import is_mfa_enabled  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Case, Count, IntegerField, Value, When  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from coordination import access  # noqa: E402
from coordination.models import Category, Person, TeamMembership, TeamRole  # noqa: E402
from liaison.models import FeedState, ReadMark, Transmission  # noqa: E402

CURSOR = re.compile(r"apres=([A-Za-z0-9_-]+)")
ITEM = re.compile(r'<article class="transmission')
# The page query: transmissions with their select_related author (the prefetches select no user).
LIST_QUERY = 'JOIN "portal_user" ON ("liaison_transmission"."author_id" = "portal_user"."id")'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per page first (default 5)")
    parser.add_argument("--person", type=int, help="the person's id (default: the one with most transmissions)")
    parser.add_argument("--user", help="the reader's e-mail (default: a nurse of a structure accompanying them)")
    parser.add_argument("--query", default="chute", help="full-text query of the search page (default chute)")
    parser.add_argument("--target", type=float, default=50.0, help="median limit in ms (default 50)")
    parser.add_argument("--p95", type=float, default=150.0, help="p95 limit in ms (default 150)")
    parser.add_argument("--explain", action="store_true", help="print the EXPLAIN of every page, not only slow ones")
    parser.add_argument("--skip-all-read", action="store_true", help="do not measure the feed once all is read")
    parser.add_argument(
        "--all-read-requests", type=int, default=10, help="timed requests of the feed once all is read (default 10)"
    )
    parser.add_argument("--allow-sqlite", action="store_true", help="run on SQLite anyway (figures not comparable)")
    return parser.parse_args()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def heaviest_person() -> tuple[int, int]:
    row = (
        Transmission.objects.values("person_id")
        .annotate(n=Count("id"))
        .order_by("-n", "person_id")
        .values_list("person_id", "n")
        .first()
    )
    if row is None:
        raise SystemExit("No transmission in this database: run seed_scale with --transmissions first.")
    return row


def choose_reader(person: Person, email: str | None):
    """A professional of a structure accompanying the person, with `liaison` write if possible."""
    from django.contrib.auth import get_user_model

    if email:
        return get_user_model().objects.get(email=email)
    memberships = (
        TeamMembership.objects.filter(
            structure__accompaniments__person=person,
            structure__accompaniments__ended_on__isnull=True,
            ended_on__isnull=True,
        )
        .select_related("professional__user")
        .annotate(rank=Case(When(role=TeamRole.NURSE, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("rank", "pk")
    )
    for membership in memberships:
        user = membership.professional.user
        if access.check(user, person, Category.LIAISON, "write") is not None:
            return user
    raise SystemExit(f"No professional of a structure accompanying person {person.pk} may write in their notebook.")


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


class Page:
    def __init__(self, name: str, url: str, htmx: bool = False):
        self.name, self.url, self.htmx = name, url, htmx
        self.times: list[float] = []
        self.queries: list[dict] = []
        self.items = 0
        self.next_url: str | None = None

    def get(self, client: Client):
        headers = {"HX-Request": "true"} if self.htmx else {}
        response = client.get(self.url, headers=headers)
        if response.status_code != 200:
            raise SystemExit(
                f"{self.name}: HTTP {response.status_code} for {self.url} ({response.get('Location', '')})"
            )
        return response

    def run(self, client: Client, warmup: int, requests: int) -> None:
        for _ in range(warmup):
            self.get(client)
        for _ in range(requests):
            start = time.perf_counter()
            self.get(client)
            self.times.append((time.perf_counter() - start) * 1000)
        with CaptureQueriesContext(connection) as captured:
            response = self.get(client)
        self.queries = list(captured.captured_queries)
        html = response.content.decode()
        self.items = len(ITEM.findall(html))
        cursor = CURSOR.search(html)
        if cursor:
            base = self.url.split("?")[0]
            query = self.url.split("?")[1] + "&" if "?" in self.url else ""
            self.next_url = f"{base}?{query}apres={cursor.group(1)}"

    @property
    def p50(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        return percentile(self.times, 0.95)

    @property
    def sql_ms(self) -> float:
        return sum(float(q["time"]) for q in self.queries) * 1000

    def slowest(self, n: int = 3) -> list[dict]:
        return sorted(self.queries, key=lambda q: float(q["time"]), reverse=True)[:n]


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
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version'), current_setting('jit')")
            version, jit = cursor.fetchone()
            print(f"PostgreSQL {version}, jit={jit} (this connection)")

    start = time.perf_counter()
    if args.person:
        person_id, heavy = args.person, Transmission.objects.filter(person_id=args.person).count()
    else:
        person_id, heavy = heaviest_person()
    total = Transmission.objects.count()
    sizes = {
        "transmissions": total,
        "persons": Person.objects.count(),
        "professionals": TeamMembership.objects.values("professional").distinct().count(),
        "read marks": ReadMark.objects.count(),
    }
    print(
        f"Data: {', '.join(f'{v:,} {k}' for k, v in sizes.items())}; person {person_id} holds {heavy:,} "
        f"transmissions ({time.perf_counter() - start:.1f} s to count)"
    )
    person = Person.objects.get(pk=person_id)
    user = choose_reader(person, args.user)
    membership = TeamMembership.objects.filter(professional__user=user).select_related("structure").first()
    visible = access.persons_visible_to(user, Category.LIAISON).count()
    print(
        f"Reader: {user.email} ({membership.get_role_display() if membership else '?'}, "
        f"{membership.structure.name if membership else '?'}), notebook of {visible} persons readable"
    )

    created_authenticator = None
    if not is_mfa_enabled(user, types=["totp"]):
        created_authenticator = TOTP.activate(user, generate_totp_secret()).instance
    started_at = timezone.now()
    # "Tout marquer comme lu" sets the reader's FeedState; it is put back as it was at the end.
    feed_state_before = FeedState.objects.filter(user=user).values_list("read_before", flat=True).first()

    notebook_url = reverse("liaison:notebook", args=[person_id])
    pages: list[Page] = []
    mark_all_ms = marked = read_before = None
    try:
        with override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            client = Client()
            client.force_login(user)

            def measure(page: Page) -> Page:
                print(f"  {page.name}…", flush=True)
                page.run(client, args.warmup, args.requests)
                pages.append(page)
                return page

            first = measure(Page("notebook, page 1", notebook_url))
            if first.next_url:
                measure(Page("notebook, page 2", first.next_url, htmx=True))
            measure(Page(f"notebook, search ?q={args.query}", f"{notebook_url}?{urlencode({'q': args.query})}"))
            feed = measure(Page("my feed, page 1", reverse("liaison:feed")))
            if feed.next_url:
                measure(Page("my feed, page 2", feed.next_url, htmx=True))
            if not args.skip_all_read:
                print("  'Tout marquer comme lu'…", flush=True)
                start, mark_all_at = time.perf_counter(), timezone.now()
                response = client.post(reverse("liaison:feed_mark_read"))
                mark_all_ms = (time.perf_counter() - start) * 1000
                if response.status_code != 302:
                    raise SystemExit(f"feed_mark_read: HTTP {response.status_code}")
                marked = ReadMark.objects.filter(user=user, read_at__gte=mark_all_at).count()
                read_before = FeedState.objects.filter(user=user).values_list("read_before", flat=True).first()
                all_read = Page("my feed, all read, page 1", reverse("liaison:feed"))
                print(f"  {all_read.name}…", flush=True)
                all_read.run(client, 1, args.all_read_requests)
                pages.append(all_read)
    finally:
        marks = ReadMark.objects.filter(user=user, read_at__gte=started_at).delete()[0]
        if feed_state_before is None:
            FeedState.objects.filter(user=user).delete()
        else:
            FeedState.objects.filter(user=user).update(read_before=feed_state_before)
        if created_authenticator is not None:
            Authenticator.objects.filter(pk=created_authenticator.pk).delete()
        if vendor == "postgresql":
            # The dead rows of the deleted read marks would slow the next run (when autovacuum is off).
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM (ANALYZE) {ReadMark._meta.db_table}")

    print()
    print(
        f"Liaison benchmark — {vendor}, {total:,} transmissions, person {person_id} with {heavy:,}; "
        f"{args.requests} requests per page after {args.warmup} warm-up"
    )
    print(f"{'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'SQL ms':>8} {'items':>6}  verdict")
    missed = []
    for page in pages:
        ok50, ok95 = page.p50 <= args.target, page.p95 <= args.p95
        verdict = (
            "OK"
            if ok50 and ok95
            else "MISSED ("
            + ", ".join([f"p50 > {args.target:g}"] * (not ok50) + [f"p95 > {args.p95:g}"] * (not ok95))
            + ")"
        )
        print(
            f"{page.name:<32} {page.p50:8.1f} {page.p95:8.1f} {len(page.queries):8d} {page.sql_ms:8.1f} "
            f"{page.items:6d}  {verdict}"
        )
        if not (ok50 and ok95):
            missed.append(page)
    print(f"(queries and SQL ms: one extra request, CaptureQueriesContext; {marks} read marks of the run removed)")
    if mark_all_ms is not None:
        state = f"FeedState read_before {read_before:%Y-%m-%d %H:%M:%S}" if read_before else "no FeedState (!)"
        print(
            f"'Tout marquer comme lu' (POST liaison:feed_mark_read): {mark_all_ms:.0f} ms, {state}, "
            f"{marked:,} read marks written; 'my feed, all read' timed over {args.all_read_requests} requests"
        )

    for page in pages:
        if page not in missed and not args.explain:
            continue
        print()
        print(f"== {page.name}: slowest queries of one request ({page.sql_ms:.1f} ms of SQL)")
        for query in page.slowest():
            print(f"-- {float(query['time']) * 1000:.1f} ms: {query['sql'][:600]}")
        if vendor != "postgresql":
            continue
        selects = [q for q in page.slowest(len(page.queries)) if q["sql"].lstrip().upper().startswith("SELECT")]
        # The page's list query (the slowest one if there are two, as in the feed), and the slowest
        # SELECT when it is another one.
        lists = [q for q in selects if LIST_QUERY in q["sql"] and "LIMIT" in q["sql"]]
        chosen = [("list query", lists[0])] if lists else []
        if selects and (not lists or selects[0] is not lists[0]):
            chosen.append(("slowest SELECT", selects[0]))
        for what, query in chosen:
            took = float(query["time"]) * 1000
            print(f"-- EXPLAIN (ANALYZE, BUFFERS) of the {what} ({took:.1f} ms):\n{query['sql']}")
            print(explain(query["sql"]))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
