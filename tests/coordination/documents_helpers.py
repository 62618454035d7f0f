"""Files and fixtures for the documents tests."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from coordination import matrix, services
from coordination.models import CircleMember
from documents import services as document_services
from documents.models import DocumentType
from tests.uploads_corpus import CLEAN_PDF

PDF_BYTES = CLEAN_PDF


def pdf_file(name: str = "compte-rendu.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png_file(name: str = "scan.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (10, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def fake_pdf(name: str = "faux.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"MZ\x90\x00 this is an executable, not a PDF" * 10, content_type="application/pdf")


def grant_documents(person, user, level: int, actor) -> None:
    """The person (or representative) sets `user`'s level on documents."""
    member = CircleMember.objects.get(person=person, user=user, ended_at__isnull=True)
    levels = matrix.levels_of(person, user.pk)
    levels["documents"] = level
    services.grants_set(actor=actor, member=member, levels=levels)


def make_document(actor, person, *, doc_type=DocumentType.REPORT, validate=False, title="Compte rendu", upload=None):
    return document_services.document_create(
        actor=actor, person=person, doc_type=doc_type, title=title, upload=upload or pdf_file(), validate=validate
    )
