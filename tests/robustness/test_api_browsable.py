"""Every API operation answers OPTIONS (DRF's metadata) and a browser (`Accept: text/html`,
the browsable API) without a server error, for a professional with MFA and for a person."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from common.api import ServiceAPIView
from tests.robustness.conftest import url_routes

API_ROUTES = url_routes("api/")


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["referent", "person_user"])
def test_every_api_route_answers_options_and_a_browser(world, who, request):
    client = _client(request.getfixturevalue(who))
    failures = []
    for route, _pattern in API_ROUTES:
        path = world.fill(route)
        for method, headers in (("options", {}), ("get", {"HTTP_ACCEPT": "text/html"})):
            response = getattr(client, method)(path, **headers)
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {path} → {response.status_code}")
    assert not failures, "\n".join(failures)
    assert len(API_ROUTES) > 50


def _openapi_path(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + ("id" if m.group(1) == "pk" else m.group(1)) + "}", route)


def _writable(properties: dict) -> set[str]:
    return {name for name, field in properties.items() if not field.get("readOnly") and not field.get("read_only")}


def test_options_describes_the_input_the_schema_documents(world, referent):
    client = _client(referent)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    described = 0
    for route, pattern in API_ROUTES:
        if not issubclass(getattr(pattern.callback, "view_class", object), ServiceAPIView):
            continue
        operations = schema["paths"][_openapi_path(route)]
        actions = client.options(world.fill(route)).json().get("actions", {})
        for method, fields in actions.items():
            content = operations[method.lower()].get("requestBody", {}).get("content", {})
            documented = set()
            for media in content.values():
                ref = media["schema"].get("$ref", "")
                documented = _writable(components[ref.rsplit("/", 1)[-1]]["properties"]) if ref else set()
            assert _writable(fields) == documented, (method, route)
            described += 1
    assert described > 30


def test_the_schema_and_its_documentation_are_for_signed_in_users_only(db, referent):
    anonymous = Client()
    assert anonymous.get("/api/schema/").status_code == 403
    docs = anonymous.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/accounts/login/")
    client = _client(referent)
    assert client.get("/api/schema/", {"format": "json"}).status_code == 200
    assert client.get("/api/docs/").status_code == 200
