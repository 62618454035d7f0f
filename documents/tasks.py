"""Celery tasks of the documents: the DMP outbox and MSSanté sendings.

A task takes ids, claims its row with a conditional UPDATE, and is safe to run twice.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from common.notify import notify
from common.outbox import MAX_ATTEMPTS, backoff_seconds
from coordination.services import dmp_feeding_allowed
from documents import dmp
from documents.models import (
    DMP_WAITING_STATUSES,
    DmpAction,
    DmpShare,
    DmpShareStatus,
    DocumentStatus,
    MssanteSending,
    MssanteStatus,
)

logger = logging.getLogger(__name__)


def _dmp_due_q(now):

    return Q(status__in=DMP_WAITING_STATUSES, send_after__lte=now) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


@shared_task
def send_due_dmp_shares() -> int:
    """Beat (every minute): send the DMP outbox items whose delay is over.

    An item "sending" for more than 30 minutes (a worker died) is marked failed rather
    than sent again: it may have left, and the DMP must not receive it twice.
    """

    now = timezone.now()
    DmpShare.objects.filter(status=DmpShareStatus.SENDING, claimed_at__lt=now - timedelta(minutes=30)).update(
        status=DmpShareStatus.FAILED, last_error="Envoi interrompu : le document a pu partir ; non renvoyé."
    )
    due = list(DmpShare.objects.filter(_dmp_due_q(now)).order_by("send_after").values_list("pk", flat=True)[:1000])
    for share_id in due:
        send_dmp_share.delay(share_id)
    return len(due)


@shared_task(acks_late=True)
def send_dmp_share(share_id: int) -> str:
    """Send one outbox item through the configured DMP client (`settings.DMP_CLIENT`).

    Claimed with a conditional UPDATE: only one run sends, a sent item is never taken
    again. The person's opposition is checked here, at send time.
    """

    now = timezone.now()
    claimed = DmpShare.objects.filter(_dmp_due_q(now), pk=share_id).update(
        status=DmpShareStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
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
        DmpShare.objects.filter(pk=share_id).update(status=DmpShareStatus.FAILED, last_error=str(error)[:2000])
        _tell_sending_failed(document, share.created_by_id)
        return "failed"
    DmpShare.objects.filter(pk=share_id).update(
        status=DmpShareStatus.SENT, sent_at=timezone.now(), remote_id=(remote_id or "")[:200], last_error=""
    )
    return "sent"


def _dmp_wait(share, status: str, error: str) -> None:
    """The item waits (service unavailable or not configured) and goes when it is back."""

    countdown = backoff_seconds(share.attempts)
    DmpShare.objects.filter(pk=share.pk).update(
        status=status, last_error=error[:2000], next_attempt_at=timezone.now() + timedelta(seconds=countdown)
    )


def _tell_sending_failed(document, user_id: int | None) -> None:

    if user_id:
        with transaction.atomic():
            notify(
                "documents.sending_failed",
                person=document.person,
                recipients=[user_id],
                url=reverse("documents:detail", args=[document.pk]),
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

    now = timezone.now()
    claimed = MssanteSending.objects.filter(
        Q(status=MssanteStatus.PENDING) | Q(status=MssanteStatus.RETRY, next_attempt_at__lte=now),
        pk=sending_id,
    ).update(status=MssanteStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
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
    )
    message.attach(f"document-{document.pk}-v{document.version}.{extension}", content, document.content_type)
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        _mssante_fail(sending, f"Adresse refusée par le serveur : {error}")
        return "failed"
    except (smtplib.SMTPException, OSError) as error:
        if sending.attempts >= MAX_ATTEMPTS:
            _mssante_fail(sending, f"{error} (abandon après {sending.attempts} essais)")
            return "failed"
        MssanteSending.objects.filter(pk=sending_id).update(
            status=MssanteStatus.RETRY,
            last_error=str(error)[:2000] or error.__class__.__name__,
            next_attempt_at=timezone.now() + timedelta(seconds=backoff_seconds(sending.attempts)),
        )
        return "retry"
    MssanteSending.objects.filter(pk=sending_id).update(
        status=MssanteStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def _mssante_fail(sending, reason: str) -> None:

    logger.warning("MSSanté sending %s failed: %s", sending.pk, reason)
    MssanteSending.objects.filter(pk=sending.pk).update(status=MssanteStatus.FAILED, last_error=reason[:2000])
    _tell_sending_failed(sending.document, sending.sent_by_id)


@shared_task
def resume_mssante_sendings() -> int:
    """Beat (every minute): retry the MSSanté sendings whose next attempt is due, and
    re-queue those a broker outage left pending."""

    now = timezone.now()
    MssanteSending.objects.filter(status=MssanteStatus.SENDING, claimed_at__lt=now - timedelta(minutes=30)).update(
        status=MssanteStatus.FAILED, last_error="Envoi interrompu : le message a pu partir ; non renvoyé."
    )
    due = list(
        MssanteSending.objects.filter(
            Q(status=MssanteStatus.PENDING, created_at__lt=now - timedelta(minutes=2))
            | Q(status=MssanteStatus.RETRY, next_attempt_at__lte=now)
        ).values_list("pk", flat=True)[:1000]
    )
    for sending_id in due:
        send_mssante.delay(sending_id)
    return len(due)
