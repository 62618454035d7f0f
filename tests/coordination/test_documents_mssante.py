"""Sending a document by MSSanté through its own SMTP relay (MSSANTE_EMAIL_URL)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from documents import services as document_services
from documents import tasks
from documents.models import DocumentType, MssanteSending, MssanteStatus
from portal.env import email_config
from tests.conftest import login
from tests.coordination.documents_helpers import PDF_BYTES, make_document

pytestmark = pytest.mark.usefixtures("documents_media", "documents_on_commit")


def _relay(settings, url, tmp_path):
    settings.MSSANTE_EMAIL = email_config(url, tmp_path / "mssante")


def test_it_delivers_the_document_to_a_real_smtp_server(db, person, referent, smtp_server, settings, tmp_path):
    _relay(settings, smtp_server.url, tmp_path)
    settings.EMAIL_URL = "locmem://"
    document = make_document(
        referent,
        person,
        validate=True,
        doc_type=DocumentType.LIAISON_LETTER,
        title="Lettre de liaison après hospitalisation pour chute",
    )
    response = login(referent).post(
        f"/coordination/documents/{document.pk}/mssante/",
        {"recipient_address": "dr.durand@medecin.mssante.fr", "recipient_label": "Dr Durand"},
    )
    assert response.status_code == 302
    sending = MssanteSending.objects.get()
    assert sending.status == MssanteStatus.SENT and sending.sent_at is not None
    [received] = smtp_server.messages
    assert received["to"] == ["dr.durand@medecin.mssante.fr"]
    message = received["message"]
    body = next(part for part in message.walk() if part.get_content_type() == "text/plain").get_payload(decode=True)
    assert "hospitalisation" not in body.decode() and "chute" not in message["Subject"]
    [attachment] = [part for part in message.walk() if part.get_filename()]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_payload(decode=True) == PDF_BYTES
    page = login(referent).get(f"/coordination/documents/{document.pk}/").content.decode()
    assert "dr.durand@medecin.mssante.fr" in page and "Envoyé" in page


def test_it_records_an_smtp_failure_and_retries(db, person, referent, smtp_server, settings, tmp_path):
    _relay(settings, "smtp://127.0.0.1:9?timeout=2", tmp_path)  # nothing listens on port 9
    document = make_document(referent, person, validate=True)
    sending = document_services.document_send_mssante(
        actor=referent, document=document, recipient_address="secretariat@ssiad.mssante.fr"
    )
    sending.refresh_from_db()
    assert sending.status == MssanteStatus.RETRY
    assert sending.last_error and sending.attempts == 1
    page = login(referent).get(f"/coordination/documents/{document.pk}/").content.decode()
    assert "nouvel essai prévu" in page
    _relay(settings, smtp_server.url, tmp_path)
    assert tasks.resume_mssante_sendings() == 0  # not due yet
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5), tick=False):
        assert tasks.resume_mssante_sendings() == 1
        assert tasks.resume_mssante_sendings() == 0
    sending.refresh_from_db()
    assert sending.status == MssanteStatus.SENT and sending.attempts == 2
    assert len(smtp_server.messages) == 1


def test_it_refuses_an_address_that_is_not_mssante(db, person, referent):
    document = make_document(referent, person, validate=True)
    with pytest.raises(ValidationError) as error:
        document_services.document_send_mssante(
            actor=referent, document=document, recipient_address="someone@gmail.com"
        )
    assert "recipient_address" in error.value.message_dict
    assert not MssanteSending.objects.exists()


def test_it_refuses_to_send_a_draft(db, person, referent):
    document = make_document(referent, person)
    with pytest.raises(ValidationError):
        document_services.document_send_mssante(
            actor=referent, document=document, recipient_address="dr.durand@medecin.mssante.fr"
        )


def test_it_suggests_the_addresses_known_in_the_circle(db, person, referent, structure):
    structure.mssante_address = "ehpad-tilleuls@ehpad.mssante.fr"
    structure.save(update_fields=["mssante_address"])
    referent.professional.mssante_address = "remi.referent@pro.mssante.fr"
    referent.professional.save(update_fields=["mssante_address"])
    document = make_document(referent, person, validate=True)
    page = login(referent).get(f"/coordination/documents/{document.pk}/").content.decode()
    assert 'list="adresses-mssante"' in page
    assert '<option value="ehpad-tilleuls@ehpad.mssante.fr">' in page
    assert '<option value="remi.referent@pro.mssante.fr">' in page
