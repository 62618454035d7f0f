"""The projet personnalisé as documents of the person's record.

- Each validated version gets its PDF, filed as a `projet personnalisé` document
  (source generated, validated). The next version's PDF is a new version of the same
  document (the documents block's version chain), so the record shows one current
  projet personnalisé and keeps the older ones.
- The MDPH liaison sheet (`services.mdph_sheet_build`) is filed as a `fiche de liaison
  MDPH` document and, optionally, sent by MSSanté through the documents block.

When: the PDF of a version is made after the validation commits (a Celery task queued
on commit by `services._validate`), not inside the sign-off transaction. The validation
is the legal act and must not fail or wait because a PDF or the file storage fails; the
version is frozen, so its PDF is the same whenever it is made. The task is idempotent
(version row locked, one document per version by a unique link) and retries; a
professional may also file it from the version page if it is missing.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone

from common.pdf import PdfDocument
from coordination import access, rules
from coordination.models import Category, CircleMember, MemberKind, StructureKind
from coordination.services import audit
from documents import services as document_services
from documents.models import Document, DocumentSource, DocumentStatus, DocumentType, MssanteSending
from ppa import services
from ppa.audit_types import PlanAudit
from ppa.models import EXPECTATION_FIELDS, PlanVersion, SignOffRole, VersionStatus


def _date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return formats.date_format(value, "d/m/Y à H:i")
    return formats.date_format(value, "d/m/Y")


def _identity(doc: PdfDocument, identity: dict, structure: str) -> None:
    doc.heading("Identité de la personne", 2)
    doc.paragraph(identity["birth_name"], label="Nom de naissance")
    if identity["used_name"]:
        doc.paragraph(identity["used_name"], label="Nom utilisé")
    doc.paragraph(identity["first_names"], label="Prénoms")
    doc.paragraph(_date(identity["birth_date"]), label="Date de naissance")
    doc.paragraph(identity["sex"], label="Sexe")
    if identity["ins"]:  # only when the identity is qualifiée (mdph_sheet_build says so)
        doc.paragraph(identity["ins"], label="INS (identité qualifiée)")
    if structure:
        doc.paragraph(structure, label="Structure référente")


def _period(starts_on, ends_on) -> str:
    if starts_on and ends_on:
        return f"Du {_date(starts_on)} au {_date(ends_on)}"
    if starts_on:
        return f"À partir du {_date(starts_on)}"
    return f"Jusqu'au {_date(ends_on)}" if ends_on else ""


def _plan_body(doc: PdfDocument, sheet: dict) -> None:
    """Needs, objectives and actions, each as a table (one row per item)."""
    doc.heading("Besoins évalués (SERAFIN-PH)", 2)
    doc.table(
        ["Code", "Besoin", "Précisions"],
        [[n["code"], n["label"], n["description"]] for n in sheet["needs"]],
        widths=[1.1, 3.4, 4.5],
        empty="Aucun",
    )
    doc.heading("Objectifs", 2)
    doc.table(
        ["Objectif", "État", "Échéance", "Indicateur de réussite"],
        [[o["title"], o["status"], _date(o["target_on"]), o["indicator"]] for o in sheet["objectives"]],
        widths=[3.2, 1.8, 1.4, 3.1],
        empty="Aucun",
    )
    doc.heading("Modalités d'accompagnement", 2)
    doc.table(
        ["Modalité", "Qui", "Prestation (SERAFIN-PH)", "Rythme", "Période"],
        [
            [a["title"], a["who"], a["service"], a["schedule"], _period(a["starts_on"], a["ends_on"])]
            for a in sheet["actions"]
        ],
        widths=[2.2, 2.0, 2.5, 2.0, 1.7],
        empty="Aucune",
    )


def plan_pdf(version: PlanVersion) -> bytes:
    """The PDF of a plan version, in plain French: identity (INS only when qualifiée),
    expectations, needs with their SERAFIN-PH codes, objectives, actions, resources and
    remarks, sign-offs with their dates, version number and amendment reason."""
    sheet = services.mdph_sheet_build(version)
    version = PlanVersion.objects.select_related("plan__person").prefetch_related("sign_offs__user").get(pk=version.pk)
    person = version.plan.person
    doc = PdfDocument(
        f"Projet personnalisé de {person.display_name} — version {version.number}",
        created_at=version.validated_at or timezone.now(),
    )
    doc.heading(f"Projet personnalisé d'accompagnement de {person.display_name}")
    status = f"Version {version.number}"
    if version.validated_at:
        status += f", validée le {_date(timezone.localdate(version.validated_at))}"
    doc.paragraph(status + ".", bold=True)
    if version.review_due_on:
        doc.paragraph(f"Prochaine révision prévue au plus tard le {_date(version.review_due_on)}.")
    if version.amendment_reason:
        doc.paragraph(version.amendment_reason, label=f"Avenant à la version {version.number - 1}. Motif")
    _identity(doc, sheet["identity"], sheet["structure"])
    doc.heading("Attentes de la personne, dans ses mots", 2)
    labels = {name: PlanVersion._meta.get_field(name).verbose_name for name in EXPECTATION_FIELDS}
    said = [
        (labels[name].capitalize(), sheet["expectations"][name])
        for name in EXPECTATION_FIELDS
        if sheet["expectations"][name].strip()
    ]
    for label, text in said:
        doc.paragraph(text, label=label)
    if not said:
        doc.paragraph("Non renseignées.")
    _plan_body(doc, sheet)
    for title, text in (("Ressources", version.resources), ("Remarques", version.remarks)):
        if text.strip():
            doc.heading(title, 2)
            doc.paragraph(text)
    doc.heading("Signatures", 2)
    signs = []
    for sign_off in version.sign_offs.all():
        who = sign_off.user.get_full_name() or sign_off.user.email
        role = SignOffRole(sign_off.role).label
        if sign_off.is_legal_representative:
            role += " (représentant légal)"
        signs.append(f"{role} : {who}, le {_date(sign_off.signed_at)}")
    doc.bullets(signs or ["Pas encore signé"])
    return doc.render()


def _filing_actor(version: PlanVersion):
    """Who files the validated version's PDF: the referent who signed it (a professional)."""
    sign_off = version.sign_offs.filter(role=SignOffRole.REFERENT).select_related("user").first()
    return sign_off.user if sign_off else None


