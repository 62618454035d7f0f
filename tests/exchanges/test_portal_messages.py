"""The person's side writes to the team from the user portal (portal/user_portal/views/messages.py);
the professionals answer from their pages."""

from __future__ import annotations

import html

import lxml.html
import pytest
from django.core import mail
from django.urls import reverse

from coordination import services as coordination_services
from coordination.models import Category, CircleMember, Level
from exchanges.models import Conversation, ConversationKind
from tests.conftest import login

pytestmark = pytest.mark.django_db

TEXT = "Maman a mal au genou depuis hier soir."


def grant_exchanges(person, person_user, user, level=Level.WRITE):
    member = CircleMember.objects.active().get(person=person, user=user)
    coordination_services.grants_set(actor=person_user, member=member, levels={Category.EXCHANGES: level})


def write(client, structure, subject="Genou", body=TEXT):
    return client.post(
        reverse("portal_message_new"), {"to": f"equipe-{structure.pk}", "subject": subject, "body": body}
    )


def test_it_lets_the_person_write_to_her_team_and_read_the_answer(person, person_user, structure, nurse):
    client = login(person_user)
    form = client.get(reverse("portal_message_new"))
    assert form.status_code == 200 and "L'équipe de EHPAD Les Tilleuls" in html.unescape(form.content.decode())

    response = write(client, structure)
    conversation = Conversation.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "portal_conversation", args=[conversation.pk]
    )
    assert conversation.kind == ConversationKind.PERSON_TEAM and conversation.structure == structure

    # The nurse of the team sees it among her exchanges and answers from her page.
    nurse_client = login(nurse)
    assert "Genou" in nurse_client.get(reverse("exchanges:list")).content.decode()
    answer = nurse_client.post(reverse("exchanges:post", args=[conversation.pk]), {"body": "Je passe à 14 h."})
    assert answer.status_code == 302

    item = conversation_item(client)
    assert "Avec : L'équipe de EHPAD Les Tilleuls" in item.text_content()
    assert " ".join(item.xpath(".//*[@data-unread-for]")[0].text_content().split()) == "1 nouveau"
    page = html.unescape(client.get(reverse("portal_conversation", args=[conversation.pk])).content.decode())
    assert TEXT in page and "Je passe à 14 h." in page and "Actualiser" in page
    # Read now: the badge is hidden.
    assert conversation_item(client).xpath(".//*[@data-unread-for]")[0].get("hidden") is not None


def conversation_item(client):
    tree = lxml.html.fromstring(client.get(reverse("portal_messages")).content.decode())
    return tree.xpath("//li[contains(@class, 'portal-conversation')]")[0]


def test_it_tells_the_team_only_that_a_message_waits(person, person_user, structure, referent, nurse):
    write(login(person_user), structure)
    assert mail.outbox, "the team is told by e-mail"
    for email in mail.outbox:
        assert "genou" not in (email.subject + email.body).lower()
        assert all("genou" not in str(content).lower() for content, _type in getattr(email, "alternatives", []))


def test_it_answers_in_the_conversation_through_its_page(person, person_user, structure):
    client = login(person_user)
    write(client, structure)
    conversation = Conversation.objects.get()
    response = client.post(reverse("portal_conversation_reply", args=[conversation.pk]), {"body": "Merci."})
    assert response.status_code == 302
    assert conversation.messages.filter(body="Merci.", author=person_user).exists()
    empty = client.post(reverse("portal_conversation_reply", args=[conversation.pk]), {"body": ""})
    assert empty.status_code == 400 and "Votre réponse" in empty.content.decode()
    assert conversation.messages.count() == 2


def test_it_refuses_a_message_without_a_recipient_naming_the_field(person, person_user):
    response = login(person_user).post(reverse("portal_message_new"), {"subject": "Genou", "body": TEXT})
    assert response.status_code == 400
    tree = lxml.html.fromstring(response.content.decode())
    errors = tree.xpath("//fieldset[.//legend[contains(., 'À qui voulez-vous écrire')]]//ul[@class='field__errors']")
    assert errors
    assert not Conversation.objects.exists()


def test_it_shows_a_carer_only_the_conversations_she_takes_part_in(person, person_user, structure, carer):
    grant_exchanges(person, person_user, carer)
    write(login(person_user), structure, subject="Ma question à moi")
    mine = Conversation.objects.get()
    client = login(carer)
    write(client, structure, subject="Question de Claire")
    listing = client.get(reverse("portal_messages")).content.decode()
    assert "Question de Claire" in listing and "Ma question à moi" not in listing
    assert client.get(reverse("portal_conversation", args=[mine.pk])).status_code == 404
    assert client.post(reverse("portal_conversation_reply", args=[mine.pk]), {"body": "x"}).status_code == 404


def test_it_lets_a_legal_representative_write_for_the_person(person, legal_rep, structure):
    client = login(legal_rep)
    assert write(client, structure, subject="Dossier APA").status_code == 302
    listing = html.unescape(client.get(reverse("portal_messages")).content.decode())
    assert "<h1>Messages à l'équipe</h1>" in listing and "Dossier APA" in listing


def test_it_refuses_a_carer_without_the_right(person, carer, structure):
    client = login(carer)
    assert client.get(reverse("portal_messages")).status_code == 403
    assert write(client, structure).status_code == 403
    assert not Conversation.objects.exists()


def test_it_gives_a_stranger_404(person, person_user, structure, stranger):
    write(login(person_user), structure)
    conversation = Conversation.objects.get()
    client = login(stranger)
    assert client.get(reverse("portal_messages")).status_code == 404
    assert client.get(reverse("portal_conversation", args=[conversation.pk])).status_code == 404


def test_it_lists_conversations_in_bounded_queries(person, person_user, structure, django_assert_max_num_queries):
    client = login(person_user)
    for n in range(3):
        write(client, structure, subject=f"Question {n}")
    with django_assert_max_num_queries(25):
        assert client.get(reverse("portal_messages")).status_code == 200
    for n in range(3, 8):
        write(client, structure, subject=f"Question {n}")
    with django_assert_max_num_queries(25):
        assert client.get(reverse("portal_messages")).status_code == 200


def test_it_offers_the_messages_in_the_portal_menu(person, person_user):
    page = html.unescape(login(person_user).get(reverse("portal_home")).content.decode())
    assert reverse("portal_messages") in page and "Mes messages à l'équipe" in page
