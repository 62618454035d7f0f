"""Writes of the liaison notebook. Each goes through the gate, is atomic and notifies
through the notifications block."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from common.notify import notify
from coordination import access
from coordination.models import Category, Person, Structure, TeamMembership
from coordination.services import audit
from documents.uploads import check_upload, removes_files_on_failure, store_checked
from liaison import selectors
from liaison.audit_types import LiaisonAudit
from liaison.models import (
    Addressee,
    Attachment,
    FeedState,
    ReadMark,
    RemarkableEvent,
    Scope,
    Transmission,
    TransmissionKind,
    TransmissionRevision,
    TransmissionStatus,
)

CONTENT_FIELDS = (
    "observed_at",
    "category",
    "kind",
    "target",
    "text",
    "data",
    "actions",
    "results",
    "is_important",
    "remarkable_event",
)
MAX_ATTACHMENTS = 5


class GracePeriodOver(ValidationError):
    """The transmission can no longer change: add a correction instead (HTTP 409)."""


def _url_for(person: Person, transmission: Transmission):
    """Everyone told about a transmission may read the notebook (the gate filtered them)."""

    def url(user) -> str:
        return reverse("liaison:notebook", args=[person.pk]) + f"#t{transmission.pk}"

    return url


def _search_document(t: Transmission) -> str:
    return " ".join(filter(None, [t.get_category_display(), t.target, t.text, t.data, t.actions, t.results]))


def _author_structure(actor, person: Person, structure: Structure | None) -> Structure | None:
    """The structure the author writes for: one of their teams, by default the one that
    accompanies the person."""
    teams = TeamMembership.objects.filter(professional__user=actor, ended_on__isnull=True)
    if structure is not None:
        if not teams.filter(structure=structure).exists():
            raise ValidationError({"author_structure": "Vous ne faites pas partie de l'équipe de cette structure."})
        return structure
    accompanying = list(
        Structure.objects.filter(
            pk__in=teams.values("structure_id"), accompaniments__person=person, accompaniments__ended_on__isnull=True
        ).distinct()[:2]
    )
    if len(accompanying) == 1:
        return accompanying[0]
    mine = list(Structure.objects.filter(pk__in=teams.values("structure_id"))[:2])
    return mine[0] if len(mine) == 1 else (accompanying[0] if accompanying else None)


def _validate_content(fields: dict) -> None:
    if fields.get("kind") == TransmissionKind.TARGETED:
        if not fields.get("target", "").strip():
            raise ValidationError({"target": "Indiquez la cible de la transmission ciblée (par exemple : douleur)."})
        if not any(fields.get(k, "").strip() for k in ("data", "actions", "results")):
            raise ValidationError({"data": "Renseignez au moins les données, les actions ou les résultats."})
    elif not fields.get("text", "").strip():
        raise ValidationError({"text": "Écrivez la transmission."})
    observed_at = fields.get("observed_at")
    if observed_at is not None and observed_at > timezone.now() + timezone.timedelta(minutes=5):
        raise ValidationError({"observed_at": "L'heure de l'observation ne peut pas être dans le futur."})


def _attach(transmission: Transmission, files: Iterable, actor) -> list[Attachment]:
    files = list(files or [])
    if len(files) + transmission.attachments.count() > MAX_ATTACHMENTS:
        raise ValidationError({"attachments": f"{MAX_ATTACHMENTS} pièces jointes au maximum par transmission."})
    # Check every file before storing any: a refused file must leave nothing on disk.
    checked_files = [(upload, check_upload(upload, field="attachments")) for upload in files]
    attachments = []
    for upload, checked in checked_files:
        fields = store_checked(upload, checked, folder="liaison", field="attachments")
        attachments.append(Attachment.objects.create(transmission=transmission, uploaded_by=actor, **fields))
    return attachments


def _check_addressees(person: Person, transmission: Transmission, users) -> list:
    users = list(users or [])
    if not users:
        return []
    # Shared: every liaison reader; internal: readers of the author's structure team only.
    readers = (
        _structure_readers(person, transmission.author_structure)
        if transmission.scope == Scope.INTERNAL
        else access.users_allowed(person, Category.LIAISON, "read")
    )
    allowed = set(readers.filter(pk__in=[u.pk for u in users]).values_list("pk", flat=True))
    refused = [u for u in users if u.pk not in allowed]
    if refused:
        names = ", ".join(str(u) for u in refused)
        raise ValidationError({"addressees": f"Ces destinataires ne peuvent pas lire cette transmission : {names}."})
    return users


@removes_files_on_failure
@transaction.atomic
def transmission_create(
    *,
    actor,
    person: Person,
    category: str,
    observed_at: datetime | None = None,
    kind: str = TransmissionKind.GENERAL,
    text: str = "",
    target: str = "",
    data: str = "",
    actions: str = "",
    results: str = "",
    scope: str = Scope.SHARED,
    is_important: bool = False,
    remarkable_event: str = "",
    author_structure: Structure | None = None,
    addressees: Iterable = (),
    requests_receipt: bool = False,
    files: Iterable = (),
    corrects: Transmission | None = None,
    author=None,
) -> Transmission:
    """Write a transmission (gate: `liaison` write). Internal ones need a structure; a
    carer or the person always writes in the shared notebook. Addressees are alerted;
    a remarkable event notifies the circle per their preferences.

    `author`: whose words these are when not the actor's (a message of an exchange
    that another member versed into the notebook); the actor, who passed the gate, is
    in the audit row."""
    access.require(actor, person, Category.LIAISON, "write")
    author = author or actor
    fields = {
        "observed_at": observed_at or timezone.now(),
        "category": category,
        "kind": kind,
        "text": text,
        "target": target,
        "data": data,
        "actions": actions,
        "results": results,
    }
    _validate_content(fields)
    if remarkable_event and remarkable_event not in RemarkableEvent.values:
        raise ValidationError({"remarkable_event": "Évènement remarquable inconnu."})
    structure = _author_structure(author, person, author_structure) if author.is_professional else None
    if scope == Scope.INTERNAL and structure is None:
        raise ValidationError(
            {
                "scope": "Une transmission interne appartient à une structure : vous n'écrivez pour "
                "aucune. Partagez-la dans le cahier de liaison."
            }
        )
    transmission = Transmission(
        person=person,
        author=author,
        author_structure=structure,
        scope=scope,
        is_important=is_important,
        remarkable_event=remarkable_event,
        requests_receipt=requests_receipt and bool(addressees),
        corrects=corrects,
        **fields,
    )
    transmission.full_clean(exclude=["search_document"])
    transmission.search_document = _search_document(transmission)
    transmission.save()
    users = _check_addressees(person, transmission, addressees)
    _attach(transmission, files, actor)  # last: nothing can refuse the transmission after its files are stored
    Addressee.objects.bulk_create([Addressee(transmission=transmission, user=u) for u in users])
    ReadMark.objects.create(transmission=transmission, user=actor)
    audit(
        actor,
        person,
        LiaisonAudit.TRANSMISSION_CREATED,
        transmission=transmission.pk,
        scope=scope,
        corrects=corrects.pk if corrects else None,
        **({"author": author.pk} if author.pk != actor.pk else {}),
    )
    url_for = _url_for(person, transmission)
    if users:
        notify("liaison.alert", person=person, actor=actor, recipients=users, url_for=url_for, subject=transmission)
    if scope == Scope.SHARED:
        notify("liaison.transmission_shared", person=person, actor=actor, url_for=url_for, subject=transmission)
    if remarkable_event:
        recipients = None if scope == Scope.SHARED else _structure_readers(person, structure)
        notify(
            "liaison.remarkable_event",
            person=person,
            actor=actor,
            recipients=recipients,
            url_for=url_for,
            subject=transmission,
        )
    return transmission


def _structure_readers(person: Person, structure: Structure):

    return access.users_allowed(
        person,
        Category.LIAISON,
        "read",
        users=get_user_model().objects.filter(
            professional__team_memberships__structure=structure,
            professional__team_memberships__ended_on__isnull=True,
        ),
    )


def _lock_own_editable(actor, transmission: Transmission) -> Transmission:
    transmission = Transmission.objects.select_for_update().get(pk=transmission.pk)
    access.require(actor, transmission.person, Category.LIAISON, "write")
    if transmission.author_id != actor.pk:
        raise access.AccessDenied("Seul l'auteur peut modifier ou retirer sa transmission.")
    if transmission.is_withdrawn:
        raise GracePeriodOver("Cette transmission a été retirée.")
    if timezone.now() > transmission.editable_until():
        raise GracePeriodOver(
            f"Le délai de modification ({settings.LIAISON_GRACE_MINUTES} minutes) est passé : la transmission "
            "ne peut plus changer. Ajoutez une correction."
        )
    return transmission


@transaction.atomic
def transmission_edit(*, actor, transmission: Transmission, **changes) -> Transmission:
    """The author changes the content during the grace period; the previous content is kept."""
    unknown = set(changes) - set(CONTENT_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    transmission = _lock_own_editable(actor, transmission)
    before = {f: getattr(transmission, f) for f in CONTENT_FIELDS}
    merged = {**before, **changes}
    _validate_content(merged)
    TransmissionRevision.objects.create(
        transmission=transmission,
        snapshot={k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in before.items()},
    )
    for field, value in changes.items():
        setattr(transmission, field, value)
    transmission.edited_at = timezone.now()
    transmission.full_clean(exclude=["search_document"])
    transmission.search_document = _search_document(transmission)
    transmission.save()
    audit(
        actor,
        transmission.person,
        LiaisonAudit.TRANSMISSION_EDITED,
        transmission=transmission.pk,
        fields=sorted(changes),
    )
    return transmission


@transaction.atomic
def transmission_withdraw(*, actor, transmission: Transmission) -> Transmission:
    """The author withdraws it during the grace period. It stays readable, marked withdrawn."""
    transmission = _lock_own_editable(actor, transmission)
    transmission.status = TransmissionStatus.WITHDRAWN
    transmission.withdrawn_at = timezone.now()
    transmission.save(update_fields=["status", "withdrawn_at"])
    audit(actor, transmission.person, LiaisonAudit.TRANSMISSION_WITHDRAWN, transmission=transmission.pk)
    return transmission


@removes_files_on_failure
@transaction.atomic
def transmission_correct(*, actor, original: Transmission, **fields) -> Transmission:
    """A correction: a new transmission linked to the original, with the same audience."""
    if not selectors.can_see(actor, original):
        raise access.AccessDenied("Vous ne pouvez pas lire cette transmission.")
    fields.setdefault("category", original.category)
    fields["scope"] = original.scope
    structure = fields.pop("author_structure", None)
    if original.scope == Scope.INTERNAL:
        structure = original.author_structure  # an internal correction stays with the same team
    return transmission_create(
        actor=actor, person=original.person, corrects=original, author_structure=structure, **fields
    )


@removes_files_on_failure
@transaction.atomic
def attachments_add(*, actor, transmission: Transmission, files: Iterable) -> list[Attachment]:
    """The author adds files during the grace period."""
    transmission = _lock_own_editable(actor, transmission)
    return _attach(transmission, files, actor)


@transaction.atomic
def acknowledge(*, actor, transmission: Transmission) -> Addressee:
    access.require(actor, transmission.person, Category.LIAISON, "read")
    addressee = Addressee.objects.select_for_update().filter(transmission=transmission, user=actor).first()
    if addressee is None:
        raise ValidationError({"transmission": "Cette transmission ne vous est pas adressée."})
    if addressee.acknowledged_at is None:
        addressee.acknowledged_at = timezone.now()
        addressee.save(update_fields=["acknowledged_at"])
        audit(actor, transmission.person, LiaisonAudit.RECEIPT_GIVEN, transmission=transmission.pk)
    ReadMark.objects.get_or_create(transmission=transmission, user=actor)
    return addressee


def mark_read(*, actor, transmissions: Iterable[Transmission]) -> None:
    """Mark these (already visible) transmissions read."""
    ReadMark.objects.bulk_create([ReadMark(transmission=t, user=actor) for t in transmissions], ignore_conflicts=True)


def mark_all_read(*, actor) -> None:
    """ "Tout marquer comme lu": one row per user, whatever the number of transmissions."""

    FeedState.objects.update_or_create(user=actor, defaults={"read_before": timezone.now()})
