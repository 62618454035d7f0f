"""Which transmissions a user may see — always after the gate has allowed `liaison` read.

- shared transmissions: every member with `liaison` read on the person;
- internal ones: only members of the author's structure team (with `liaison` read).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connection
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.text import Truncator

from common.notify import Summary
from coordination import access
from coordination.models import Accompaniment, Category, Person, Structure, TeamMembership
from liaison.models import Addressee, FeedState, ReadMark, Scope, Transmission, TransmissionStatus


def my_structure_ids(user):
    return TeamMembership.objects.filter(professional__user=user, ended_on__isnull=True).values("structure_id")


def visibility(user) -> Q:
    return Q(scope=Scope.SHARED) | Q(scope=Scope.INTERNAL, author_structure__in=my_structure_ids(user))


def notebook(user, person: Person) -> QuerySet[Transmission]:
    """The person's notebook as `user` may read it (the caller has passed the gate)."""
    return Transmission.objects.filter(visibility(user), person=person)


def with_read_state(queryset: QuerySet[Transmission], user) -> QuerySet[Transmission]:
    return queryset.annotate(is_read=Exists(ReadMark.objects.filter(user=user, transmission=OuterRef("pk"))))


@dataclass(frozen=True)
class FeedScope:
    """What bounds a user's feed, read once per request: the persons whose notebook they
    may read (through the gate) and the structures whose internal transmissions they see.

    Plain id lists rather than subqueries, for this one query family: with the gate's
    OR of EXISTS inside, PostgreSQL misjudged the persons (7,500 estimated for 151 real)
    and spent three times longer planning the feed query than running it (bench/README.md).
    """

    person_ids: tuple[int, ...]
    structure_ids: tuple[int, ...]


def feed_scope(user) -> FeedScope:
    persons = access.visible_person_ids(user, Category.LIAISON).order_by()
    return FeedScope(tuple(persons), tuple(my_structure_ids(user).values_list("structure_id", flat=True)))


def feed_start(user) -> tuple[FeedScope, datetime]:
    """`feed_scope(user)` and `unread_since(user)`, what a page of the feed reads first.
    On PostgreSQL in one query (the delegation question, the matrix's persons, the
    structures and the "all read" mark as subqueries of one row) instead of four; for
    the delegate of a delegation in force, the persons are then read with the gate's
    delegation rules, as `feed_scope` does."""
    if connection.vendor != "postgresql":
        return feed_scope(user), unread_since(user)
    from django.contrib.auth import get_user_model
    from django.contrib.postgres.expressions import ArraySubquery
    from django.db.models import Subquery

    from coordination import rules

    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            _delegate=Exists(rules.active_delegations(timezone.now()).filter(delegate__user=user)),
            _persons=ArraySubquery(access.visible_person_ids(user, Category.LIAISON, delegate=False).order_by()),
            _structures=ArraySubquery(my_structure_ids(user)),
            _read_before=Subquery(FeedState.objects.filter(user=user).order_by("pk").values("read_before")[:1]),
        )
        .values_list("_delegate", "_persons", "_structures", "_read_before")
        .get()
    )
    delegate, persons, structures, read_before = row
    if delegate:
        persons = access.visible_person_ids(user, Category.LIAISON, delegate=True).order_by()
    return FeedScope(tuple(persons), tuple(structures)), _since(read_before)


def feed(user, scope: FeedScope | None = None) -> QuerySet[Transmission]:
    """ "My feed": what `user` may read across every person whose notebook they may read."""
    scope = scope or feed_scope(user)
    return Transmission.objects.filter(
        Q(scope=Scope.SHARED) | Q(scope=Scope.INTERNAL, author_structure__in=scope.structure_ids),
        person__in=scope.person_ids,
    )


def can_see(user, transmission: Transmission) -> bool:
    return notebook(user, transmission.person).filter(pk=transmission.pk).exists()


# --- Search ------------------------------------------------------------------------------------


class FrenchDocument(Func):
    """to_tsvector('french', search_document): the very expression of the GIN index."""

    template = "to_tsvector('french'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()


def search(queryset: QuerySet[Transmission], query: str) -> QuerySet[Transmission]:
    """French full-text search on PostgreSQL (stemming: « chutes » finds « chute »); on
    SQLite, every word must appear in the text."""
    query = " ".join(query.split())[:200]
    if not query:
        return queryset
    if connection.vendor == "postgresql":
        return queryset.annotate(_document=FrenchDocument(F("search_document"))).filter(
            _document=SearchQuery(query, config="french", search_type="websearch")
        )
    for word in query.split():
        queryset = queryset.filter(search_document__icontains=word.strip('"'))
    return queryset


# --- Keyset pagination ---------------------------------------------------------------------------

PAGE_SIZE = 25


@dataclass
class Page:
    items: list[Transmission]
    next_cursor: str | None


def encode_cursor(phase: str, transmission: Transmission) -> str:
    raw = f"{phase}|{transmission.observed_at.isoformat()}|{transmission.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[str, datetime, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        phase, moment, pk = raw.split("|")
        return phase, datetime.fromisoformat(moment), int(pk)
    except (ValueError, UnicodeDecodeError):
        return None


