"""The DMP outbox: deferred, cancellable, retried, never sent twice, opposition checked
at send time. The DMP itself is simulated (documents.dmp.RecordingClient)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from coordination import services
from coordination.models import AuditEvent, CollectionMethod, ConsentDecision, ConsentKind
from documents import services as document_services
from documents import tasks
from documents.audit_types import DocumentAudit
from documents.models import DmpAction, DmpShare, DmpShareStatus, DocumentType
from tests.conftest import login
from tests.coordination.documents_helpers import make_document

pytestmark = pytest.mark.usefixtures("documents_media", "documents_on_commit")


def _later(minutes: int):
    return time_machine.travel(timezone.now() + datetime.timedelta(minutes=minutes), tick=False)


def test_it_queues_a_validated_eligible_document_with_the_delay(db, person, referent, settings, dmp):
    settings.DMP_SEND_DELAY_MINUTES = 10
    before = timezone.now()
    document = make_document(referent, person, validate=True)
    share = DmpShare.objects.get(document=document)
    assert share.action == DmpAction.PUBLISH
    assert share.status == DmpShareStatus.SCHEDULED
    assert (
        before + datetime.timedelta(minutes=10) <= share.send_after <= timezone.now() + datetime.timedelta(minutes=10)
    )
    # Within the delay, the beat sends nothing.
    assert tasks.send_due_dmp_shares() == 0
    assert dmp.published == []
    assert AuditEvent.objects.filter(event_type=DocumentAudit.DOCUMENT_SHARING_QUEUED, person=person).exists()


def test_it_never_sends_a_sharing_cancelled_within_the_window(db, person, referent, dmp):
    document = make_document(referent, person, validate=True)
    share = DmpShare.objects.get(document=document)
    client = login(referent)
    response = client.post(f"/coordination/dmp/{share.pk}/annuler/")
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.status == DmpShareStatus.CANCELLED
    with _later(60):
        tasks.send_due_dmp_shares()
    assert dmp.published == []
    page = client.get(f"/coordination/documents/{document.pk}/").content.decode()
    assert "Annulé" in page


def test_it_sends_once_after_the_window_even_if_the_task_runs_twice(db, person, referent, dmp):
    document = make_document(referent, person, validate=True)
    share = DmpShare.objects.get(document=document)
    with _later(11):
        assert tasks.send_due_dmp_shares() == 1
        assert tasks.send_dmp_share(share.pk) == "skipped"
        assert tasks.send_due_dmp_shares() == 0
    assert [d.idempotency_key for d in dmp.published] == [share.idempotency_key]
    assert dmp.published[0].sha256 == document.sha256
    share.refresh_from_db()
    assert share.status == DmpShareStatus.SENT and share.sent_at is not None
    # It can no longer be cancelled, and the page shows when it was sent.
    with pytest.raises(ValidationError):
        document_services.dmp_share_cancel(actor=referent, share=share)
    page = login(referent).get(f"/coordination/documents/{document.pk}/").content.decode()
    assert "Envoyé" in page and share.sent_at.astimezone(timezone.get_current_timezone()).strftime("%d/%m/%Y") in page


def test_it_keeps_an_item_waiting_while_the_dmp_is_unavailable_then_sends_it(db, person, referent, dmp):
    document = make_document(referent, person, validate=True)
    share = DmpShare.objects.get(document=document)
    dmp.available = False
    with _later(11):
        tasks.send_due_dmp_shares()
    share.refresh_from_db()
    assert share.status == DmpShareStatus.RETRY
    assert "injoignable" in share.last_error
    assert share.next_attempt_at > share.send_after
    # Back, but before the next attempt: nothing yet; then it goes.
    dmp.available = True
    with _later(11):
        assert tasks.send_due_dmp_shares() == 0
    with _later(15):
        assert tasks.send_due_dmp_shares() == 1
    share.refresh_from_db()
    assert share.status == DmpShareStatus.SENT
    assert len(dmp.published) == 1


def test_it_waits_with_a_clear_status_when_no_dmp_is_configured(db, person, referent, settings):
    settings.DMP_CLIENT = "documents.dmp.NotConfiguredClient"
    document = make_document(referent, person, validate=True)
    with _later(11):
        tasks.send_due_dmp_shares()
    share = DmpShare.objects.get(document=document)
    assert share.status == DmpShareStatus.NOT_CONFIGURED
    page = login(referent).get(f"/coordination/documents/{document.pk}/").content.decode()
    assert "connexion au DMP non configurée" in page


def test_it_does_not_send_when_the_person_opposes_after_queueing(db, person, person_user, referent, dmp):
    document = make_document(referent, person, validate=True)
    services.consent_record(
        actor=person_user,
        person=person,
        kind=ConsentKind.DMP_FEEDING,
        decision=ConsentDecision.REFUSED,
        collected_via=CollectionMethod.PORTAL,
    )
    with _later(11):
        tasks.send_due_dmp_shares()
    share = DmpShare.objects.get(document=document)
    assert share.status == DmpShareStatus.BLOCKED
    assert dmp.published == []


def test_it_does_not_queue_when_the_person_already_opposed(db, person, person_user, referent, dmp):
    services.consent_record(
        actor=person_user,
        person=person,
        kind=ConsentKind.DMP_FEEDING,
        decision=ConsentDecision.REFUSED,
        collected_via=CollectionMethod.PORTAL,
    )
    document = make_document(referent, person, validate=True)
    assert not DmpShare.objects.filter(document=document).exists()


@pytest.mark.parametrize(
    "doc_type", [DocumentType.STAY_CONTRACT, DocumentType.ADMINISTRATIVE, DocumentType.OTHER, DocumentType.CARE_PLAN]
)
def test_it_never_queues_a_non_eligible_type(db, person, referent, dmp, doc_type):
    document = make_document(referent, person, doc_type=doc_type, validate=True)
    with _later(60):
        tasks.send_due_dmp_shares()
    assert not DmpShare.objects.filter(document=document).exists()
    assert dmp.published == []


def test_it_queues_the_withdrawal_of_a_document_sent_in_error(db, person, referent, dmp):
    document = make_document(referent, person, validate=True)
    with _later(11):
        tasks.send_due_dmp_shares()
    document_services.document_withdraw(actor=referent, document=document, reason="Mauvaise personne")
    withdrawal = DmpShare.objects.get(document=document, action=DmpAction.WITHDRAW)
    with _later(12):
        tasks.send_due_dmp_shares()
        tasks.send_due_dmp_shares()
    withdrawal.refresh_from_db()
    assert withdrawal.status == DmpShareStatus.SENT
    assert dmp.withdrawn == [f"document-{document.pk}-publish"]


def test_it_cancels_the_pending_sharing_of_a_document_withdrawn_before_it_left(db, person, referent, dmp):
    document = make_document(referent, person, validate=True)
    document_services.document_withdraw(actor=referent, document=document, reason="Erreur de dépôt")
    with _later(60):
        tasks.send_due_dmp_shares()
    assert dmp.published == [] and dmp.withdrawn == []
    assert not DmpShare.objects.filter(document=document, action=DmpAction.WITHDRAW).exists()


def test_it_lets_only_the_author_cancel(db, person, referent, nurse, dmp):
    document = make_document(referent, person, validate=True)
    share = DmpShare.objects.get(document=document)
    response = login(nurse).post(f"/coordination/dmp/{share.pk}/annuler/")
    assert response.status_code in (403, 404)
    share.refresh_from_db()
    assert share.status == DmpShareStatus.SCHEDULED


def test_a_share_whose_worker_died_is_sent_again_after_its_lease_with_the_same_idempotency_key(
    db, person, referent, dmp
):
    from common import outbox

    document = make_document(referent, person, validate=True)
    share = DmpShare.objects.get(document=document)
    with _later(11):
        assert outbox.claim(DmpShare, share.pk)  # a worker takes it, then is killed
        assert tasks.send_due_dmp_shares() == 0  # the lease holds
        assert tasks.send_dmp_share(share.pk) == "skipped"
    assert dmp.published == []
    with _later(11 + outbox.LEASE_SECONDS / 60 + 1):
        assert tasks.send_due_dmp_shares() == 1
    assert [d.idempotency_key for d in dmp.published] == [share.idempotency_key]
    share.refresh_from_db()
    assert share.status == DmpShareStatus.SENT and share.attempts == 2
    with _later(24 * 60):
        assert tasks.send_due_dmp_shares() == 0
    assert len(dmp.published) == 1


def test_an_administrator_resends_a_share_the_dmp_refused(db, person, referent, dmp, admin_user):
    from unittest import mock

    from documents.dmp import DmpRejected

    document = make_document(referent, person, validate=True)
    share = DmpShare.objects.get(document=document)
    with _later(11), mock.patch.object(dmp, "publish", side_effect=DmpRejected("INS inconnu")):
        assert tasks.send_due_dmp_shares() == 1
    share.refresh_from_db()
    assert share.status == DmpShareStatus.FAILED and share.last_error == "INS inconnu"
    admin = login(admin_user)
    listing = admin.get("/admin/documents/dmpshare/?status__exact=failed").content.decode()
    assert "INS inconnu" in listing
    with _later(12):
        response = admin.post(
            "/admin/documents/dmpshare/", {"action": "resend_failed", "_selected_action": [share.pk]}, follow=True
        )
    assert "1 envoi(s) remis en file" in response.content.decode()
    assert [d.idempotency_key for d in dmp.published] == [share.idempotency_key]
    share.refresh_from_db()
    assert share.status == DmpShareStatus.SENT


def test_the_document_page_says_when_the_dmp_is_simulated(db, person, referent, settings, dmp):
    document = make_document(referent, person, validate=True)
    client = login(referent)
    page = client.get(f"/coordination/documents/{document.pk}/").content.decode()
    assert "DMP simulé (démonstration)" in page
    settings.DMP_CLIENT = "documents.dmp.NotConfiguredClient"
    page = client.get(f"/coordination/documents/{document.pk}/").content.decode()
    assert "DMP simulé" not in page and "tant qu'elle n'est pas en place" in page.replace("&#x27;", "'")
