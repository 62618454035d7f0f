"""The documents API: same gate, visibility and services as the pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from documents.models import DmpShare, DmpShareStatus, Document, DocumentStatus, DocumentType
from tests.conftest import login
from tests.coordination.documents_helpers import fake_pdf, make_document, pdf_file

pytestmark = pytest.mark.usefixtures("documents_media", "documents_on_commit")


def _url(person) -> str:
    return f"/api/coordination/persons/{person.pk}/documents/"


def test_it_uploads_validates_and_cancels_the_dmp_sending(db, person, referent, dmp):
    client = login(referent)
    response = client.post(_url(person), {"doc_type": DocumentType.REPORT, "title": "Compte rendu", "file": pdf_file()})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == DocumentStatus.DRAFT and len(body["sha256"]) == 64
    response = client.post(f"/api/coordination/documents/{body['id']}/validate/")
    assert response.status_code == 200
    [share] = response.json()["dmp_shares"]
    assert share["status"] == DmpShareStatus.SCHEDULED and share["is_cancellable"]
    response = client.post(f"/api/coordination/dmp-shares/{share['id']}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == DmpShareStatus.CANCELLED
    again = client.post(f"/api/coordination/dmp-shares/{share['id']}/cancel/")
    assert again.status_code == 400
    detail = client.get(f"/api/coordination/documents/{body['id']}/").json()
    assert detail["dmp_shares"][0]["status"] == DmpShareStatus.CANCELLED


def test_it_refuses_a_fake_pdf_naming_the_field(db, person, referent):
    response = login(referent).post(_url(person), {"doc_type": DocumentType.REPORT, "title": "CR", "file": fake_pdf()})
    assert response.status_code == 400
    assert "Type de fichier refusé" in response.json()["file"][0]
    assert not Document.objects.exists()


def test_it_lists_with_filters_in_bounded_queries(db, person, referent):
    client = login(referent)
    make_document(referent, person, validate=True)
    client.get(_url(person))
    with CaptureQueriesContext(connection) as small:
        client.get(_url(person))
    for n in range(8):
        make_document(referent, person, validate=True, title=f"CR {n}")
    make_document(referent, person, doc_type=DocumentType.STAY_CONTRACT, title="Contrat")
    with CaptureQueriesContext(connection) as large:
        response = client.get(_url(person))
    assert len(small) == len(large)
    assert response.json()["count"] == 10
    contracts = client.get(_url(person), {"doc_type": DocumentType.STAY_CONTRACT}).json()
    assert [d["title"] for d in contracts["results"]] == ["Contrat"]
    assert client.get(_url(person), {"status": "nope"}).status_code == 400


def test_personas(db, person, referent, nurse, external_pro, stranger, carer):
    document = make_document(referent, person, validate=True)
    assert login(nurse).get(_url(person)).status_code == 200
    assert (
        login(nurse)
        .post(f"/api/coordination/documents/{document.pk}/mssante/", {"recipient_address": "x@y.mssante.fr"})
        .status_code
        == 403
    )
    assert login(external_pro).get(_url(person)).status_code == 403
    assert login(carer).get(_url(person)).status_code == 403
    assert login(stranger).get(_url(person)).status_code == 404
    assert login(stranger).get(f"/api/coordination/documents/{document.pk}/").status_code == 404
    share = DmpShare.objects.get(document=document)
    assert login(stranger).post(f"/api/coordination/dmp-shares/{share.pk}/cancel/").status_code == 404


def test_a_deposit_by_the_person_waits_for_review(db, person, person_user):
    response = login(person_user).post(
        _url(person),
        {"doc_type": DocumentType.CERTIFICATE, "title": "Attestation", "file": pdf_file(), "validate": "true"},
    )
    assert response.status_code == 201
    assert response.json()["status"] == DocumentStatus.TO_REVIEW
