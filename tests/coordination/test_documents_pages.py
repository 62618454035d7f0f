"""Documents pages: bounded queries, "new since my last visit", personas."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from documents import services as document_services
from documents.models import Document, DocumentSource, DocumentStatus, DocumentType
from liaison import services as liaison_services
from tests.conftest import login
from tests.coordination.documents_helpers import PDF_BYTES, make_document

pytestmark = pytest.mark.usefixtures("documents_media", "documents_on_commit")


def _bulk_documents(person, author, count: int) -> None:
    Document.objects.bulk_create(
        [
            Document(
                person=person,
                doc_type=DocumentType.REPORT,
                title=f"Compte rendu {n}",
                author=author,
                source=DocumentSource.PROFESSIONAL,
                file="documents/x.pdf",
                original_name="x.pdf",
                content_type="application/pdf",
                size=len(PDF_BYTES),
                sha256="0" * 64,
                status=DocumentStatus.VALIDATED,
            )
            for n in range(count)
        ]
    )


def _queries(client, url) -> int:
    client.get(url)  # warm the session and caches: measure a steady page
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_list_runs_the_same_queries_for_5_and_500_documents(db, person, referent):
    client = login(referent)
    url = f"/coordination/personnes/{person.pk}/documents/"
    make_document(referent, person, validate=True)  # one with a DMP outbox item
    _bulk_documents(person, referent, 4)
    small = _queries(client, url)
    _bulk_documents(person, referent, 495)
    large = _queries(client, url)
    assert small == large
    assert "500 documents" in client.get(url).content.decode()


def test_the_list_filters_by_type_status_and_period(db, person, referent):
    make_document(referent, person, validate=True, title="Compte rendu de janvier")
    make_document(referent, person, doc_type=DocumentType.STAY_CONTRACT, title="Contrat de séjour")
    client = login(referent)
    url = f"/coordination/personnes/{person.pk}/documents/"
    page = client.get(url, {"doc_type": DocumentType.STAY_CONTRACT}).content.decode()
    assert ">Contrat de séjour</a>" in page and ">Compte rendu de janvier</a>" not in page
    page = client.get(url, {"status": DocumentStatus.VALIDATED}).content.decode()
    assert ">Compte rendu de janvier</a>" in page and ">Contrat de séjour</a>" not in page
    page = client.get(url, {"since": "2000-01-01", "until": "2000-12-31"}).content.decode()
    assert "Aucun document" in page


def test_it_shows_what_is_new_since_my_last_visit(db, person, referent, nurse):
    nurse_client = login(nurse)
    nurse_client.get(f"/coordination/personnes/{person.pk}/")  # a first visit
    make_document(referent, person, validate=True)
    make_document(referent, person, validate=True, title="Deuxième")
    make_document(referent, person, title="Brouillon")  # drafts are not news
    liaison_services.transmission_create(actor=referent, person=person, category="observations", text="Bonne journée.")
    caseload = nurse_client.get("/coordination/").content.decode()
    assert "2 documents" in caseload and "1 transmission" in caseload
    overview = nurse_client.get(f"/coordination/personnes/{person.pk}/").content.decode()
    assert "Nouveau depuis votre dernière visite" in overview and "2 documents" in overview
    # Opening the record was a visit: nothing new any more.
    assert "2 documents" not in nurse_client.get("/coordination/").content.decode()
    assert "Nouveau depuis" not in nurse_client.get(f"/coordination/personnes/{person.pk}/").content.decode()


def test_the_caseload_runs_a_constant_number_of_queries(db, person, referent, admin_user, structure):
    from coordination import services

    client = login(referent)
    make_document(referent, person, validate=True)
    small = _queries(client, "/coordination/")
    for n in range(6):
        other = services.person_create(
            actor=admin_user,
            structure=structure,
            birth_name=f"NOM{n}",
            birth_first_names="Paul",
            birth_date="1950-01-01",
            sex="M",
        )
        document_services.document_create(
            actor=referent, person=other, doc_type=DocumentType.REPORT, title="CR", content=PDF_BYTES, validate=True
        )
    assert _queries(client, "/coordination/") == small


def test_personas_on_the_professional_pages(
    db, person, referent, nurse, external_pro, other_pro, stranger, person_user
):
    document = make_document(referent, person, validate=True)
    list_url = f"/coordination/personnes/{person.pk}/documents/"
    detail_url = f"/coordination/documents/{document.pk}/"
    assert login(nurse).get(list_url).status_code == 200
    assert login(external_pro).get(list_url).status_code == 403  # in the circle, no right yet
    assert login(other_pro).get(list_url).status_code == 404
    assert login(stranger).get(detail_url).status_code == 404
    assert login(person_user).get(list_url).status_code == 404  # the person uses the portal page
    assert (
        login(nurse)
        .post(f"/coordination/documents/{document.pk}/retirer/", {"reason": "Je n'ai pas le droit"})
        .status_code
        == 403
    )
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALIDATED


def test_it_withdraws_a_document_with_a_reason(db, person, referent):
    document = make_document(referent, person, validate=True)
    client = login(referent)
    client.post(f"/coordination/documents/{document.pk}/retirer/", {"reason": ""})
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALIDATED
    client.post(f"/coordination/documents/{document.pk}/retirer/", {"reason": "Déposé dans le mauvais dossier"})
    document.refresh_from_db()
    assert document.status == DocumentStatus.WITHDRAWN
    assert "Déposé dans le mauvais dossier" in client.get(f"/coordination/documents/{document.pk}/").content.decode()