def _chain_head(document: Document) -> Document:
    while True:
        nxt = Document.objects.filter(replaces=document).first()
        if nxt is None:
            return document
        document = nxt


@transaction.atomic
def plan_document_file(*, actor, version: PlanVersion) -> Document:
    """File the PDF of a validated (or since superseded) version as the person's
    `projet personnalisé` document (validated, source generated). Idempotent: a version
    has at most one document (its row is locked, the link is unique); a later version's
    PDF is filed as a new version of the previous version's document."""
    version = PlanVersion.objects.select_for_update().select_related("plan__person").get(pk=version.pk)
    person = version.plan.person
    access.require(actor, person, Category.PPA, "read")
    if version.document_id:
        return version.document
    if version.status not in (VersionStatus.VALIDATED, VersionStatus.SUPERSEDED):
        raise ValidationError("Seule une version validée du projet est déposée dans les documents.")
    content = plan_pdf(version)
    title = f"Projet personnalisé — version {version.number}"
    filename = f"projet-personnalise-v{version.number}.pdf"
    on = timezone.localdate(version.validated_at) if version.validated_at else None
    previous = (
        PlanVersion.objects.filter(plan=version.plan, number__lt=version.number, document__isnull=False)
        .select_related("document")
        .order_by("-number")
        .first()
    )
    head = _chain_head(previous.document) if previous else None
    if (
        head is not None
        and head.status == DocumentStatus.VALIDATED
        and head.superseded_at is None
        and head.doc_type == DocumentType.CARE_PLAN
    ):
        document = document_services.document_replace(
            actor=actor,
            document=head,
            content=content,
            filename=filename,
            title=title,
            document_on=on,
            validate=True,
            source=DocumentSource.GENERATED,
        )
    else:
        document = document_services.document_create(
            actor=actor,
            person=person,
            doc_type=DocumentType.CARE_PLAN,
            title=title,
            content=content,
            filename=filename,
            document_on=on,
            source=DocumentSource.GENERATED,
            validate=True,
        )
    version.document = document
    version.save(update_fields=["document"])
    if version.status == VersionStatus.VALIDATED:
        _share_with_dmp(actor, version, document)
    return document


