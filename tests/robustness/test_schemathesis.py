"""A schemathesis run over the whole OpenAPI schema, in-process against the WSGI
application, authenticated as a professional (with MFA) and as a person: no answer is a
server error, and every answer matches the schema (status code documented, content
type, body shape). Bounded: a few examples per operation, derandomized, so it runs in a
couple of minutes and fails the same way twice."""

from __future__ import annotations

import contextlib
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from portal.wsgi import application
from tests.conftest import login

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "5"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@contextlib.contextmanager
def in_process_wsgi():
    """Like Django's test client: the test's transaction (and its connection) must outlive
    each request. Entered after the test client's own requests, which connect the
    signals again when they end."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _credentials(user) -> dict:
    client = login(user)
    csrf = _get_new_csrf_string()
    return {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
        "headers": {"X-CSRFToken": csrf, "Referer": "http://testserver/"},
        "schema": client.get("/api/schema/", {"format": "json"}).json(),
    }


@pytest.mark.parametrize("who", ["referent", "person_user"])
def test_the_api_keeps_its_schema_under_generated_input(world, who, request):
    credentials = _credentials(request.getfixturevalue(who))
    schema = schemathesis.openapi.from_dict(credentials["schema"])
    schema.app = application
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 60
    with in_process_wsgi():
        for operation in operations:
            _explore(operation, credentials, failures)
    assert not failures, "\n".join(sorted(set(failures)))


def _explore(operation, credentials: dict, failures: list[str]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case):
        response = case.call(headers=credentials["headers"], cookies=credentials["cookies"])
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{case.method} {case.formatted_path} → {response.status_code}: {_first_line(error)}")
            raise

    try:
        run()
    except (Exception, BaseExceptionGroup):  # noqa: S110 (recorded above, reported together at the end)
        pass


def _first_line(error: BaseException) -> str:
    inner = getattr(error, "exceptions", None)
    if inner:
        return "; ".join(_first_line(e) for e in inner)
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split())[:300]
