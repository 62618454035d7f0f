"""The access matrix answers the same through every path that reads it.

- the gate (`access.check`, hand-written SQL for speed);
- the lists (`access.persons_visible_to`, `access.users_allowed`, ORM querysets);
- django-guardian itself (`user.has_perm`, `get_objects_for_user`), which holds the matrix.

For every persona × category × action, in each state a person's circle goes through:
rights as the services leave them, a lowered right, an ended membership, an opposition,
a delegation in force, an expired one, a break-the-glass opening. Guardian answers the
matrix only: what delegation and break-the-glass add is added by the gate alone (and
delegation by the lists too; break-the-glass is no subscription, so not by the lists).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.http import Http404
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from coordination import access, matrix, services
from coordination.models import Category, CircleMember, EndReason, Level, Person
from tests.conftest import _pro

ACTIONS = ("read", "write")
PERSONAS = ("person_user", "carer", "legal_rep", "referent", "nurse", "external_pro", "other_pro", "stranger")


def _paths(user, person: Person, category: str, action: str) -> dict[str, bool]:
    perm = f"coordination.{action}_{category}"
    return {
        "gate": access.check(user, person, category, action) is not None,
        "list_persons": access.persons_visible_to(user, category, action).filter(pk=person.pk).exists(),
        "list_person_ids": Person.objects.filter(
            pk=person.pk, pk__in=access.visible_person_ids(user, category, action)
        ).exists(),
        "list_users": access.users_allowed(person, category, action).filter(pk=user.pk).exists(),
        # Read once for a page of several lists (the professional's day).
        "reach": person.pk in access.reach_of(user, [(category, action)]).person_ids(category, action),
        "guardian": user.has_perm(perm, person),
        "guardian_list": get_objects_for_user(user, perm, klass=Person).filter(pk=person.pk).exists(),
    }


def _gate_each(user, person: Person, action: str) -> dict[str, str | None]:
    """How the gate asked for every category at once (a page of tiles) grants each."""
    try:
        granted = access.require_each(user, person, Category.values, action)
    except Http404:
        return dict.fromkeys(Category.values)
    return {category: grant.via if grant else None for category, grant in granted.items()}


def _assert_agree(users, person, *, delegated=(), glass=()):
    """Matrix paths agree with each other; the gate and the lists add the delegation;
    the gate adds break-the-glass reads; the gate asked for all categories at once
    answers as when asked for each."""
    for name, user in users.items():
        for action in ACTIONS:
            each = _gate_each(user, person, action)
            for category in Category.values:
                assert each[category] == access.check(user, person, category, action), (name, category, action, each)
        for category in Category.values:
            for action in ACTIONS:
                got = _paths(user, person, category, action)
                matrix_says = got["guardian"]
                assert got["guardian_list"] == matrix_says, (name, category, action, got)
                expected_list = matrix_says or (name, category, action) in delegated
                assert got["list_persons"] == expected_list, (name, category, action, got)
                assert got["list_person_ids"] == expected_list, (name, category, action, got)
                assert got["reach"] == expected_list, (name, category, action, got)
                assert got["list_users"] == expected_list, (name, category, action, got)
                expected_gate = expected_list or (name in glass and action == "read")
                assert got["gate"] == expected_gate, (name, category, action, got)


@pytest.fixture
def users(person, carer, legal_rep, referent, nurse, external_pro, other_pro, stranger, person_user):
    given = {
        "person_user": person_user,
        "carer": carer,
        "legal_rep": legal_rep,
        "referent": referent,
        "nurse": nurse,
        "external_pro": external_pro,
        "other_pro": other_pro,
        "stranger": stranger,
    }
    return {name: given[name] for name in PERSONAS}


def _member(person, user) -> CircleMember:
    return CircleMember.objects.active().get(person=person, user=user)


def test_every_path_agrees_on_the_matrix_the_services_leave(users, person):
    _assert_agree(users, person)
    # Not a tautology: the personas hold different rights.
    assert users["referent"].has_perm("coordination.write_ppa", person)
    assert users["nurse"].has_perm("coordination.read_ppa", person)
    assert not users["nurse"].has_perm("coordination.write_ppa", person)
    assert not users["external_pro"].has_perm("coordination.read_record", person)


def test_every_path_agrees_after_a_right_is_raised_then_lowered(users, person, legal_rep, external_pro):
    member = _member(person, external_pro)
    services.grants_set(actor=legal_rep, member=member, levels={Category.LIAISON: Level.WRITE})
    _assert_agree(users, person)
    assert external_pro.has_perm("coordination.write_liaison", person)
    services.grants_set(actor=legal_rep, member=member, levels={Category.LIAISON: Level.READ})
    _assert_agree(users, person)
    assert external_pro.has_perm("coordination.read_liaison", person)
    assert not external_pro.has_perm("coordination.write_liaison", person)


def test_every_path_agrees_once_a_membership_ended_or_was_opposed(users, person, person_user, nurse, carer):
    services.circle_member_end(actor=person_user, member=_member(person, nurse), reason=EndReason.END_OF_CARE)
    services.circle_member_end(actor=person_user, member=_member(person, carer), reason=EndReason.OPPOSITION)
    _assert_agree(users, person)
    assert not nurse.has_perm("coordination.read_record", person)


def test_every_path_agrees_with_a_delegation_in_force_then_expired(users, person, person_user, referent, nurse):
    now = timezone.now()
    delegation = services.delegation_create(
        actor=referent,
        person=person,
        delegate=nurse.professional,
        levels={Category.PPA: Level.WRITE},
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=2),
    )
    services.delegation_answer(actor=person_user, delegation=delegation, accept=True)
    # The delegation gives through the gate and the lists, never through guardian.
    _assert_agree(users, person, delegated={("nurse", Category.PPA, "write")})
    assert not nurse.has_perm("coordination.write_ppa", person)
    with time_machine.travel(now + timedelta(hours=3)):
        _assert_agree(users, person)


def test_every_path_agrees_during_and_after_a_break_the_glass_opening(users, person, structure, admin_user):
    night = _pro("nuit@exemple.fr", "infirmier", "Noé", "Nuit")
    services.team_member_add(actor=admin_user, structure=structure, professional=night, role="infirmier")
    services.circle_member_end(actor=person.user, member=_member(person, night.user), reason=EndReason.END_OF_CARE)
    users = {**users, "night": night.user}
    services.break_glass_open(actor=night.user, person=person, reason="Chute dans la nuit, besoin des traitements.")
    _assert_agree(users, person, glass={"night"})
    with time_machine.travel(timezone.now() + timedelta(hours=5)):
        _assert_agree(users, person)


def test_a_second_membership_keeps_rights_and_its_end_caps_them(person, structure, other_structure, admin_user, nurse):
    """One row of rights per user: a professional of two accompanying structures keeps
    one matrix row; when one membership ends, the levels fall to what the other starts with."""
    services.accompaniment_start(actor=admin_user, person=person, structure=other_structure)
    services.team_member_add(
        actor=admin_user, structure=other_structure, professional=nurse.professional, role="secretaire"
    )
    assert CircleMember.objects.active().filter(person=person, user=nurse).count() == 2
    nurse_levels = matrix.levels_dict(matrix.TEAM_DEFAULTS["infirmier"])
    secretary = matrix.levels_dict(matrix.TEAM_DEFAULTS["secretaire"])
    assert matrix.levels_of(person, nurse.pk) == {c: max(nurse_levels[c], secretary[c]) for c in Category.values}
    services.accompaniment_end(actor=admin_user, accompaniment=person.accompaniments.get(structure=structure))
    assert matrix.levels_of(person, nurse.pk) == {
        c: min(max(nurse_levels[c], secretary[c]), secretary[c]) for c in Category.values
    }
    assert nurse.has_perm("coordination.write_documents", person)
    assert not nurse.has_perm("coordination.read_liaison", person)