def _after(queryset, moment: datetime, pk: int):
    return queryset.filter(Q(observed_at__lt=moment) | Q(observed_at=moment, pk__lt=pk))


def newest_first(queryset: QuerySet[Transmission], cursor: str | None, size: int = PAGE_SIZE) -> Page:
    """A page of transmissions, newest observation first, after the cursor."""
    decoded = decode_cursor(cursor)
    if decoded:
        queryset = _after(queryset, decoded[1], decoded[2])
    items = list(queryset.order_by("-observed_at", "-pk")[: size + 1])
    more = len(items) > size
    items = items[:size]
    return Page(items, encode_cursor("a", items[-1]) if more else None)


UNREAD_COUNT_CAP = 100


def unread_since(user) -> datetime:
    """Only what was entered after this can be unread: the user's "all read" mark, and
    at most LIAISON_UNREAD_DAYS back (older news is not news; it also bounds the queries)."""

    return _since(FeedState.objects.filter(user=user).values_list("read_before", flat=True).first())


def _since(read_before: datetime | None) -> datetime:
    since = timezone.now() - timezone.timedelta(days=settings.LIAISON_UNREAD_DAYS)
    return max(since, read_before) if read_before else since


def unread(user, queryset: QuerySet[Transmission], since: datetime | None = None) -> QuerySet[Transmission]:
    since = since or unread_since(user)
    return queryset.filter(
        ~Exists(ReadMark.objects.filter(user=user, transmission=OuterRef("pk"))), created_at__gt=since
    )


def unread_count(user, since: datetime | None = None, scope: FeedScope | None = None) -> int:
    """Unread items of "my feed", counted up to UNREAD_COUNT_CAP (shown as "99+" beyond)."""
    # Unordered, so that PostgreSQL stops at the cap instead of sorting every unread item.
    return unread(user, feed(user, scope), since).order_by()[:UNREAD_COUNT_CAP].count()


def unread_first(
    user, queryset: QuerySet[Transmission], cursor: str | None, size: int = PAGE_SIZE, since: datetime | None = None
) -> Page:
    """ "My feed": the unread ones (newest first), then the read ones."""
    decoded = decode_cursor(cursor)
    phase = decoded[0] if decoded else "u"
    since = since or unread_since(user)
    read = Q(Exists(ReadMark.objects.filter(user=user, transmission=OuterRef("pk")))) | Q(created_at__lte=since)
    items: list[Transmission] = []
    if phase == "u":
        unread_items = unread(user, queryset, since)
        if decoded:
            unread_items = _after(unread_items, decoded[1], decoded[2])
        items = _by_ids(unread_items, size + 1)
        if len(items) > size:
            items = items[:size]
            return Page(_flag(items, False), encode_cursor("u", items[-1]))
        _flag(items, False)
        decoded = None
    already = queryset.filter(read)
    if decoded:
        already = _after(already, decoded[1], decoded[2])
    rest = _by_ids(already, size - len(items) + 1)
    more = len(rest) > size - len(items)
    rest = _flag(rest[: size - len(items)], True)
    items += rest
    cursor = None
    if more:
        # No read item on this page yet (the unread ones filled it): resume after the last unread.
        cursor = encode_cursor("r", rest[-1]) if rest else encode_cursor("u", items[-1])
    return Page(items, cursor)


def _by_ids(queryset: QuerySet[Transmission], limit: int) -> list[Transmission]:
    """`queryset[:limit]`, newest first, in one statement of two steps: the page's ids by
    the filters alone (an index, the read marks, a top-N sort of narrow rows), then those
    rows with the joins and prefetches `queryset` asks for. Filtered and joined at once,
    PostgreSQL joined the person, the author and the structure to every unread item of the
    feed before keeping 26 (757 rows on pages_prof: 5.8 → 3.7 ms, bench/README.md).
    The filters must not need the joins' rows (no annotation is kept: `_flag` says what
    is read)."""
    ids = queryset.order_by("-observed_at", "-pk").values("pk")[:limit]
    rows = queryset.model._default_manager.filter(pk__in=ids).order_by("-observed_at", "-pk")
    rows.query.select_related = queryset.query.select_related
    rows.query.deferred_loading = queryset.query.deferred_loading
    rows._prefetch_related_lookups = queryset._prefetch_related_lookups
    return list(rows)


def _flag(items: list[Transmission], is_read: bool) -> list[Transmission]:
    for item in items:
        item.is_read = is_read
    return items


def new_since_counter(user, *, delegate: bool | None = None) -> QuerySet[Transmission]:
    """Transmissions `user` may read, added to the person (OuterRef "pk") since their last
    visit (OuterRef "news_since"), by someone else: for coordination.news."""
    persons = access.visible_person_ids(user, Category.LIAISON, delegate=delegate)
    return Transmission.objects.filter(
        visibility(user), person=OuterRef("pk"), person__in=persons, created_at__gt=OuterRef("news_since")
    ).exclude(author=user)


