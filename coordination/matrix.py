"""The access matrix, held in one store: django-guardian's object permissions on `Person`.

A user's level on a category of a person is the permission rows they hold on that person
in the direct foreign-key table `PersonUserObjectPermission`: `write_<category>` (with
`read_<category>` beside it, write implying read) or `read_<category>` alone, or nothing.
So `user.has_perm("coordination.read_liaison", person)` and guardian's
`get_objects_for_user` answer what the matrix says; the gate (`coordination.access`)
reads the same rows with its own query and adds only what the matrix cannot say
(delegations, break-the-glass).

The matrix is per person and user: a user with two memberships of one circle (a
professional in two structures that accompany the person) has one row of rights. When
one of their memberships ends and another stays, their levels are capped at what the
remaining memberships start with (`entry_levels`); when the last one ends, every right
goes. Each change of a cell is kept in `GrantChange` (who changed what, when, why):
the history, never the state.

Only the services of `coordination` call the writers here, inside their transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cache

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from coordination.models import (
    Category,
    CircleMember,
    GrantChange,
    Level,
    MemberKind,
    MemberOrigin,
    Person,
    PersonUserObjectPermission,
    TeamRole,
    permission_codename,
)

R, W, N = Level.READ, Level.WRITE, Level.NONE

CATEGORY_ORDER = (
    Category.RECORD,
    Category.AGENDA,
    Category.LIAISON,
    Category.PPA,
    Category.DOCUMENTS,
    Category.CIRCLE,
    Category.EVALUATION,
    Category.EXCHANGES,
)

# Defaults of an accompanying structure's team, by team role (consent presumed within
# one care team, CSP L.1110-4): record, agenda, liaison, ppa, documents, circle,
# evaluation, exchanges. Evaluations are written by those who evaluate (care, education,
# psychology, social work), read by direction and care assistants; every member of the
# team who takes part in the person's daily care converses about it.
TEAM_DEFAULTS: dict[str, tuple[int, ...]] = {
    TeamRole.REFERENT: (W, W, W, W, W, W, W, W),
    TeamRole.DIRECTION: (R, R, R, R, R, W, R, W),
    TeamRole.PHYSICIAN: (R, W, W, R, W, R, W, W),
    TeamRole.NURSE: (R, W, W, R, R, R, W, W),
    TeamRole.CARE: (R, R, W, R, N, R, R, W),
    TeamRole.EDUCATOR: (R, W, W, W, R, R, W, W),
    TeamRole.PSYCHOLOGIST: (R, R, W, W, R, R, W, W),
    TeamRole.SOCIAL: (R, W, W, W, W, R, W, W),
    TeamRole.SECRETARY: (R, W, N, N, W, R, N, W),
    TeamRole.OTHER: (R, N, N, N, N, N, N, N),
    # The structure's own software (interop): it sends persons, appointments, documents
    # and evaluations (an interRAI tool's results), and reads back the notebook, the plan
    # and the circle; it takes no part in conversations.
    TeamRole.SOFTWARE: (W, W, R, R, W, R, W, N),
}
# The person themself, and a legal representative acting for them: they read their
# evaluations and write to their team.
SELF_DEFAULTS = (R, W, R, W, W, W, R, W)
LEGAL_REPRESENTATIVE_DEFAULTS = (R, W, R, W, W, W, R, W)
NO_RIGHTS = (N, N, N, N, N, N, N, N)


def levels_dict(levels: tuple[int, ...]) -> dict[str, int]:
    return dict(zip(CATEGORY_ORDER, levels, strict=True))


# --- Reading ----------------------------------------------------------------------------------


@cache
def _permission_ids(content_type_id: int) -> dict[str, int]:
    return dict(Permission.objects.filter(content_type_id=content_type_id).values_list("codename", "id"))


def permission_ids() -> dict[str, int]:
    """codename -> permission id of the matrix permissions (looked up once per process)."""
    ids = _permission_ids(ContentType.objects.get_for_model(Person).pk)
    if not ids:  # a fresh database whose permissions were created after the first look
        _permission_ids.cache_clear()
        ids = _permission_ids(ContentType.objects.get_for_model(Person).pk)
    return ids


def _levels_from_codenames(codenames: Iterable[str]) -> dict[str, int]:
    held = set(codenames)
    return {
        category: Level.WRITE
        if permission_codename(category, "write") in held
        else Level.READ
        if permission_codename(category, "read") in held
        else Level.NONE
        for category in Category.values
    }


def levels_of(person: Person | int, user_id: int | None) -> dict[str, int]:
    """The levels the matrix gives `user_id` on `person`, every category present."""
    if not user_id:
        return _levels_from_codenames(())
    person_id = person.pk if isinstance(person, Person) else person
    return _levels_from_codenames(
        PersonUserObjectPermission.objects.filter(user_id=user_id, content_object_id=person_id).values_list(
            "permission__codename", flat=True
        )
    )


def levels_by_user(person: Person | int) -> dict[int, dict[str, int]]:
    """Every user's levels on `person`, in one query (the circle pages)."""
    person_id = person.pk if isinstance(person, Person) else person
    codenames: dict[int, list[str]] = defaultdict(list)
    for user_id, codename in PersonUserObjectPermission.objects.filter(content_object_id=person_id).values_list(
        "user_id", "permission__codename"
    ):
        codenames[user_id].append(codename)
    return defaultdict(lambda: _levels_from_codenames(()), {u: _levels_from_codenames(c) for u, c in codenames.items()})


