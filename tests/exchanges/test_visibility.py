"""A conversation opened by its id (`selectors.conversation_for`: the page, the API, the
services) is decided for that one conversation, without the list's subquery. It must
answer exactly what the list `visible_conversations` answers: these tests open every
conversation of a small world as every kind of reader, in each case where a right,
a row or a membership changes, and compare the page's 200/404 (and the access log)
with the list's membership. Any difference is a security bug."""

from __future__ import annotations

import datetime

import pytest
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coordination import services as coordination_services
from coordination.models import (
    AccessLog,
    BreakGlassAccess,
    CircleMember,
    Delegation,
    DelegationGrant,
    DelegationStatus,
    Level,
    Person,
    Professional,
    TeamMembership,
)
from exchanges import selectors, services
from exchanges.models import Conversation, ConversationKind, Participant
from tests.conftest import _pro

pytestmark = pytest.mark.django_db

READERS = (
    "referent",
    "nurse",
    "other_pro",
    "person_user",
    "carer",
    "legal_rep",
    "external_pro",
    "stranger",
    "assistant",
    "night_nurse",
)


def _member(person, user) -> CircleMember:
    return CircleMember.objects.active().get(person=person, user=user)


def _delegate(person, delegator, delegate: Professional, level: int = Level.READ) -> Delegation:
    """A delegation in force (as after the person's consent) of `person`'s exchanges."""
    now = timezone.now()
    delegation = Delegation.objects.create(
        person=person,
        delegator=_member(person, delegator),
        delegate=delegate,
        starts_at=now - datetime.timedelta(minutes=5),
        ends_at=now + datetime.timedelta(days=3),
        status=DelegationStatus.ACTIVE,
        created_by=delegator,
    )
    DelegationGrant.objects.create(delegation=delegation, category="exchanges", level=level)
    return delegation


@pytest.fixture
def world(request, person, structure, referent, nurse, other_pro, person_user, carer, legal_rep, external_pro):
    """Conversations of every kind around Jeanne, and readers of every kind, some with
    rows that alone must open nothing (a participant row of a stranger, of someone in
    break-the-glass, of the person's side in a conversation among professionals)."""
    admin = request.getfixturevalue("admin_user")
    assistant = _pro("assistante@exemple.fr", "secretaire", "Anne", "Assistante").user
    night = _pro("nuit@exemple.fr", "infirmier", "Noé", "Nuit")
    coordination_services.team_member_add(actor=admin, structure=structure, professional=night, role="infirmier")
    coordination_services.grants_set(
        actor=person_user, member=_member(person, night.user), levels={"exchanges": Level.NONE, "record": Level.NONE}
    )
    stranger = request.getfixturevalue("stranger")
    conversations = {
        "person": services.conversation_start(
            actor=referent,
            kind=ConversationKind.PERSON,
            person=person,
            subject="Autour de Jeanne",
            participants=[nurse],
        ),
        "topic_team": services.conversation_start(
            actor=referent, kind=ConversationKind.TOPIC, subject="Planning", structure=structure
        ),
        "topic_invited": services.conversation_start(
            actor=referent, kind=ConversationKind.TOPIC, subject="Formation", participants=[other_pro]
        ),
        "side_team": services.conversation_start(
            actor=person_user,
            kind=ConversationKind.PERSON_TEAM,
            person=person,
            structure=structure,
            subject="Ma kiné",
            body="Le kiné vient mardi ?",
        ),
        "side_pro": services.conversation_start(
            actor=person_user,
            kind=ConversationKind.PERSON_TEAM,
            person=person,
            professional=referent,
            subject="Pour Rémi",
            body="Bonjour.",
        ),
    }
    # Rows that open nothing by themselves.
    for user in (stranger, night.user, person_user, carer, assistant, external_pro):
        Participant.objects.get_or_create(conversation=conversations["person"], user=user)
    for user in (stranger, night.user, assistant, other_pro):
        Participant.objects.get_or_create(conversation=conversations["side_team"], user=user)
    Participant.objects.get_or_create(conversation=conversations["topic_team"], user=stranger)
    BreakGlassAccess.objects.create(
        person=person,
        user=night.user,
        structure=structure,
        reason="Appel du SAMU la nuit, besoin des traitements.",
        expires_at=timezone.now() + datetime.timedelta(hours=2),
    )
    readers = {name: request.getfixturevalue(name) for name in READERS if name not in ("assistant", "night_nurse")}
    readers["assistant"] = assistant
    readers["night_nurse"] = night.user
    return readers, conversations


