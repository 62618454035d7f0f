"""Fixtures of the production tests: a real S3-compatible server (moto), a bucket per test."""

from __future__ import annotations

import uuid

import pytest

from portal.env import storage_config
from tests.conftest import need_service
from tests.production.s3 import MotoServer, moto_server_path


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory):
    """moto's S3 server in its own process for the session (skipped when moto is absent,
    unless REQUIRE_SERVICES=1)."""
    need_service(moto_server_path() is not None, "moto_server (moto[s3] and flask, requirements-dev.txt)")
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bucket(moto_s3, settings, tmp_path):
    """A fresh private bucket as the default storage; the local folder is this test's own
    (so a test can check nothing is written there)."""
    name = f"portal-{uuid.uuid4().hex[:12]}"
    moto_s3.create_bucket(name)
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "common.storage.PrivateS3Storage", "OPTIONS": storage_config(moto_s3.storage_url(name))},
    }
    moto_s3.bucket = name
    return moto_s3


@pytest.fixture
def local_media(settings, tmp_path):
    """Files on the local disk, in this test's folder (the default without STORAGE_URL)."""
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
