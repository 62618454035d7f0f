"""Reads of the kernel's lists for the pages above it (the professional's day): each
built on the gate's querysets, so that a list shows only persons the user may see."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from coordination import access
from coordination.models import (
    Accompaniment,
    Category,
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
            person__in=access.persons_in(user, Category.CIRCLE, delegate=delegate, reach=reach),
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
            person__in=access.persons_in(user, Category.RECORD, delegate=delegate, reach=reach),
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
        else Person.objects.filter(pk__in=reach.person_ids(Category.RECORD))
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
