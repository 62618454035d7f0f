"""My documents in the user portal: contract first, download through the gate, deposits to review."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coordination.models import Level
from documents import services as document_services
from documents.models import Document, DocumentSource, DocumentStatus, DocumentType
from notifications.models import Notification
from portal.user_portal.spaces import SESSION_KEY
from tests.conftest import login
from tests.coordination.documents_helpers import grant_documents, make_document, pdf_file


@pytest.fixture(autouse=True)
def documents_media(settings, tmp_path, monkeypatch):
    """Uploaded files in a private folder of this test; on_commit callbacks at once."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, **kw: func())


@pytest.fixture
def record(person, referent):
    report = make_document(referent, person, validate=True, title="Compte rendu de la kiné")
    contract = make_document(
        referent, person, doc_type=DocumentType.STAY_CONTRACT, validate=True, title="Contrat de séjour 2026"
    )
    plan = make_document(referent, person, doc_type=DocumentType.CARE_PLAN, validate=True, title="PPA version 1")
    draft = make_document(referent, person, title="Brouillon interne")
    return report, contract, plan, draft


def _deposit(client, title="Attestation CAF"):
    return client.post(
        reverse("portal_documents"), {"doc_type": DocumentType.CERTIFICATE, "title": title, "file": pdf_file("caf.pdf")}
    )


def test_it_refuses_the_documents_to_a_stranger(person, stranger, record):
    client = login(stranger)
    session = client.session
    session[SESSION_KEY] = person.pk
    session.save()
    assert client.get(reverse("portal_documents")).status_code == 404
    assert _deposit(client).status_code == 404
    assert client.get(reverse("documents:download", args=[record[1].pk])).status_code == 404
    assert not Document.objects.filter(source=DocumentSource.PORTAL).exists()


def test_it_shows_a_carer_without_the_right_nothing_of_the_documents(person, carer, record):
    client = login(carer)
    response = client.get(reverse("portal_documents"))
    assert response.status_code == 403
    assert "Contrat de séjour" not in response.content.decode()
    assert "Contrat de séjour" not in client.get(reverse("portal_home")).content.decode()
    assert client.get(reverse("documents:download", args=[record[1].pk])).status_code == 403
    assert _deposit(client).status_code == 403


def test_it_shows_the_contract_first_then_the_ppa_then_the_others_never_a_draft(person, person_user, record):
    page = login(person_user).get(reverse("portal_documents")).content.decode()
    assert page.index("Contrat de séjour 2026") < page.index("PPA version 1") < page.index("Compte rendu de la kiné")
    assert "Brouillon interne" not in page
    assert reverse("documents:download", args=[record[1].pk]) in page


def test_it_lets_the_person_download_a_validated_document_only(person, person_user, record):
    client = login(person_user)
    response = client.get(reverse("documents:download", args=[record[1].pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert client.get(reverse("documents:download", args=[record[3].pk])).status_code == 404


def test_it_shows_new_documents_on_home_until_the_documents_page_is_opened(person, person_user, record, referent):
    client = login(person_user)
    home = client.get(reverse("portal_home")).content.decode()
    assert "Nouveaux documents" in home and "Contrat de séjour 2026" in home
    client.get(reverse("portal_documents"))
    home = client.get(reverse("portal_home")).content.decode()
    assert "Contrat de séjour 2026" not in home and "Pas de nouveau document" in home
    make_document(referent, person, validate=True, title="Attestation de présence")
    assert "Attestation de présence" in client.get(reverse("portal_home")).content.decode()


def test_it_sends_a_deposit_to_review_and_shows_its_status_then_the_refusal_reason(person, person_user, referent):
    client = login(person_user)
    response = _deposit(client)
    assert response.status_code == 302
    document = Document.objects.get(source=DocumentSource.PORTAL)
    assert document.status == DocumentStatus.TO_REVIEW and document.author == person_user
    assert Notification.objects.filter(recipient=referent, event_type="documents.to_review").exists()
    page = client.get(reverse("portal_documents")).content.decode()
    assert "Attestation CAF" in page and "le référent va le regarder" in page
    document_services.document_review(
        actor=referent, document=document, accept=False, reason="Le document est illisible, merci de le renvoyer."
    )
    page = client.get(reverse("portal_documents")).content.decode()
    assert "refusé" in page and "Le document est illisible" in page


def test_it_names_the_missing_field_of_a_deposit(person, person_user):
    response = login(person_user).post(
        reverse("portal_documents"), {"doc_type": DocumentType.CERTIFICATE, "title": "", "file": pdf_file()}
    )
    assert response.status_code == 400
    assert "Ce champ est obligatoire" in response.content.decode()
    assert not Document.objects.exists()


def test_it_lets_a_carer_with_documents_read_see_but_not_send(person, person_user, carer, record):
    grant_documents(person, carer, Level.READ, person_user)
    client = login(carer)
    page = client.get(reverse("portal_documents")).content.decode()
    assert "Contrat de séjour 2026" in page and "Envoyer un document" not in page
    assert _deposit(client).status_code == 403
    grant_documents(person, carer, Level.WRITE, person_user)
    assert _deposit(client).status_code == 302


def test_it_reads_the_documents_page_in_a_bounded_number_of_queries(
    person, person_user, referent, django_assert_max_num_queries
):
    client = login(person_user)
    make_document(referent, person, doc_type=DocumentType.STAY_CONTRACT, validate=True, title="Contrat")
    _deposit(client, "Un")
    client.get(reverse("portal_documents"))
    with django_assert_max_num_queries(30) as small:
        client.get(reverse("portal_documents"))
    limit = len(small.captured_queries)
    for index in range(12):
        make_document(referent, person, validate=True, title=f"CR {index}")
        make_document(referent, person, doc_type=DocumentType.CARE_PLAN, validate=True, title=f"PPA {index}")
        _deposit(client, f"Envoi {index}")
    client.get(reverse("portal_documents"))  # refreshes the session's last-seen time after the set-up
    with django_assert_max_num_queries(limit):
        response = client.get(reverse("portal_documents"))
    assert "CR 11" in response.content.decode() and "Envoi 11" in response.content.decode()
