from __future__ import annotations

import json

import pytest
from drf_spectacular.validation import validate_schema

from tests.conftest import login

pytestmark = pytest.mark.django_db

COORDINATION_OPERATIONS = {
    ("/api/coordination/persons/", "get"),
    ("/api/coordination/persons/{id}/", "get"),
    ("/api/coordination/persons/{id}/circle/", "get"),
    ("/api/coordination/persons/{id}/circle/", "post"),
    ("/api/coordination/persons/{id}/circle/{member_id}/grants/", "patch"),
    ("/api/coordination/persons/{id}/circle/{member_id}/end/", "post"),
    ("/api/coordination/persons/{id}/delegations/", "get"),
    ("/api/coordination/persons/{id}/delegations/", "post"),
    ("/api/coordination/persons/{id}/access-log/", "get"),
    ("/api/coordination/join-requests/", "get"),
    ("/api/coordination/join-requests/", "post"),
    ("/api/coordination/join-requests/mine/", "get"),
    ("/api/coordination/join-requests/{id}/answer/", "post"),
    ("/api/coordination/delegations/{id}/answer/", "post"),
    ("/api/coordination/delegations/{id}/revoke/", "post"),
    ("/api/coordination/persons/{id}/documents/", "get"),
    ("/api/coordination/persons/{id}/documents/", "post"),
    ("/api/coordination/documents/{id}/", "get"),
    ("/api/coordination/documents/{id}/validate/", "post"),
    ("/api/coordination/documents/{id}/mssante/", "post"),
    ("/api/coordination/dmp-shares/{id}/cancel/", "post"),
    ("/api/coordination/persons/{id}/consents/", "get"),
    ("/api/coordination/persons/{id}/consents/", "post"),
    ("/api/coordination/persons/{id}/break-glass/", "get"),
    ("/api/coordination/persons/{id}/break-glass/", "post"),
    ("/api/coordination/break-glass/mine/", "get"),
}


@pytest.fixture
def schema(referent):
    response = login(referent).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_it_serves_a_valid_openapi_schema(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_it_documents_every_coordination_endpoint_with_its_shapes(schema):
    operations = {
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if path.startswith("/api/coordination/")
    }
    assert operations == COORDINATION_OPERATIONS
    for path, method in COORDINATION_OPERATIONS:
        operation = schema["paths"][path][method]
        assert operation.get("description") or operation.get("summary"), (path, method)
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert success and "content" in operation["responses"][success[0]], (path, method)
        if method in ("post", "patch") and not path.endswith(("/revoke/", "/validate/", "/cancel/")):
            assert "requestBody" in operation, (path, method)


def test_it_documents_the_paginated_persons_list_and_its_filters(schema):
    operation = schema["paths"]["/api/coordination/persons/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {"page", "q", "structure"}
    reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    paginated = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    assert {"count", "next", "previous", "results"} <= set(paginated["properties"])


def test_it_serves_the_api_documentation(referent):
    response = login(referent).get("/api/docs/")
    assert response.status_code == 200
    assert "swagger" in response.content.decode().lower()
