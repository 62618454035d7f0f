"""The rules of the access model, each defined once.

Who is a professional, who decides for a person (the person and their active legal
representatives), which delegations are in force, who administers a structure, through
which structures a professional may break the glass, as whom an actor acts. The gate
(`coordination.access`), the services, the selectors, the pages and the API ask these
functions; none of them restates a rule.

Each rule comes in the shapes its callers need: a yes/no for one user, and a `Q` or a
queryset for lists, so that a list page asks the same rule in one query.

The gate's hand-written SQL (`access._decide_sql`) states the same rules for speed; a
test (tests/coordination/test_access_paths.py) checks that both agree for every persona,
category, level and state.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from coordination.models import (
    AccessVia,
    CarerLink,
    Delegation,
    DelegationStatus,
    Person,
    Structure,
    TeamMembership,
    TeamRole,
)

# --- Professionals -----------------------------------------------------------------------------


def is_professional(user) -> bool:
    """An account with an active professional profile."""
    if not getattr(user, "is_authenticated", False):
        return False
    profile = getattr(user, "professional", None)
    return bool(profile and profile.is_active)


def professional_users_q(prefix: str = "") -> Q:
    """`Q` on users (or on a relation to users, with `prefix="user__"`): active professionals."""
    return Q(**{f"{prefix}professional__is_active": True})


# --- Who decides for the person -----------------------------------------------------------------


def legal_representative_links(*, person: Person | int | None = None, user=None) -> QuerySet[CarerLink]:
    """Active links of a legal representative (tuteur, curateur, parent, habilitation)."""
    links = CarerLink.objects.filter(is_legal_representative=True, ended_on__isnull=True)
    if person is not None:
        links = links.filter(person=person)
    if user is not None:
        links = links.filter(user=user)
    return links


def is_legal_representative(user, person: Person) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return legal_representative_links(person=person, user=user).exists()


def deciders_q(person: Person) -> Q:
    """`Q` on users: who decides for `person` (the person and active legal representatives)."""
    return Q(pk=person.user_id) | Q(
        carer_links__person=person, carer_links__is_legal_representative=True, carer_links__ended_on__isnull=True
    )


def is_decider(user, person: Person) -> bool:
    """The person themself or an active legal representative: they decide the matrix."""
    if not getattr(user, "is_authenticated", False):
        return False
    return person.user_id == user.pk or is_legal_representative(user, person)


def is_person_side(user, person: Person) -> bool:
    """The person themself or one of their carers (any relationship), not a professional."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        person.user_id == user.pk or CarerLink.objects.filter(person=person, user=user, ended_on__isnull=True).exists()
    )


def acting_as(actor, person: Person) -> str:
    """As whom `actor` acts on `person`, for the audit row: themself, as legal
    representative, or through a granted right."""
    if actor is None:
        return ""
    if person.user_id == actor.pk:
        return AccessVia.SELF
    if is_legal_representative(actor, person):
        return AccessVia.REPRESENTATIVE
    return AccessVia.NORMAL


# --- Delegations --------------------------------------------------------------------------------


def active_delegations(now: datetime | None = None) -> QuerySet[Delegation]:
    """Delegations in force: consented, within their period, the delegator still in the circle.
    (What they give is further capped, at each check, by the delegator's current right.)"""
    now = now or timezone.now()
    return Delegation.objects.filter(
        status=DelegationStatus.ACTIVE, starts_at__lte=now, ends_at__gt=now, delegator__ended_at__isnull=True
    )


def delegation_in_force_q(prefix: str, now: datetime) -> Q:
    """`active_delegations` as a `Q` through a relation (`prefix="delegation__"`)."""
    return Q(
        **{
            f"{prefix}status": DelegationStatus.ACTIVE,
            f"{prefix}starts_at__lte": now,
            f"{prefix}ends_at__gt": now,
            f"{prefix}delegator__ended_at__isnull": True,
        }
    )


# --- Structures ----------------------------------------------------------------------------------


def team_memberships_in_force(user) -> QuerySet[TeamMembership]:
    """The user's team memberships today (an end date in the future still counts)."""
    today = timezone.localdate()
    return TeamMembership.objects.filter(professional__user=user, professional__is_active=True).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=today)
    )


def administered_structures(user) -> QuerySet[Structure]:
    """Structures whose administrator the user is today."""
    if not getattr(user, "is_authenticated", False):
        return Structure.objects.none()
    return Structure.objects.filter(
        pk__in=team_memberships_in_force(user).filter(is_structure_admin=True).values("structure_id")
    )


def administers_structure(user, structure: Structure | int) -> bool:
    structure_id = structure.pk if isinstance(structure, Structure) else structure
    return administered_structures(user).filter(pk=structure_id).exists()


def accompanying_structures(person: Person) -> QuerySet[Structure]:
    """Structures that accompany the person today."""
    return Structure.objects.filter(accompaniments__person=person, accompaniments__ended_on__isnull=True).distinct()


def administers_accompanying_structure(user, person: Person) -> bool:
    """An administrator of a structure that accompanies the person."""
    return (
        administered_structures(user)
        .filter(accompaniments__person=person, accompaniments__ended_on__isnull=True)
        .exists()
    )


def break_glass_structures(user, person: Person) -> QuerySet[Structure]:
    """Structures through which `user` may break the glass on `person`: those that
    accompany the person and whose team the user belongs to."""
    if not is_professional(user):
        return Structure.objects.none()
    return accompanying_structures(person).filter(pk__in=team_memberships_in_force(user).values("structure_id"))


def referents_q(structure: Structure) -> Q:
    """`Q` on users: the structure's référents today."""
    return Q(
        professional__team_memberships__structure=structure,
        professional__team_memberships__role=TeamRole.REFERENT,
        professional__team_memberships__ended_on__isnull=True,
    )


def structure_admins_q(structure: Structure) -> Q:
    """`Q` on users: the structure's administrators today."""
    today = timezone.localdate()
    return Q(
        professional__is_active=True,
        professional__team_memberships__structure=structure,
        professional__team_memberships__is_structure_admin=True,
    ) & (
        Q(professional__team_memberships__ended_on__isnull=True) | Q(professional__team_memberships__ended_on__gt=today)
    )
