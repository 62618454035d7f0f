"""The export's readable summary in French (a PDF/A of `common.pdf`): identity, circle,
current projet personnalisé, last transmissions, documents, who accessed the record.

It shows only the categories the gate allowed for the export (`Everything.categories`)
and reads through the same querysets as the Bundle; each list is bounded (the Bundle
holds everything, the summary the latest), so its size does not grow with the history.
"""

from __future__ import annotations

from django.utils import formats, timezone

from common.pdf import PdfDocument
from coordination import access
from coordination.models import Category, CircleMember, Profession
from interop.fhir.everything import Everything, documents_queryset, notebook_queryset
from interop.fhir.resources import transmission_text
from ppa.models import PlanVersion, VersionStatus

LAST_TRANSMISSIONS = 20
DOCUMENTS_LISTED = 200
ACCESSES_LISTED = 100
TEXT_CUT = 400


def _date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "hour"):
        return formats.date_format(timezone.localtime(value), "d/m/Y à H:i")
    return formats.date_format(value, "d/m/Y")


def _cut(text: str, size: int = TEXT_CUT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def build(everything: Everything, requester, counts: dict[str, int]) -> bytes:
    person = everything.person
    allowed = everything.categories
    doc = PdfDocument(f"Synthèse du dossier de {person.display_name}")
    doc.heading(f"Synthèse du dossier de {person.display_name}")
    doc.paragraph(_date(timezone.now()), label="Export préparé le")
    doc.paragraph(requester.get_full_name() or requester.email, label="Demandé par")
    doc.paragraph(
        "Ce document résume le dossier. Le fichier « dossier.fhir.json » de l'archive contient tout le dossier "
        "au format FHIR R4 ; les fichiers joints sont dans le dossier « fichiers »."
    )
    doc.heading("Contenu de l'archive", 2)
    doc.table(["Partie", "Éléments"], [[name, str(count)] for name, count in counts.items()], widths=[3, 1])
    missing = [label for value, label in Category.choices if value not in allowed and value in _EXPORTED]
    if missing:
        doc.paragraph("Parties non incluses, faute de droit de lecture pour le demandeur : " + ", ".join(missing) + ".")

    if Category.RECORD in allowed:
        doc.heading("Identité", 2)
        doc.paragraph(person.birth_name, label="Nom de naissance")
        if person.used_name:
            doc.paragraph(person.used_name, label="Nom utilisé")
        doc.paragraph(person.birth_first_names, label="Prénoms de naissance")
        doc.paragraph(_date(person.birth_date), label="Date de naissance")
        doc.paragraph(person.get_sex_display(), label="Sexe")
        doc.paragraph(person.get_identity_status_display(), label="Statut de l'identité")
        if person.shareable_ins:
            doc.paragraph(person.shareable_ins, label="INS (identité qualifiée)")

    if Category.CIRCLE in allowed:
        doc.heading("Cercle de santé et d'accompagnement", 2)
        members = (
            CircleMember.objects.filter(person=person)
            .exclude(professional__profession=Profession.SOFTWARE)
            .select_related("user", "structure")
            .order_by("ended_at", "started_at", "pk")
        )
        rows = [
            [
                member.display_name,
                member.get_role_display(),
                member.structure.name if member.structure_id else "",
                _date(member.started_at),
                _date(member.ended_at) if member.ended_at else "en cours",
            ]
            for member in members[:DOCUMENTS_LISTED]
        ]
        doc.table(["Membre", "Rôle", "Structure", "Entré le", "Sorti le"], rows, widths=[3, 2, 3, 2, 2])

    if Category.PPA in allowed:
        doc.heading("Projet personnalisé en vigueur", 2)
        version = (
            PlanVersion.objects.filter(plan__person=person, status=VersionStatus.VALIDATED)
            .prefetch_related("objectives")
            .first()
        )
        if version is None:
            doc.paragraph("Aucun projet personnalisé validé.")
        else:
            doc.paragraph(f"Version {version.number}, validée le {_date(version.validated_at)}.")
            if version.review_due_on:
                doc.paragraph(_date(version.review_due_on), label="Révision prévue le")
            objectives = [o.title for o in version.objectives.all()]
            if objectives:
                doc.paragraph("Objectifs :", bold=True)
                doc.bullets(objectives)

    if Category.LIAISON in allowed:
        doc.heading("Dernières transmissions", 2)
        latest = (
            notebook_queryset(everything.user, person)
            .select_related("author")
            .order_by("-observed_at", "-pk")[:LAST_TRANSMISSIONS]
        )
        rows = [
            [
                _date(t.observed_at),
                t.author.get_full_name() or t.author.email,
                t.get_category_display(),
                ("[retirée] " if t.is_withdrawn else "") + _cut(transmission_text(t)),
            ]
            for t in latest
        ]
        doc.table(["Date", "Auteur", "Catégorie", "Texte"], rows, widths=[2, 2, 2, 6], empty="Aucune transmission")

    if Category.DOCUMENTS in allowed:
        doc.heading("Documents", 2)
        documents = documents_queryset(everything.user, person).order_by("-created_at", "-pk")
        rows = [
            [_date(d.document_on or d.created_at), d.get_doc_type_display(), d.title, d.get_status_display()]
            for d in documents[:DOCUMENTS_LISTED]
        ]
        doc.table(["Date", "Type", "Titre", "État"], rows, widths=[2, 3, 5, 2])

    if everything.access_log:
        doc.heading("Qui a consulté le dossier", 2)
        entries = access.access_log_entries(person)[:ACCESSES_LISTED]
        rows = [
            [
                _date(entry.at),
                entry.user.get_full_name() or entry.user.email,
                entry.get_category_display(),
                "Modification" if entry.action == "write" else "Lecture",
                entry.get_via_display(),
            ]
            for entry in entries
        ]
        doc.table(["Date", "Qui", "Quoi", "Action", "Au titre de"], rows, widths=[2, 3, 3, 2, 2])
    return doc.render()


_EXPORTED = {
    Category.RECORD,
    Category.CIRCLE,
    Category.AGENDA,
    Category.LIAISON,
    Category.DOCUMENTS,
    Category.PPA,
}
