"""A storage write error on upload: a clear error naming the field, nothing saved half,
no orphan file (issue #25)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse

from documents.models import Document
from liaison.models import Transmission
from tests.conftest import login
from tests.liaison.conftest import pdf_file

pytestmark = pytest.mark.usefixtures("documents_media", "documents_on_commit")


def _files(root):
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_an_upload_the_storage_cannot_write_answers_a_clear_error_and_saves_nothing(
    db, person, referent, documents_media
):
    with mock.patch("django.core.files.storage.FileSystemStorage._save", side_effect=OSError(28, "No space left")):
        response = login(referent).post(
            reverse("documents:list", args=[person.pk]),
            {"doc_type": "compte_rendu", "title": "Compte rendu", "file": pdf_file()},
        )
    assert response.status_code == 400
    assert "Le fichier n&#x27;a pas pu être enregistré" in response.content.decode()
    assert not Document.objects.exists() and _files(documents_media) == []


def test_a_change_that_fails_after_its_file_was_stored_leaves_no_orphan_file(db, person, referent, documents_media):
    from documents import services

    with (
        mock.patch("documents.services.audit", side_effect=OperationalError("server closed the connection")),
        pytest.raises(OperationalError),
    ):
        services.document_create(
            actor=referent, person=person, doc_type="compte_rendu", title="Compte rendu", upload=pdf_file()
        )
    assert not Document.objects.exists() and _files(documents_media) == []


def test_a_transmission_whose_attachment_cannot_be_stored_is_not_saved_half(db, person, nurse, documents_media):
    with mock.patch("django.core.files.storage.FileSystemStorage._save", side_effect=OSError(13, "Permission denied")):
        response = login(nurse).post(
            reverse("liaison:notebook", args=[person.pk]),
            {
                "category": "observations",
                "kind": "general",
                "scope": "shared",
                "text": "Voir le compte rendu.",
                "files": [pdf_file()],
            },
        )
    body = response.content.decode()
    assert response.status_code == 400 and "pas pu être enregistré" in body
    assert not Transmission.objects.exists() and _files(documents_media) == []