def entry_levels(member: CircleMember) -> dict[str, int]:
    """What a membership starts with: the team role's defaults for a team member, the
    person's and a legal representative's own defaults, nothing for anyone else."""
    if member.kind == MemberKind.PERSON:
        return levels_dict(SELF_DEFAULTS)
    link = member.carer_link
    if member.kind == MemberKind.CARER and link is not None and link.is_legal_representative:
        return levels_dict(LEGAL_REPRESENTATIVE_DEFAULTS)
    if member.origin == MemberOrigin.TEAM and member.professional is not None and member.structure_id:
        membership = member.professional.team_memberships.filter(structure_id=member.structure_id).order_by(
            "-started_on", "-pk"
        )
        role = membership.values_list("role", flat=True).first()
        if role:
            return levels_dict(TEAM_DEFAULTS[role])
    return levels_dict(NO_RIGHTS)


# --- Writing ----------------------------------------------------------------------------------


def _wanted_rows(person_id: int, user_id: int, levels: Mapping[str, int], ids: Mapping[str, int]) -> set[int]:
    wanted = set()
    for category, level in levels.items():
        if level >= R:
            wanted.add(ids[permission_codename(category, "read")])
        if level >= W:
            wanted.add(ids[permission_codename(category, "write")])
    return wanted


def _write(person_id: int, user_id: int, before: Mapping[str, int], after: Mapping[str, int]) -> None:
    """Make the rows of (person, user) say `after`, touching only the changed categories."""
    ids = permission_ids()
    changed = [c for c in after if after[c] != before.get(c, N)]
    if not changed:
        return
    old = _wanted_rows(person_id, user_id, {c: before.get(c, N) for c in changed}, ids)
    new = _wanted_rows(person_id, user_id, {c: after[c] for c in changed}, ids)
    if old - new:
        PersonUserObjectPermission.objects.filter(
            content_object_id=person_id, user_id=user_id, permission_id__in=old - new
        ).delete()
    if new - old:
        PersonUserObjectPermission.objects.bulk_create(
            [
                PersonUserObjectPermission(content_object_id=person_id, user_id=user_id, permission_id=p)
                for p in new - old
            ],
            ignore_conflicts=True,
        )


def _history(person_id, user_id, before, after, *, actor, member, reason, at) -> list[GrantChange]:
    return [
        GrantChange(
            person_id=person_id,
            user_id=user_id,
            member=member,
            category=category,
            old_level=before.get(category, N),
            new_level=level,
            changed_at=at,
            changed_by=actor,
            reason=reason,
        )
        for category, level in after.items()
        if level != before.get(category, N)
    ]


def set_levels(
    person: Person, user_id: int, levels: Mapping[str, int], *, actor, member: CircleMember | None, reason: str
) -> dict[str, tuple[int, int]]:
    """Set some cells of the user's row (the other categories stay). Returns the changes
    {category: (old, new)}, each also kept in `GrantChange`."""
    before = levels_of(person, user_id)
    after = {category: int(level) for category, level in levels.items()}
    _write(person.pk, user_id, before, after)
    GrantChange.objects.bulk_create(
        _history(person.pk, user_id, before, after, actor=actor, member=member, reason=reason, at=timezone.now())
    )
    return {c: (before.get(c, N), lv) for c, lv in after.items() if lv != before.get(c, N)}


