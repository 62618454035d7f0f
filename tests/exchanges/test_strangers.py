"""Every URL of the exchanges (pages, live streams, API, the user portal's messages),
walked with the ids of a real conversation, message and attachment: a professional
outside the circle gets 404 (405 for a method the URL never takes), an anonymous visitor
the sign-in page (401/403 on the API), and neither ever sees a word of it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from exchanges import services
from exchanges.models import ConversationKind
from tests.exchanges.conftest import photo
from tests.robustness.conftest import url_routes

SECRETS = ("Jeanne", "MARTIN", "Retour d'hospitalisation", "rentre jeudi", "Ma kiné", "plaie.jpg")
PREFIXES = ("echanges/", "api/exchanges/", "mon-espace/messages/")


def _routes() -> list[str]:
    return [route for prefix in PREFIXES for route, _pattern in url_routes(prefix)]


def _fill(route: str, ids: dict[str, int]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        return str(ids["person"] if name == "person_id" else ids[name])

    return "/" + re.sub(r"<int:(\w+)>", value, route)


@pytest.fixture
def ids(conversation, person, person_user, structure, nurse):
    message = services.message_post(actor=nurse, conversation=conversation, body="La plaie.", files=[photo()])
    with_team = services.conversation_start(
        actor=person_user,
        kind=ConversationKind.PERSON_TEAM,
        person=person,
        structure=structure,
        subject="Ma kiné",
        body="Le kiné vient mardi ?",
    )
    return {
        "person": person.pk,
        "message_id": message.pk,
        "attachment_id": message.attachments.get().pk,
        "conversations": [conversation.pk, with_team.pk],
    }


@pytest.mark.parametrize("kind", ["other_pro", "anonymous"])
def test_no_exchanges_url_opens_anything_to_an_outsider(request, ids, kind):
    client = Client(raise_request_exception=False)
    if kind != "anonymous":
        client.force_login(request.getfixturevalue(kind))
    routes = _routes()
    assert len(routes) >= 25
    leaks = []
    for conversation_id in ids["conversations"]:
        values = {**ids, "conversation_id": conversation_id, "pk": conversation_id}
        for route in routes:
            path = _fill(route, values)
            for method in ("get", "post"):
                response = getattr(client, method)(path)
                body = b"".join(response.streaming_content) if response.streaming else response.content
                text = body.decode("utf-8", "replace").replace("&#x27;", "'")
                status = response.status_code
                if any(secret in text for secret in SECRETS):
                    leaks.append(f"{method.upper()} {path} → {status} shows it")
                elif "<" not in route:
                    continue  # a list of one's own: nothing of theirs in it (checked above)
                elif kind == "other_pro" and status not in (404, 405):
                    leaks.append(f"{method.upper()} {path} → {status}")
                elif kind == "anonymous" and route.startswith("api/") and status not in (401, 403, 405):
                    leaks.append(f"{method.upper()} {path} → {status}")
                elif (
                    kind == "anonymous"
                    and not route.startswith("api/")
                    and status != 405
                    and not (status == 302 and "/accounts/login/" in response["Location"])
                ):
                    leaks.append(f"{method.upper()} {path} → {status}")
    assert not leaks, "\n".join(leaks)
