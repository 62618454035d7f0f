from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_it_sends_a_csp_without_inline_scripts_and_denies_framing(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_never_serves_uploaded_files_from_a_public_url(client, settings):
    private = settings.PRIVATE_MEDIA_ROOT
    private.mkdir(parents=True, exist_ok=True)
    (private / "secret.txt").write_text("données de santé")
    for url in ("/media/secret.txt", "/private/secret.txt", "/static/secret.txt", "/var/private/secret.txt"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"donn" not in response.content


def test_it_answers_404_in_french_without_leaking_details(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    body = response.content.decode()
    assert 'lang="fr"' in body
    assert "Traceback" not in body and "urlpatterns" not in body
