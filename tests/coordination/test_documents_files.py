"""Document files: checked by content, size-limited, private, hashed, served through the gate."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from coordination.models import AuditEvent, Level
from documents import services as document_services
from documents.audit_types import DocumentAudit
from documents.models import Document, DocumentStatus, DocumentType
from tests.conftest import login
from tests.coordination.documents_helpers import PDF_BYTES, fake_pdf, grant_documents, make_document, pdf_file, png_file

pytestmark = pytest.mark.usefixtures("documents_media", "documents_on_commit")


def _upload(client, person, upload, **extra):
    return client.post(
        f"/coordination/personnes/{person.pk}/documents/",
        {"doc_type": DocumentType.REPORT, "title": "Compte rendu de consultation", "file": upload, **extra},
    )


def test_it_refuses_a_fake_pdf_with_a_french_message_naming_the_field(db, person, referent):
    response = _upload(login(referent), person, fake_pdf())
    assert response.status_code == 400
    page = response.content.decode()
    assert "Fichier" in page and "Type de fichier refusé" in page
    assert not Document.objects.exists()


def test_it_refuses_a_fake_pdf_in_the_service_too(db, person, referent):
    with pytest.raises(ValidationError) as error:
        make_document(referent, person, upload=fake_pdf())
    assert "file" in error.value.message_dict
    assert not Document.objects.exists()


def test_it_refuses_a_file_over_the_size_limit(db, person, referent, settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("gros.pdf", PDF_BYTES + b" " * (1024 * 1024) + b"%%EOF\n", content_type="application/pdf")
    response = _upload(login(referent), person, big)
    assert response.status_code == 400
    assert "Fichier trop volumineux" in response.content.decode()
    assert not Document.objects.exists()


def test_it_keeps_the_hash_and_stores_outside_any_public_url(db, person, referent, documents_media):
    response = _upload(login(referent), person, pdf_file())
    assert response.status_code == 302
    document = Document.objects.get()
    assert document.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert document.status == DocumentStatus.DRAFT
    assert (documents_media / document.file.name).read_bytes() == PDF_BYTES
    assert "compte" not in document.file.name  # a random name, not the uploaded one
    # No URL serves the storage: the file's would-be URL leads nowhere, even signed in.
    assert login(referent).get(document.file.url).status_code == 404
    assert login(referent).get(f"/media/{document.file.name}").status_code == 404
    assert AuditEvent.objects.filter(event_type=DocumentAudit.DOCUMENT_ADDED, person=person).exists()


def test_it_serves_a_pdf_as_a_download_only_through_the_gate(db, person, referent, nurse, stranger, other_pro):
    document = make_document(referent, person, validate=True)
    url = f"/coordination/documents/{document.pk}/telecharger/"
    response = login(nurse).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert login(stranger).get(url).status_code == 404
    assert login(other_pro).get(url).status_code == 404
    assert login(stranger).get(f"/coordination/documents/{document.pk}/").status_code == 404


def test_it_shows_an_image_inline(db, person, referent):
    document = make_document(referent, person, upload=png_file(), doc_type=DocumentType.ADMINISTRATIVE)
    response = login(referent).get(f"/coordination/documents/{document.pk}/telecharger/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")


def test_a_carer_without_the_right_sees_nothing(db, person, referent, carer):
    document = make_document(referent, person, validate=True)
    client = login(carer)
    assert client.get(f"/coordination/documents/{document.pk}/telecharger/").status_code == 403
    assert client.get(reverse("portal_space_open", args=[person.pk, "documents"]), follow=True).status_code == 403


def test_a_carer_with_read_sees_validated_documents_only(db, person, person_user, referent, carer):
    grant_documents(person, carer, Level.READ, person_user)
    validated = make_document(referent, person, validate=True, title="Compte rendu validé")
    draft = make_document(referent, person, title="Brouillon en cours")
    client = login(carer)
    page = client.get(reverse("portal_space_open", args=[person.pk, "documents"]), follow=True).content.decode()
    assert "Compte rendu validé" in page and "Brouillon en cours" not in page
    assert client.get(f"/coordination/documents/{validated.pk}/telecharger/").status_code == 200
    assert client.get(f"/coordination/documents/{draft.pk}/telecharger/").status_code == 404
    # The professional pages are not for carers.
    assert client.get(f"/coordination/personnes/{person.pk}/documents/").status_code == 404


def test_it_never_modifies_a_validated_document_a_new_version_replaces_it(db, person, referent):
    first = make_document(referent, person, validate=True, title="Contrat", doc_type=DocumentType.STAY_CONTRACT)
    client = login(referent)
    response = client.post(
        f"/coordination/documents/{first.pk}/nouvelle-version/",
        {"file": pdf_file("v2.pdf", PDF_BYTES.replace(b"1.4", b"1.5")), "title": "Contrat v2", "validate": "on"},
    )
    assert response.status_code == 302
    second = Document.objects.get(replaces=first)
    first.refresh_from_db()
    assert second.version == 2 and second.status == DocumentStatus.VALIDATED
    assert first.status == DocumentStatus.VALIDATED and first.superseded_at is not None
    assert first.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    # The old version stays readable, and says a newer one exists.
    page = client.get(f"/coordination/documents/{first.pk}/").content.decode()
    assert "version 2" in page
    assert client.get(f"/coordination/documents/{first.pk}/telecharger/").status_code == 200
    # Only the current version is listed by default; the history on demand.
    listing = client.get(f"/coordination/personnes/{person.pk}/documents/").content.decode()
    assert "Contrat v2" in listing and f"/coordination/documents/{first.pk}/" not in listing
    history = client.get(f"/coordination/personnes/{person.pk}/documents/?history=on").content.decode()
    assert f"/coordination/documents/{first.pk}/" in history
    with pytest.raises(ValidationError):
        document_services.document_validate(actor=referent, document=first)


def test_it_creates_a_generated_document_from_bytes(db, person, referent):
    document = document_services.document_create(
        actor=referent,
        person=person,
        doc_type=DocumentType.CARE_PLAN,
        title="Projet personnalisé 2026",
        content=PDF_BYTES,
        filename="ppa.pdf",
        source="generated",
        validate=True,
    )
    assert document.source == "generated" and document.status == DocumentStatus.VALIDATED
    assert document.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()


def test_a_nurse_with_read_only_cannot_upload(db, person, nurse):
    response = _upload(login(nurse), person, pdf_file())
    assert response.status_code == 403
    assert not Document.objects.exists()
