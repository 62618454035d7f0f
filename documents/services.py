"""Writes of the person's documents and of their exchange (DMP outbox, MSSanté).

Every service goes through the gate (category `documents`), is atomic and writes its
typed audit row in the same transaction; sending happens after commit, in Celery tasks
(`documents.tasks`). Nothing is rewritten: a validated document is frozen, a change
is a new version, a withdrawal keeps the row.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from common.handoff import last_error_recorder, queue_after_commit
from common.notify import notify
from coordination import access, rules
from coordination.models import (
    Category,
    CircleMember,
    CircleRole,
    Person,
    Structure,
    TeamMembership,
)
from coordination.services import audit, dmp_feeding_allowed
from documents.audit_types import DocumentAudit
from documents.models import (
    DMP_WAITING_STATUSES,
    DmpAction,
    DmpShare,
    DmpShareStatus,
    Document,
    DocumentSource,
    DocumentStatus,
    DocumentType,
    MssanteSending,
)
from documents.uploads import check_upload, removes_files_on_failure, store

MIN_REASON = 5


def _author_structure(actor, person: Person) -> Structure | None:
    """The structure the author writes for: the one of their teams that accompanies the
    person, else their only team."""
    teams = TeamMembership.objects.filter(professional__user=actor, ended_on__isnull=True).values("structure_id")
    accompanying = list(
        Structure.objects.filter(
            pk__in=teams, accompaniments__person=person, accompaniments__ended_on__isnull=True
        ).distinct()[:1]
    )
    if accompanying:
        return accompanying[0]
    mine = list(Structure.objects.filter(pk__in=teams)[:2])
    return mine[0] if len(mine) == 1 else None


def _document_url(document: Document):
    def url(user) -> str:
        if rules.is_professional(user):
            return reverse("documents:detail", args=[document.pk])
        return reverse("portal_space_open", args=[document.person_id, "documents"])

    return url


def referents(person: Person):
    """Who examines the documents deposited on the portal: the person's referents in the
    circle who may write documents (all writers among professionals when there is none)."""
    writers = access.users_allowed(person, Category.DOCUMENTS, "write")
    named = writers.filter(
        Exists(
            CircleMember.objects.filter(
                person=person, user=OuterRef("pk"), ended_at__isnull=True, role=CircleRole.REFERENT
            )
        )
    )
    if named.exists():
        return named
    return writers.filter(professional__isnull=False)


def _check_fields(doc_type: str, title: str, document_on: date | None) -> None:
    if doc_type not in DocumentType.values:
        raise ValidationError({"doc_type": "Choisissez le type du document."})
    if not (title or "").strip():
        raise ValidationError({"title": "Donnez un titre au document."})
    if document_on and document_on > timezone.localdate() + timedelta(days=1):
        raise ValidationError({"document_on": "La date du document ne peut pas être dans le futur."})


@removes_files_on_failure
@transaction.atomic
def document_create(
    *,
    actor,
    person: Person,
    doc_type: str,
    title: str,
    upload=None,
    content: bytes | None = None,
    filename: str = "",
    document_on: date | None = None,
    source: str | None = None,
    validate: bool = False,
) -> Document:
    """Add a document to the person's record (`documents` write through the gate).

    The file is checked by content (PDF or image), size-limited and stored privately
    under a random name; its SHA-256 is kept. A professional's document starts as a
    draft (or validated at once with `validate=True`); one deposited on the portal by
    the person or a carer waits for the referent's review; `source=generated` takes
    `content` bytes produced by the portal (a PDF of another block).
    """
    access.require(actor, person, Category.DOCUMENTS, "write")
    if source is None:
        source = DocumentSource.PROFESSIONAL if rules.is_professional(actor) else DocumentSource.PORTAL
    if source not in DocumentSource.values:
        raise ValueError(source)
    if source != DocumentSource.PORTAL and not rules.is_professional(actor):
        raise ValidationError({"source": "Seul un professionnel peut ajouter ce document au dossier."})
    _check_fields(doc_type, title, document_on)
    if content is not None:
        upload = ContentFile(content, name=filename or "document.pdf")
    if upload is None:
        raise ValidationError({"file": "Choisissez le fichier du document."})
    checked = check_upload(upload, field="file")
    name = store(checked.content, folder="documents", extension=checked.extension)
    document = Document.objects.create(
        person=person,
        doc_type=doc_type,
        title=title.strip()[:200],
        document_on=document_on or timezone.localdate(),
        author=actor,
        author_structure=_author_structure(actor, person) if rules.is_professional(actor) else None,
        source=source,
        file=name,
        original_name=(getattr(upload, "name", "") or "document")[:200],
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=checked.sha256,
        status=DocumentStatus.TO_REVIEW if source == DocumentSource.PORTAL else DocumentStatus.DRAFT,
    )
    audit(
        actor,
        person,
        DocumentAudit.DOCUMENT_ADDED,
        document=document.pk,
        doc_type=doc_type,
        source=source,
        sha256=checked.sha256,
    )
    if source == DocumentSource.PORTAL:
        notify(
            "documents.to_review",
            person=person,
            actor=actor,
            recipients=referents(person),
            url=reverse("documents:inbox"),
            subject=document,
        )
    elif validate:
        _validate(actor, document)
    return document


def _require_professional_writer(actor, person: Person) -> None:
    access.require(actor, person, Category.DOCUMENTS, "write")
    if not rules.is_professional(actor):
        raise access.AccessDenied("Seul un professionnel peut faire cela.")


def _queue_dmp(actor, document: Document, action: str, delay: timedelta) -> DmpShare | None:
    share, created = DmpShare.objects.get_or_create(
        idempotency_key=f"document-{document.pk}-{action}",
        defaults={"document": document, "action": action, "created_by": actor, "send_after": timezone.now() + delay},
    )
    if not created:
        return None
    audit(
        actor,
        document.person,
        DocumentAudit.DOCUMENT_SHARING_QUEUED,
        document=document.pk,
        action=action,
        share=share.pk,
        send_after=share.send_after.isoformat(),
    )
    return share


def _validate(actor, document: Document) -> Document:
    now = timezone.now()
    document.status = DocumentStatus.VALIDATED
    document.validated_at = now
    document.validated_by = actor
    document.save(update_fields=["status", "validated_at", "validated_by"])
    if document.replaces_id:
        Document.objects.filter(pk=document.replaces_id, superseded_at__isnull=True).update(superseded_at=now)
    audit(actor, document.person, DocumentAudit.DOCUMENT_VALIDATED, document=document.pk, version=document.version)
    # Ségur: the order to share goes with the validation click itself; not sending is
    # the extra click (cancel during the delay). Checked again at send time.
    if document.is_dmp_eligible and dmp_feeding_allowed(document.person):
        _queue_dmp(actor, document, DmpAction.PUBLISH, timedelta(minutes=settings.DMP_SEND_DELAY_MINUTES))
    notify("documents.new", person=document.person, actor=actor, url_for=_document_url(document), subject=document)
    return document


@transaction.atomic
def document_validate(*, actor, document: Document) -> Document:
    """Validate a draft: it is frozen from now on. A DMP-eligible document of a person who
    has not opposed feeding is queued for the DMP with a cancellable delay."""
    _require_professional_writer(actor, document.person)
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.status != DocumentStatus.DRAFT:
        raise ValidationError({"status": "Seul un brouillon peut être validé."})
    return _validate(actor, document)


@removes_files_on_failure
@transaction.atomic
def document_replace(
    *,
    actor,
    document: Document,
    upload=None,
    content: bytes | None = None,
    filename: str = "",
    title: str = "",
    document_on: date | None = None,
    validate: bool = False,
    source: str = DocumentSource.PROFESSIONAL,
) -> Document:
    """A new version of a validated document (the old one is never modified; it is marked
    replaced when the new version is validated). `source=generated` for a PDF the portal
    produced (the projet personnalisé of a new plan version)."""
    _require_professional_writer(actor, document.person)
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.status != DocumentStatus.VALIDATED or document.superseded_at is not None:
        raise ValidationError({"status": "Seule la version en vigueur d'un document validé peut être remplacée."})
    if Document.objects.filter(replaces=document).exists():
        raise ValidationError({"status": "Une nouvelle version de ce document est déjà en préparation."})
    title = title.strip() or document.title
    _check_fields(document.doc_type, title, document_on)
    if content is not None:
        upload = ContentFile(content, name=filename or "document.pdf")
    if upload is None:
        raise ValidationError({"file": "Choisissez le fichier de la nouvelle version."})
    checked = check_upload(upload, field="file")
    name = store(checked.content, folder="documents", extension=checked.extension)
    new = Document.objects.create(
        person=document.person,
        doc_type=document.doc_type,
        title=title[:200],
        document_on=document_on or timezone.localdate(),
        author=actor,
        author_structure=_author_structure(actor, document.person),
        source=source,
        file=name,
        original_name=(getattr(upload, "name", "") or "document")[:200],
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=checked.sha256,
        version=document.version + 1,
        replaces=document,
    )
    audit(
        actor,
        document.person,
        DocumentAudit.DOCUMENT_REPLACED,
        document=new.pk,
        replaces=document.pk,
        version=new.version,
        sha256=checked.sha256,
    )
    if validate:
        _validate(actor, new)
    return new


@transaction.atomic
def document_withdraw(*, actor, document: Document, reason: str) -> Document:
    """Withdraw a document (sent in error, wrong person…): the row stays, marked withdrawn.
    A DMP sending not yet gone is cancelled; one already sent is withdrawn from the DMP
    through the same outbox."""
    _require_professional_writer(actor, document.person)
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.status not in (DocumentStatus.DRAFT, DocumentStatus.VALIDATED):
        raise ValidationError({"status": "Ce document ne peut pas être retiré."})
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError({"reason": "Indiquez le motif du retrait."})
    now = timezone.now()
    document.status = DocumentStatus.WITHDRAWN
    document.withdrawn_at = now
    document.withdrawn_by = actor
    document.withdraw_reason = reason
    document.save(update_fields=["status", "withdrawn_at", "withdrawn_by", "withdraw_reason"])
    DmpShare.objects.filter(document=document, action=DmpAction.PUBLISH, status__in=DMP_WAITING_STATUSES).update(
        status=DmpShareStatus.CANCELLED, cancelled_at=now, cancelled_by=actor
    )
    if DmpShare.objects.filter(
        document=document, action=DmpAction.PUBLISH, status__in=[DmpShareStatus.SENT, DmpShareStatus.SENDING]
    ).exists():
        _queue_dmp(actor, document, DmpAction.WITHDRAW, timedelta(0))
    audit(actor, document.person, DocumentAudit.DOCUMENT_WITHDRAWN, document=document.pk, reason=reason)
    return document


@transaction.atomic
def document_review(*, actor, document: Document, accept: bool, reason: str = "") -> Document:
    """Accept a document deposited on the portal into the record, or decline it with a
    reason the person sees."""
    _require_professional_writer(actor, document.person)
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.status != DocumentStatus.TO_REVIEW:
        raise ValidationError({"status": "Ce document a déjà été examiné."})
    reason = (reason or "").strip()
    if not accept and len(reason) < MIN_REASON:
        raise ValidationError({"reason": "Indiquez le motif du refus : la personne le verra."})
    now = timezone.now()
    document.reviewed_at, document.reviewed_by = now, actor
    if accept:
        # Accepted into the record; a document the person brings is not fed to the DMP
        # by the structure (the person shares it in Mon espace santé themself).
        document.status, document.validated_at, document.validated_by = DocumentStatus.VALIDATED, now, actor
    else:
        document.status, document.decline_reason = DocumentStatus.DECLINED, reason
    document.save(
        update_fields=["status", "reviewed_at", "reviewed_by", "validated_at", "validated_by", "decline_reason"]
    )
    audit(actor, document.person, DocumentAudit.DOCUMENT_REVIEWED, document=document.pk, accepted=accept)
    notify(
        "documents.reviewed",
        person=document.person,
        actor=actor,
        recipients=[document.author],
        url=reverse("portal_space_open", args=[document.person_id, "documents"]),
        subject=document,
    )
    if accept:
        notify("documents.new", person=document.person, actor=actor, url_for=_document_url(document), subject=document)
    return document


DMP_OPPOSED = "La personne s'est opposée à l'alimentation de son DMP : le document n'y est pas envoyé."
DMP_INS_NOT_QUALIFIED = (
    "L'identité de la personne n'est pas qualifiée (INS) : le document ne peut pas être envoyé au DMP."
)


@transaction.atomic
def document_dmp_share(*, actor, document: Document) -> DmpShare:
    """Queue a validated document for the DMP outside the automatic path of its type (the
    validated projet personnalisé's PDF): the same outbox item, delay and cancellation
    as a report's. Refused (ValidationError on `dmp`) when the person opposed feeding or
    when the identity is not qualifiée (the DMP needs the INS); the opposition is checked
    again at send time. Queued twice, it is the same item."""
    _require_professional_writer(actor, document.person)
    document = Document.objects.select_for_update().select_related("person").get(pk=document.pk)
    if document.status != DocumentStatus.VALIDATED or document.superseded_at is not None:
        raise ValidationError({"dmp": "Seule la version validée en vigueur d'un document part au DMP."})
    if not dmp_feeding_allowed(document.person):
        raise ValidationError({"dmp": DMP_OPPOSED})
    if not document.person.shareable_ins:
        raise ValidationError({"dmp": DMP_INS_NOT_QUALIFIED})
    share = _queue_dmp(actor, document, DmpAction.PUBLISH, timedelta(minutes=settings.DMP_SEND_DELAY_MINUTES))
    return share or DmpShare.objects.get(idempotency_key=f"document-{document.pk}-{DmpAction.PUBLISH}")


@transaction.atomic
def dmp_share_cancel(*, actor, share: DmpShare) -> DmpShare:
    """Cancel a DMP sending during its delay (one click by the author). Settled in the
    database: a sending already claimed by the task cannot be cancelled."""
    document = share.document
    access.require(actor, document.person, Category.DOCUMENTS, "write")
    if actor.pk not in (share.created_by_id, document.author_id, document.validated_by_id):
        raise access.AccessDenied("Seul l'auteur du document peut annuler son envoi au DMP.")
    now = timezone.now()
    cancelled = DmpShare.objects.filter(pk=share.pk, action=DmpAction.PUBLISH, status__in=DMP_WAITING_STATUSES).update(
        status=DmpShareStatus.CANCELLED, cancelled_at=now, cancelled_by=actor
    )
    if not cancelled:
        raise ValidationError({"status": "Cet envoi ne peut plus être annulé : il est parti ou déjà annulé."})
    audit(actor, document.person, DocumentAudit.DOCUMENT_SHARING_CANCELLED, document=document.pk, share=share.pk)
    share.refresh_from_db()
    return share


@transaction.atomic
def document_send_mssante(
    *, actor, document: Document, recipient_address: str, recipient_label: str = ""
) -> MssanteSending:
    """Send a validated document to an MSSanté address (a professional's or a
    structure's). The message leaves after commit, from a Celery task that records the
    delivery status and retries on failure; the cover text carries no health detail."""
    _require_professional_writer(actor, document.person)
    if document.status != DocumentStatus.VALIDATED:
        raise ValidationError({"status": "Seul un document validé peut être envoyé."})
    address = (recipient_address or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"recipient_address": "Adresse MSSanté invalide."}) from None
    if not address.split("@", 1)[1].endswith("mssante.fr"):
        raise ValidationError(
            {"recipient_address": "Ce n'est pas une adresse MSSanté (elle finit par « mssante.fr »)."}
        )
    sending = MssanteSending.objects.create(
        document=document, recipient_address=address, recipient_label=recipient_label.strip()[:200], sent_by=actor
    )
    audit(
        actor,
        document.person,
        DocumentAudit.DOCUMENT_SENT,
        document=document.pk,
        sending=sending.pk,
        recipient=address,
    )

    from documents.tasks import send_mssante

    queue_after_commit(send_mssante, [sending.pk], record=last_error_recorder(MssanteSending))
    return sending
