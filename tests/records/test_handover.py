"""Hand-over: the référent ends the accompaniment by a transfer and sends the summary
and chosen documents to the receiving structure's MSSanté address, with the person's
agreement recorded, through the documents block's MSSanté sending."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coordination.models import Accompaniment, AuditEvent
from documents.models import Document, DocumentStatus, MssanteSending
from records.models import HandOver
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiving(other_structure):
    other_structure.mssante_address = "accueil@ssiad-canal.mssante.fr"
    other_structure.save()
    return other_structure


def _report(record):
    return Document.objects.filter(
        person=record, doc_type="compte_rendu", status=DocumentStatus.VALIDATED, superseded_at__isnull=True
    ).get()


def test_the_referent_transfers_and_sends_the_summary_and_a_document(record, referent, receiving, structure):
    report = _report(record)
    url = reverse("records:handover", args=[record.pk])
    client = login(referent)
    page = client.get(url).content.decode()
    assert "SSIAD du Canal" in page and "Compte rendu" in page
    response = client.post(
        url,
        {
            "to_structure": receiving.pk,
            "with_summary": "on",
            "documents": [report.pk],
            "agreement_via": "oral",
            "agreed": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    handover = HandOver.objects.get()
    assert (handover.to_structure, handover.agreement_via, handover.sent_by) == (receiving, "oral", referent)
    sendings = MssanteSending.objects.filter(recipient_address="accueil@ssiad-canal.mssante.fr")
    titles = {s.document.title for s in sendings}
    assert titles == {report.title, "Synthèse du dossier transmise à SSIAD du Canal"}
    summary = Document.objects.get(title="Synthèse du dossier transmise à SSIAD du Canal")
    assert summary.is_pdf and summary.status == DocumentStatus.VALIDATED
    accompaniment = Accompaniment.objects.get(person=record, structure=structure)
    assert accompaniment.ended_on is not None and accompaniment.end_reason.startswith("transfert")
    assert AuditEvent.objects.filter(person=record, event_type="record_handover_sent").exists()


def test_without_the_persons_agreement_nothing_leaves(record, referent, receiving, structure):
    url = reverse("records:handover", args=[record.pk])
    response = login(referent).post(url, {"to_structure": receiving.pk, "with_summary": "on", "agreement_via": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert "L&#x27;accord de la personne est nécessaire" in page or "L'accord de la personne est nécessaire" in page
    response = login(referent).post(
        url, {"to_structure": receiving.pk, "with_summary": "on", "agreement_via": "", "agreed": "on"}
    )
    assert "Indiquez comment la personne a donné son accord" in response.content.decode()
    assert not MssanteSending.objects.exists() and not HandOver.objects.exists()
    assert Accompaniment.objects.get(person=record, structure=structure).ended_on is None


def test_only_a_referent_of_the_structure_may_transfer(record, nurse, stranger, person_user, receiving):
    url = reverse("records:handover", args=[record.pk])
    assert login(stranger).get(url).status_code == 404
    assert login(nurse).get(url).status_code == 403
    assert login(nurse).post(url, {"to_structure": receiving.pk, "agreed": "on"}).status_code == 403
    assert login(person_user).get(url).status_code == 403
    assert not HandOver.objects.exists()
