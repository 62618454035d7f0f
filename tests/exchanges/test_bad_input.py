"""No input gives a 500: odd addresses and values answer 404 or a French message."""

from __future__ import annotations

from django.urls import reverse

from exchanges.models import Conversation, Message, Participant
from tests.conftest import login

HUGE = 2**70


def test_it_answers_404_to_ids_beyond_the_database(conversation, referent):
    client = login(referent)
    for name in ("conversation", "person", "person_start", "person_side_start", "edit", "file", "attachment"):
        assert client.get(reverse(f"exchanges:{name}", args=[HUGE])).status_code == 404, name
    assert client.get(reverse("exchanges_live:conversation", args=[HUGE])).status_code == 404


def test_it_answers_404_to_a_portal_conversation_beyond_the_database(person, person_user):
    assert login(person_user).get(reverse("portal_conversation", args=[HUGE])).status_code == 404


def test_it_ignores_odd_paging_and_read_marks(conversation, nurse):
    client = login(nurse)
    url = reverse("exchanges:conversation", args=[conversation.pk])
    for odd in ("abc", "-4", str(HUGE), ""):
        assert client.get(url, {"avant": odd}).status_code == 200
    assert client.get(reverse("exchanges:list"), {"page": "zzz"}).status_code == 200
    mark = reverse("exchanges:mark_read", args=[conversation.pk])
    for odd in ("abc", str(HUGE), "0"):
        assert client.post(mark, {"jusqu_a": odd}, HTTP_HX_REQUEST="true").status_code == 204
    first = conversation.messages.get()
    assert Participant.objects.get(conversation=conversation, user=nurse).last_read_message == first


def test_it_never_moves_the_read_mark_backwards(conversation, referent, nurse):
    client = login(referent)
    post = reverse("exchanges:post", args=[conversation.pk])
    client.post(post, {"body": "Deux"})
    client.post(post, {"body": "Trois"})
    first, _second, third = Message.objects.order_by("pk")
    mark = reverse("exchanges:mark_read", args=[conversation.pk])
    login(nurse).post(mark, {"jusqu_a": third.pk})
    login(nurse).post(mark, {"jusqu_a": first.pk})
    assert Participant.objects.get(conversation=conversation, user=nurse).last_read_message == third


def test_it_names_the_field_of_a_refused_start(person, referent, nurse):
    client = login(referent)
    response = client.post(
        reverse("exchanges:person_start", args=[person.pk]), {"subject": "", "participants": ["x"], "body": ""}
    )
    assert response.status_code == 400
    assert {"subject", "participants", "body"} <= set(response.context["form"].errors)
    assert not Conversation.objects.exists()
