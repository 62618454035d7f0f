"""A file stored by a change whose transaction does not commit is deleted (issue #25):
the commit itself fails, or an outer transaction fails after a nested service stored
its file (common.transactional_files). A committed file is kept.

These tests commit for real (transaction=True): the on-commit hooks run as in production."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.signals import request_finished
from django.db import OperationalError, connections, transaction
from django.urls import reverse

from documents import services as documents
from documents.models import Document
from liaison import services as liaison
from liaison.models import Attachment, Transmission
from tests.conftest import login
from tests.liaison.conftest import pdf_file

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("documents_media")]


def _files(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _commit_fails_once():
    """The next commit of the default connection fails (the database went away at COMMIT)."""
    connection = connections["default"]
    real = connection.commit
    calls = []

    def commit():
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real()

    return mock.patch.object(connection, "commit", side_effect=commit)


def _transmission(actor, person, **extra):
    return liaison.transmission_create(
        actor=actor, person=person, category="observations", text="Voir le compte rendu.", **extra
    )


def test_it_deletes_the_attachment_of_a_transmission_whose_commit_failed(person, nurse, documents_media):
    client = login(nurse)
    client.raise_request_exception = False
    with _commit_fails_once():
        response = client.post(
            reverse("liaison:notebook", args=[person.pk]),
            {
                "category": "observations",
                "kind": "general",
                "scope": "shared",
                "text": "Voir le compte rendu.",
                "files": [pdf_file()],
            },
        )
    assert response.status_code == 503 and "momentanément indisponible" in response.content.decode()
    assert not Transmission.objects.exists() and not Attachment.objects.exists()
    assert _files(documents_media) == []


def test_it_deletes_a_nested_attachment_when_the_outer_transaction_does_not_commit(person, nurse, documents_media):
    with pytest.raises(OperationalError), _commit_fails_once(), transaction.atomic():
        _transmission(nurse, person, files=[pdf_file()])  # its own block is nested: it returns
    assert _files(documents_media) != []  # the outcome was not known to the nested call…
    request_finished.send(sender=None)  # …the request ends: the file is deleted
    assert not Attachment.objects.exists() and _files(documents_media) == []


def test_it_deletes_a_document_upload_whose_commit_failed(person, referent, documents_media):
    client = login(referent)
    client.raise_request_exception = False
    with _commit_fails_once():
        response = client.post(
            reverse("documents:list", args=[person.pk]),
            {"doc_type": "compte_rendu", "title": "Compte rendu", "file": pdf_file()},
        )
    assert response.status_code == 503
    assert not Document.objects.exists() and _files(documents_media) == []


def test_it_deletes_a_nested_document_when_the_outer_change_fails_after_it(person, referent, documents_media):
    with pytest.raises(OperationalError), transaction.atomic():
        documents.document_create(
            actor=referent, person=person, doc_type="compte_rendu", title="Compte rendu", upload=pdf_file()
        )
        raise OperationalError("the next write of the outer change failed")
    request_finished.send(sender=None)
    assert not Document.objects.exists() and _files(documents_media) == []


def test_it_keeps_the_files_of_what_committed_and_only_those(person, nurse, referent, documents_media):
    with transaction.atomic():
        kept = _transmission(nurse, person, files=[pdf_file("garde.pdf")])
        with pytest.raises(OperationalError), transaction.atomic():  # a savepoint, rolled back
            documents.document_create(
                actor=referent, person=person, doc_type="compte_rendu", title="Annulé", upload=pdf_file()
            )
            raise OperationalError("this part failed")
    request_finished.send(sender=None)
    attachment = Attachment.objects.get(transmission=kept)
    assert not Document.objects.exists()
    assert [p.name for p in _files(documents_media)] == [attachment.file.name.rsplit("/", 1)[-1]]

    # Through the page, committed: the upload stays once the request has ended.
    response = login(referent).post(
        reverse("documents:list", args=[person.pk]),
        {"doc_type": "compte_rendu", "title": "Compte rendu", "file": pdf_file()},
    )
    assert response.status_code == 302
    document = Document.objects.get()
    assert document.file.storage.exists(document.file.name) and len(_files(documents_media)) == 2