def raise_to(person: Person, user_id: int, levels: Mapping[str, int], *, actor, member, reason: str) -> None:
    """Entering the circle: each cell becomes at least `levels` (never lowered)."""
    before = levels_of(person, user_id)
    set_levels(
        person,
        user_id,
        {c: max(before[c], int(lv)) for c, lv in levels.items()},
        actor=actor,
        member=member,
        reason=reason,
    )


def raise_many(
    person_ids: list[int],
    user_id: int,
    levels: Mapping[str, int],
    *,
    actor,
    members: Mapping[int, CircleMember],
    reason: str,
) -> None:
    """`raise_to` for one user on many persons, in a constant number of queries (a new
    team member joins every person the structure accompanies)."""
    held: dict[int, list[str]] = defaultdict(list)
    for person_id, codename in PersonUserObjectPermission.objects.filter(
        content_object_id__in=person_ids, user_id=user_id
    ).values_list("content_object_id", "permission__codename"):
        held[person_id].append(codename)
    ids = permission_ids()
    now = timezone.now()
    rows, history = [], []
    for person_id in person_ids:
        before = _levels_from_codenames(held.get(person_id, ()))
        after = {c: max(before[c], int(lv)) for c, lv in levels.items()}
        have = _wanted_rows(person_id, user_id, before, ids)
        rows += [
            PersonUserObjectPermission(content_object_id=person_id, user_id=user_id, permission_id=p)
            for p in _wanted_rows(person_id, user_id, after, ids) - have
        ]
        history += _history(
            person_id, user_id, before, after, actor=actor, member=members.get(person_id), reason=reason, at=now
        )
    PersonUserObjectPermission.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    GrantChange.objects.bulk_create(history, batch_size=1000)


def after_membership_ended(
    person: Person, user_id: int | None, *, actor, member: CircleMember | None, reason: str
) -> None:
    """A membership of `user_id` ended: without another active one, every right goes;
    with others, the levels are capped at what those start with."""
    if not user_id:
        return
    remaining = list(
        CircleMember.objects.active()
        .filter(person=person, user_id=user_id)
        .select_related("carer_link", "professional")
    )
    before = levels_of(person, user_id)
    ceiling: dict[str, int] = {category: N for category in Category.values}
    for other in remaining:
        for category, level in entry_levels(other).items():
            ceiling[category] = max(ceiling[category], level)
    set_levels(
        person,
        user_id,
        {c: min(before[c], ceiling[c]) for c in Category.values},
        actor=actor,
        member=member,
        reason=reason,
    )


def after_memberships_ended_many(
    person_ids: list[int], user_id: int, *, actor, members: Mapping[int, CircleMember], reason: str
) -> None:
    """A professional leaves a structure's team: on each person where no other membership
    of theirs remains, every right goes (constant number of queries); where one remains
    (rare), `after_membership_ended` caps the levels."""
    still_members = set(
        CircleMember.objects.active()
        .filter(person_id__in=person_ids, user_id=user_id)
        .values_list("person_id", flat=True)
    )
    gone = [p for p in person_ids if p not in still_members]
    held: dict[int, list[str]] = defaultdict(list)
    for person_id, codename in PersonUserObjectPermission.objects.filter(
        content_object_id__in=gone, user_id=user_id
    ).values_list("content_object_id", "permission__codename"):
        held[person_id].append(codename)
    now = timezone.now()
    history = []
    for person_id in gone:
        before = _levels_from_codenames(held.get(person_id, ()))
        history += _history(
            person_id,
            user_id,
            before,
            {c: N for c in Category.values},
            actor=actor,
            member=members.get(person_id),
            reason=reason,
            at=now,
        )
    PersonUserObjectPermission.objects.filter(content_object_id__in=gone, user_id=user_id).delete()
    GrantChange.objects.bulk_create(history, batch_size=1000)
    for person in Person.objects.filter(pk__in=still_members):
        after_membership_ended(person, user_id, actor=actor, member=members.get(person.pk), reason=reason)


def with_levels(members: Iterable[CircleMember], person: Person | int) -> list[CircleMember]:
    """The members, each with `levels` {category: level}: their user's row of the matrix
    while the membership is active, nothing once it ended. One query for the circle."""
    members = list(members)
    by_user = levels_by_user(person)
    nothing = _levels_from_codenames(())
    for member in members:
        member.levels = by_user[member.user_id] if member.is_active and member.user_id else dict(nothing)
    return members
