"""Reads of the kernel's lists for the pages above it (the professional's day): each
built on the gate's querysets, so that a list shows only persons the user may see."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.text import Truncator

from common.notify import Summary
from coordination import access
from coordination.models import (
    Accompaniment,
    BreakGlassAccess,
    Category,
    CircleMember,
    Delegation,
    DelegationStatus,
    JoinRequest,
    JoinRequestStatus,
    Person,
    Structure,
)


def join_requests_waiting(
    user, *, delegate: bool | None = None, reach: access.Reach | None = None
) -> QuerySet[JoinRequest]:
    """Requests to join a circle I may read, still waiting for the person's answer."""
    return (
        JoinRequest.objects.filter(
            status=JoinRequestStatus.PENDING,
            person__among=access.persons_in(user, Category.CIRCLE, delegate=delegate, reach=reach),
        )
        .select_related("person", "professional__user", "structure")
        .order_by("created_at", "pk")
    )


def delegations_waiting(
    user, *, delegate: bool | None = None, reach: access.Reach | None = None
) -> QuerySet[Delegation]:
    """Delegations I give or receive that wait for the person's consent (persons whose
    record I may read)."""
    return (
        Delegation.objects.filter(
            Q(delegator__user=user) | Q(delegate__user=user),
            status=DelegationStatus.PENDING,
            person__among=access.persons_in(user, Category.RECORD, delegate=delegate, reach=reach),
        )
        .select_related("person", "delegator__user", "delegate__user")
        .order_by("created_at", "pk")
    )


def accompanied_persons(
    user, structure: Structure, *, delegate: bool | None = None, reach: access.Reach | None = None
) -> QuerySet[Person]:
    """Persons `structure` accompanies today whose record `user` may read, by name (with
    `reach`, without the gate's annotations: for a count)."""
    persons = (
        access.persons_visible_to(user, Category.RECORD, delegate=delegate)
        if reach is None
        else Person.objects.filter(pk__among=reach.person_ids(Category.RECORD))
    )
    return persons.filter(
        Exists(Accompaniment.objects.filter(person=OuterRef("pk"), structure=structure, ended_on__isnull=True))
    ).order_by("birth_name", "first_name", "pk")


def accompaniment_starts(structure: Structure, persons) -> dict[int, object]:
    """Since when `structure` accompanies each of `persons` (for an export), one query."""
    return dict(
        Accompaniment.objects.filter(structure=structure, ended_on__isnull=True, person__in=persons).values_list(
            "person_id", "started_on"
        )
    )


# --- What the notification centre may say (common.notify.Summary) ---------------------------------


def _name(user) -> str:
    return (user.get_full_name() or user.email) if user else ""


def _words(text: str, count: int = 15) -> str:
    return Truncator(" ".join(text.split())).words(count)


def member_summaries(user, ids: list[int]) -> dict[int, Summary]:
    """Members who joined or left a circle `user` may read: who, in which role."""
    rows = CircleMember.objects.filter(
        pk__in=ids, person__in=access.persons_visible_to(user, Category.CIRCLE).values("pk")
    ).select_related("user", "structure", "ended_by")
    return {
        m.pk: Summary(
            excerpt=_words(
                f"{m.display_name} ({m.get_role_display()})" + (f" — {m.end_reason}" if m.end_reason else "")
            ),
            author=_name(m.ended_by) if m.ended_at else "",
        )
        for m in rows
    }


def join_request_summaries(user, ids: list[int]) -> dict[int, Summary]:
    """Join requests about persons whose circle `user` may read: who asks, as what, their message."""
    rows = JoinRequest.objects.filter(
        pk__in=ids, person__in=access.persons_visible_to(user, Category.CIRCLE).values("pk")
    ).select_related("professional__user", "structure")
    return {
        r.pk: Summary(
            excerpt=_words(f"{r.get_role_display()}" + (f" — {r.message}" if r.message else "")),
            author=_name(r.professional.user) + (f" ({r.structure.name})" if r.structure_id else ""),
            kind=r.get_status_display() if r.status != JoinRequestStatus.PENDING else "",
        )
        for r in rows
    }


def delegation_summaries(user, ids: list[int]) -> dict[int, Summary]:
    """Delegations about persons whose circle `user` may read: who to whom, from when to when."""
    rows = Delegation.objects.filter(
        pk__in=ids, person__in=access.persons_visible_to(user, Category.CIRCLE).values("pk")
    ).select_related("delegator__user", "delegate__user")
    return {
        d.pk: Summary(
            excerpt=_words(
                f"À {_name(d.delegate.user)}, du {timezone.localtime(d.starts_at):%d/%m/%Y} "
                f"au {timezone.localtime(d.ends_at):%d/%m/%Y}"
            ),
            author=d.delegator.display_name,
            kind=d.get_status_display() if d.status != DelegationStatus.PENDING else "",
        )
        for d in rows
    }


def break_glass_summaries(user, ids: list[int]) -> dict[int, Summary]:
    """Emergency openings of records `user` may read: who, from which structure, until
    when, and the first words of the reason they gave."""
    rows = BreakGlassAccess.objects.filter(
        pk__in=ids, person__in=access.persons_visible_to(user, Category.RECORD).values("pk")
    ).select_related("user", "structure")
    return {
        g.pk: Summary(
            excerpt=_words(g.reason),
            author=f"{_name(g.user)} ({g.structure.name})",
            kind=f"Bris de glace jusqu'au {timezone.localtime(g.expires_at):%d/%m/%Y à %H:%M}",
        )
        for g in rows
    }
