from __future__ import annotations

import hashlib
import io
import json
import zipfile

from django.urls import reverse

from records.models import RecordExport
from tests.conftest import login


def ask_export(user, person):
    """Ask through the page (the job runs at once: Celery eager, on_commit now)."""
    client = login(user)
    response = client.post(reverse("records:exports", args=[person.pk]))
    assert response.status_code == 302, response.content
    export = RecordExport.objects.filter(requested_by=user, person=person).latest("pk")
    return client, export


def download(client, export) -> zipfile.ZipFile:
    response = client.get(reverse("records:export_download", args=[export.person_id, export.pk]))
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def bundle_of(archive: zipfile.ZipFile) -> dict:
    return json.loads(archive.read("dossier.fhir.json"))


def by_type(bundle: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in bundle.get("entry", []):
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


def manifest(archive: zipfile.ZipFile) -> dict[str, str]:
    lines = archive.read("manifeste-sha256.txt").decode().splitlines()
    return {path: digest for digest, path in (line.split("  ", 1) for line in lines)}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def note_texts(bundle: dict) -> str:
    """The text of every notebook note of the Bundle (their content is base64, as the CI-SIS says)."""
    import base64

    texts = []
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        if resource["resourceType"] == "DocumentReference" and resource["id"].startswith("cdl-"):
            data = resource["content"][0]["attachment"]["data"]
            texts.append(base64.b64decode(data).decode())
    return "\n".join(texts)
