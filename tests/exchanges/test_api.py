"""The exchanges' REST API (/api/exchanges/): the same rules as the pages, in the schema."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from coordination import services as coordination_services
from coordination.models import Category, CircleMember, Level
from exchanges import services
from tests.conftest import login

pytestmark = pytest.mark.django_db


def url(name: str, conversation=None) -> str:
    return reverse(f"exchanges_api:{name}", args=[conversation.pk] if conversation else [])


def test_it_lists_my_conversations_with_their_unread_count(conversation, nurse):
    response = login(nurse).get(url("conversations"))
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == conversation.pk and row["kind"] == "person" and row["unread"] == 1


def test_it_pages_messages_last_first_at_a_constant_cost(
    settings, conversation, referent, nurse, django_assert_max_num_queries
):
    settings.EXCHANGES_PAGE_SIZE = 2
    for n in range(4):
        services.message_post(actor=nurse, conversation=conversation, body=f"Message {n}")
    client = login(referent)
    with django_assert_max_num_queries(16):
        first = client.get(url("messages", conversation)).json()
    assert [m["body"] for m in first["results"]] == ["Message 3", "Message 2"]
    second = client.get(url("messages", conversation), {"avant": first["next"]}).json()
    assert [m["body"] for m in second["results"]] == ["Message 1", "Message 0"]
    assert client.get(url("messages", conversation), {"avant": "x"}).status_code == 400


def test_it_posts_a_message_through_the_service(conversation, nurse):
    response = login(nurse).post(
        url("messages", conversation), json.dumps({"body": "J'y serai."}), content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["body"] == "J'y serai." and response.json()["author"]["name"] == "Inès Infirmière"
    assert conversation.messages.filter(body="J'y serai.", author=nurse).exists()


def test_it_refuses_an_empty_message_naming_the_field(conversation, nurse):
    response = login(nurse).post(url("messages", conversation), {"body": " "}, content_type="application/json")
    assert response.status_code == 400 and "body" in response.json()
    assert conversation.messages.count() == 1


def test_it_marks_read_and_shows_the_read_state(conversation, nurse, referent):
    client = login(nurse)
    assert client.get(url("read", conversation)).json()["unread"] == 1
    state = client.post(url("read", conversation), {}, content_type="application/json").json()
    assert state["unread"] == 0 and state["last_read_message"] == conversation.messages.get().pk
    receipts = login(referent).get(url("participants", conversation)).json()
    assert {p["user"]["name"]: p["last_read_message"] for p in receipts}["Inès Infirmière"] == state[
        "last_read_message"
    ]
    other = client.post(url("read", conversation), {"up_to": 10**9}, content_type="application/json")
    assert other.status_code == 400 and "up_to" in other.json()


def test_it_gives_404_to_a_stranger_and_to_one_who_lost_the_right(
    conversation, person, person_user, nurse, stranger, other_pro
):
    member = CircleMember.objects.active().get(person=person, user=nurse)
    coordination_services.grants_set(actor=person_user, member=member, levels={Category.EXCHANGES: Level.NONE})
    for user in (stranger, other_pro, nurse):
        client = login(user)
        for name in ("conversation", "messages", "participants", "read"):
            assert client.get(url(name, conversation)).status_code == 404, (user, name)
        posted = client.post(url("messages", conversation), {"body": "x"}, content_type="application/json")
        assert posted.status_code == 404
        assert client.get(url("conversations")).json()["results"] == []


def test_it_refuses_a_write_to_a_reader_without_the_write_right(conversation, person, person_user, nurse):
    member = CircleMember.objects.active().get(person=person, user=nurse)
    coordination_services.grants_set(actor=person_user, member=member, levels={Category.EXCHANGES: Level.READ})
    client = login(nurse)
    assert client.get(url("messages", conversation)).status_code == 200
    response = client.post(url("messages", conversation), {"body": "x"}, content_type="application/json")
    assert response.status_code == 403 and conversation.messages.count() == 1


def test_it_documents_every_exchanges_operation(referent):
    schema = json.loads(login(referent).get("/api/schema/", {"format": "json"}).content)
    operations = {
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if path.startswith("/api/exchanges/")
    }
    assert operations == {
        ("/api/exchanges/conversations/", "get"),
        ("/api/exchanges/conversations/", "post"),
        ("/api/exchanges/conversations/{id}/", "get"),
        ("/api/exchanges/conversations/{id}/messages/", "get"),
        ("/api/exchanges/conversations/{id}/messages/", "post"),
        ("/api/exchanges/conversations/{id}/participants/", "get"),
        ("/api/exchanges/conversations/{id}/participants/", "post"),
        ("/api/exchanges/conversations/{id}/read/", "get"),
        ("/api/exchanges/conversations/{id}/read/", "post"),
    }
