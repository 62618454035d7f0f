"""Fixtures of the documents tests (used by tests/coordination/test_documents_*.py through
`pytestmark = pytest.mark.usefixtures("documents_media", "documents_on_commit")`)."""

from __future__ import annotations

import pytest


@pytest.fixture
def documents_media(settings, tmp_path):
    """Uploaded files in a private folder of this test."""
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
def documents_on_commit(monkeypatch):
    """Run on_commit callbacks at once (tests run inside a transaction)."""
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, **kw: func())


@pytest.fixture
def dmp(settings):
    """The simulated DMP (documents.dmp.RecordingClient), emptied."""
    from documents.dmp import RecordingClient

    settings.DMP_CLIENT = "documents.dmp.RecordingClient"
    RecordingClient.reset()
    yield RecordingClient
    RecordingClient.reset()
