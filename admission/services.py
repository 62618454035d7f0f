"""Writes of the admission block. Each service is atomic, checks who may act, writes its
audit row in the same transaction and uses the kernel's services for the circle (the
accompaniment and the team's memberships with their defaults) — never its tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from admission import invitations, selectors
from admission.audit_types import AdmissionAudit
from admission.models import (
    OPEN_STATUSES,
    AdmissionAttachment,
    AdmissionCopy,
    AdmissionEvent,
    AdmissionRequest,
    AdmissionStatus,
    AgreementVia,
    IdentityReview,
    IdentityReviewStatus,
    Offer,
    RequesterKind,
)
from common.notify import notify
from coordination import access, rules
from coordination import services as coordination
from coordination.identifiers import normalize_ins
from coordination.models import Accompaniment, Category, Person, Structure
from documents import uploads
from reference.models import SerafinCode, SerafinKind

# --- Taking a person in ------------------------------------------------------------------------


class EndKind:
    EXIT = "exit"
    TRANSFER = "transfer"
    DEATH = "death"
    END_OF_CARE = "end_of_care"
    OTHER = "other"

    choices = [
        (EXIT, "Sortie (retour à domicile, fin de séjour)"),
        (TRANSFER, "Transfert vers une autre structure"),
        (DEATH, "Décès"),
        (END_OF_CARE, "Fin de la prise en charge"),
        (OTHER, "Autre motif"),
    ]
    labels = dict(choices)


@dataclass(frozen=True)
class Invitee:
    """A carer or legal representative to invite to the user portal (empty relationship: the person)."""

    email: str
    relationship: str = ""


@dataclass
class AdmitResult:
    person: Person
    accompaniment: Accompaniment
    invited: list[str]
    not_invited: list[str]


def _require_admitting(actor, structure: Structure) -> None:
    if not selectors.admits_for(actor, structure):
        raise access.AccessDenied(
            "Seuls les administrateurs, référents, secrétaires et la direction de la structure "
            "peuvent y faire entrer une personne."
        )


def _send_invitations(actor, person: Person, invitees: Iterable[Invitee]) -> tuple[list[str], list[str]]:
    """Invite after the person exists; an invitation the sender refuses (the actor lacks the
    `circle` write, a secretary by default) is reported, never breaks the admission."""
    invited, not_invited = [], []
    for invitee in invitees:
        if not invitee.email:
            continue
        try:
            with transaction.atomic():
                invitations.invite(actor=actor, person=person, email=invitee.email, relationship=invitee.relationship)
        except (ValidationError, access.AccessDenied, Http404):
            not_invited.append(invitee.email)
        else:
            invited.append(invitee.email)
    return invited, not_invited


@transaction.atomic
def person_admit(
    *,
    actor,
    structure: Structure,
    started_on: date | None = None,
    invitees: Sequence[Invitee] = (),
    confirm_new: bool = False,
    **traits,
) -> AdmitResult:
    """Take a new person in: create the person (traits validated by the kernel), start the
    structure's accompaniment (its team enters the circle with its role defaults) and send
    the portal invitations.

    Refused — nothing created — when the actor does not take persons in for the structure,
    or when a possible duplicate exists: one the actor may see unless `confirm_new`, one
    they may not see always (`identity_review_ask` sends it to an administrator)."""
    _require_admitting(actor, structure)
    if traits.get("ins_matricule"):
        traits["ins_matricule"] = normalize_ins(traits["ins_matricule"])
    duplicates = selectors.find_duplicates(
        actor,
        ins_matricule=traits.get("ins_matricule", ""),
        birth_name=traits.get("birth_name", ""),
        birth_date=traits.get("birth_date"),
        sex=traits.get("sex", ""),
        birth_place_insee=traits.get("birth_place_insee", ""),
    )
    if duplicates.hidden:
        raise ValidationError({"__all__": HIDDEN_DUPLICATE})
    if duplicates.visible and not confirm_new:
        raise ValidationError({"__all__": "Cette personne est peut-être déjà connue : vérifiez avant de la créer."})
    started_on = started_on or timezone.localdate()
    if started_on > timezone.localdate() + timedelta(days=365):
        raise ValidationError({"started_on": "Début de l'accompagnement : au plus tard dans un an."})
    person = coordination.person_create(actor=actor, **traits)
    accompaniment = coordination.accompaniment_start(
        actor=actor, person=person, structure=structure, started_on=started_on
    )
    coordination.audit(actor, person, AdmissionAudit.PERSON_ADMITTED, structure=structure.pk, new_person=True)
    invited, not_invited = _send_invitations(actor, person, invitees)
    return AdmitResult(person=person, accompaniment=accompaniment, invited=invited, not_invited=not_invited)


HIDDEN_DUPLICATE = (
    "Une personne dont l'identité ressemble à celle-ci est déjà connue du portail, mais vous n'y avez pas "
    "accès. Transmettez la demande à un administrateur : il vérifiera l'identité et fera le rattachement."
)


@transaction.atomic
def person_link(
    *, actor, structure: Structure, person: Person, started_on: date | None = None, invitees: Sequence[Invitee] = ()
) -> AdmitResult:
    """Take in a person already known (a duplicate the actor may see): the structure's
    accompaniment starts, its team enters the circle; no second person is created."""
    _require_admitting(actor, structure)
    access.require(actor, person, Category.RECORD, "read")
    accompaniment = coordination.accompaniment_start(
        actor=actor, person=person, structure=structure, started_on=started_on or timezone.localdate()
    )
    coordination.audit(actor, person, AdmissionAudit.PERSON_ADMITTED, structure=structure.pk, new_person=False)
    invited, not_invited = _send_invitations(actor, person, invitees)
    return AdmitResult(person=person, accompaniment=accompaniment, invited=invited, not_invited=not_invited)


@transaction.atomic
def identity_review_ask(*, actor, structure: Structure, started_on: date | None = None, **traits) -> IdentityReview:
    """The possible duplicate is outside the actor's reach: an administrator decides.
    The candidate is recorded for the administrator only."""
    _require_admitting(actor, structure)
    traits = {key: value for key, value in traits.items() if value not in (None, "")}
    duplicates = selectors.find_duplicates(
        actor,
        ins_matricule=traits.get("ins_matricule", ""),
        birth_name=traits.get("birth_name", ""),
        birth_date=traits.get("birth_date"),
        sex=traits.get("sex", ""),
        birth_place_insee=traits.get("birth_place_insee", ""),
    )
    if not duplicates.hidden:
        raise ValidationError({"__all__": "Aucune personne inaccessible ne ressemble à cette identité."})
    review = IdentityReview.objects.create(
        structure=structure,
        requested_by=actor,
        candidate=duplicates.hidden[0],
        traits={key: str(value) for key, value in traits.items()},
        started_on=started_on or timezone.localdate(),
    )
    coordination.audit(actor, None, AdmissionAudit.IDENTITY_REVIEW_ASKED, review=review.pk, structure=structure.pk)
    return review


@transaction.atomic
def identity_review_decide(*, actor, review: IdentityReview, is_same_person: bool, note: str = "") -> IdentityReview:
    """A portal administrator (staff) decides: the same person (the structure's
    accompaniment starts on them) or another one (the person is created as typed)."""
    if not getattr(actor, "is_staff", False):
        raise access.AccessDenied("Seul un administrateur du portail examine les doublons possibles.")
    review = IdentityReview.objects.select_for_update().get(pk=review.pk)
    if review.status != IdentityReviewStatus.PENDING:
        raise ValidationError({"status": "Ce doublon possible a déjà été examiné."})
    if is_same_person:
        coordination.accompaniment_start(
            actor=actor, person=review.candidate, structure=review.structure, started_on=review.started_on
        )
        review.status = IdentityReviewStatus.LINKED
    else:
        person = coordination.person_create(actor=actor, **review.traits)
        coordination.accompaniment_start(
            actor=actor, person=person, structure=review.structure, started_on=review.started_on
        )
        review.status = IdentityReviewStatus.DISMISSED
    review.decided_at = timezone.now()
    review.decided_by = actor
    review.note = note
    review.save(update_fields=["status", "decided_at", "decided_by", "note"])
    coordination.audit(actor, None, AdmissionAudit.IDENTITY_REVIEW_DECIDED, review=review.pk, status=review.status)
    return review


@transaction.atomic
def accompaniment_close(
    *, actor, accompaniment: Accompaniment, ended_on: date, kind: str, detail: str = ""
) -> Accompaniment:
    """End a structure's accompaniment (exit, transfer, death…): the structure and its
    team's default memberships leave the circle (the kernel's `accompaniment_end`)."""
    accompaniment = (
        Accompaniment.objects.select_for_update().select_related("person", "structure").get(pk=accompaniment.pk)
    )
    _require_admitting(actor, accompaniment.structure)
    access.require(actor, accompaniment.person, Category.RECORD, "read")
    if accompaniment.ended_on is not None:
        raise ValidationError({"ended_on": "Cet accompagnement est déjà terminé."})
    if kind not in EndKind.labels:
        raise ValidationError({"kind": "Motif de fin : choisissez dans la liste."})
    if kind == EndKind.OTHER and not detail.strip():
        raise ValidationError({"detail": "Précisions : indiquez le motif de fin."})
    if ended_on is None:
        raise ValidationError({"ended_on": "Date de fin : indiquez-la."})
    if ended_on > timezone.localdate():
        raise ValidationError({"ended_on": "Date de fin : elle ne peut pas être dans le futur."})
    if ended_on < accompaniment.started_on:
        raise ValidationError({"ended_on": "Date de fin : elle ne peut pas précéder le début de l'accompagnement."})
    reason = EndKind.labels[kind] + (f" — {detail.strip()}" if detail.strip() else "")
    coordination.accompaniment_end(actor=actor, accompaniment=accompaniment, reason=reason[:200], ended_on=ended_on)
    return accompaniment


# --- The offer ---------------------------------------------------------------------------------------

OFFER_FIELDS = (
    "department",
    "postcode",
    "city",
    "serves_disability",
    "serves_older",
    "age_min",
    "age_max",
    "conditions",
    "capacity",
    "places_available",
    "waiting_list_length",
    "how_to_apply",
    "contact_email",
    "contact_phone",
    "accepts_requests",
    "is_published",
)
AVAILABILITY_FIELDS = ("capacity", "places_available", "waiting_list_length")


@transaction.atomic
def offer_save(*, actor, structure: Structure, services: Iterable[SerafinCode] | None = None, **fields) -> Offer:
    """A structure administrator keeps the structure's offer up to date. The date of the
    availability figures moves when one of them changes; the audit row keeps the old values."""
    if not (getattr(actor, "is_staff", False) or rules.administers_structure(actor, structure)):
        raise access.AccessDenied("Seul un administrateur de la structure met à jour son offre.")
    unknown = set(fields) - set(OFFER_FIELDS)
    if unknown:
        raise ValueError(f"not offer fields: {sorted(unknown)}")
    offer = Offer.objects.select_for_update().filter(structure=structure).first() or Offer(structure=structure)
    before = {name: getattr(offer, name) for name in fields}
    for name, value in fields.items():
        setattr(offer, name, value)
    if offer.places_available is not None and offer.capacity is not None and offer.places_available > offer.capacity:
        raise ValidationError({"places_available": "Places disponibles : pas plus que la capacité."})
    changed = {name: [str(before[name]), str(fields[name])] for name in fields if before[name] != fields[name]}
    created = offer.pk is None
    if services is not None:
        services = list(services)
        if any(code.kind != SerafinKind.SERVICE for code in services):
            raise ValidationError({"services": "Prestations : choisissez des prestations directes SERAFIN-PH."})
        old_codes = set() if created else set(offer.services.values_list("code", flat=True))
        new_codes = {code.code for code in services}
        if old_codes != new_codes:
            changed["services"] = [sorted(old_codes), sorted(new_codes)]
    if not created and not changed:
        return offer  # nothing to record: the same offer saved again
    if created or any(name in changed for name in AVAILABILITY_FIELDS):
        offer.availability_updated_on = timezone.localdate()
    offer.updated_at = timezone.now()
    offer.full_clean(exclude=["structure"])
    offer.save()
    if services is not None:
        offer.services.set(services)
    coordination.audit(actor, None, AdmissionAudit.OFFER_UPDATED, structure=structure.pk, changes=changed)
    return offer


@transaction.atomic
def offer_availability_update(
    *, actor, offer: Offer, places_available: int | None, waiting_list_length: int | None
) -> Offer:
    """The figures that change every week, on their own."""
    return offer_save(
        actor=actor,
        structure=offer.structure,
        places_available=places_available,
        waiting_list_length=waiting_list_length,
    )


# --- Admission requests ---------------------------------------------------------------------------


def requester_kind(actor, person: Person) -> str:
    """As whom `actor` asks for the person's admission; Http404 when they may not ask
    (the person's existence is not disclosed). A professional must read the record."""
    if person.user_id == actor.pk:
        return RequesterKind.PERSON
    if rules.is_legal_representative(actor, person):
        return RequesterKind.LEGAL_REPRESENTATIVE
    if rules.is_person_side(actor, person):
        return RequesterKind.CARER
    if rules.is_professional(actor):
        access.require(actor, person, Category.RECORD, "read")
        return RequesterKind.PROFESSIONAL
    raise Http404


def _add_attachments(actor, admission_request: AdmissionRequest, attachments) -> list[AdmissionAttachment]:
    """Each document checked by content like every upload; the first refusal refuses all."""
    checked = []
    for title, upload in attachments:
        title = (title or getattr(upload, "name", "") or "Document").strip()[:200]
        checked.append((title, uploads.check_upload(upload, field="documents")))
    rows = []
    for title, file in checked:
        name = uploads.store(file.content, folder="admission", extension=file.extension)
        rows.append(
            AdmissionAttachment.objects.create(
                request=admission_request,
                title=title,
                file=name,
                content_type=file.content_type,
                sha256=file.sha256,
                size=len(file.content),
                uploaded_by=actor,
            )
        )
    return rows


def _copy_url_for_requester(copy: AdmissionCopy) -> str:
    return reverse("admission:my_request", args=[copy.request_id])


def _copy_url_for_staff(copy: AdmissionCopy) -> str:
    return reverse("admission:copy", args=[copy.pk])


def _staff_of(structure: Structure):
    """The structure's admission staff today (who are told of a request or an answer)."""
    return (
        get_user_model()
        .objects.filter(
            professional__is_active=True,
            professional__team_memberships__structure=structure,
            professional__team_memberships__ended_on__isnull=True,
        )
        .filter(
            Q(professional__team_memberships__is_structure_admin=True)
            | Q(professional__team_memberships__role__in=selectors.ADMISSION_ROLES)
        )
        .distinct()
    )


def _record_event(copy: AdmissionCopy, *, actor, status: str, previous: str, message: str = "", answer=False):
    return AdmissionEvent.objects.create(
        copy=copy, status=status, previous_status=previous, message=message, is_requester_answer=answer, by=actor
    )


@transaction.atomic
def create_request(
    *,
    actor,
    person: Person,
    structures: Sequence[Structure],
    message: str,
    needs: Iterable[SerafinCode] = (),
    mdph_reference: str = "",
    mdph_decided_on: date | None = None,
    mdph_valid_until: date | None = None,
    agreement_via: str = "",
    agreement_note: str = "",
    attachments: Iterable[tuple[str, object]] = (),
    source: str = "portal",
) -> AdmissionRequest:
    """Send an admission request for `person` to one or several structures.

    `actor` is the person, a carer or legal representative, or a professional who reads
    the person's record (then `agreement_via` records the person's agreement). Each
    structure gets its own copy (status "sent"), which its admission staff may read
    through the gate's "admission" scope while it is open; they are notified.
    `attachments` are (title, uploaded file) pairs, checked by content like every upload.
    `source` says where the request comes from ("portal", "pro", "api", "evaluation"…).
    Refused with a French message naming the field, nothing stored, when a structure
    takes no request, already has an open one for the person, or a field is wrong."""
    kind = requester_kind(actor, person)
    errors: dict[str, str] = {}
    if kind == RequesterKind.PROFESSIONAL and agreement_via not in (AgreementVia.ORAL, AgreementVia.WRITTEN):
        errors["agreement_via"] = "Accord de la personne : indiquez comment elle a donné son accord."
    if agreement_via and agreement_via not in AgreementVia.values:
        errors["agreement_via"] = "Accord de la personne : choix invalide."
    if not (message or "").strip():
        errors["message"] = "Présentation de la demande : dites en quelques phrases ce que vous demandez."
    structures = list(dict.fromkeys(structures))
    if not structures:
        errors["structures"] = "Structures : choisissez au moins une structure."
    if mdph_decided_on and mdph_valid_until and mdph_valid_until < mdph_decided_on:
        errors["mdph_valid_until"] = "Validité de la décision MDPH : elle ne peut pas précéder la décision."
    needs = list(needs)
    if any(code.kind != SerafinKind.NEED for code in needs):
        errors["needs"] = "Besoins : choisissez des besoins de la nomenclature SERAFIN-PH."
    if structures:
        taking = set(
            Offer.objects.filter(
                structure__in=structures, is_published=True, accepts_requests=True, structure__is_active=True
            ).values_list("structure_id", flat=True)
        )
        closed = [s.name for s in structures if s.pk not in taking]
        if closed:
            errors["structures"] = f"Structures : {', '.join(closed)} ne reçoit pas de demande sur le portail."
        already = list(
            AdmissionCopy.objects.filter(
                request__person=person, structure__in=structures, status__in=OPEN_STATUSES
            ).values_list("structure__name", flat=True)
        )
        if already:
            errors["structures"] = f"Structures : une demande est déjà en cours auprès de {', '.join(already)}."
    if errors:
        raise ValidationError(errors)
    admission_request = AdmissionRequest.objects.create(
        person=person,
        created_by=actor,
        requester_kind=kind,
        agreement_via=agreement_via,
        agreement_note=agreement_note.strip()[:300],
        mdph_reference=mdph_reference.strip(),
        mdph_decided_on=mdph_decided_on,
        mdph_valid_until=mdph_valid_until,
        message=message.strip(),
        source=source,
    )
    admission_request.needs.set(needs)
    _add_attachments(actor, admission_request, attachments)
    now = timezone.now()
    for structure in structures:
        copy = AdmissionCopy.objects.create(
            request=admission_request,
            structure=structure,
            access_until=now + timedelta(days=settings.ADMISSION_FILE_ACCESS_DAYS),
            created_at=now,
            updated_at=now,
        )
        _record_event(copy, actor=actor, status=AdmissionStatus.SENT, previous="")
        notify(
            "admission.request_received",
            person=None,
            actor=actor,
            recipients=_staff_of(structure),
            url=_copy_url_for_staff(copy),
            subject=copy,
        )
    coordination.audit(
        actor,
        person,
        AdmissionAudit.REQUEST_SENT,
        request=admission_request.pk,
        structures=[s.pk for s in structures],
        source=source,
    )
    return admission_request


# Who may move a copy to which status (the structure's staff).
STAFF_TRANSITIONS: dict[str, frozenset[str]] = {
    AdmissionStatus.SENT: frozenset(
        {
            AdmissionStatus.RECEIVED,
            AdmissionStatus.UNDER_REVIEW,
            AdmissionStatus.INFO_REQUESTED,
            AdmissionStatus.WAITING_LIST,
            AdmissionStatus.ACCEPTED,
            AdmissionStatus.REFUSED,
        }
    ),
    AdmissionStatus.RECEIVED: frozenset(
        {
            AdmissionStatus.UNDER_REVIEW,
            AdmissionStatus.INFO_REQUESTED,
            AdmissionStatus.WAITING_LIST,
            AdmissionStatus.ACCEPTED,
            AdmissionStatus.REFUSED,
        }
    ),
    AdmissionStatus.UNDER_REVIEW: frozenset(
        {
            AdmissionStatus.INFO_REQUESTED,
            AdmissionStatus.WAITING_LIST,
            AdmissionStatus.ACCEPTED,
            AdmissionStatus.REFUSED,
        }
    ),
    AdmissionStatus.INFO_REQUESTED: frozenset(
        {AdmissionStatus.UNDER_REVIEW, AdmissionStatus.WAITING_LIST, AdmissionStatus.ACCEPTED, AdmissionStatus.REFUSED}
    ),
    AdmissionStatus.WAITING_LIST: frozenset(
        {
            AdmissionStatus.UNDER_REVIEW,
            AdmissionStatus.INFO_REQUESTED,
            AdmissionStatus.WAITING_LIST,
            AdmissionStatus.ACCEPTED,
            AdmissionStatus.REFUSED,
        }
    ),
    AdmissionStatus.ACCEPTED: frozenset({AdmissionStatus.WAITING_LIST, AdmissionStatus.REFUSED}),
}


def _notify_requester(copy: AdmissionCopy, actor) -> None:
    notify(
        "admission.status_changed",
        person=copy.request.person,
        actor=actor,
        recipients=[copy.request.created_by],
        url=_copy_url_for_requester(copy),
        subject=copy,
    )


def _lock(copy: AdmissionCopy) -> AdmissionCopy:
    return (
        AdmissionCopy.objects.select_for_update()
        .select_related("request__person", "request__created_by", "structure")
        .get(pk=copy.pk)
    )


@transaction.atomic
def copy_mark_received(*, actor, copy: AdmissionCopy) -> AdmissionCopy:
    """The first time the structure's staff open a sent request, it becomes "received"."""
    copy = _lock(copy)
    if copy.status != AdmissionStatus.SENT or not selectors.admits_for(actor, copy.structure_id):
        return copy
    return _set_status(copy, actor=actor, status=AdmissionStatus.RECEIVED)


def _set_status(copy: AdmissionCopy, *, actor, status: str, message: str = "", answer: bool = False) -> AdmissionCopy:
    previous = copy.status
    copy.status = status
    copy.updated_at = timezone.now()
    copy.save()
    _record_event(copy, actor=actor, status=status, previous=previous, message=message, answer=answer)
    coordination.audit(
        actor,
        copy.request.person,
        AdmissionAudit.REQUEST_STATUS,
        copy=copy.pk,
        structure=copy.structure_id,
        old=previous,
        new=status,
    )
    if not answer:
        _notify_requester(copy, actor)
    return copy


@transaction.atomic
def copy_answer(
    *,
    actor,
    copy: AdmissionCopy,
    status: str,
    message: str = "",
    waiting_rank: int | None = None,
    proposed_entry_on: date | None = None,
    refusal_reason: str = "",
) -> AdmissionCopy:
    """The structure answers its copy: under review, more information asked (a message),
    waiting list (rank optional), accepted (a proposed entry date), refused (a reason).
    One history row and one notification to the requester per change."""
    copy = _lock(copy)
    if not selectors.admits_for(actor, copy.structure_id):
        raise Http404
    allowed = STAFF_TRANSITIONS.get(copy.status, frozenset())
    if status not in allowed:
        raise ValidationError(
            {"status": f"Statut : impossible de passer de « {copy.get_status_display()} » à ce statut."}
        )
    message = (message or "").strip()
    if status == AdmissionStatus.INFO_REQUESTED and not message:
        raise ValidationError({"message": "Message : dites quelles informations ou quels documents il manque."})
    if status == AdmissionStatus.ACCEPTED:
        if proposed_entry_on is None:
            raise ValidationError({"proposed_entry_on": "Date d'entrée proposée : indiquez-la."})
        if proposed_entry_on < timezone.localdate():
            raise ValidationError({"proposed_entry_on": "Date d'entrée proposée : elle ne peut pas être passée."})
        copy.proposed_entry_on = proposed_entry_on
    if status == AdmissionStatus.REFUSED:
        if not (refusal_reason or "").strip():
            raise ValidationError({"refusal_reason": "Motif du refus : indiquez-le au demandeur."})
        copy.refusal_reason = refusal_reason.strip()
        message = message or copy.refusal_reason
    if status == AdmissionStatus.WAITING_LIST:
        copy.waiting_rank = waiting_rank
    return _set_status(copy, actor=actor, status=status, message=message)


@transaction.atomic
def copy_admit(*, actor, copy: AdmissionCopy, entered_on: date | None = None) -> AdmissionCopy:
    """The person enters: the structure's accompaniment starts and its team enters the
    circle with its role defaults (the kernel's `accompaniment_start`)."""
    copy = _lock(copy)
    if not selectors.admits_for(actor, copy.structure_id):
        raise Http404
    if copy.status != AdmissionStatus.ACCEPTED:
        raise ValidationError({"status": "Statut : seule une demande acceptée peut aboutir à une admission."})
    entered_on = entered_on or copy.proposed_entry_on or timezone.localdate()
    person = copy.request.person
    existing = Accompaniment.objects.filter(person=person, structure=copy.structure, ended_on__isnull=True).first()
    copy.accompaniment = existing or coordination.accompaniment_start(
        actor=actor, person=person, structure=copy.structure, started_on=entered_on
    )
    coordination.audit(actor, person, AdmissionAudit.PERSON_ADMITTED, structure=copy.structure_id, copy=copy.pk)
    return _set_status(copy, actor=actor, status=AdmissionStatus.ADMITTED, message=f"Entrée le {entered_on:%d/%m/%Y}")


def _require_requester(actor, admission_request: AdmissionRequest) -> None:
    """The requester, or the person and their legal representatives; 404 otherwise."""
    if not selectors.requests_of(actor).filter(pk=admission_request.pk).exists():
        raise Http404


@transaction.atomic
def copy_withdraw(*, actor, copy: AdmissionCopy, message: str = "") -> AdmissionCopy:
    """The requester withdraws the request sent to one structure."""
    copy = _lock(copy)
    _require_requester(actor, copy.request)
    if copy.status not in OPEN_STATUSES:
        raise ValidationError({"status": "Cette demande n'est plus en cours : elle ne peut pas être retirée."})
    copy = _set_status(
        copy, actor=actor, status=AdmissionStatus.WITHDRAWN, message=(message or "").strip(), answer=True
    )
    notify(
        "admission.request_received",
        person=None,
        actor=actor,
        recipients=_staff_of(copy.structure),
        url=_copy_url_for_staff(copy),
        subject=copy,
    )
    return copy


@transaction.atomic
def copy_requester_answer(
    *, actor, copy: AdmissionCopy, message: str, attachments: Iterable[tuple[str, object]] = ()
) -> AdmissionCopy:
    """The requester answers a request for more information, with documents; the copy
    goes back under review and the structure's staff are told."""
    copy = _lock(copy)
    _require_requester(actor, copy.request)
    if copy.status != AdmissionStatus.INFO_REQUESTED:
        raise ValidationError({"status": "La structure ne vous a pas demandé d'informations sur cette demande."})
    message = (message or "").strip()
    attachments = list(attachments)
    if not message and not attachments:
        raise ValidationError({"message": "Votre réponse : écrivez un message ou ajoutez un document."})
    _add_attachments(actor, copy.request, attachments)
    coordination.audit(actor, copy.request.person, AdmissionAudit.REQUEST_ANSWERED, copy=copy.pk)
    copy = _set_status(copy, actor=actor, status=AdmissionStatus.UNDER_REVIEW, message=message, answer=True)
    notify(
        "admission.request_received",
        person=None,
        actor=actor,
        recipients=_staff_of(copy.structure),
        url=_copy_url_for_staff(copy),
        subject=copy,
    )
    return copy


def other_open_copies(copy: AdmissionCopy):
    """After an admission: the person's other requests still open (to withdraw)."""
    return (
        AdmissionCopy.objects.filter(request__person_id=copy.request.person_id, status__in=OPEN_STATUSES)
        .exclude(pk=copy.pk)
        .select_related("structure")
    )
