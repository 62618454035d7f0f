"""The deployment kit stays complete: the environment file example names every variable
the settings read, and the systemd units start what exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS_ONLY = {"TESTING"}


def test_it_lists_every_variable_of_the_settings_in_the_env_example():
    settings = (ROOT / "portal" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list|secret)\("([A-Z0-9_]+)"', settings))
    read |= {f"{prefix}_{suffix}" for prefix in ("PSC", "FRANCECONNECT") for suffix in ("CLIENT_ID", "SERVER_URL")}
    read |= set(re.findall(r'\("[a-z_]+", "(AWS_[A-Z_]+)"\)', settings))
    example = (ROOT / "deploy" / "portal.env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    listed |= {name.removesuffix("_FILE") for name in listed}
    assert read - TESTS_ONLY - listed == set()
    gunicorn = set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', (ROOT / "gunicorn.conf.py").read_text()))
    assert gunicorn - listed == set()


def test_it_runs_one_beat_and_the_web_with_the_repository_configuration():
    web = (ROOT / "deploy" / "portal-web.service").read_text()
    assert "gunicorn -c /opt/portal/gunicorn.conf.py portal.wsgi:application" in web
    assert "celery -A portal worker" in (ROOT / "deploy" / "portal-worker.service").read_text()
    assert "celery -A portal beat" in (ROOT / "deploy" / "portal-beat.service").read_text()
    for proxy in ("Caddyfile", "nginx.conf.example"):
        text = (ROOT / "deploy" / proxy).read_text()
        assert "X-Forwarded-Proto" in text and "/readyz" in text or "max_fails" in text
