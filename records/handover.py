"""Hand-over to another structure: the référent of a structure that ends its
accompaniment by a transfer sends the record's summary (the export's PDF) and the
documents chosen to the receiving structure's MSSanté address, through the documents
block's MSSanté sending, with the person's agreement recorded; then the accompaniment
ends with the reason "transfert".

What travels by MSSanté is what the documents block may send: PDFs and images (the
summary filed as a document of the record, and validated documents). The FHIR Bundle
of the export is not sent this way: the receiving structure's software reads it through
`$everything` once the person is in its care.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from coordination import access, rules
from coordination.models import Accompaniment, CollectionMethod, Structure, TeamMembership, TeamRole
from coordination.services import accompaniment_end, audit
from documents import selectors as document_selectors
from documents import services as document_services
from documents.models import Document, DocumentSource, DocumentStatus, DocumentType
from interop.fhir import everything as everything_operation
from records import summary
from records.audit_types import RecordsAudit
from records.models import HandOver

TRANSFER_REASON = "transfert"


def require_referent(user, accompaniment: Accompaniment) -> None:
    """A référent of the structure whose accompaniment it is, while it runs; else 404."""
    if not TeamMembership.objects.filter(
        professional__user=user,
        structure=accompaniment.structure,
        role=TeamRole.REFERENT,
        ended_on__isnull=True,
    ).exists():
        raise access.AccessDenied("Seul un référent de la structure peut transmettre le dossier.")


def sendable_documents(user, person):
    """The validated, current documents the référent may send."""
    return (
        Document.objects.filter(person=person, status=DocumentStatus.VALIDATED, superseded_at__isnull=True)
        .filter(pk__in=document_selectors.documents_of(user, person).values("pk"))
        .order_by("-document_on", "-pk")
    )


@transaction.atomic
def handover_send(
    *,
    actor,
    accompaniment: Accompaniment,
    to_structure: Structure,
    agreement_via: str,
    with_summary: bool = True,
    documents=(),
) -> HandOver:
    """End the accompaniment by a transfer and send the chosen parts of the record.
    Refused (nothing changes) without the person's agreement, without a receiving
    structure that has an MSSanté address, or with nothing to send."""
    person = accompaniment.person
    if accompaniment.ended_on is not None:
        raise ValidationError({"accompaniment": "Cet accompagnement est déjà terminé."})
    require_referent(actor, accompaniment)
    errors = {}
    if agreement_via not in CollectionMethod.values:
        errors["agreement_via"] = "Indiquez comment la personne a donné son accord à la transmission."
    if to_structure.pk == accompaniment.structure_id:
        errors["to_structure"] = "Choisissez une autre structure que la vôtre."
    elif not to_structure.mssante_address:
        errors["to_structure"] = "Cette structure n'a pas d'adresse MSSanté : le dossier ne peut pas lui être envoyé."
    chosen = list(sendable_documents(actor, person).filter(pk__in=[d.pk for d in documents]))
    if len(chosen) != len(list(documents)):
        errors["documents"] = "Un des documents choisis ne peut pas être envoyé."
    if not with_summary and not chosen:
        errors["documents"] = "Choisissez au moins la synthèse ou un document."
    if errors:
        raise ValidationError(errors)
    sent = list(chosen)
    if with_summary:
        found = everything_operation.gather(actor, person.pk, path=f"/dossier-complet/personnes/{person.pk}/transfert/")
        pdf = summary.build(found, actor, {part.name: part.count() for part in found.parts})
        sent.insert(
            0,
            document_services.document_create(
                actor=actor,
                person=person,
                doc_type=DocumentType.LIAISON_LETTER,
                title=f"Synthèse du dossier transmise à {to_structure.name}"[:200],
                content=pdf,
                filename="synthese-du-dossier.pdf",
                source=DocumentSource.GENERATED,
                validate=True,
            ),
        )
    for document in sent:
        document_services.document_send_mssante(
            actor=actor,
            document=document,
            recipient_address=to_structure.mssante_address,
            recipient_label=to_structure.name,
        )
    handover = HandOver.objects.create(
        person=person,
        from_structure=accompaniment.structure,
        to_structure=to_structure,
        recipient_address=to_structure.mssante_address,
        sent_by=actor,
        sent_at=timezone.now(),
        agreement_via=agreement_via,
        document_ids=[d.pk for d in sent],
    )
    audit(
        actor,
        person,
        RecordsAudit.HANDOVER_SENT,
        handover=handover.pk,
        to_structure=to_structure.pk,
        documents=[d.pk for d in sent],
        agreement_via=agreement_via,
    )
    accompaniment_end(actor=actor, accompaniment=accompaniment, reason=f"{TRANSFER_REASON} vers {to_structure.name}")
    return handover


def ongoing_accompaniment(user, person) -> Accompaniment | None:
    """The running accompaniment of a structure of which `user` is a référent."""
    structures = rules.team_memberships_in_force(user).filter(role=TeamRole.REFERENT).values("structure_id")
    return (
        Accompaniment.objects.filter(person=person, ended_on__isnull=True, structure__in=structures)
        .select_related("structure", "person")
        .first()
    )