def _cross_check(world) -> int:
    """Open every conversation as every reader: the page answers 200 exactly for the
    conversations of the reader's list, 404 otherwise, and logs a read only then.
    Answers how many pages opened (each case must open some and refuse some)."""
    readers, conversations = world
    opened = 0
    for name, user in readers.items():
        user = type(user).objects.get(pk=user.pk)  # as a request loads it (its profile read afresh)
        client = Client()
        client.force_login(user)
        listed = set(selectors.visible_conversations(user).values_list("pk", flat=True))
        for label, conversation in conversations.items():
            logs = AccessLog.objects.filter(user=user).count()
            response = client.get(reverse("exchanges:conversation", args=[conversation.pk]))
            expected = 200 if conversation.pk in listed else 404
            assert response.status_code == expected, (name, label)
            if conversation.person_id:
                assert AccessLog.objects.filter(user=user).count() == logs + (expected == 200), (name, label)
            try:
                selectors.conversation_for(user, conversation.pk, "read")
            except Http404:
                found = False
            else:
                found = True
            assert found == (conversation.pk in listed), (name, label)
            opened += expected == 200
    # The page's participants and add-candidates, read together, are the two selectors'.
    about = conversations["person"]
    shown, candidates = selectors.participants_and_candidates(about)
    assert shown == list(selectors.participants(about))
    assert candidates == list(
        selectors.participant_candidates(about, kind=about.kind).exclude(pk__in=[p.user_id for p in shown])
    )
    return opened


def test_as_started_the_page_opens_exactly_the_listed_conversations(world):
    readers, conversations = world
    assert 0 < _cross_check(world) < len(readers) * len(conversations)
    # A few answers spelled out, so the cross-check cannot pass on an empty list.
    assert set(selectors.visible_conversations(readers["nurse"])) == set(conversations.values()) - {
        conversations["topic_invited"],
        conversations["side_pro"],
    }
    assert conversations["person"] not in selectors.visible_conversations(readers["stranger"])
    assert conversations["person"] not in selectors.visible_conversations(readers["night_nurse"])
    assert conversations["person"] not in selectors.visible_conversations(readers["person_user"])
    assert conversations["side_team"] in selectors.visible_conversations(readers["person_user"])


def test_after_a_participant_leaves(world):
    readers, conversations = world
    services.participant_remove(actor=readers["nurse"], conversation=conversations["person"], user=readers["nurse"])
    services.participant_remove(
        actor=readers["other_pro"], conversation=conversations["topic_invited"], user=readers["other_pro"]
    )
    _cross_check(world)
    assert conversations["person"] not in selectors.visible_conversations(readers["nurse"])


def test_after_the_right_on_the_persons_exchanges_is_lost(world, person):
    readers, _conversations = world
    for name in ("nurse", "carer", "referent"):
        coordination_services.grants_set(
            actor=readers["person_user"], member=_member(person, readers[name]), levels={"exchanges": Level.NONE}
        )
    _cross_check(world)


def test_after_the_team_membership_ends(world, structure):
    readers, conversations = world
    membership = TeamMembership.objects.get(professional__user=readers["nurse"], structure=structure)
    coordination_services.team_member_end(actor=readers["referent"], membership=membership)
    _cross_check(world)
    assert conversations["topic_team"] not in selectors.visible_conversations(readers["nurse"])


def test_after_a_team_membership_ends_tomorrow_it_still_counts_today(world, structure):
    readers, conversations = world
    TeamMembership.objects.filter(professional__user=readers["nurse"], structure=structure).update(
        ended_on=timezone.localdate() + datetime.timedelta(days=1)
    )
    _cross_check(world)
    assert conversations["topic_team"] in selectors.visible_conversations(readers["nurse"])


def test_after_a_professional_profile_is_deactivated(world):
    readers, _conversations = world
    Professional.objects.filter(user=readers["nurse"]).update(is_active=False)
    Professional.objects.filter(user=readers["referent"]).update(is_active=False)
    _cross_check(world)


def test_for_a_delegate_and_when_the_delegators_right_ends(world, person):
    readers, conversations = world
    assistant = readers["assistant"]
    _delegate(person, readers["nurse"], Professional.objects.get(user=assistant))
    _cross_check(world)
    assert conversations["person"] in selectors.visible_conversations(assistant)
    coordination_services.grants_set(
        actor=readers["person_user"], member=_member(person, readers["nurse"]), levels={"exchanges": Level.NONE}
    )
    _cross_check(world)
    assert conversations["person"] not in selectors.visible_conversations(assistant)


def test_for_an_archived_record_with_and_without_a_delegation_in_force(world, person):
    """The gate's list keeps an archived record for a reader of the matrix, and leaves it
    out for the delegate of a delegation in force (any person's): the page follows."""
    readers, conversations = world
    _delegate(person, readers["nurse"], Professional.objects.get(user=readers["referent"]))
    Person.objects.filter(pk=person.pk).update(archived_at=timezone.now())
    _cross_check(world)
    assert conversations["person"] in selectors.visible_conversations(readers["nurse"])
    assert conversations["person"] not in selectors.visible_conversations(readers["referent"])


def test_nobody_reaches_a_conversation_that_does_not_exist(world):
    readers, _conversations = world
    missing = (Conversation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    client = Client()
    client.force_login(readers["referent"])
    assert client.get(reverse("exchanges:conversation", args=[missing])).status_code == 404
