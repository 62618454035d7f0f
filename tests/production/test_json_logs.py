"""JSON log lines: one per request with its id, the user id, path, status and duration; task
lines carry their task id and the request that queued them; never a name nor a typed text."""

from __future__ import annotations

import io
import json
import logging

import pytest

from liaison.models import Transmission
from portal import logs
from tests.conftest import login

pytestmark = pytest.mark.django_db

SECRET_TEXT = "Chute dans la salle de bains, hématome à la hanche gauche"


@pytest.fixture
def json_lines():
    """What the production handler would write: the JSON formatter and the context filter
    on the root logger, read back as a list of dicts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_it_logs_a_posted_transmission_with_ids_and_without_its_text(
    person, nurse, referent, json_lines, on_commit_now
):
    client = login(nurse)
    url = f"/liaison/personnes/{person.pk}/"
    # Tasks queued at commit run in-process, within the request (on_commit_now).
    response = client.post(
        url,
        {
            "category": "observations",
            "kind": "general",
            "text": SECRET_TEXT,
            "scope": "shared",
            "addressees": [referent.pk],
            "requests_receipt": "on",
        },
    )
    assert response.status_code == 302
    assert Transmission.objects.get().text == SECRET_TEXT
    request_id = response["X-Request-ID"]
    lines = json_lines()
    [line] = [entry for entry in lines if entry["logger"] == "portal.request" and entry["path"] == url]
    assert line["request_id"] == request_id
    assert line["user_id"] == nurse.pk
    assert line["method"] == "POST" and line["status"] == 302
    assert isinstance(line["duration_ms"], float) and line["level"] == "INFO"
    assert line["timestamp"].endswith("+00:00")
    # The notification of the addressee ran as a task (in-process here): its line names
    # the task and the request that queued it.
    tasks = [entry for entry in lines if entry["logger"] == "portal.task"]
    assert tasks and all(entry["request_id"] == request_id and entry["task_id"] for entry in tasks)
    written = json.dumps(lines, ensure_ascii=False)
    for private in (
        "hématome",
        "hanche",
        person.birth_name,
        person.birth_first_names.split()[0],
        nurse.email,
        nurse.last_name,
    ):
        assert private not in written


def test_it_logs_an_anonymous_request_without_a_user_nor_the_query_string(client, json_lines):
    response = client.get("/accounts/login/?next=/liaison/&email=jeanne.martin@exemple.fr")
    [line] = [entry for entry in json_lines() if entry["logger"] == "portal.request"]
    assert line["user_id"] is None and line["path"] == "/accounts/login/" and line["status"] == response.status_code
    assert "jeanne" not in json.dumps(json_lines())


def test_it_puts_the_request_id_in_the_task_message_and_binds_it_in_the_worker():
    from common.request_context import RequestContext, bind, unbind

    headers: dict = {}
    token = bind(RequestContext(request_id="abc123def456", ip=None))
    try:
        logs._add_request_id(headers=headers)
    finally:
        unbind(token)
    assert headers == {logs.REQUEST_ID_HEADER: "abc123def456"}

    class Request:
        portal_request_id = "abc123def456"

    class Task:
        name = "notifications.tasks.deliver"
        request = Request()

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    logs._bind_task(task_id="task-1", task=Task())
    try:
        logs.ContextFilter().filter(record)
    finally:
        logs._unbind_task(task_id="task-1", task=Task(), state="SUCCESS")
    assert (record.request_id, record.task_id) == ("abc123def456", "task-1")
    assert logs.current_request_id() is None