def _share_with_dmp(actor, version: PlanVersion, document: Document) -> None:
    """Seed 003: the validated plan feeds the DMP. Through the documents' outbox (delay,
    cancellation, the person's opposition, a qualified INS); a refusal is recorded, it
    never stops the filing."""
    try:
        document_services.document_dmp_share(actor=actor, document=document)
    except ValidationError as error:
        reason = " ".join(error.message_dict.get("dmp", error.messages))
        audit(actor, version.plan.person, PlanAudit.PLAN_DMP_REFUSED, version=version.pk, reason=reason)
    except access.AccessDenied:
        audit(actor, version.plan.person, PlanAudit.PLAN_DMP_REFUSED, version=version.pk, reason="droit manquant")


def plan_document_file_after_validation(version_id: int) -> Document | None:
    """The task's work: file the PDF as the referent who signed. None when that referent
    may not write documents (a professional with the right files it from the page)."""
    version = PlanVersion.objects.filter(pk=version_id).first()
    if version is None or version.status not in (VersionStatus.VALIDATED, VersionStatus.SUPERSEDED):
        return None
    if version.document_id:
        return version.document
    actor = _filing_actor(version)
    if actor is None:
        return None
    try:
        return plan_document_file(actor=actor, version=version)
    except access.AccessDenied:
        return None


# --- MDPH liaison sheet -------------------------------------------------------------------


def mdph_sheet_pdf(sheet: dict, person_name: str) -> bytes:
    doc = PdfDocument(f"Fiche de liaison MDPH — {person_name}", created_at=sheet["prepared_at"])
    doc.heading("Fiche de liaison MDPH")
    doc.paragraph(f"Préparée le {_date(timezone.localdate(sheet['prepared_at']))}.")
    _identity(doc, sheet["identity"], sheet["structure"])
    doc.heading("Changement d'accompagnement demandé", 2)
    doc.paragraph(sheet["change"])
    doc.paragraph(sheet["reason"], label="Pourquoi")
    version = sheet["version"]
    heading = f"Projet personnalisé en vigueur (version {version['number']}"
    if version["validated_at"]:
        heading += f", validée le {_date(timezone.localdate(version['validated_at']))}"
    doc.heading(heading + ")", 2)
    _plan_body(doc, sheet)
    return doc.render()


def mdph_address(person) -> str:
    """The MSSanté address of the MDPH structure in the person's circle, if any."""
    member = (
        CircleMember.objects.filter(
            person=person, kind=MemberKind.STRUCTURE, ended_at__isnull=True, structure__kind=StructureKind.MDPH
        )
        .exclude(structure__mssante_address="")
        .select_related("structure")
        .first()
    )
    return member.structure.mssante_address if member else ""


@transaction.atomic
def mdph_sheet_file(
    *, actor, version: PlanVersion, change: str, reason: str, recipient_address: str = ""
) -> tuple[Document, MssanteSending | None]:
    """File the MDPH liaison sheet of `version` as a validated `fiche de liaison MDPH`
    document (a professional with `ppa` write and `documents` write) and, with an
    address, send it by MSSanté (after commit, by the documents block; the cover text
    carries no health detail). All or nothing: a bad address files nothing."""
    version = PlanVersion.objects.select_related("plan__person").get(pk=version.pk)
    person = version.plan.person
    access.require(actor, person, Category.PPA, "write")
    if not rules.is_professional(actor):
        raise access.AccessDenied("La fiche de liaison MDPH est préparée par un professionnel.")
    access.require(actor, person, Category.DOCUMENTS, "write")
    if not (change or "").strip():
        raise ValidationError({"change": "Décrivez le changement d'accompagnement demandé."})
    if not (reason or "").strip():
        raise ValidationError({"reason": "Dites pourquoi ce changement est demandé."})
    sheet = services.mdph_sheet_build(version, change=change, reason=reason)
    content = mdph_sheet_pdf(sheet, person.display_name)
    document = document_services.document_create(
        actor=actor,
        person=person,
        doc_type=DocumentType.MDPH_SHEET,
        title=f"Fiche de liaison MDPH — projet version {version.number}",
        content=content,
        filename="fiche-liaison-mdph.pdf",
        source=DocumentSource.GENERATED,
        validate=True,
    )
    sending = None
    if (recipient_address or "").strip():
        sending = document_services.document_send_mssante(
            actor=actor, document=document, recipient_address=recipient_address, recipient_label="MDPH"
        )
    return document, sending
