"""Pro Santé Connect and FranceConnect+: configured from the environment, off otherwise.

The sign-ins themselves are exercised end to end in test_national_signin.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOW_APPS = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps({k: v['APPS'] for k, v in settings.SOCIALACCOUNT_PROVIDERS.items()}))"
)


def _run(env_overrides: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PSC_", "FRANCECONNECT_"))}
    env.update({"DEBUG": "1", "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "portal.settings", **env_overrides})
    return subprocess.run(
        [sys.executable, "-c", SHOW_APPS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_it_has_no_national_sign_in_when_none_is_configured(tmp_path):
    result = _run({}, tmp_path)
    assert json.loads(result.stdout) == {"pro_sante_connect": [], "franceconnect": []}


def test_it_configures_pro_sante_connect_and_franceconnect_from_the_environment(tmp_path):
    key = tmp_path / "fc.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----\n")
    result = _run(
        {
            "PSC_CLIENT_ID": "portail-psc",
            "PSC_CLIENT_SECRET": "s3cret",
            "PSC_SERVER_URL": "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet",
            "FRANCECONNECT_CLIENT_ID": "portail-fc",
            "FRANCECONNECT_SERVER_URL": "https://auth.franceconnect.gouv.fr/api/v2",
            "FRANCECONNECT_ENCRYPTION_KEY_FILE": str(key),
        },
        tmp_path,
    )
    apps = json.loads(result.stdout)
    assert apps["pro_sante_connect"][0]["client_id"] == "portail-psc"
    assert apps["pro_sante_connect"][0]["secret"] == "s3cret"
    assert apps["franceconnect"][0]["settings"] == {"server_url": "https://auth.franceconnect.gouv.fr/api/v2"}


def test_it_refuses_to_start_franceconnect_without_its_encryption_key(tmp_path):
    result = _run(
        {"FRANCECONNECT_CLIENT_ID": "portail-fc", "FRANCECONNECT_SERVER_URL": "https://fc.exemple.fr"}, tmp_path
    )
    assert result.returncode != 0
    assert "FRANCECONNECT_ENCRYPTION_KEY manquante" in result.stderr


@pytest.mark.parametrize(
    ("server_url", "discovery"),
    [
        (
            "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet",
            "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration",
        ),
        (
            "https://psc.exemple.fr/realm/.well-known/wallet-openid-configuration",
            "https://psc.exemple.fr/realm/.well-known/wallet-openid-configuration",
        ),
    ],
)
@pytest.mark.django_db
def test_it_finds_the_pro_sante_connect_discovery_document_under_its_own_name(rf, settings, server_url, discovery):
    from allauth.socialaccount.adapter import get_adapter

    settings.SOCIALACCOUNT_PROVIDERS = {
        "pro_sante_connect": {"APPS": [{"client_id": "c", "secret": "s", "settings": {"server_url": server_url}}]},
        "franceconnect": {"APPS": []},
    }
    provider = get_adapter().get_provider(rf.get("/"), "pro_sante_connect")
    assert provider.discovery_url == discovery


@pytest.mark.django_db
def test_it_offers_a_configured_provider_on_the_login_page(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "pro_sante_connect": {
            "APPS": [
                {"client_id": "portail-psc", "secret": "s3cret", "settings": {"server_url": "https://psc.exemple.fr"}}
            ]
        },
        "franceconnect": {"APPS": []},
    }
    page = client.get("/accounts/login/").content.decode()
    assert "Pro Santé Connect" in page
    assert "/accounts/psc/login/" in page
    assert "FranceConnect" not in page
