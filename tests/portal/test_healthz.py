from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError

from tests.conftest import need_service

pytestmark = pytest.mark.django_db


def test_it_answers_liveness_without_asking_the_services(client):
    from django.db import connections

    with mock.patch.object(connections["default"], "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_reports_ready_when_the_database_cache_broker_and_storage_answer(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    for name in ("database", "cache", "broker", "storage"):
        assert body[name]["ok"] is True, name


def test_it_answers_503_when_the_database_is_unreachable(client):
    from django.db import connections

    connection = connections["default"]
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False
    assert response.json()["status"] == "error"


def test_it_answers_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


def test_it_answers_503_when_the_cache_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["cache"]["ok"] is False


def test_it_warns_when_the_worker_or_beat_gave_no_recent_sign_of_life(client, settings, admin_user):
    import datetime

    from django.utils import timezone

    from portal import health
    from portal.models import Heartbeat
    from portal.tasks import heartbeat
    from tests.conftest import login

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    warnings = client.get("/readyz").json()["warnings"]
    assert "aucun signe de vie" in warnings["worker"] and "aucun signe de vie" in warnings["beat"]
    heartbeat.apply()
    with mock.patch.object(health, "_in_beat", True):
        health._beat_heartbeat(sender="portal.tasks.heartbeat")
    assert client.get("/readyz").json()["warnings"] == {}
    Heartbeat.objects.filter(name="beat").update(last_seen=timezone.now() - datetime.timedelta(minutes=10))
    assert client.get("/readyz").json()["warnings"] == {"beat": "Celery beat : dernier signe de vie il y a 10 min"}
    page = login(admin_user).get("/admin/portal/heartbeat/")
    assert page.status_code == 200
    assert "worker" in page.content.decode() and "beat" in page.content.decode()


@pytest.mark.services
def test_it_reaches_the_real_broker_when_one_is_configured(client, settings):
    need_service(bool(settings.CELERY_BROKER_URL), "CELERY_BROKER_URL (Redis)")
    response = client.get("/readyz")
    assert response.json()["broker"]["detail"] == "ok"
