"""Each dependency's failure has a defined behaviour (issue #25): a database outage is a
plain French 503 page; the cache down leaves pages served while sign-in rate limiting
fails closed; the database connections cut between two requests, the second succeeds."""

from __future__ import annotations

import socket
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from common.cache import CacheUnavailable, FailOpenRedisCache
from tests.conftest import login


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_request_during_a_database_outage_gets_a_plain_french_503_page(db, nurse):
    client = login(nurse)
    client.raise_request_exception = False
    outage = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=outage):
        response = client.get("/coordination/")
    body = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "momentanément indisponible" in body and 'lang="fr"' in body
    assert "Traceback" not in body and "OperationalError" not in body and "5432" not in body
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=outage):
        api = client.get("/api/persons/")
    assert api.status_code == 503 and "indisponible" in api.json()["detail"]


@pytest.fixture
def cache_down(settings):
    """A Redis cache whose server is gone."""
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "common.cache.FailOpenRedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    # (Django's setting_changed receiver drops the cache connections.)
    return caches["default"]


def test_with_the_cache_down_pages_are_served_and_sign_in_limits_fail_closed(db, cache_down, nurse):
    assert isinstance(cache_down, FailOpenRedisCache)
    # Fails open for what is only a cache…
    assert cache_down.get("anything", "absent") == "absent"
    cache_down.set("anything", 1)
    # …closed for the sign-in counters.
    with pytest.raises(CacheUnavailable):
        cache_down.get("allauth:rl:allauth.account:login_failed:5/300s:key")
    # A signed-in professional's pages are still served (sessions are in the database).
    assert login(nurse).get("/coordination/").status_code == 200
    # Signing in cannot be counted: refused with a plain 503, never let through unlimited.
    client = Client(raise_request_exception=False)
    response = client.post("/accounts/login/", {"login": nurse.email, "password": "faux"})
    assert response.status_code == 503 and "momentanément indisponible" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_next_request_succeeds_after_the_database_connections_were_terminated():
    """Served by Django's own WSGI handler (as gunicorn serves it: connections kept
    between requests, health-checked at the start of each), the portal's connection is
    terminated between two requests; the second succeeds."""
    import json

    import psycopg
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test import RequestFactory

    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    handler = WSGIHandler()

    def get(path):
        status = []
        body = b"".join(handler(RequestFactory().get(path).environ, lambda s, h, *a: status.append(s)))
        return int(status[0].split()[0]), body

    previous = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 60  # kept between requests, as in production
    connection.close()
    try:
        assert get("/accounts/login/")[0] == 200
        portal_pid = connection.connection.info.backend_pid
        params = connection.get_connection_params()
        with psycopg.connect(**params, autocommit=True) as admin:
            [[terminated]] = admin.execute("SELECT pg_terminate_backend(%s)", [portal_pid]).fetchall()
        assert terminated
        status, _body = get("/accounts/login/")
        assert status == 200
        assert connection.connection.info.backend_pid != portal_pid  # a new connection
        _status, ready = get("/readyz")
        assert json.loads(ready)["database"]["ok"] is True
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = previous
        connection.close()