# --- The professional's day (portal dashboard) ---------------------------------------------------

RECENT_ALERT_DAYS = 7


def _readable(user, *, delegate: bool | None = None, reach: access.Reach | None = None) -> Q:
    """Transmissions `user` may read: the person's notebook through the gate's queryset,
    and the internal ones of their structures only."""
    return visibility(user) & Q(person__among=access.persons_in(user, Category.LIAISON, delegate=delegate, reach=reach))


def awaiting_my_receipt(
    user, *, delegate: bool | None = None, reach: access.Reach | None = None
) -> QuerySet[Transmission]:
    """Transmissions addressed to `user` whose author asked for a receipt not given yet,
    oldest first (the one waiting longest on top)."""
    return (
        Transmission.objects.filter(
            _readable(user, delegate=delegate, reach=reach), status=TransmissionStatus.ACTIVE, requests_receipt=True
        )
        .filter(Exists(Addressee.objects.filter(transmission=OuterRef("pk"), user=user, acknowledged_at__isnull=True)))
        .select_related("person", "author")
        .order_by("created_at", "pk")
    )


def recent_alerts(
    user, days: int = RECENT_ALERT_DAYS, *, delegate: bool | None = None, reach: access.Reach | None = None
) -> QuerySet[Transmission]:
    """Alerts addressed to `user` and remarkable events of the last `days` days, written
    by others, newest first."""
    since = timezone.now() - timezone.timedelta(days=days)
    # Two small sources (each on its index), read as one UNION ALL of ids: an OR of the
    # two `IN`s made the planner read every recent transmission of the caseload (32,000
    # rows, 23 ms of the 25 in bench/dashboard.py at the full scale; 0.8 ms so).
    persons = access.persons_in(user, Category.LIAISON, delegate=delegate, reach=reach)
    addressed = (
        Addressee.objects.filter(user=user, transmission__created_at__gt=since).values("transmission_id").order_by()
    )
    remarkable = (
        Transmission.objects.filter(person__among=persons, created_at__gt=since)
        .exclude(remarkable_event="")
        .values("pk")
        .order_by()
    )
    return (
        Transmission.objects.filter(visibility(user), person__among=persons)
        .filter(status=TransmissionStatus.ACTIVE, created_at__gt=since)
        .filter(pk__in=addressed.union(remarkable, all=True))
        .exclude(author=user)
        .select_related("person", "author")
        .order_by("-created_at", "-pk")
    )


def structure_receipts_overdue(
    user, structure: Structure, *, delegate: bool | None = None, reach: access.Reach | None = None
) -> QuerySet[Addressee]:
    """Receipts asked more than LIAISON_RECEIPT_REMINDER_HOURS ago and still missing, on
    transmissions `user` may read about persons `structure` accompanies today."""
    due = timezone.now() - timezone.timedelta(hours=settings.LIAISON_RECEIPT_REMINDER_HOURS)
    persons = Accompaniment.objects.filter(
        structure=structure,
        ended_on__isnull=True,
        person__among=access.persons_in(user, Category.LIAISON, delegate=delegate, reach=reach),
    ).values("person_id")
    shared = Q(transmission__scope=Scope.SHARED) | Q(
        transmission__scope=Scope.INTERNAL, transmission__author_structure__in=my_structure_ids(user)
    )
    return (
        Addressee.objects.filter(
            shared,
            acknowledged_at__isnull=True,
            transmission__requests_receipt=True,
            transmission__status=TransmissionStatus.ACTIVE,
            transmission__created_at__lt=due,
            transmission__person__in=persons,
        )
        .select_related("user", "transmission__person", "transmission__author")
        .order_by("transmission__created_at", "pk")
    )


def notification_summaries(user, ids: list[int]) -> dict[int, Summary]:
    """The notification centre's summary of transmissions `user` may still read: the
    author, the first words (the DAR's target and data for a targeted one), and whether a
    receipt was asked of them. One query; what `user` may not read is left out."""
    rows = (
        Transmission.objects.filter(_readable(user), pk__in=ids)
        .select_related("author")
        .annotate(
            asks_me=Exists(
                Addressee.objects.filter(transmission=OuterRef("pk"), user=user, acknowledged_at__isnull=True)
            )
        )
    )
    summaries = {}
    for t in rows:
        if t.status == TransmissionStatus.WITHDRAWN:
            excerpt = "Transmission retirée par son auteur."
        elif t.kind == "targeted":
            excerpt = f"{t.target} — {t.data}"
        else:
            excerpt = t.text
        if t.requests_receipt and t.asks_me:
            kind = "Demande d'accusé de réception"
        elif t.remarkable_event:
            kind = f"Évènement remarquable : {t.get_remarkable_event_display()}"
        else:
            kind = ""
        summaries[t.pk] = Summary(
            excerpt=Truncator(" ".join(excerpt.split())).words(15),
            author=t.author.get_full_name() or t.author.email,
            kind=kind,
        )
    return summaries
