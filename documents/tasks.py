"""Celery tasks of the documents: the DMP outbox, MSSanté sendings and orphan files.

A task takes ids, claims its row with a lease (`common.outbox`), and is safe to run twice.
"""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from common import outbox
from common.handoff import queue_now
from common.notify import notify
from coordination.services import dmp_feeding_allowed
from documents import dmp
from documents.models import (
    DmpAction,
    DmpShare,
    DmpShareStatus,
    DocumentStatus,
    MssanteSending,
)

logger = logging.getLogger(__name__)


@shared_task
def send_due_dmp_shares() -> int:
    """Beat (every minute, the sweeper): send the DMP outbox items whose delay is over,
    the retries that are due and the items whose lease expired (a worker died mid-send:
    sent again with the same idempotency key, which the DMP recognises)."""

    outbox.fail_exhausted(DmpShare)
    due = outbox.due_for_sweep(DmpShare, limit=1000)
    queue_now(send_dmp_share, due)
    return len(due)


@shared_task(acks_late=True)
def send_dmp_share(share_id: int) -> str:
    """Send one outbox item through the configured DMP client (`settings.DMP_CLIENT`).

    Claimed with a lease (`common.outbox`): only one run sends, a sent item is never
    taken again. The person's opposition is checked here, at send time.
    """

    now = timezone.now()
    if not outbox.claim(DmpShare, share_id, now=now):
        return "skipped"
    share = DmpShare.objects.select_related("document__person", "document__replaces").get(pk=share_id)
    document = share.document
    if share.action == DmpAction.PUBLISH:
        if not dmp_feeding_allowed(document.person):
            DmpShare.objects.filter(pk=share_id).update(status=DmpShareStatus.BLOCKED, last_error="")
            return "blocked"
        if document.status != DocumentStatus.VALIDATED:
            DmpShare.objects.filter(pk=share_id).update(status=DmpShareStatus.CANCELLED, cancelled_at=now)
            return "cancelled"
    client = dmp.get_client()
    remote_id = ""
    try:
        if share.action == DmpAction.PUBLISH:
            with document.file.open("rb") as stored:
                content = stored.read()
            replaces_key = f"document-{document.replaces_id}-publish" if document.replaces_id else ""
            remote_id = client.publish(
                dmp.DmpDocument(
                    idempotency_key=share.idempotency_key,
                    person_ins=document.person.shareable_ins,
                    title=document.title,
                    doc_type=document.doc_type,
                    document_on=document.document_on.isoformat(),
                    content_type=document.content_type,
                    sha256=document.sha256,
                    content=content,
                    replaces_key=replaces_key,
                )
            )
        else:
            published = DmpShare.objects.filter(document=document, action=DmpAction.PUBLISH).first()
            if published is None or published.status != DmpShareStatus.SENT:
                if published is not None and published.status == DmpShareStatus.SENDING:
                    raise dmp.DmpUnavailable("L'envoi initial est en cours : le retrait attend.")
                DmpShare.objects.filter(pk=share_id).update(status=DmpShareStatus.CANCELLED, cancelled_at=now)
                return "cancelled"
            client.withdraw(idempotency_key=published.idempotency_key, remote_id=published.remote_id)
    except dmp.DmpNotConfigured as error:
        _dmp_wait(share, DmpShareStatus.NOT_CONFIGURED, str(error))
        return "not_configured"
    except dmp.DmpUnavailable as error:
        _dmp_wait(share, DmpShareStatus.RETRY, str(error))
        return "retry"
    except dmp.DmpRejected as error:
        outbox.record_failure(DmpShare, share_id, attempts=share.attempts, error=str(error), permanent=True)
        _tell_sending_failed(document, share.created_by_id)
        return "failed"
    except Exception as error:  # noqa: BLE001 — unforeseen (file unreadable…): wait and try again
        logger.exception("DMP share %s", share_id)
        _dmp_wait(share, DmpShareStatus.RETRY, f"{error.__class__.__name__}: {error}")
        return "retry"
    outbox.mark_sent(DmpShare, share_id, remote_id=(remote_id or "")[:200])
    return "sent"


def _dmp_wait(share, status: str, error: str) -> None:
    """The item waits (service unavailable or not configured) and goes when it is back:
    the DMP's outages do not end an item (backoff capped at one hour, no last attempt)."""

    outbox.record_failure(
        DmpShare, share.pk, attempts=share.attempts, error=error, retry_status=status, max_attempts=10**6
    )


