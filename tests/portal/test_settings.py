"""Start-up rules, checked in fresh processes so the real settings module runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], env_overrides: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    dropped = {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"DJANGO_SETTINGS_MODULE": "portal.settings", "VAR_DIR": str(tmp_path)})
    env.update(env_overrides)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    result = _run(["manage.py", "check"], {"DEBUG": "0"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY manquante" in result.stderr
    assert "SECRET_KEY is missing" in result.stderr


def test_it_reads_the_secret_key_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text("k" * 30 + "-Zq8!vX2#pL0@mN7$wR4%tY6^uI9&oP1*\n")
    result = _run(
        ["manage.py", "check"],
        {"DEBUG": "0", "SECRET_KEY_FILE": str(key_file), "ALLOWED_HOSTS": "portail.exemple.fr"},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr


def test_it_passes_check_deploy_without_warning_under_production_settings(tmp_path):
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {
            "DEBUG": "0",
            "SECRET_KEY": "Zq8!vX2#pL0@mN7$wR4%tY6^uI9&oP1*aS3(dF5)gH7_jK9+lZ0-xC2=vB4",
            "ALLOWED_HOSTS": "portail.exemple.fr",
            "CSRF_TRUSTED_ORIGINS": "https://portail.exemple.fr",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_links_the_demo_to_the_address_runserver_listens_on(tmp_path):
    """#16 item 9: the links seed_demo prints said port 8000 whatever RUNSERVER_ADDR said."""
    show = ["manage.py", "shell", "-c", "from django.conf import settings; print(settings.SITE_URL)"]
    for overrides, expected in (
        ({"RUNSERVER_ADDR": "127.0.0.1:8123"}, "http://127.0.0.1:8123"),
        ({"RUNSERVER_ADDR": "0.0.0.0:8124"}, "http://127.0.0.1:8124"),
        ({"RUNSERVER_ADDR": "8125"}, "http://127.0.0.1:8125"),
        ({"RUNSERVER_ADDR": "127.0.0.1:8126", "SITE_URL": "https://portail.exemple.fr"}, "https://portail.exemple.fr"),
    ):
        result = _run(show, {"DEBUG": "1", **overrides}, tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == expected, overrides
