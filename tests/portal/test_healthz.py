from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError

from tests.conftest import need_service

pytestmark = pytest.mark.django_db


def test_it_reports_ok_when_the_database_and_broker_answer(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True


def test_it_answers_503_when_the_database_is_unreachable(client):
    from django.db import connections

    connection = connections["default"]
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False
    assert response.json()["status"] == "error"


def test_it_answers_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


@pytest.mark.services
def test_it_reaches_the_real_broker_when_one_is_configured(client, settings):
    need_service(bool(settings.CELERY_BROKER_URL), "CELERY_BROKER_URL (Redis)")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"]["detail"] == "ok"