def _tell_sending_failed(document, user_id: int | None) -> None:

    if user_id:
        with transaction.atomic():
            notify(
                "documents.sending_failed",
                person=document.person,
                recipients=[user_id],
                url=reverse("documents:detail", args=[document.pk]),
                subject=document,
            )


def mssante_connection():
    """An e-mail connection to the MSSanté relay (settings.MSSANTE_EMAIL, from MSSANTE_EMAIL_URL)."""

    config = settings.MSSANTE_EMAIL
    options = {
        "host": config.get("EMAIL_HOST"),
        "port": config.get("EMAIL_PORT"),
        "username": config.get("EMAIL_HOST_USER"),
        "password": config.get("EMAIL_HOST_PASSWORD"),
        "use_tls": config.get("EMAIL_USE_TLS"),
        "use_ssl": config.get("EMAIL_USE_SSL"),
        "timeout": config.get("EMAIL_TIMEOUT"),
        "file_path": config.get("EMAIL_FILE_PATH"),
    }
    return get_connection(
        config["EMAIL_BACKEND"],
        fail_silently=False,
        **{key: value for key, value in options.items() if value is not None},
    )


MSSANTE_SUBJECT = "Document transmis par le portail de coordination"


def mssante_body(sending) -> str:
    sender = sending.sent_by.get_full_name() or sending.sent_by.email
    structure = sending.document.author_structure
    origin = f" ({structure.name})" if structure else ""
    return (
        "Bonjour,\n\n"
        f"{sender}{origin} vous transmet un document par le portail de coordination.\n"
        "Le document est en pièce jointe de ce message.\n\n"
        "Ce message est envoyé par messagerie sécurisée de santé (MSSanté). "
        "Merci de ne pas y répondre directement.\n"
    )


@shared_task(acks_late=True)
def send_mssante(sending_id: int) -> str:
    """Send one document by MSSanté. Claimed with a conditional UPDATE (never sent twice);
    a temporary failure is recorded and retried later by `resume_mssante_sendings`."""

    if not outbox.claim(MssanteSending, sending_id):
        return "skipped"
    sending = MssanteSending.objects.select_related("document__person", "document__author_structure", "sent_by").get(
        pk=sending_id
    )
    document = sending.document
    with document.file.open("rb") as stored:
        content = stored.read()
    extension = "pdf" if document.is_pdf else document.file.name.rsplit(".", 1)[-1]
    message = EmailMessage(
        subject=MSSANTE_SUBJECT,
        body=mssante_body(sending),
        from_email=settings.MSSANTE_FROM_EMAIL,
        to=[sending.recipient_address],
        connection=mssante_connection(),
        headers={"Message-ID": sending.message_id} if sending.message_id else None,
    )
    message.attach(f"document-{document.pk}-v{document.version}.{extension}", content, document.content_type)
    permanent = False
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        reason, permanent = f"Adresse refusée par le serveur : {error}", True
    except smtplib.SMTPResponseException as error:
        reason, permanent = f"SMTP {error.smtp_code}", error.smtp_code >= 500
    except Exception as error:  # noqa: BLE001 — relay unreachable, timeout…: try again later
        reason = str(error) or error.__class__.__name__
    else:
        outbox.mark_sent(MssanteSending, sending_id)
        return "sent"
    status = outbox.record_failure(
        MssanteSending, sending_id, attempts=sending.attempts, error=reason, permanent=permanent
    )
    if status == "failed":
        logger.warning("MSSanté sending %s failed: %s", sending_id, reason)
        _tell_sending_failed(sending.document, sending.sent_by_id)
    return status


@shared_task
def resume_mssante_sendings() -> int:
    """Beat (every minute, the sweeper): the sendings whose hand-off was lost, the
    retries that are due and the expired leases (sent again, same Message-ID)."""

    outbox.fail_exhausted(MssanteSending)
    due = outbox.due_for_sweep(MssanteSending, limit=1000)
    queue_now(send_mssante, due)
    return len(due)


@shared_task
def remove_orphan_files() -> int:
    """Beat (hourly): delete the files of the upload folders that no row names, once
    older than UPLOAD_ORPHAN_GRACE_HOURS (`documents.orphans`); recorded in the audit."""
    from documents import orphans

    return len(orphans.remove_orphan_files())
