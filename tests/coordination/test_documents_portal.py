"""Documents deposited on the portal by the person or a carer: reviewed by the referent."""

from __future__ import annotations

import pytest

from coordination.models import Document, DocumentSource, DocumentStatus, DocumentType, Level, Notification
from tests.conftest import login
from tests.coordination.documents_helpers import grant_documents, pdf_file

pytestmark = pytest.mark.usefixtures("documents_media", "documents_on_commit")


def _deposit(client, person, title="Attestation CAF"):
    return client.post(f"/coordination/personnes/{person.pk}/mes-documents/",
                       {"doc_type": DocumentType.CERTIFICATE, "title": title, "file": pdf_file("caf.pdf")})


def test_it_takes_a_deposit_to_review_and_the_referent_accepts_it(db, person, person_user, referent):
    response = _deposit(login(person_user), person)
    assert response.status_code == 302
    document = Document.objects.get()
    assert document.status == DocumentStatus.TO_REVIEW and document.source == DocumentSource.PORTAL
    assert Notification.objects.filter(recipient=referent, event_type="documents.to_review").exists()
    page = login(person_user).get(f"/coordination/personnes/{person.pk}/mes-documents/").content.decode()
    assert "en attente d'examen" in page

    client = login(referent)
    inbox = client.get("/coordination/documents/a-examiner/").content.decode()
    assert "Attestation CAF" in inbox
    response = client.post(f"/coordination/documents/{document.pk}/examiner/", {"decision": "accept"})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALIDATED
    assert "Attestation CAF" not in client.get("/coordination/documents/a-examiner/").content.decode()
    page = login(person_user).get(f"/coordination/personnes/{person.pk}/mes-documents/").content.decode()
    assert f"/coordination/documents/{document.pk}/telecharger/" in page


def test_it_shows_the_person_the_reason_of_a_refusal(db, person, person_user, referent):
    _deposit(login(person_user), person)
    document = Document.objects.get()
    client = login(referent)
    response = client.post(f"/coordination/documents/{document.pk}/examiner/", {"decision": "decline", "reason": ""})
    document.refresh_from_db()
    assert document.status == DocumentStatus.TO_REVIEW  # a refusal needs a reason
    client.post(f"/coordination/documents/{document.pk}/examiner/",
                {"decision": "decline", "reason": "Le document est illisible, merci de le renvoyer."})
    document.refresh_from_db()
    assert document.status == DocumentStatus.DECLINED
    assert response.status_code == 302
    page = login(person_user).get(f"/coordination/personnes/{person.pk}/mes-documents/").content.decode()
    assert "refusé" in page and "Le document est illisible" in page
    assert Notification.objects.filter(recipient=person_user, event_type="documents.reviewed").exists()


def test_a_carer_with_write_can_deposit_and_one_without_cannot(db, person, person_user, carer, legal_rep):
    assert _deposit(login(carer), person).status_code == 403
    grant_documents(person, carer, Level.WRITE, person_user)
    assert _deposit(login(carer), person, "Ordonnance").status_code == 302
    assert Document.objects.get().author == carer


def test_a_stranger_gets_404(db, person, stranger):
    assert _deposit(login(stranger), person).status_code == 404
    assert login(stranger).get(f"/coordination/personnes/{person.pk}/mes-documents/").status_code == 404
    assert not Document.objects.exists()


def test_the_inbox_shows_only_my_persons(db, person, person_user, nurse, other_pro):
    _deposit(login(person_user), person)
    assert "Attestation CAF" not in login(nurse).get("/coordination/documents/a-examiner/").content.decode()
    assert "Attestation CAF" not in login(other_pro).get("/coordination/documents/a-examiner/").content.decode()
