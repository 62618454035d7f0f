"""Live updates (exchanges.views.live): the stream of an open conversation, read as the
browser's EventSource reads it; the gate asked again at each reconnection."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from coordination import services as coordination_services
from coordination.models import AccessLog, Category, CircleMember, Level
from exchanges import services
from exchanges.models import Participant
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _short_streams(settings):
    # A bounded stream as in production, only shorter: two or three polls.
    settings.EXCHANGES_STREAM_SECONDS = 0.05
    settings.EXCHANGES_POLL_SECONDS = 0.02


def stream_url(conversation) -> str:
    return reverse("exchanges_live:conversation", args=[conversation.pk])


def read(response) -> str:
    assert response["Content-Type"].startswith("text/event-stream")
    return b"".join(response.streaming_content).decode()


def events(text: str) -> list[dict]:
    """The stream's events as EventSource parses them: event, id, data (lines joined)."""
    parsed = []
    for block in text.strip().split("\n\n"):
        event: dict = {"data": []}
        for line in block.splitlines():
            field, _, value = line.partition(": ")
            if field == "data":
                event["data"].append(value)
            elif field in ("event", "id"):
                event[field] = value
        if "event" in event:
            event["data"] = "\n".join(event["data"])
            parsed.append(event)
    return parsed


def test_it_streams_a_new_message_to_the_open_conversation(conversation, referent, nurse):
    client = login(referent)
    page = client.get(reverse("exchanges:conversation", args=[conversation.pk]))
    assert page.status_code == 200
    last = conversation.messages.order_by("-pk").first().pk

    message = services.message_post(actor=nurse, conversation=conversation, body="Je passe jeudi à 19 h.")
    received = events(read(client.get(stream_url(conversation), {"apres": last}, HTTP_ACCEPT="text/event-stream")))

    new = [e for e in received if e["event"] == "message"]
    assert [e["id"] for e in new] == [str(message.pk)]
    assert f'id="m{message.pk}"' in new[0]["data"] and "Je passe jeudi à 19 h." in new[0]["data"]
    assert received[-1]["event"] == "end"
    # Shown on an open page: read by the referent, who is no longer counted as waiting.
    assert Participant.objects.get(conversation=conversation, user=referent).last_read_message_id == message.pk


def test_it_resumes_after_the_last_event_id_without_sending_twice(conversation, referent, nurse):
    first = services.message_post(actor=nurse, conversation=conversation, body="Premier.")
    second = services.message_post(actor=nurse, conversation=conversation, body="Second.")
    client = login(referent)
    received = events(read(client.get(stream_url(conversation), {"apres": 0}, HTTP_LAST_EVENT_ID=str(first.pk))))
    assert [e["id"] for e in received if e["event"] == "message"] == [str(second.pk)]


def test_it_sends_nothing_when_nothing_is_new(conversation, referent):
    received = events(read(login(referent).get(stream_url(conversation))))
    assert [e["event"] for e in received] == ["end"]


def test_it_refuses_the_next_connection_of_a_participant_who_lost_the_right(conversation, person, person_user, nurse):
    client = login(nurse)
    assert client.get(stream_url(conversation)).status_code == 200
    member = CircleMember.objects.active().get(person=person, user=nurse)
    coordination_services.grants_set(actor=person_user, member=member, levels={Category.EXCHANGES: Level.NONE})
    services.message_post(actor=conversation.created_by, conversation=conversation, body="Nouvelle consigne.")

    response = client.get(stream_url(conversation), HTTP_LAST_EVENT_ID="1")
    assert response.status_code == 404
    assert b"Nouvelle consigne" not in response.content


def test_it_gives_a_stranger_404(conversation, stranger, other_pro):
    for user in (stranger, other_pro):
        assert login(user).get(stream_url(conversation)).status_code == 404


def test_it_renders_a_message_again_when_someone_reads_it(conversation, referent, nurse):
    """'Vu par …' under the message the nurse just read, while the referent's page is open."""
    first = conversation.messages.get()
    response = login(referent).get(stream_url(conversation))
    chunks = iter(response.streaming_content)
    next(chunks)  # the retry line: the stream is open, its first look is yet to come
    services.conversation_mark_read(actor=nurse, conversation=conversation)
    received = events(b"".join(chunks).decode())

    updates = [e for e in received if e["event"] == "update"]
    assert len(updates) == 1
    assert f'id="m{first.pk}"' in updates[0]["data"] and "Vu par Inès Infirmière" in updates[0]["data"]


