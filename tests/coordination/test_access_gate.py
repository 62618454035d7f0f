"""The gate's rules over time: ends, oppositions, lowered rights, delegation, break-the-glass, logging."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from coordination import access, services
from coordination.models import (
    AccessLog,
    AuditEvent,
    BreakGlassAccess,
    CircleMember,
    Delegation,
    EndReason,
    Level,
    Professional,
)
from tests.conftest import login

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.coordination.probe_urls")]


def _member(person, user):
    return CircleMember.objects.active().get(person=person, user=user)


def test_it_refuses_the_next_request_once_a_membership_has_ended(person, nurse, referent):
    client = login(nurse)
    assert client.get(f"/probe/liaison/{person.pk}/").status_code == 200
    services.circle_member_end(actor=referent, member=_member(person, nurse), reason=EndReason.END_OF_CARE)
    assert client.get(f"/probe/liaison/{person.pk}/").status_code == 404
    assert client.get(f"/api/probe/record/{person.pk}/").status_code == 404


def test_it_refuses_the_next_request_after_an_opposition_and_the_member_cannot_ask_again(person, person_user, nurse):
    client = login(nurse)
    assert client.get(f"/probe/record/{person.pk}/").status_code == 200
    services.circle_member_end(actor=person_user, member=_member(person, nurse), reason=EndReason.OPPOSITION)
    assert client.get(f"/probe/record/{person.pk}/").status_code == 404
    with pytest.raises(ValidationError) as error:
        services.join_request_create(actor=nurse, person=person, role="infirmier", message="Je reprends le suivi.")
    assert "opposée" in str(error.value)


def test_it_lets_only_the_person_or_legal_representative_oppose(person, referent, nurse):
    with pytest.raises(access.AccessDenied):
        services.circle_member_end(actor=referent, member=_member(person, nurse), reason=EndReason.OPPOSITION)
    assert _member(person, nurse).is_active


def test_it_refuses_the_next_request_once_a_right_is_lowered(person, legal_rep, nurse):
    client = login(nurse)
    assert client.post(f"/probe/agenda/{person.pk}/").status_code == 200
    services.grants_set(actor=legal_rep, member=_member(person, nurse), levels={"agenda": Level.READ})
    assert client.post(f"/probe/agenda/{person.pk}/").status_code == 403
    assert client.get(f"/probe/agenda/{person.pk}/").status_code == 200


def test_it_lets_nobody_but_the_person_or_representative_edit_the_matrix(person, referent, nurse, carer):
    for actor in (referent, nurse, carer):
        with pytest.raises(access.AccessDenied):
            services.grants_set(actor=actor, member=_member(person, nurse), levels={"liaison": Level.NONE})
    assert access.check(nurse, person, "liaison", "write") is not None


def test_it_does_not_let_a_team_member_rejoin_after_an_opposition_through_the_team(
    person, person_user, nurse, structure, admin_user
):
    from coordination.models import TeamMembership

    services.circle_member_end(actor=person_user, member=_member(person, nurse), reason=EndReason.OPPOSITION)
    membership = TeamMembership.objects.get(professional__user=nurse, structure=structure)
    services.team_member_end(actor=admin_user, membership=membership)
    services.team_member_add(actor=admin_user, structure=structure, professional=nurse.professional, role="infirmier")
    assert access.check(nurse, person, "record") is None


# --- Delegation -------------------------------------------------------------------------------


def _period():
    now = timezone.now()
    return now - datetime.timedelta(minutes=1), now + datetime.timedelta(days=7)


@pytest.fixture
def assistant(structure, admin_user):
    from tests.conftest import _pro

    pro = _pro("assistante@exemple.fr", "secretaire", "Anne", "Assistante")
    return pro


def test_it_refuses_a_delegation_beyond_the_delegators_rights(person, nurse, assistant):
    starts, ends = _period()
    with pytest.raises(ValidationError) as error:
        services.delegation_create(
            actor=nurse, person=person, delegate=assistant, levels={"ppa": Level.WRITE}, starts_at=starts, ends_at=ends
        )
    assert "plus que vos propres droits" in str(error.value)
    assert not Delegation.objects.exists()


def test_it_applies_a_delegation_only_after_the_persons_consent(person, nurse, legal_rep, assistant):
    starts, ends = _period()
    delegation = services.delegation_create(
        actor=nurse, person=person, delegate=assistant, levels={"liaison": Level.WRITE}, starts_at=starts, ends_at=ends
    )
    client = login(assistant.user)
    assert client.get(f"/probe/liaison/{person.pk}/").status_code == 404
    services.delegation_answer(actor=legal_rep, delegation=delegation, accept=True)
    assert client.post(f"/probe/liaison/{person.pk}/").status_code == 200
    assert client.get(f"/probe/agenda/{person.pk}/").status_code == 403
    log = AccessLog.objects.filter(user=assistant.user).latest("at")
    assert log.via == "delegation" and log.action == "write"


def test_it_ends_a_delegation_with_the_delegators_membership(person, nurse, referent, person_user, assistant):
    starts, ends = _period()
    delegation = services.delegation_create(
        actor=nurse, person=person, delegate=assistant, levels={"liaison": Level.WRITE}, starts_at=starts, ends_at=ends
    )
    services.delegation_answer(actor=person_user, delegation=delegation, accept=True)
    client = login(assistant.user)
    assert client.get(f"/probe/liaison/{person.pk}/").status_code == 200
    services.circle_member_end(actor=referent, member=_member(person, nurse), reason=EndReason.END_OF_CARE)
    assert client.get(f"/probe/liaison/{person.pk}/").status_code == 404


def test_it_caps_a_delegation_when_the_delegators_right_is_lowered(person, nurse, person_user, assistant):
    starts, ends = _period()
    delegation = services.delegation_create(
        actor=nurse, person=person, delegate=assistant, levels={"liaison": Level.WRITE}, starts_at=starts, ends_at=ends
    )
    services.delegation_answer(actor=person_user, delegation=delegation, accept=True)
    services.grants_set(actor=person_user, member=_member(person, nurse), levels={"liaison": Level.READ})
    client = login(assistant.user)
    assert client.post(f"/probe/liaison/{person.pk}/").status_code == 403
    assert client.get(f"/probe/liaison/{person.pk}/").status_code == 200
    assert access.effective_levels(assistant.user, person)["liaison"] == Level.READ


def test_it_ends_a_delegation_at_the_end_of_its_period(person, nurse, person_user, assistant):
    starts, ends = _period()
    delegation = services.delegation_create(
        actor=nurse, person=person, delegate=assistant, levels={"record": Level.READ}, starts_at=starts, ends_at=ends
    )
    services.delegation_answer(actor=person_user, delegation=delegation, accept=True)
    assert access.check(assistant.user, person, "record") == "delegation"
    with time_machine.travel(ends + datetime.timedelta(seconds=1)):
        assert access.check(assistant.user, person, "record") is None


def test_the_lists_follow_a_delegation_and_its_cap(person, nurse, person_user, assistant):
    """persons_visible_to and users_allowed join the delegation rules only for delegates:
    both paths give the gate's answer."""
    assert person not in access.persons_visible_to(assistant.user, "liaison")
    assert assistant.user not in access.users_allowed(person, "liaison")
    starts, ends = _period()
    delegation = services.delegation_create(
        actor=nurse, person=person, delegate=assistant, levels={"liaison": Level.WRITE}, starts_at=starts, ends_at=ends
    )
    services.delegation_answer(actor=person_user, delegation=delegation, accept=True)
    visible = list(access.persons_visible_to(assistant.user, "liaison", "write"))
    assert visible == [person] and access._listed_via(assistant.user, visible[0]) == "delegation"
    assert assistant.user in access.users_allowed(person, "liaison", "write")
    assert nurse in access.users_allowed(person, "liaison", "write")  # the matrix still counts
    assert access.require(assistant.user, person.pk, "liaison", "read", probe_write=True).can_write is True
    services.grants_set(actor=person_user, member=_member(person, nurse), levels={"liaison": Level.READ})
    assert not access.persons_visible_to(assistant.user, "liaison", "write").exists()
    assert access.persons_visible_to(assistant.user, "liaison", "read").get() == person
    assert assistant.user not in access.users_allowed(person, "liaison", "write")
    assert access.require(assistant.user, person.pk, "liaison", "read", probe_write=True).can_write is False


