"""/readyz reports a stopped storage (a real S3 server, stopped) as not ready."""

from __future__ import annotations

import pytest

from portal.env import storage_config
from tests.production.s3 import MotoServer

pytestmark = pytest.mark.django_db


def test_it_reports_a_stopped_bucket_server_as_not_ready(client, settings, moto_s3, tmp_path):
    server = MotoServer(tmp_path / "moto.log").start()
    try:
        server.create_bucket("portal-readyz")
        options = storage_config(server.storage_url("portal-readyz"))
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "common.storage.PrivateS3Storage", "OPTIONS": options},
        }
        response = client.get("/readyz")
        assert response.status_code == 200 and response.json()["storage"] == {"ok": True, "detail": "ok"}
    finally:
        server.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["storage"]["ok"] is False and response.json()["status"] == "error"
