"""Documents deposited on the portal by the person or a carer: reviewed by the referent.
The portal's documents page is opened in the person's space through the link the
notifications carry (`/mon-espace/personnes/<id>/documents/`)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coordination.models import Level
from documents.models import Document, DocumentSource, DocumentStatus, DocumentType
from notifications.models import Notification
from tests.conftest import login
from tests.coordination.documents_helpers import grant_documents, pdf_file

pytestmark = pytest.mark.usefixtures("documents_media", "documents_on_commit")


def _open(client, person):
    """The person's documents in the portal, through the space link; the response."""
    return client.get(reverse("portal_space_open", args=[person.pk, "documents"]), follow=True)


def _deposit(client, person, title="Attestation CAF"):
    if _open(client, person).status_code == 404:
        return client.get(reverse("portal_space_open", args=[person.pk, "documents"]))
    return client.post(
        reverse("portal_documents"), {"doc_type": DocumentType.CERTIFICATE, "title": title, "file": pdf_file("caf.pdf")}
    )


def test_it_takes_a_deposit_to_review_and_the_referent_accepts_it(db, person, person_user, referent):
    response = _deposit(login(person_user), person)
    assert response.status_code == 302
    document = Document.objects.get()
    assert document.status == DocumentStatus.TO_REVIEW and document.source == DocumentSource.PORTAL
    assert Notification.objects.filter(recipient=referent, event_type="documents.to_review").exists()
    page = _open(login(person_user), person).content.decode()
    assert "en attente : le référent va le regarder" in page

    client = login(referent)
    inbox = client.get("/coordination/documents/a-examiner/").content.decode()
    assert "Attestation CAF" in inbox
    response = client.post(f"/coordination/documents/{document.pk}/examiner/", {"decision": "accept"})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALIDATED
    assert "Attestation CAF" not in client.get("/coordination/documents/a-examiner/").content.decode()
    page = _open(login(person_user), person).content.decode()
    assert f"/coordination/documents/{document.pk}/telecharger/" in page


def test_it_shows_the_person_the_reason_of_a_refusal(db, person, person_user, referent):
    _deposit(login(person_user), person)
    document = Document.objects.get()
    client = login(referent)
    response = client.post(f"/coordination/documents/{document.pk}/examiner/", {"decision": "decline", "reason": ""})
    document.refresh_from_db()
    assert document.status == DocumentStatus.TO_REVIEW  # a refusal needs a reason
    client.post(
        f"/coordination/documents/{document.pk}/examiner/",
        {"decision": "decline", "reason": "Le document est illisible, merci de le renvoyer."},
    )
    document.refresh_from_db()
    assert document.status == DocumentStatus.DECLINED
    assert response.status_code == 302
    page = _open(login(person_user), person).content.decode()
    assert "refusé" in page and "Le document est illisible" in page
    assert Notification.objects.filter(recipient=person_user, event_type="documents.reviewed").exists()


def test_a_carer_with_write_can_deposit_and_one_without_cannot(db, person, person_user, carer, legal_rep):
    assert _deposit(login(carer), person).status_code == 403
    grant_documents(person, carer, Level.WRITE, person_user)
    assert _deposit(login(carer), person, "Ordonnance").status_code == 302
    assert Document.objects.get().author == carer


def test_a_stranger_gets_404(db, person, stranger):
    assert _deposit(login(stranger), person).status_code == 404
    assert _open(login(stranger), person).status_code == 404
    assert not Document.objects.exists()


def test_the_inbox_shows_only_my_persons(db, person, person_user, nurse, other_pro):
    _deposit(login(person_user), person)
    assert "Attestation CAF" not in login(nurse).get("/coordination/documents/a-examiner/").content.decode()
    assert "Attestation CAF" not in login(other_pro).get("/coordination/documents/a-examiner/").content.decode()


def test_the_review_notification_opens_the_documents_in_the_persons_space(db, person, person_user, referent):
    _deposit(login(person_user), person)
    document = Document.objects.get()
    login(referent).post(f"/coordination/documents/{document.pk}/examiner/", {"decision": "accept"})
    notification = Notification.objects.get(recipient=person_user, event_type="documents.reviewed")
    client = login(person_user)
    response = client.get(notification.url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal_documents")
    assert "Attestation CAF" in response.content.decode()