# --- Break-the-glass --------------------------------------------------------------------------


@pytest.fixture
def night_nurse(structure, person, person_user, admin_user):
    """A nurse of the accompanying structure whom the person removed from every right."""
    from tests.conftest import _pro

    pro = _pro("nuit@exemple.fr", "infirmier", "Noé", "Nuit")
    services.team_member_add(actor=admin_user, structure=structure, professional=pro, role="infirmier")
    services.grants_set(
        actor=person_user,
        member=_member(person, pro.user),
        levels={c: Level.NONE for c in ("record", "agenda", "liaison", "ppa", "documents", "circle")},
    )
    return pro.user


def test_it_requires_a_reason_of_at_least_a_sentence_to_break_the_glass(person, night_nurse):
    for reason in ("", "urgence", "   chute   "):
        with pytest.raises(ValidationError):
            services.break_glass_open(actor=night_nurse, person=person, reason=reason)
    assert not BreakGlassAccess.objects.exists()


def test_it_refuses_break_the_glass_to_a_professional_of_a_structure_not_accompanying(person, other_pro):
    with pytest.raises(access.AccessDenied):
        services.break_glass_open(actor=other_pro, person=person, reason="Appel du SAMU, besoin des traitements.")
    response = login(other_pro).get(f"/coordination/personnes/{person.pk}/urgence/")
    assert response.status_code == 404