def test_it_shows_a_withdrawal_live(conversation, referent, nurse):
    message = services.message_post(actor=nurse, conversation=conversation, body="Erreur de personne.")
    response = login(referent).get(stream_url(conversation), HTTP_LAST_EVENT_ID=str(message.pk))
    chunks = iter(response.streaming_content)
    next(chunks)
    time.sleep(0.001)
    services.message_withdraw(actor=nurse, message=message)
    updates = [e for e in events(b"".join(chunks).decode()) if e["event"] == "update"]
    assert updates and "Message retiré" in updates[-1]["data"] and "Erreur de personne" not in updates[-1]["data"]


def test_it_logs_a_delivery_once_and_not_each_reconnection(conversation, person, referent, nurse):
    client = login(referent)
    before = AccessLog.objects.filter(user=referent, person=person, category=Category.EXCHANGES).count()
    read(client.get(stream_url(conversation)))  # nothing new: nothing seen, nothing logged
    assert AccessLog.objects.filter(user=referent, person=person, category=Category.EXCHANGES).count() == before
    services.message_post(actor=nurse, conversation=conversation, body="Un.")
    services.message_post(actor=nurse, conversation=conversation, body="Deux.")
    read(client.get(stream_url(conversation), {"apres": 0}))
    assert AccessLog.objects.filter(user=referent, person=person, category=Category.EXCHANGES).count() == before + 1


def test_it_streams_the_unread_counts_of_my_conversations(conversation, nurse):
    received = events(read(login(nurse).get(reverse("exchanges_live:unread"))))
    unread = [json.loads(e["data"]) for e in received if e["event"] == "unread"]
    assert unread[0] == {"conversations": {str(conversation.pk): 1}, "total": 1}


def test_it_answers_204_when_live_updates_are_off(settings, conversation, referent):
    settings.EXCHANGES_STREAM_SECONDS = 0
    assert login(referent).get(stream_url(conversation)).status_code == 204


def test_it_does_not_keep_an_idle_session_alive(conversation, referent):
    client = login(referent)
    session = client.session
    session["_last_seen"] = int(time.time()) - 600
    session.save()
    read(client.get(stream_url(conversation), HTTP_ACCEPT="text/event-stream"))
    assert client.session["_last_seen"] == session["_last_seen"]
    client.get(reverse("exchanges:conversation", args=[conversation.pk]))
    assert client.session["_last_seen"] > session["_last_seen"]


def test_it_sends_nothing_more_to_a_participant_who_loses_the_right_during_a_stream(
    conversation, person, person_user, referent, nurse
):
    response = login(nurse).get(stream_url(conversation))
    chunks = iter(response.streaming_content)
    next(chunks)  # the stream is open
    member = CircleMember.objects.active().get(person=person, user=nurse)
    coordination_services.grants_set(actor=person_user, member=member, levels={Category.EXCHANGES: Level.NONE})
    services.message_post(actor=referent, conversation=conversation, body="Nouvelle consigne.")
    rest = b"".join(chunks).decode()
    assert "Nouvelle consigne" not in rest
    assert not [e for e in events(rest) if e["event"] in ("message", "update")]


def test_it_ignores_a_last_event_id_that_is_not_plain_digits(conversation, referent):
    client = login(referent)
    for odd in ("²", "٣", "-1", "1e3", "9" * 30):
        response = client.get(stream_url(conversation), {"apres": odd}, HTTP_LAST_EVENT_ID=odd)
        assert response.status_code == 200, odd
        assert events(read(response))[-1]["event"] == "end"


def test_it_ends_each_stream_within_its_bound(settings, monkeypatch, conversation, referent):
    """With the production bound and poll, on a clock that only moves when the stream waits."""
    settings.EXCHANGES_STREAM_SECONDS = 25
    settings.EXCHANGES_POLL_SECONDS = 1.5
    clock = {"now": 1000.0, "waits": []}

    class FakeTime:
        @staticmethod
        def monotonic():
            return clock["now"]

        @staticmethod
        def sleep(seconds):
            clock["waits"].append(seconds)
            clock["now"] += seconds

    monkeypatch.setattr("exchanges.views.live.time", FakeTime)
    received = events(read(login(referent).get(stream_url(conversation))))
    assert received[-1]["event"] == "end"
    assert sum(clock["waits"]) == pytest.approx(25) and max(clock["waits"]) <= 1.5
