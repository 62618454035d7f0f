""" "New since my last visit": per user and person, what was added since they last
opened the person's record, as annotations of a `Person` queryset (one query for a
whole caseload page, whatever its size).

Blocks register their counter here (`register`), so that the kernel never imports
them: the liaison notebook registers its transmissions in `liaison.apps`, the documents
block its documents in `documents.apps`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Expression, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from coordination import access
from coordination.models import Person, RecordVisit

# counter(user, delegate=...) -> a queryset of the block's items, filtered on
# person=OuterRef("pk") and created after OuterRef("news_since"), that `user` may see;
# `delegate` is access.holds_active_delegation(user), asked once for every counter
# (pass it on to access.persons_visible_to).
Counter = Callable[..., QuerySet]
_COUNTERS: dict[str, Counter] = {}


def register(key: str, counter: Counter) -> None:
    _COUNTERS[key] = counter


def keys() -> list[str]:
    return list(_COUNTERS)


def count_of(queryset: QuerySet) -> Expression:
    return Coalesce(
        Subquery(
            queryset.order_by().values("person").annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()
        ),
        Value(0),
    )


def annotate_news(queryset: QuerySet, user, *, delegate: bool | None = None) -> QuerySet:
    """Add `news_since` and `new_<key>` counts to a Person queryset. Without a previous
    visit, what was added in the last LIAISON_UNREAD_DAYS days counts as new. `delegate`:
    access.holds_active_delegation(user) when the caller already asked it."""
    if delegate is None:
        delegate = access.holds_active_delegation(user)
    default_since = timezone.now() - timedelta(days=settings.LIAISON_UNREAD_DAYS)
    queryset = queryset.annotate(
        news_since=Coalesce(
            Subquery(RecordVisit.objects.filter(user=user, person=OuterRef("pk")).values("visited_at")[:1]),
            Value(default_since),
        )
    )
    return queryset.annotate(
        **{f"new_{key}": count_of(counter(user, delegate=delegate)) for key, counter in _COUNTERS.items()}
    )


def record_visit(*, user, person: Person) -> None:
    """Remember that `user` opened the record now ("new since my last visit"). Not an
    audited change: the access itself is in the access log.

    One UPDATE on every visit but the first (update_or_create read the row with SELECT …
    FOR UPDATE, then wrote it: two statements in a transaction on every overview)."""
    now = timezone.now()
    visits = RecordVisit.objects.filter(user=user, person=person)
    if visits.update(visited_at=now):
        return
    try:
        with transaction.atomic():
            RecordVisit.objects.create(user=user, person=person, visited_at=now)
    except IntegrityError:  # a first visit in another request at the same moment
        visits.update(visited_at=now)