def test_it_opens_read_only_access_logged_as_break_the_glass_until_it_expires(person, night_nurse, settings):
    client = login(night_nurse)
    assert client.get(f"/probe/record/{person.pk}/").status_code == 403
    response = client.post(
        f"/coordination/personnes/{person.pk}/urgence/",
        {"reason": "Chute nocturne, le SAMU demande les traitements en cours."},
    )
    assert response.status_code == 302
    assert client.get(f"/probe/liaison/{person.pk}/").status_code == 200
    assert client.post(f"/probe/liaison/{person.pk}/").status_code == 403
    log = AccessLog.objects.filter(user=night_nurse, category="liaison").latest("at")
    assert log.via == "break_glass" and log.action == "read"
    glass = BreakGlassAccess.objects.get()
    assert glass.expires_at - glass.started_at == datetime.timedelta(hours=settings.BREAK_GLASS_HOURS)
    with time_machine.travel(glass.expires_at + datetime.timedelta(seconds=1)):
        # Hours later the idle session has ended too: sign in again.
        assert login(night_nurse).get(f"/probe/liaison/{person.pk}/").status_code == 403


def test_it_records_the_break_the_glass_notice_for_the_person_representatives_and_referent(
    person, person_user, night_nurse, legal_rep, referent, carer
):
    glass = services.break_glass_open(
        actor=night_nurse, person=person, reason="Chute nocturne, le SAMU demande les traitements en cours."
    )
    event = AuditEvent.objects.get(event_type="break_glass")
    assert event.actor == night_nurse and event.data["reason"].startswith("Chute nocturne")
    assert set(services.break_glass_recipients(glass)) == {person_user, legal_rep, referent}


# --- Logging ------------------------------------------------------------------------------------


def test_it_logs_reads_not_only_writes(person, nurse):
    client = login(nurse)
    client.get(f"/probe/record/{person.pk}/", HTTP_X_REQUEST_ID="req-0123456789", REMOTE_ADDR="192.0.2.10")
    log = AccessLog.objects.get(user=nurse)
    assert (log.person, log.category, log.action, log.via) == (person, "record", "read", "normal")
    assert log.request_id == "req-0123456789"
    assert log.ip == "192.0.2.10"


def test_it_logs_the_legal_representative_as_such(person, legal_rep):
    login(legal_rep).get(f"/probe/record/{person.pk}/")
    assert AccessLog.objects.get(user=legal_rep).via == "representative"


def test_it_does_not_log_a_refused_access(person, external_pro):
    login(external_pro).get(f"/probe/record/{person.pk}/")
    assert not AccessLog.objects.filter(user=external_pro).exists()


def test_it_records_who_changed_a_right_and_as_whom(person, legal_rep, nurse):
    services.grants_set(actor=legal_rep, member=_member(person, nurse), levels={"ppa": Level.WRITE})
    event = AuditEvent.objects.filter(event_type="grant_changed").latest("at")
    assert event.actor == legal_rep and event.acting_as == "representative"
    assert event.data["changes"] == {"ppa": [Level.READ, Level.WRITE]}


def test_it_does_not_let_a_professional_join_twice(person, nurse):
    with pytest.raises(ValidationError):
        services.join_request_create(actor=nurse, person=person, role="infirmier", message="Suivi.")
    assert Professional.objects.filter(user=nurse).exists()


def test_it_logs_a_list_read_with_how_each_person_was_reached(person, nurse, person_user, assistant):
    from django.urls import reverse

    starts, ends = _period()
    delegation = services.delegation_create(
        actor=nurse, person=person, delegate=assistant, levels={"record": Level.READ}, starts_at=starts, ends_at=ends
    )
    services.delegation_answer(actor=person_user, delegation=delegation, accept=True)
    login(assistant.user).get(reverse("coordination:caseload"))
    login(nurse).get(reverse("coordination:caseload"))
    assert AccessLog.objects.get(user=assistant.user).via == "delegation"
    assert AccessLog.objects.get(user=nurse).via == "normal"


def test_it_tells_in_the_same_query_whether_the_reader_may_also_write(
    person, nurse, person_user, carer, django_assert_num_queries
):
    with django_assert_num_queries(2):  # the decision, the log row
        grant = access.require(nurse, person.pk, "liaison", "read", probe_write=True)
    assert grant.can_write is True
    services.grants_set(actor=person_user, member=_member(person, carer), levels={"liaison": Level.READ})
    assert access.require(carer, person.pk, "liaison", "read", probe_write=True).can_write is False
    assert access.require(carer, person.pk, "liaison", "read").can_write is None
