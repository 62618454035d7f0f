"""Pro Santé Connect and FranceConnect: configured from the environment, off otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOW_APPS = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.SOCIALACCOUNT_PROVIDERS['openid_connect']['APPS']))"
)


def _apps(env_overrides: dict[str, str], tmp_path) -> list[dict]:
    import json

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PSC_", "FRANCECONNECT_"))}
    env.update({"DEBUG": "1", "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "portal.settings", **env_overrides})
    result = subprocess.run(
        [sys.executable, "-c", SHOW_APPS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout)


def test_it_has_no_oidc_provider_when_none_is_configured(tmp_path):
    assert _apps({}, tmp_path) == []


def test_it_configures_pro_sante_connect_and_franceconnect_from_the_environment(tmp_path):
    apps = _apps(
        {
            "PSC_CLIENT_ID": "portail-psc",
            "PSC_CLIENT_SECRET": "s3cret",
            "PSC_SERVER_URL": "https://psc.exemple.fr",
            "FRANCECONNECT_CLIENT_ID": "portail-fc",
            "FRANCECONNECT_SERVER_URL": "https://fc.exemple.fr",
        },
        tmp_path,
    )
    by_id = {app["provider_id"]: app for app in apps}
    assert by_id["pro-sante-connect"]["client_id"] == "portail-psc"
    assert by_id["pro-sante-connect"]["settings"]["auth_params"] == {"acr_values": "eidas1"}
    assert by_id["franceconnect"]["settings"]["server_url"] == "https://fc.exemple.fr"


@pytest.mark.django_db
def test_it_offers_a_configured_provider_on_the_login_page(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "pro-sante-connect",
                    "name": "Pro Santé Connect",
                    "client_id": "portail-psc",
                    "secret": "s3cret",
                    "settings": {"server_url": "https://psc.exemple.fr"},
                }
            ]
        }
    }
    response = client.get("/accounts/login/")
    assert "Pro Santé Connect" in response.content.decode()


@pytest.mark.django_db
def test_it_shows_no_provider_button_when_none_is_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": []}}
    assert "Pro Santé Connect" not in client.get("/accounts/login/").content.decode()
