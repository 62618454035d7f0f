"""Fixtures of the FHIR API tests: the EHPAD's connected software (its DUI), another
structure's, a token obtained through the real OAuth token endpoint, and a small client."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from interop import services


@pytest.fixture
def fhir_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return tmp_path / "private"


@pytest.fixture
def on_commit_now(monkeypatch):
    """Run on_commit callbacks at once (tests run inside a transaction)."""
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, **kw: func())


@pytest.fixture
def dui(structure, admin_user, person):
    """The EHPAD's own software, connected after the person's admission."""
    software, secret = services.connected_software_create(actor=admin_user, structure=structure, name="DUI Tilleuls")
    software.secret = secret
    return software


@pytest.fixture
def other_dui(other_structure, admin_user):
    software, secret = services.connected_software_create(
        actor=admin_user, structure=other_structure, name="DUI du Canal"
    )
    software.secret = secret
    return software


def get_token(software, scope: str | None = None) -> tuple[int, dict]:
    """The client-credentials flow, through the token endpoint."""
    credentials = base64.b64encode(f"{software.application.client_id}:{software.secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    response = Client().post("/fhir/auth/token", data, HTTP_AUTHORIZATION=f"Basic {credentials}")
    return response.status_code, response.json()


class Fhir:
    """A FHIR client for the tests: a bearer token, JSON in and out."""

    def __init__(self, token: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params):
        return self.client.get(f"/fhir/{path}", params, **self.headers)

    def put(self, path: str, resource: dict):
        return self.client.put(
            f"/fhir/{path}", json.dumps(resource), content_type="application/fhir+json", **self.headers
        )

    def post(self, path: str, resource: dict):
        return self.client.post(
            f"/fhir/{path}", json.dumps(resource), content_type="application/fhir+json", **self.headers
        )

    def delete(self, path: str):
        return self.client.delete(f"/fhir/{path}", **self.headers)


@pytest.fixture
def api(dui) -> Fhir:
    status, body = get_token(dui)
    assert status == 200, body
    return Fhir(body["access_token"])


@pytest.fixture
def other_api(other_dui) -> Fhir:
    status, body = get_token(other_dui)
    assert status == 200, body
    return Fhir(body["access_token"])
