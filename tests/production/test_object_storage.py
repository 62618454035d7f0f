"""Private files in an S3-compatible bucket (a real moto server over HTTP): uploads land in
the bucket with a private ACL, downloads stream through the gate, MSSanté reads from the
bucket, nothing hands a browser a URL to the bucket; `storage_migrate` copies and verifies;
the orphan-file sweeper lists and deletes in the bucket."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from documents import orphans
from documents.models import Document, DocumentType, MssanteSending, MssanteStatus
from liaison import services as liaison_services
from liaison.models import Attachment
from portal.env import email_config
from tests.conftest import login
from tests.coordination.documents_helpers import PDF_BYTES, make_document, pdf_file, png_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_commit_now")]


def _object(bucket, name: str) -> bytes:
    return bucket.client().get_object(Bucket=bucket.bucket, Key=name)["Body"].read()


def _local_files(settings) -> list:
    root = settings.PRIVATE_MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_it_stores_an_uploaded_document_in_the_bucket_privately(person, referent, bucket, settings):
    response = login(referent).post(
        f"/coordination/personnes/{person.pk}/documents/",
        {"doc_type": DocumentType.REPORT, "title": "Compte rendu", "file": pdf_file()},
    )
    assert response.status_code == 302
    document = Document.objects.get()
    assert _object(bucket, document.file.name) == PDF_BYTES
    assert _local_files(settings) == []
    grants = bucket.client().get_object_acl(Bucket=bucket.bucket, Key=document.file.name)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)  # no AllUsers, no AuthenticatedUsers


def test_it_streams_a_download_from_the_bucket_through_the_gate(person, referent, nurse, stranger, other_pro, bucket):
    document = make_document(referent, person, validate=True)
    url = f"/coordination/documents/{document.pk}/telecharger/"
    response = login(nurse).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert login(stranger).get(url).status_code == 404
    assert login(other_pro).get(url).status_code == 404


def test_it_never_hands_a_browser_a_url_to_the_bucket(person, referent, nurse, bucket):
    document = make_document(referent, person, validate=True, upload=png_file())
    assert "://" not in document.file.url and "X-Amz" not in document.file.url
    pages = [
        login(nurse).get(f"/coordination/documents/{document.pk}/"),
        login(nurse).get(f"/coordination/personnes/{person.pk}/documents/"),
        login(nurse).get(f"/coordination/documents/{document.pk}/telecharger/"),
        login(nurse).get(f"/api/coordination/documents/{document.pk}/"),
        login(nurse).get(f"/api/coordination/persons/{person.pk}/documents/"),
    ]
    for response in pages:
        assert response.status_code == 200
        body = b"".join(response.streaming_content) if response.streaming else response.content
        headers = str(response.headers)
        for leak in (bucket.endpoint.encode(), bucket.bucket.encode(), b"X-Amz-", b"Signature="):
            assert leak not in body and leak.decode() not in headers
    # The name the storage gives as "url" leads nowhere on the portal.
    assert login(referent).get(f"/{document.file.url}").status_code == 404


def test_it_serves_a_transmission_photo_and_its_thumbnail_from_the_bucket(person, nurse, stranger, bucket, settings):
    transmission = liaison_services.transmission_create(
        actor=nurse, person=person, category="observations", text="Rougeur au talon.", files=[png_file()]
    )
    item = Attachment.objects.get(transmission=transmission)
    assert _object(bucket, item.file.name)[:8] == b"\x89PNG\r\n\x1a\n"
    assert _object(bucket, item.thumbnail.name)[:2] == b"\xff\xd8"
    assert _local_files(settings) == []
    for url in (f"/liaison/pieces-jointes/{item.pk}/", f"/liaison/pieces-jointes/{item.pk}/vignette/"):
        response = login(nurse).get(url)
        assert response.status_code == 200 and b"".join(response.streaming_content)
        assert login(stranger).get(url).status_code == 404


def test_it_sends_by_mssante_the_file_read_from_the_bucket(person, referent, bucket, smtp_server, settings, tmp_path):
    settings.MSSANTE_EMAIL = email_config(smtp_server.url, tmp_path / "mssante")
    document = make_document(referent, person, validate=True, doc_type=DocumentType.LIAISON_LETTER)
    assert _local_files(settings) == []  # only the bucket holds it: the worker must read it there
    response = login(referent).post(
        f"/coordination/documents/{document.pk}/mssante/",
        {"recipient_address": "dr.durand@medecin.mssante.fr", "recipient_label": "Dr Durand"},
    )
    assert response.status_code == 302
    assert MssanteSending.objects.get().status == MssanteStatus.SENT
    [received] = smtp_server.messages
    [part] = [p for p in received["message"].walk() if p.get_filename()]
    assert part.get_payload(decode=True) == PDF_BYTES


# --- storage_migrate -----------------------------------------------------------------------------


def _migrate(settings, source) -> str:
    out = StringIO()
    call_command("storage_migrate", source=str(source), stdout=out, stderr=out)
    return out.getvalue()


def test_it_migrates_local_files_into_the_bucket_verified_and_safe_twice(
    person, referent, nurse, local_media, moto_s3, settings
):
    import uuid

    from portal.env import storage_config

    first = make_document(referent, person, validate=True)
    second = make_document(referent, person, validate=True, upload=png_file())
    photo = liaison_services.transmission_create(
        actor=nurse, person=person, category="observations", text="Escarre.", files=[png_file()]
    ).attachments.get()
    source = local_media
    (source / "orphelin.txt").write_bytes(b"no row refers to me")
    name = f"portal-{uuid.uuid4().hex[:12]}"
    moto_s3.create_bucket(name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "common.storage.PrivateS3Storage", "OPTIONS": storage_config(moto_s3.storage_url(name))},
    }
    client = moto_s3.client()
    # An interrupted earlier run left a partial copy of the first document.
    client.put_object(Bucket=name, Key=first.file.name, Body=PDF_BYTES[:100])

    output = _migrate(settings, source)
    assert "4 fichier(s) référencé(s)" in output
    assert "4 copié(s) et vérifié(s), 0 déjà présent(s)" in output
    assert "1 copie(s) différente(s) remplacée(s)" in output
    assert "1 fichier(s) du dossier source sans référence" in output
    for stored in (first.file.name, second.file.name, photo.file.name, photo.thumbnail.name):
        body = client.get_object(Bucket=name, Key=stored)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256((source / stored).read_bytes()).hexdigest()
    assert client.get_object(Bucket=name, Key=first.file.name)["Body"].read() == PDF_BYTES

    again = _migrate(settings, source)
    assert "0 copié(s) et vérifié(s), 4 déjà présent(s) et identique(s), 0 copie(s) différente(s)" in again
    assert len(client.list_objects_v2(Bucket=name)["Contents"]) == 4  # nothing duplicated, no orphan copied
    assert all((source / stored).exists() for stored in (first.file.name, second.file.name))  # source untouched
    # Served from the bucket through the gate after the switch.
    response = login(nurse).get(f"/coordination/documents/{first.pk}/telecharger/")
    assert b"".join(response.streaming_content) == PDF_BYTES


def test_it_reports_a_missing_file_and_refuses_to_migrate_onto_itself(person, referent, local_media, settings):
    document = make_document(referent, person, validate=True)
    with pytest.raises(CommandError, match="STORAGE_URL"):
        _migrate(settings, local_media)
    (local_media / document.file.name).unlink()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(local_media.parent / "elsewhere")},
        },
    }
    output = _migrate(settings, local_media)
    assert "1 manquant(s)" in output and f"MANQUANT {document.file.name}" in output


def test_it_reads_the_storage_url():
    from portal.env import storage_config

    assert storage_config("s3+http://key:se%2Fcret@127.0.0.1:9000/portail/fichiers?region=eu-west-3") == {
        "bucket_name": "portail",
        "location": "fichiers",
        "endpoint_url": "http://127.0.0.1:9000",
        "addressing_style": "path",
        "access_key": "key",
        "secret_key": "se/cret",
        "region_name": "eu-west-3",
    }
    assert storage_config("s3:///portail") == {"bucket_name": "portail", "location": ""}
    with pytest.raises(ValueError, match="bucket"):
        storage_config("s3://host/")
    with pytest.raises(ValueError, match="scheme"):
        storage_config("ftp://host/bucket")


def test_the_orphan_file_sweeper_works_in_the_bucket(person, nurse, bucket):
    transmission = liaison_services.transmission_create(
        actor=nurse, person=person, category="observations", text="Rougeur au talon.", files=[png_file()]
    )
    item = Attachment.objects.get(transmission=transmission)
    orphan = default_storage.save("liaison/thumbnails/2026/01/orphelin.jpg", ContentFile(b"\xff\xd8 vignette"))

    assert orphans.remove_orphan_files() == []  # young: kept
    assert orphans.remove_orphan_files(now=timezone.now() + timedelta(hours=25)) == [orphan]
    listed = bucket.client().list_objects_v2(Bucket=bucket.bucket).get("Contents", [])
    assert sorted(o["Key"] for o in listed) == sorted([item.file.name, item.thumbnail.name])
