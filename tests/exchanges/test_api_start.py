"""Starting conversations and inviting participants through the REST API: the same
rules as the pages (tests/exchanges/test_conversations_pages.py), ids instead of
choices, and an id outside the candidates never tells whose it is."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from coordination import services as coordination_services
from coordination.models import AccessLog, Category, CircleMember, Level
from exchanges.models import Conversation, ConversationKind
from notifications.models import Notification
from tests.conftest import login

from .conftest import pdf_file

pytestmark = pytest.mark.django_db

START = reverse("exchanges_api:conversations")


def post(user, data, url=START):
    return login(user).post(url, json.dumps(data), content_type="application/json")


def grant(person, person_user, user, level=Level.WRITE) -> None:
    """The person gives `user` (a carer, a professional outside the teams) the right."""
    member = CircleMember.objects.active().get(person=person, user=user)
    coordination_services.grants_set(actor=person_user, member=member, levels={Category.EXCHANGES: level})


def participants_url(conversation) -> str:
    return reverse("exchanges_api:participants", args=[conversation.pk])


def test_a_professional_starts_a_conversation_about_a_person_and_the_colleague_is_told(person, referent, nurse):
    response = post(
        referent,
        {
            "kind": "person",
            "person": person.pk,
            "subject": "Retour d'hospitalisation",
            "participants": [nurse.pk],
            "body": "Jeanne rentre jeudi.",
        },
    )
    assert response.status_code == 201, response.content
    row = response.json()
    conversation = Conversation.objects.get(pk=row["id"])
    assert row["kind"] == "person" and row["person"] == person.pk and row["subject"] == "Retour d'hospitalisation"
    assert set(conversation.participants.values_list("user_id", flat=True)) == {referent.pk, nurse.pk}
    assert conversation.messages.get().body == "Jeanne rentre jeudi."
    # The colleague sees it in her list, unread, and was told.
    listed = login(nurse).get(START).json()["results"]
    assert [(c["id"], c["unread"]) for c in listed] == [(conversation.pk, 1)]
    assert list(Notification.objects.filter(recipient=nurse).values_list("event_type", flat=True)) == [
        "exchanges.message"
    ]
    # The start is a write of the person's exchanges, in her access log.
    assert AccessLog.objects.filter(user=referent, person=person, category=Category.EXCHANGES).exists()


def test_a_stranger_gets_404_and_a_reader_without_the_write_right_403(person, person_user, referent, nurse, stranger):
    data = {"kind": "person", "person": person.pk, "subject": "Objet", "participants": [referent.pk]}
    assert post(stranger, data).status_code == 404
    member = CircleMember.objects.active().get(person=person, user=nurse)
    coordination_services.grants_set(actor=person_user, member=member, levels={Category.EXCHANGES: Level.READ})
    assert post(nurse, data).status_code == 403
    assert not Conversation.objects.exists()


def test_an_id_outside_the_candidates_is_refused_without_naming_anyone(person, referent, other_pro):
    response = post(
        referent, {"kind": "person", "person": person.pk, "subject": "Objet", "participants": [other_pro.pk, 10**9]}
    )
    assert response.status_code == 400
    [message] = response.json()["participants"]
    assert str(other_pro.pk) in message and str(10**9) in message
    assert other_pro.last_name not in message
    assert not Conversation.objects.exists()


def test_bad_input_names_the_field_and_changes_nothing(person, referent, nurse):
    cases = [
        ({"kind": "chat", "subject": "x"}, "kind"),
        ({"kind": "person", "subject": "x", "participants": [nurse.pk]}, "person"),
        ({"kind": "person", "person": person.pk, "subject": " ", "participants": [nurse.pk]}, "subject"),
        ({"kind": "person", "person": person.pk, "subject": "x"}, "participants"),
        ({"kind": "person", "person": person.pk, "subject": "x", "participants": "tous"}, "participants"),
        ({"kind": "topic", "person": person.pk, "subject": "x", "participants": [nurse.pk]}, "person"),
        ({"kind": "topic", "subject": "x", "structure": 10**9}, "structure"),
        ({"kind": "person", "person": person.pk, "subject": "x" * 201, "participants": [nurse.pk]}, "subject"),
    ]
    for data, field in cases:
        response = post(referent, data)
        assert response.status_code == 400, (data, response.content)
        assert field in response.json(), (data, response.json())
    assert not Conversation.objects.exists()


def test_a_topic_with_my_team_reaches_the_team_and_no_outsider(structure, referent, nurse, other_pro):
    response = post(referent, {"kind": "topic", "subject": "Protocole chutes", "structure": structure.pk})
    assert response.status_code == 201, response.content
    conversation_id = response.json()["id"]
    assert [c["id"] for c in login(nurse).get(START).json()["results"]] == [conversation_id]
    assert login(other_pro).get(START).json()["results"] == []
    # Not my team: refused on the structure field.
    refused = post(other_pro, {"kind": "topic", "subject": "x", "structure": structure.pk})
    assert refused.status_code == 400 and "structure" in refused.json()


def test_the_person_writes_to_a_named_professional_with_a_file(person, person_user, referent, nurse):
    response = login(person_user).post(
        START,
        {
            "kind": "person_team",
            "person": person.pk,
            "subject": "Mon pansement",
            "professional": nurse.pk,
            "body": "Voici l'ordonnance.",
            "files": [pdf_file()],
        },
    )
    assert response.status_code == 201, response.content
    conversation = Conversation.objects.get(pk=response.json()["id"])
    assert conversation.kind == ConversationKind.PERSON_TEAM and conversation.professional_id == nurse.pk
    assert conversation.messages.get().attachments.count() == 1
    assert [c["id"] for c in login(nurse).get(START).json()["results"]] == [conversation.pk]
    # The person names nobody else, and only a professional of her circle.
    extra = post(
        person_user,
        {
            "kind": "person_team",
            "person": person.pk,
            "subject": "x",
            "professional": nurse.pk,
            "participants": [referent.pk],
        },
    )
    assert extra.status_code == 400 and "participants" in extra.json()


def test_a_professional_writes_to_the_person_side_chosen_by_id(person, person_user, carer, structure, referent):
    refused = post(
        referent,
        {
            "kind": "person_team",
            "person": person.pk,
            "subject": "x",
            "structure": structure.pk,
            "participants": [carer.pk],
        },
    )
    assert refused.status_code == 400 and "participants" in refused.json()  # she may not read them yet
    grant(person, person_user, carer)
    response = post(
        referent,
        {
            "kind": "person_team",
            "person": person.pk,
            "subject": "Rendez-vous",
            "structure": structure.pk,
            "participants": [carer.pk],
            "body": "Pouvez-vous venir lundi ?",
        },
    )
    assert response.status_code == 201, response.content
    assert [c["id"] for c in login(carer).get(START).json()["results"]] == [response.json()["id"]]
    # A named professional is the person's side's choice, not a professional's.
    refused = post(
        referent,
        {
            "kind": "person_team",
            "person": person.pk,
            "subject": "x",
            "professional": referent.pk,
            "participants": [carer.pk],
        },
    )
    assert refused.status_code == 400 and "professional" in refused.json()


def test_a_participant_invites_a_colleague_who_then_reads_it(
    person, person_user, referent, nurse, external_pro, other_pro
):
    started = post(referent, {"kind": "person", "person": person.pk, "subject": "Objet", "participants": [nurse.pk]})
    conversation = Conversation.objects.get(pk=started.json()["id"])
    assert login(external_pro).get(participants_url(conversation)).status_code == 404
    grant(person, person_user, external_pro, Level.READ)
    response = post(nurse, {"participants": [external_pro.pk]}, participants_url(conversation))
    assert response.status_code == 200, response.content
    assert {p["user"]["id"] for p in response.json()} == {referent.pk, nurse.pk, external_pro.pk}
    assert login(external_pro).get(participants_url(conversation)).status_code == 200
    # Someone who may not read the person's exchanges cannot be invited; a stranger
    # cannot invite at all.
    refused = post(nurse, {"participants": [other_pro.pk]}, participants_url(conversation))
    assert refused.status_code == 400 and other_pro.last_name not in json.dumps(refused.json())
    assert post(other_pro, {"participants": [other_pro.pk]}, participants_url(conversation)).status_code == 404
    assert post(nurse, {"participants": []}, participants_url(conversation)).status_code == 400
    assert conversation.participants.filter(removed_at__isnull=True).count() == 3
