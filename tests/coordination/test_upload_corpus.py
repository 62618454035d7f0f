"""Hostile files, sent the way a user or a client would: through the upload pages and the
API of documents, the user portal's deposit and the liaison notebook. Each is refused with
a French message on the file field, and nothing is stored (no row, no file on disk)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from documents import pdf_safety, uploads
from documents.models import Document, DocumentType
from liaison.models import Attachment, Transmission
from tests.conftest import login
from tests.coordination.documents_helpers import make_document
from tests.uploads_corpus import CLEAN_PDF, hostile_files, object_stream_pdf, upload, xref_stream_bomb

pytestmark = pytest.mark.usefixtures("documents_media", "documents_on_commit")

HOSTILE = hostile_files()
# Words of the refusal messages (uploads.py): which one depends on the file.
REFUSALS = ("contenu actif", "endommagé", "page web", "Type de fichier refusé", "Image trop grande")


def _stored_files(documents_media) -> list:
    return [path for path in documents_media.rglob("*") if path.is_file()] if documents_media.exists() else []


def _assert_nothing_stored(documents_media) -> None:
    assert not Document.objects.exists()
    assert not Transmission.objects.exists() and not Attachment.objects.exists()
    assert _stored_files(documents_media) == []


def _refusal(message: str) -> bool:
    return any(word in message for word in REFUSALS)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_the_documents_page_refuses_it_on_the_file_field(kind, person, referent, documents_media):
    name, data = HOSTILE[kind]
    response = login(referent).post(
        f"/coordination/personnes/{person.pk}/documents/",
        {"doc_type": DocumentType.REPORT, "title": "Compte rendu", "file": upload(name, data)},
    )
    assert response.status_code == 400
    page = response.content.decode()
    # The message is tied to the file input (its error list), not only shown at the top.
    errors = page.split('id="id_file_errors"', 1)[1][:600]
    assert _refusal(errors), errors
    _assert_nothing_stored(documents_media)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_the_documents_api_refuses_it_on_the_file_field(kind, person, referent, documents_media):
    name, data = HOSTILE[kind]
    response = login(referent).post(
        f"/api/coordination/persons/{person.pk}/documents/",
        {"doc_type": DocumentType.REPORT, "title": "Compte rendu", "file": upload(name, data)},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["file"] and _refusal(response.json()["file"][0])
    _assert_nothing_stored(documents_media)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_the_user_portal_deposit_refuses_it(kind, person, person_user, documents_media):
    name, data = HOSTILE[kind]
    response = login(person_user).post(
        reverse("portal_documents"),
        {"doc_type": DocumentType.CERTIFICATE, "title": "Attestation", "file": upload(name, data)},
    )
    assert response.status_code in (200, 400)
    errors = response.content.decode().split('id="id_file_errors"', 1)[1][:600]
    assert _refusal(errors), errors
    _assert_nothing_stored(documents_media)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_the_liaison_notebook_refuses_it_as_an_attachment(kind, person, nurse, documents_media):
    name, data = HOSTILE[kind]
    response = login(nurse).post(
        reverse("liaison:notebook", args=[person.pk]),
        {
            "category": "autre",
            "kind": "general",
            "text": "Voir la pièce jointe.",
            "scope": "shared",
            "files": [upload(name, data)],
        },
    )
    assert response.status_code == 400
    errors = response.content.decode().split('id="id_files_errors"', 1)[1][:600]
    assert _refusal(errors), errors
    _assert_nothing_stored(documents_media)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_the_liaison_api_refuses_it_on_the_files_field(kind, person, nurse, documents_media):
    name, data = HOSTILE[kind]
    response = login(nurse).post(
        reverse("liaison_api:notebook", args=[person.pk]),
        {"category": "autre", "text": "Voir la pièce jointe.", "files": [upload(name, data)]},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["files"] and _refusal(response.json()["files"][0])
    _assert_nothing_stored(documents_media)


def test_a_new_version_page_refuses_a_hostile_file_and_keeps_the_validated_one(person, referent, documents_media):
    document = make_document(referent, person, validate=True)
    stored = _stored_files(documents_media)
    name, data = HOSTILE["object-stream-javascript"]
    response = login(referent).post(
        reverse("documents:new_version", args=[document.pk]), {"title": "v2", "file": upload(name, data)}
    )
    assert response.status_code == 400 and "contenu actif" in response.content.decode()
    assert list(Document.objects.all()) == [document]
    assert _stored_files(documents_media) == stored


def test_ordinary_pdfs_and_the_portals_own_pdfs_are_accepted(person, referent, documents_media):
    # A page to open at, a link the reader clicks: what real files have.
    client = login(referent)
    response = client.post(
        f"/api/coordination/persons/{person.pk}/documents/",
        {"doc_type": DocumentType.REPORT, "title": "Compte rendu", "file": upload("cr.pdf", CLEAN_PDF)},
    )
    assert response.status_code == 201, response.content
    # The portal's own writer, with text that looks like names and markup.
    from common.pdf import PdfDocument

    generated = PdfDocument("Projet /JavaScript <script>alert(1)</script> javascript:alert(1)")
    generated.paragraph("Souhaits : <html> /Launch /OpenAction /EmbeddedFile (app.alert)")
    generated.table(["/JS", "<iframe>"], [["/AA <body>", "javascript:alert(1)"]])
    checked = uploads.check_upload(upload("ppa.pdf", generated.render()))
    assert checked.content_type == "application/pdf"


def test_an_object_stream_that_inflates_past_the_limit_is_refused(monkeypatch):
    harmless = object_stream_pdf(padding=2 * 1024 * 1024)
    assert uploads.check_upload(upload("ok.pdf", harmless)).content_type == "application/pdf"
    monkeypatch.setattr(pdf_safety, "MAX_OBJECT_STREAM_BYTES", 1024 * 1024)
    with pytest.raises(ValidationError, match="endommagé"):
        uploads.check_upload(upload("bombe.pdf", harmless))


def test_a_pdf_that_makes_qpdf_inflate_hundreds_of_megabytes_is_refused(monkeypatch):
    # 200 KB that qpdf inflates to 200 MB and more when opening: refused, in a child.
    with pytest.raises(ValidationError, match="endommagé"):
        uploads.check_upload(upload("bombe.pdf", xref_stream_bomb(50_000_000)))


def test_the_check_runs_in_a_child_whose_memory_is_capped(monkeypatch):
    def greedy(raw):
        bytearray(256 * 1024 * 1024)  # what a hostile file can make qpdf allocate
        return None

    monkeypatch.setattr(pdf_safety, "check", greedy)
    assert pdf_safety.check_isolated(CLEAN_PDF) is None  # under the default cap
    monkeypatch.setattr(pdf_safety, "CHILD_MEMORY_BYTES", 64 * 1024 * 1024)
    assert pdf_safety.check_isolated(CLEAN_PDF) == pdf_safety.UNREADABLE_PDF  # the child died, we did not


def test_the_image_pixel_limit_is_a_setting(settings):
    from tests.uploads_corpus import png_bomb

    small = png_bomb(width=2000, height=1000)
    assert uploads.check_upload(upload("a.png", small, "image/png")).content_type == "image/png"
    settings.UPLOAD_IMAGE_MAX_PIXELS = 1_500_000
    with pytest.raises(ValidationError, match="1,5 million de pixels au maximum"):
        uploads.check_upload(upload("a.png", small, "image/png"))


def test_a_pdf_is_always_downloaded_under_a_pdf_name(person, nurse):
    # Sent as "page.html": the content is a clean PDF, so it is accepted, but saved under
    # its sent name it would open in a browser as a page.
    client = login(nurse)
    response = client.post(
        reverse("liaison:notebook", args=[person.pk]),
        {
            "category": "autre",
            "kind": "general",
            "text": "CR.",
            "scope": "shared",
            "files": [upload("page.html", CLEAN_PDF)],
        },
    )
    assert response.status_code in (200, 302)
    attachment = Attachment.objects.get()
    response = client.get(reverse("liaison:attachment", args=[attachment.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="page.html.pdf"'
