"""Reads of the notification centre: a user's notifications grouped by type and person
("3 nouvelles transmissions pour Jeanne MARTIN"), and what may be said of each.

A notification row carries no health detail. What the centre adds — the person's name,
who wrote, the first words — is read at display time through the gate: the person only
when the user may still read the type's category of that person, the summary only
through the type's `describe` (the block's selector, on the gate's querysets). A user who
lost access sees the generic message again. Constant queries per page: one per
category and per type shown, whatever the number of notifications.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, When

from common.notify import NotificationType, Summary, blocks, catalogue
from coordination import access
from coordination.models import Category, Person
from notifications.models import Notification


def mine(user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user, is_in_app=True)


def unread_groups_count(user) -> int:
    """The badge: how many groups (type × person) hold unread notifications."""
    return mine(user).filter(read_at__isnull=True).values("event_type", "person_id").distinct().count()


def group_rows(queryset: QuerySet[Notification]):
    """One row per (type, person): counts, the newest notification; unread groups first."""
    return (
        queryset.values("event_type", "person_id")
        .annotate(
            total=Count("pk"),
            unread=Count("pk", filter=Q(read_at__isnull=True)),
            has_unread=Max(Case(When(read_at__isnull=True, then=1), default=0, output_field=IntegerField())),
            latest_at=Max("created_at"),
            latest_id=Max("pk"),
        )
        .order_by("-has_unread", "-latest_at", "-latest_id")
    )


@dataclass
class Group:
    event_type: str
    person_id: int | None
    total: int
    unread: int
    latest: Notification
    kind: NotificationType | None = None
    person: Person | None = None  # None when the user may not (or no longer) see the person
    summary: Summary | None = None

    @property
    def key(self) -> str:
        return f"{self.event_type}/{self.person_id or 0}"

    @property
    def count(self) -> int:
        return self.unread or self.total

    @property
    def title(self) -> str:
        """ "3 nouvelles transmissions pour Jeanne MARTIN", or the type's label for one."""
        who = f" pour {self.person.display_name}" if self.person else ""
        if self.count > 1 and self.kind and self.kind.plural:
            return f"{self.count} {self.kind.plural}{who}"
        label = self.kind.label if self.kind else "Notification"
        if self.count > 1:
            return f"{self.count} notifications : {label}{who}"
        return f"{label}{who}"

    @property
    def message(self) -> str:
        return self.kind.message if self.kind else ""

    @property
    def block_label(self) -> str:
        return blocks().get(self.kind.block, "") if self.kind else ""


def decorate(user, rows, *, path: str = "") -> list[Group]:
    """Groups for the rows of `group_rows`, with what the gate lets `user` see."""
    rows = list(rows)
    latest = {
        n.pk: n for n in Notification.objects.filter(pk__in=[r["latest_id"] for r in rows]).select_related("actor")
    }
    groups = [
        Group(
            r["event_type"],
            r["person_id"],
            r["total"],
            r["unread"],
            latest[r["latest_id"]],
            catalogue().get(r["event_type"]),
        )
        for r in rows
    ]
    describe_notifications(user, [g.latest for g in groups], path=path)
    for group in groups:
        group.person = getattr(group.latest, "visible_person", None)
        group.summary = getattr(group.latest, "summary", None)
    return groups


def describe_notifications(user, notifications: list[Notification], *, path: str = "") -> None:
    """Set `visible_person` and `summary` on each notification, as far as the gate allows,
    and log the reads of what is shown (one INSERT per category)."""
    by_category: dict[str, set[int]] = defaultdict(set)
    by_type: dict[str, list[Notification]] = defaultdict(list)
    for n in notifications:
        kind = catalogue().get(n.event_type)
        n.visible_person, n.summary = None, None
        if kind and kind.describe and n.subject_id:
            by_type[n.event_type].append(n)
        if n.person_id is None:
            continue
        by_category[(kind.category if kind else None) or Category.RECORD].add(n.person_id)
    visible: dict[str, dict[int, Person]] = {
        category: {p.pk: p for p in access.persons_visible_to(user, category).filter(pk__in=ids)}
        for category, ids in by_category.items()
    }
    shown: dict[tuple[str, str], dict[int, Person]] = defaultdict(dict)
    for n in notifications:
        if n.person_id is None:
            continue
        kind = catalogue().get(n.event_type)
        category = (kind.category if kind else None) or Category.RECORD
        n.visible_person = visible[category].get(n.person_id)
    for event_type, items in by_type.items():
        kind = catalogue()[event_type]
        describe = kind.describe
        if describe is None:
            continue
        # About a person: only while the user may still see them; about no person: the
        # block's describe decides alone (its subject's own readers).
        readable = [n for n in items if n.person_id is None or n.visible_person is not None]
        summaries = describe(user, list({n.subject_id for n in readable})) if readable else {}
        for n in readable:
            n.summary = summaries.get(n.subject_id)
            if n.summary is None:
                continue
            if n.visible_person is not None:
                shown[(kind.category or Category.RECORD, "")][n.person_id] = n.visible_person
            elif n.summary.person is not None:
                shown[(kind.category or Category.RECORD, n.summary.via)][n.summary.person.pk] = n.summary.person
    for (category, via), persons in shown.items():
        access.log_many(user, persons.values(), category, path=path, via=via)
