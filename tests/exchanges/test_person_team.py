"""Conversations between the person's side and their team, as the professionals see
them (the person's own pages are the user portal's)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coordination import services as coordination
from coordination.models import AuditEvent, CircleMember, Level
from exchanges import selectors, services
from exchanges.models import ConversationKind, Message
from notifications.models import Notification
from tests.conftest import login


@pytest.fixture
def to_the_team(person, person_user, structure):
    return services.conversation_start(
        actor=person_user,
        kind=ConversationKind.PERSON_TEAM,
        person=person,
        structure=structure,
        subject="Ma kiné",
        body="Bonjour, le kiné peut-il venir mardi ?",
    )


def test_it_tells_the_team_that_a_message_from_the_person_waits(to_the_team, referent, nurse):
    kinds = set(
        Notification.objects.filter(recipient__in=[referent, nurse], event_type__startswith="exchanges.").values_list(
            "event_type", flat=True
        )
    )
    assert kinds == {"exchanges.person_message"}
    listing = login(nurse).get(reverse("exchanges:list")).content.decode()
    assert "Ma kiné" in listing and "1 non lu" in listing


def test_it_lets_a_team_member_answer_and_tells_the_person(to_the_team, person_user, nurse):
    client = login(nurse)
    url = reverse("exchanges:conversation", args=[to_the_team.pk])
    assert "le kiné peut-il venir mardi" in client.get(url).content.decode()
    client.post(reverse("exchanges:post", args=[to_the_team.pk]), {"body": "Oui, mardi à 10 h."})
    assert Message.objects.filter(conversation=to_the_team, author=nurse).exists()
    assert Notification.objects.filter(recipient=person_user, event_type="exchanges.message").count() == 1
    # She read it; the person sees it in their read receipts.
    assert (
        nurse
        in selectors.read_receipts(list(selectors.participants(to_the_team)))[
            Message.objects.order_by("-pk").first().pk
        ]
    )


def test_it_shows_the_carer_only_the_conversations_they_take_part_in(
    to_the_team, person, person_user, carer, structure
):
    member = CircleMember.objects.get(person=person, user=carer, ended_at__isnull=True)
    coordination.grants_set(actor=person_user, member=member, levels={"exchanges": Level.WRITE})
    assert not selectors.visible_conversations(carer).exists()
    hers = services.conversation_start(
        actor=carer,
        kind=ConversationKind.PERSON_TEAM,
        person=person,
        structure=structure,
        subject="Visites",
        body="Puis-je venir dimanche ?",
    )
    assert list(selectors.visible_conversations(carer)) == [hers]
    # Without the right any more, not even hers.
    coordination.grants_set(actor=person_user, member=member, levels={"exchanges": Level.NONE})
    assert not selectors.visible_conversations(carer).exists()


def test_it_keeps_a_team_outside_a_conversation_with_a_structure_that_does_not_accompany(
    person, person_user, other_structure, other_pro
):
    with pytest.raises(ValidationError) as refused:
        services.conversation_start(
            actor=person_user,
            kind=ConversationKind.PERSON_TEAM,
            person=person,
            structure=other_structure,
            subject="Bonjour",
            body="Bonjour",
        )
    assert "ne vous accompagne pas" in str(refused.value)
    assert not selectors.visible_conversations(other_pro).exists()


def test_it_audits_the_changes_of_a_person_conversation_without_its_text(to_the_team, person, nurse):
    login(nurse).post(reverse("exchanges:post", args=[to_the_team.pk]), {"body": "Le kiné confirme."})
    events = AuditEvent.objects.filter(person=person, event_type__startswith="exchange")
    assert {e.event_type for e in events} >= {"exchange_started", "exchange_message_posted"}
    assert all("kiné" not in str(e.data) for e in events)


def test_it_opens_a_conversation_to_one_named_professional_only(person, person_user, referent, nurse):
    conversation = services.conversation_start(
        actor=person_user,
        kind=ConversationKind.PERSON_TEAM,
        person=person,
        professional=referent,
        subject="Pour mon référent",
        body="Pouvons-nous parler de mon projet ?",
    )
    assert login(referent).get(reverse("exchanges:conversation", args=[conversation.pk])).status_code == 200
    assert login(nurse).get(reverse("exchanges:conversation", args=[conversation.pk])).status_code == 404
    assert Notification.objects.filter(recipient=referent, event_type="exchanges.person_message").count() == 1
