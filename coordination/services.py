"""Writes of the coordination kernel. Each service is atomic, checks who may act,
writes its audit row in the same transaction and keeps the guardian permissions (the
materialised access matrix) in step — no signals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from common.notify import notify
from coordination import access, matrix, rules
from coordination.models import (
    LEGAL_REPRESENTATIVE_RELATIONSHIPS,
    AccessVia,
    Accompaniment,
    AuditEvent,
    BreakGlassAccess,
    BreakGlassNotice,
    CarerLink,
    Category,
    CircleMember,
    CircleRole,
    CollectionMethod,
    Consent,
    ConsentDecision,
    ConsentKind,
    Delegation,
    DelegationGrant,
    DelegationStatus,
    EndReason,
    JoinRequest,
    JoinRequestStatus,
    Level,
    MemberKind,
    MemberOrigin,
    Partner,
    Person,
    Professional,
    Relationship,
    Structure,
    TeamMembership,
    TeamRole,
)

R, W, N = Level.READ, Level.WRITE, Level.NONE

TEAM_ROLE_TO_CIRCLE_ROLE: dict[str, str] = {
    TeamRole.REFERENT: CircleRole.REFERENT,
    TeamRole.DIRECTION: CircleRole.DIRECTION,
    TeamRole.PHYSICIAN: CircleRole.PHYSICIAN,
    TeamRole.NURSE: CircleRole.NURSE,
    TeamRole.CARE: CircleRole.CARE,
    TeamRole.EDUCATOR: CircleRole.EDUCATOR,
    TeamRole.PSYCHOLOGIST: CircleRole.PSYCHOLOGIST,
    TeamRole.SOCIAL: CircleRole.SOCIAL,
    TeamRole.SECRETARY: CircleRole.SECRETARY,
    TeamRole.OTHER: CircleRole.OTHER,
    TeamRole.SOFTWARE: CircleRole.SOFTWARE,
}

BREAK_GLASS_MIN_REASON = 20


# --- Internal helpers ------------------------------------------------------------------


def audit(actor, person, event_type: str, **data) -> AuditEvent:
    """The typed audit row of a change, for every block (as whom the actor acted is derived)."""
    return _audit(actor, person, event_type, acting_as=rules.acting_as(actor, person) if person else "", **data)


def _audit(actor, person, event_type: str, *, acting_as: str = "", **data) -> AuditEvent:
    return AuditEvent.objects.create(actor=actor, person=person, event_type=event_type, acting_as=acting_as, data=data)


def _create_member(
    *,
    person: Person,
    kind: str,
    role: str,
    origin: str,
    actor,
    levels: Mapping[str, int] | None,
    user=None,
    professional=None,
    structure=None,
    carer_link=None,
    other_name: str = "",
    other_contact: str = "",
) -> CircleMember:
    try:
        with transaction.atomic():
            member = CircleMember.objects.create(
                person=person,
                kind=kind,
                role=role,
                origin=origin,
                user=user,
                professional=professional,
                structure=structure,
                carer_link=carer_link,
                other_name=other_name,
                other_contact=other_contact,
                added_by=actor,
            )
    except IntegrityError:
        raise ValidationError({"member": "Ce membre fait déjà partie du cercle de la personne."}) from None
    _audit(
        actor,
        person,
        AuditEvent.Type.MEMBER_ADDED,
        acting_as=rules.acting_as(actor, person),
        member=member.pk,
        name=member.display_name,
        role=role,
        origin=origin,
    )
    # Told before the newcomer's rights apply: "a member joined a circle you follow" is for the others.
    notify("circle.member_added", person=person, actor=actor, subject=member)
    if member.user_id is not None and levels:
        matrix.raise_to(person, member.user_id, levels, actor=actor, member=member, reason="entrée dans le cercle")
    return member


def _end_member(member: CircleMember, *, reason: str, actor) -> None:
    member.ended_at = timezone.now()
    member.end_reason = reason
    member.ended_by = actor
    member.save(update_fields=["ended_at", "end_reason", "ended_by"])
    event = AuditEvent.Type.MEMBER_OPPOSED if reason == EndReason.OPPOSITION else AuditEvent.Type.MEMBER_ENDED
    _audit(
        actor,
        member.person,
        event,
        acting_as=rules.acting_as(actor, member.person),
        member=member.pk,
        name=member.display_name,
        reason=reason,
    )
    matrix.after_membership_ended(member.person, member.user_id, actor=actor, member=member, reason=reason)
    notify("circle.member_ended", person=member.person, actor=actor, subject=member)


# --- Structures and teams -------------------------------------------------------------------


@transaction.atomic
def structure_create(*, actor, name: str, finess: str, kind: str, **fields) -> Structure:
    structure = Structure(name=name, finess=finess.upper(), kind=kind, **fields)
    structure.full_clean()
    structure.save()
    return structure


@transaction.atomic
def professional_create(*, actor, user, profession: str, rpps: str = "") -> Professional:
    professional = Professional(user=user, profession=profession, rpps=rpps)
    professional.full_clean()
    professional.save()
    return professional


@transaction.atomic
def team_member_add(
    *,
    actor,
    structure: Structure,
    professional: Professional,
    role: str,
    is_structure_admin: bool = False,
    started_on: date | None = None,
) -> TeamMembership:
    """Add a professional to a structure's team; they join, with their role's defaults,
    the circle of every person the structure accompanies."""
    membership = TeamMembership(
        structure=structure,
        professional=professional,
        role=role,
        is_structure_admin=is_structure_admin,
        started_on=started_on or timezone.localdate(),
    )
    membership.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError:
        raise ValidationError({"professional": "Ce professionnel fait déjà partie de l'équipe."}) from None
    _team_member_join_all(membership, actor)
    return membership


def _team_member_join_all(membership: TeamMembership, actor) -> None:
    """The new team member enters the circle of every person the structure accompanies,
    in a constant number of queries (a structure may accompany hundreds of persons)."""
    professional = membership.professional
    structure = membership.structure
    persons = Person.objects.filter(accompaniments__structure=structure, accompaniments__ended_on__isnull=True)
    # One Exists per rule: conditions on a multi-valued relation inside one exclude() would
    # match them on different rows (a person whose circle holds this user through another
    # structure, and this structure's own member, was wrongly left out).
    persons = persons.exclude(
        Exists(
            CircleMember.objects.filter(
                person=OuterRef("pk"), user=professional.user_id, structure=structure, ended_at__isnull=True
            )
        )
    ).exclude(
        Exists(
            CircleMember.objects.filter(
                person=OuterRef("pk"), professional=professional, end_reason=EndReason.OPPOSITION
            )
        )
    )
    person_ids = list(persons.values_list("pk", flat=True).distinct())
    if not person_ids:
        return
    now = timezone.now()
    role = TEAM_ROLE_TO_CIRCLE_ROLE[membership.role]
    members = CircleMember.objects.bulk_create(
        [
            CircleMember(
                person_id=pid,
                kind=MemberKind.PROFESSIONAL,
                role=role,
                origin=MemberOrigin.TEAM,
                user_id=professional.user_id,
                professional=professional,
                structure=structure,
                added_by=actor,
                started_at=now,
            )
            for pid in person_ids
        ],
        batch_size=1000,
    )
    if any(m.pk is None for m in members):  # backends that do not return ids
        members = list(
            CircleMember.objects.filter(
                person_id__in=person_ids,
                user_id=professional.user_id,
                structure=structure,
                ended_at__isnull=True,
                started_at=now,
            )
        )
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                person_id=m.person_id,
                event_type=AuditEvent.Type.MEMBER_ADDED,
                at=now,
                data={"member": m.pk, "name": str(professional.user), "role": role, "origin": MemberOrigin.TEAM},
            )
            for m in members
        ],
        batch_size=1000,
    )
    matrix.raise_many(
        person_ids,
        professional.user_id,
        matrix.levels_dict(matrix.TEAM_DEFAULTS[membership.role]),
        actor=actor,
        members={m.person_id: m for m in members},
        reason="entrée dans le cercle",
    )


def _team_member_join(person: Person, membership: TeamMembership, actor) -> CircleMember | None:
    professional = membership.professional
    if (
        CircleMember.objects.active()
        .filter(person=person, user=professional.user_id, structure=membership.structure)
        .exists()
    ):
        return None
    if _is_opposed(person, professional):
        return None
    member = _create_member(
        person=person,
        kind=MemberKind.PROFESSIONAL,
        role=TEAM_ROLE_TO_CIRCLE_ROLE[membership.role],
        origin=MemberOrigin.TEAM,
        actor=actor,
        levels=matrix.levels_dict(matrix.TEAM_DEFAULTS[membership.role]),
        user=professional.user,
        professional=professional,
        structure=membership.structure,
    )
    return member


@transaction.atomic
def team_member_end(*, actor, membership: TeamMembership, ended_on: date | None = None) -> None:
    """A professional leaves a structure's team: their team memberships end."""
    membership.ended_on = ended_on or timezone.localdate()
    membership.save(update_fields=["ended_on"])
    members = list(
        CircleMember.objects.active().filter(
            professional=membership.professional, structure=membership.structure, origin=MemberOrigin.TEAM
        )
    )
    now = timezone.now()
    CircleMember.objects.filter(pk__in=[m.pk for m in members]).update(
        ended_at=now, end_reason=EndReason.LEFT_TEAM, ended_by=actor
    )
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                person_id=m.person_id,
                event_type=AuditEvent.Type.MEMBER_ENDED,
                at=now,
                data={"member": m.pk, "reason": EndReason.LEFT_TEAM},
            )
            for m in members
        ],
        batch_size=1000,
    )
    matrix.after_memberships_ended_many(
        [m.person_id for m in members],
        membership.professional.user_id,
        actor=actor,
        members={m.person_id: m for m in members},
        reason=EndReason.LEFT_TEAM,
    )


# --- Persons ------------------------------------------------------------------------------


@transaction.atomic
def person_create(*, actor, structure: Structure | None = None, user=None, **traits) -> Person:
    """Create a person (identity traits validated, duplicates refused) and, when a
    structure is given, start its accompaniment."""
    person = Person(user=user, **traits)
    if person.ins_matricule:
        person.ins_matricule = person.ins_matricule.replace(" ", "").upper()
    person.full_clean()
    person.save()
    _audit(actor, person, AuditEvent.Type.PERSON_CREATED)
    if user is not None:
        _create_member(
            person=person,
            kind=MemberKind.PERSON,
            role=CircleRole.PERSON,
            origin=MemberOrigin.SELF,
            actor=actor,
            levels=matrix.levels_dict(matrix.SELF_DEFAULTS),
            user=user,
        )
    if structure is not None:
        accompaniment_start(actor=actor, person=person, structure=structure)
    return person


PERSON_IDENTITY_FIELDS = (
    "birth_name",
    "used_name",
    "birth_first_names",
    "first_name",
    "birth_date",
    "sex",
    "birth_place_insee",
    "ins_matricule",
    "ins_oid",
    "identity_status",
    "phone",
    "email",
    "address",
)


@transaction.atomic
def person_update(*, actor, person: Person, **changes) -> Person:
    """Correct identity traits or contact details (`record` write). The audit row keeps
    the previous values, so nothing is silently rewritten."""
    unknown = set(changes) - set(PERSON_IDENTITY_FIELDS)
    if unknown:
        raise ValueError(f"not identity fields: {sorted(unknown)}")
    if actor is not None and not actor.is_staff:
        access.require(actor, person, Category.RECORD, "write")
    person = Person.objects.select_for_update().get(pk=person.pk)
    before = {field: getattr(person, field) for field in changes}
    for field, value in changes.items():
        setattr(person, field, value)
    if person.ins_matricule:
        person.ins_matricule = person.ins_matricule.replace(" ", "").upper()
    person.full_clean()
    changed = {f: [str(before[f]), str(getattr(person, f))] for f in changes if before[f] != getattr(person, f)}
    if changed:
        person.save(update_fields=list(changed))
        _audit(actor, person, AuditEvent.Type.PERSON_UPDATED, acting_as=rules.acting_as(actor, person), changes=changed)
    return person


@transaction.atomic
def person_link_account(*, actor, person: Person, user) -> Person:
    """Give the person an account for the user portal."""
    if person.user_id:
        raise ValidationError({"user": "Cette personne a déjà un compte."})
    person.user = user
    person.save(update_fields=["user"])
    _create_member(
        person=person,
        kind=MemberKind.PERSON,
        role=CircleRole.PERSON,
        origin=MemberOrigin.SELF,
        actor=actor,
        levels=matrix.levels_dict(matrix.SELF_DEFAULTS),
        user=user,
    )
    return person


@transaction.atomic
def accompaniment_start(
    *, actor, person: Person, structure: Structure, started_on: date | None = None
) -> Accompaniment:
    """The structure starts accompanying the person: it enters the circle, and its
    team with the defaults of their role. An archived record comes back to life (a
    destroyed one cannot: its identity is gone)."""
    if person.destroyed_at is not None:
        raise ValidationError({"person": "Ce dossier a été détruit à la fin de sa durée de conservation."})
    Person.objects.filter(pk=person.pk, archived_at__isnull=False).update(archived_at=None)
    person.archived_at = None
    accompaniment = Accompaniment(person=person, structure=structure, started_on=started_on or timezone.localdate())
    try:
        with transaction.atomic():
            accompaniment.save()
    except IntegrityError:
        raise ValidationError({"structure": "Cette structure accompagne déjà la personne."}) from None
    _audit(actor, person, AuditEvent.Type.ACCOMPANIMENT_STARTED, structure=structure.pk, name=structure.name)
    if not CircleMember.objects.active().filter(person=person, structure=structure, kind=MemberKind.STRUCTURE).exists():
        _create_member(
            person=person,
            kind=MemberKind.STRUCTURE,
            role=CircleRole.STRUCTURE,
            origin=MemberOrigin.ACCOMPANIMENT,
            actor=actor,
            levels=None,
            structure=structure,
        )
    for membership in TeamMembership.objects.filter(structure=structure, ended_on__isnull=True).select_related(
        "professional"
    ):
        _team_member_join(person, membership, actor)
    return accompaniment


@transaction.atomic
def accompaniment_end(*, actor, accompaniment: Accompaniment, reason: str = "", ended_on: date | None = None) -> None:
    """The structure stops accompanying: it and its team's default memberships leave the circle."""
    accompaniment.ended_on = ended_on or timezone.localdate()
    accompaniment.end_reason = reason
    accompaniment.save(update_fields=["ended_on", "end_reason"])
    person = accompaniment.person
    _audit(actor, person, AuditEvent.Type.ACCOMPANIMENT_ENDED, structure=accompaniment.structure_id, reason=reason)
    members = list(
        CircleMember.objects.active()
        .filter(person=person, structure=accompaniment.structure)
        .filter(Q(kind=MemberKind.STRUCTURE) | Q(origin=MemberOrigin.TEAM))
    )
    for member in members:
        _end_member(member, reason=EndReason.STRUCTURE_ENDED, actor=actor)


@transaction.atomic
def carer_link_create(*, actor, person: Person, user, relationship: str, started_on: date | None = None) -> CarerLink:
    """Link a carer or legal representative. A legal representative decides for the
    person and gets the representative's defaults; other carers start with nothing."""
    is_representative = relationship in LEGAL_REPRESENTATIVE_RELATIONSHIPS
    if actor is not None and not (actor.is_staff or rules.is_decider(actor, person)):
        _require_structure_staff(actor, person)
    link = CarerLink(
        person=person,
        user=user,
        relationship=relationship,
        is_legal_representative=is_representative,
        started_on=started_on or timezone.localdate(),
    )
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError:
        raise ValidationError({"user": "Ce compte est déjà lié à la personne."}) from None
    _audit(
        actor,
        person,
        AuditEvent.Type.CARER_LINKED,
        acting_as=rules.acting_as(actor, person),
        user=user.pk,
        relationship=relationship,
    )
    role = (
        CircleRole.LEGAL_REPRESENTATIVE
        if is_representative
        else (CircleRole.FAMILY if relationship == Relationship.FAMILY else CircleRole.CARER)
    )
    _create_member(
        person=person,
        kind=MemberKind.CARER,
        role=role,
        origin=MemberOrigin.CARER_LINK,
        actor=actor,
        levels=matrix.levels_dict(matrix.LEGAL_REPRESENTATIVE_DEFAULTS) if is_representative else None,
        user=user,
        carer_link=link,
    )
    return link


@transaction.atomic
def carer_link_end(
    *, actor, link: CarerLink, ended_on: date | None = None, reason: str = EndReason.CARER_LINK_ENDED
) -> None:
    """End a carer link (the person revokes a carer): their membership ends too."""
    person = link.person
    if actor is not None and not actor.is_staff:
        access.require_decider(actor, person)
    _close_carer_link(link, actor=actor, ended_on=ended_on, reason=reason)


def _close_carer_link(link: CarerLink, *, actor, ended_on: date | None, reason: str) -> None:
    person = link.person
    link.ended_on = ended_on or timezone.localdate()
    link.save(update_fields=["ended_on"])
    _audit(
        actor,
        person,
        AuditEvent.Type.CARER_UNLINKED,
        acting_as=rules.acting_as(actor, person),
        user=link.user_id,
        reason=reason,
    )
    for member in CircleMember.objects.active().filter(carer_link=link):
        _end_member(member, reason=reason, actor=actor)


def _require_structure_staff(actor, person: Person) -> None:
    """Professionals with `circle` write on the person may link carers (at admission)."""
    access.require(actor, person, Category.CIRCLE, "write")


# --- The circle ----------------------------------------------------------------------------


def _is_opposed(person: Person, professional: Professional) -> bool:
    return CircleMember.objects.filter(
        person=person, professional=professional, end_reason=EndReason.OPPOSITION
    ).exists()


@transaction.atomic
def circle_member_add(
    *,
    actor,
    person: Person,
    role: str,
    professional: Professional | None = None,
    structure: Structure | None = None,
    other_name: str = "",
    other_contact: str = "",
) -> CircleMember:
    """The person or their legal representative adds a member. External members start
    with no right: being in the circle gives none by itself."""
    access.require_decider(actor, person)
    if professional is not None:
        if _is_opposed(person, professional):
            raise ValidationError({"professional": "La personne s'est opposée à la présence de ce professionnel."})
        if CircleMember.objects.active().filter(person=person, user=professional.user_id).exists():
            raise ValidationError({"professional": "Ce professionnel fait déjà partie du cercle."})
        member = _create_member(
            person=person,
            kind=MemberKind.PROFESSIONAL,
            role=role,
            origin=MemberOrigin.ADDED,
            actor=actor,
            levels=None,
            user=professional.user,
            professional=professional,
        )
        return member
    if structure is not None:
        return _create_member(
            person=person,
            kind=MemberKind.STRUCTURE,
            role=role,
            origin=MemberOrigin.ADDED,
            actor=actor,
            levels=None,
            structure=structure,
        )
    if not other_name.strip():
        raise ValidationError({"other_name": "Indiquez le nom de la personne ou de l'organisme à ajouter."})
    return _create_member(
        person=person,
        kind=MemberKind.OTHER,
        role=role,
        origin=MemberOrigin.ADDED,
        actor=actor,
        levels=None,
        other_name=other_name.strip(),
        other_contact=other_contact.strip(),
    )


@transaction.atomic
def circle_member_end(*, actor, member: CircleMember, reason: str) -> None:
    """End a membership: end of care (person, representative, or a professional with
    `circle` write) or the person's opposition (person or representative only; the
    member may not ask again). Takes effect at the next request."""
    member = CircleMember.objects.select_for_update().get(pk=member.pk)
    person = member.person
    if not member.is_active:
        raise ValidationError({"member": "Ce membre a déjà quitté le cercle."})
    if member.kind == MemberKind.PERSON:
        raise ValidationError({"member": "La personne ne peut pas être retirée de son propre cercle."})
    if reason == EndReason.OPPOSITION:
        access.require_decider(actor, person)
        if member.kind != MemberKind.PROFESSIONAL and member.kind != MemberKind.CARER:
            raise ValidationError({"reason": "L'opposition concerne un professionnel ou un proche."})
    elif reason == EndReason.END_OF_CARE:
        if not rules.is_decider(actor, person):
            access.require(actor, person, Category.CIRCLE, "write")
    else:
        raise ValidationError({"reason": "Motif de sortie invalide."})
    if member.carer_link is not None and reason == EndReason.OPPOSITION:
        # Opposing a carer ends their link to the person as well, with its own audit row.
        _close_carer_link(member.carer_link, actor=actor, ended_on=None, reason=reason)
        return
    _end_member(member, reason=reason, actor=actor)
    if member.kind == MemberKind.PROFESSIONAL:
        # A professional opposed or removed leaves with all their memberships on this person.
        others = CircleMember.objects.active().filter(person=person, user=member.user_id)
        for other in others:
            _end_member(other, reason=reason, actor=actor)


@transaction.atomic
def grants_set(*, actor, member: CircleMember, levels: Mapping[str, int]) -> CircleMember:
    """The person or their legal representative sets a member's levels. Applies at the
    next request (the guardian permissions are rewritten in this transaction)."""
    member = CircleMember.objects.select_for_update().select_related("person").get(pk=member.pk)
    person = member.person
    access.require_decider(actor, person)
    if not member.is_active:
        raise ValidationError({"member": "Ce membre a quitté le cercle : ses droits ne peuvent plus changer."})
    if member.user_id is None:
        raise ValidationError({"member": "Ce membre n'a pas de compte : il ne peut pas recevoir de droits."})
    unknown = set(levels) - set(Category.values)
    if unknown:
        raise ValidationError({"levels": f"Catégorie inconnue : {', '.join(sorted(unknown))}."})
    for category, level in levels.items():
        if level not in Level.values:
            raise ValidationError({category: "Niveau invalide : aucun accès, lecture ou écriture."})
    if rules.is_decider(member.user, person):
        if levels.get(Category.CIRCLE, W) != W:
            raise ValidationError(
                {Category.CIRCLE: "La personne et son représentant légal gardent la main sur le cercle et les droits."}
            )
    changes = {
        category: [old, new]
        for category, (old, new) in matrix.set_levels(
            person, member.user_id, levels, actor=actor, member=member, reason="décision de la personne"
        ).items()
    }
    if changes:
        _audit(
            actor,
            person,
            AuditEvent.Type.GRANT_CHANGED,
            acting_as=rules.acting_as(actor, person),
            member=member.pk,
            name=member.display_name,
            changes=changes,
        )
    return member


# --- Join requests ---------------------------------------------------------------------------


def find_person_for_request(
    *, ins_matricule: str = "", birth_name: str = "", birth_date: date | None = None, first_name: str = ""
) -> Person | None:
    """Exact match only (INS, or birth name + first name + date of birth): a professional
    asking to join must already know who the person is."""
    if ins_matricule:
        return Person.objects.filter(ins_matricule=ins_matricule.replace(" ", "").upper()).first()
    if birth_name and birth_date and first_name:
        return Person.objects.filter(
            Q(birth_name__iexact=birth_name.strip()) | Q(used_name__iexact=birth_name.strip()),
            Q(first_name__iexact=first_name.strip()) | Q(birth_first_names__istartswith=first_name.strip()),
            birth_date=birth_date,
        ).first()
    return None


@transaction.atomic
def join_request_create(
    *, actor, person: Person, role: str, message: str, structure: Structure | None = None
) -> JoinRequest:
    """A professional asks to join the circle. Refused when the person opposed them."""
    professional = getattr(actor, "professional", None)
    if professional is None or not professional.is_active:
        raise access.AccessDenied("Seul un professionnel peut demander à entrer dans un cercle.")
    if not message.strip():
        raise ValidationError({"message": "Expliquez en une phrase pourquoi vous demandez à entrer dans le cercle."})
    if _is_opposed(person, professional):
        raise ValidationError(
            {
                "person": "La personne s'est opposée à votre présence dans son cercle : "
                "vous ne pouvez pas renouveler la demande."
            }
        )
    if CircleMember.objects.active().filter(person=person, user=actor).exists():
        raise ValidationError({"person": "Vous faites déjà partie du cercle de cette personne."})
    if (
        structure is not None
        and not TeamMembership.objects.filter(
            structure=structure, professional=professional, ended_on__isnull=True
        ).exists()
    ):
        raise ValidationError({"structure": "Vous ne faites pas partie de l'équipe de cette structure."})
    try:
        with transaction.atomic():
            join_request = JoinRequest.objects.create(
                person=person, professional=professional, structure=structure, role=role, message=message.strip()
            )
    except IntegrityError:
        raise ValidationError({"person": "Une demande est déjà en attente pour cette personne."}) from None
    _audit(actor, person, AuditEvent.Type.JOIN_REQUESTED, acting_as=AccessVia.NORMAL, request=join_request.pk)
    notify("circle.join_request", person=person, actor=actor, subject=join_request)
    return join_request


@transaction.atomic
def circle_invite(
    *, actor, person: Person, professional: Professional, role: str, message: str, structure: Structure | None = None
) -> JoinRequest:
    """A member with `circle` write proposes a professional; the person or legal
    representative accepts or declines, as for a request to join."""
    access.require(actor, person, Category.CIRCLE, "write")
    if not message.strip():
        raise ValidationError({"message": "Expliquez en une phrase pourquoi vous proposez ce professionnel."})
    if _is_opposed(person, professional):
        raise ValidationError({"professional": "La personne s'est opposée à la présence de ce professionnel."})
    if CircleMember.objects.active().filter(person=person, user=professional.user_id).exists():
        raise ValidationError({"professional": "Ce professionnel fait déjà partie du cercle."})
    try:
        with transaction.atomic():
            join_request = JoinRequest.objects.create(
                person=person,
                professional=professional,
                structure=structure,
                role=role,
                message=message.strip(),
                invited_by=actor,
            )
    except IntegrityError:
        raise ValidationError({"professional": "Une demande est déjà en attente pour ce professionnel."}) from None
    _audit(
        actor,
        person,
        AuditEvent.Type.JOIN_REQUESTED,
        acting_as=AccessVia.NORMAL,
        request=join_request.pk,
        invited=professional.pk,
    )
    notify("circle.join_request", person=person, actor=actor, subject=join_request)
    return join_request


@transaction.atomic
def join_request_answer(*, actor, join_request: JoinRequest, accept: bool, note: str = "") -> JoinRequest:
    """The person or legal representative accepts (the professional enters with no
    right, to be granted) or declines."""
    join_request = (
        JoinRequest.objects.select_for_update().select_related("person", "professional").get(pk=join_request.pk)
    )
    person = join_request.person
    access.require_decider(actor, person)
    if join_request.status != JoinRequestStatus.PENDING:
        raise ValidationError({"status": "Cette demande a déjà reçu une réponse."})
    join_request.decided_at = timezone.now()
    join_request.decided_by = actor
    join_request.decision_note = note
    if accept:
        professional = join_request.professional
        join_request.member = _create_member(
            person=person,
            kind=MemberKind.PROFESSIONAL,
            role=join_request.role,
            origin=MemberOrigin.REQUEST,
            actor=actor,
            levels=None,
            user=professional.user,
            professional=professional,
            structure=join_request.structure,
        )
        join_request.status = JoinRequestStatus.ACCEPTED
        _audit(
            actor,
            person,
            AuditEvent.Type.JOIN_ACCEPTED,
            acting_as=rules.acting_as(actor, person),
            request=join_request.pk,
        )
    else:
        join_request.status = JoinRequestStatus.DECLINED
        _audit(
            actor,
            person,
            AuditEvent.Type.JOIN_DECLINED,
            acting_as=rules.acting_as(actor, person),
            request=join_request.pk,
        )
    join_request.save()
    return join_request


# --- Delegation ----------------------------------------------------------------------------


@transaction.atomic
def delegation_create(
    *,
    actor,
    person: Person,
    delegate: Professional,
    levels: Mapping[str, int],
    starts_at: datetime,
    ends_at: datetime,
    reason: str = "",
) -> Delegation:
    """A professional member lends part of their rights. Never more than they hold;
    it needs the person's (or representative's) consent before it applies."""
    delegator = (
        CircleMember.objects.active()
        .filter(person=person, user=actor, kind=MemberKind.PROFESSIONAL)
        .order_by("started_at")
        .first()
    )
    if delegator is None:
        raise access.AccessDenied("Seul un professionnel membre du cercle peut déléguer ses droits.")
    if delegate.user_id == actor.pk:
        raise ValidationError({"delegate": "Vous ne pouvez pas vous déléguer des droits."})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "La fin de la délégation doit suivre son début."})
    if ends_at <= timezone.now():
        raise ValidationError({"ends_at": "La fin de la délégation est déjà passée."})
    held = matrix.levels_of(person, actor.pk)
    levels = {c: int(lv) for c, lv in levels.items() if int(lv) > N}
    if not levels:
        raise ValidationError({"levels": "Choisissez au moins un droit à déléguer."})
    for category, level in levels.items():
        if category not in Category.values:
            raise ValidationError({"levels": f"Catégorie inconnue : {category}."})
        if level > held[category]:
            raise ValidationError(
                {
                    category: f"Vous ne pouvez pas déléguer plus que vos propres droits "
                    f"({Category(category).label} : {Level(held[category]).label.lower()})."
                }
            )
    delegation = Delegation.objects.create(
        person=person,
        delegator=delegator,
        delegate=delegate,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        created_by=actor,
    )
    DelegationGrant.objects.bulk_create(
        [DelegationGrant(delegation=delegation, category=c, level=lv) for c, lv in levels.items()]
    )
    _audit(
        actor,
        person,
        AuditEvent.Type.DELEGATION_REQUESTED,
        acting_as=AccessVia.NORMAL,
        delegation=delegation.pk,
        delegate=delegate.pk,
        levels=levels,
    )
    notify("circle.delegation_request", person=person, actor=actor, subject=delegation)
    return delegation


@transaction.atomic
def delegation_answer(*, actor, delegation: Delegation, accept: bool) -> Delegation:
    delegation = Delegation.objects.select_for_update().select_related("person").get(pk=delegation.pk)
    person = delegation.person
    access.require_decider(actor, person)
    if delegation.status != DelegationStatus.PENDING:
        raise ValidationError({"status": "Cette délégation a déjà reçu une réponse."})
    delegation.status = DelegationStatus.ACTIVE if accept else DelegationStatus.DECLINED
    delegation.decided_at = timezone.now()
    delegation.decided_by = actor
    delegation.save(update_fields=["status", "decided_at", "decided_by"])
    _audit(
        actor,
        person,
        AuditEvent.Type.DELEGATION_ACCEPTED if accept else AuditEvent.Type.DELEGATION_DECLINED,
        acting_as=rules.acting_as(actor, person),
        delegation=delegation.pk,
    )
    return delegation


@transaction.atomic
def delegation_revoke(*, actor, delegation: Delegation) -> Delegation:
    delegation = Delegation.objects.select_for_update().select_related("person", "delegator").get(pk=delegation.pk)
    person = delegation.person
    if delegation.delegator.user_id != actor.pk:
        access.require_decider(actor, person)
    if delegation.status not in (DelegationStatus.PENDING, DelegationStatus.ACTIVE):
        raise ValidationError({"status": "Cette délégation n'est plus en cours."})
    delegation.status = DelegationStatus.REVOKED
    delegation.save(update_fields=["status"])
    _audit(
        actor,
        person,
        AuditEvent.Type.DELEGATION_REVOKED,
        acting_as=rules.acting_as(actor, person),
        delegation=delegation.pk,
    )
    return delegation


# --- Break-the-glass ---------------------------------------------------------------------------


@transaction.atomic
def break_glass_open(*, actor, person: Person, reason: str) -> BreakGlassAccess:
    """Open the record read-only for BREAK_GLASS_HOURS. The person, legal
    representatives and the structure's référents are notified (a security notice:
    it cannot be muted); when none of them can be told (no account, no référent), the
    structure's administrators are instead. The record keeps who was actually told
    (`notice`, `notified`); `notified_at` stays empty when nobody was."""
    structure = rules.break_glass_structures(actor, person).first()
    if structure is None:
        raise access.AccessDenied(
            "L'accès en urgence est réservé aux professionnels d'une structure qui accompagne la personne."
        )
    reason = " ".join(reason.split())
    if len(reason) < BREAK_GLASS_MIN_REASON or " " not in reason:
        raise ValidationError(
            {"reason": "Expliquez en une phrase au moins pourquoi cet accès en urgence est nécessaire."}
        )
    now = timezone.now()
    glass = BreakGlassAccess.objects.create(
        person=person,
        user=actor,
        structure=structure,
        reason=reason,
        started_at=now,
        expires_at=now + timedelta(hours=settings.BREAK_GLASS_HOURS),
    )
    told, notice = [], BreakGlassNotice.NOBODY
    for recipients, kind in (
        (break_glass_recipients(glass), BreakGlassNotice.CIRCLE),
        # Nobody to tell (no account, no référent): the structure's administrators instead.
        (break_glass_fallback_recipients(glass), BreakGlassNotice.STRUCTURE_ADMINS),
    ):
        told = notify(
            "security.break_glass",
            person=person,
            actor=actor,
            recipients=recipients,
            url_for=lambda user: _access_log_url(user, person),
            subject=glass,
        )
        if told:
            notice = kind
            break
    glass.notice = notice
    glass.notified_at = now if told else None
    glass.save(update_fields=["notice", "notified_at"])
    glass.notified.set([n.recipient_id for n in told])
    _audit(
        actor,
        person,
        AuditEvent.Type.BREAK_GLASS,
        acting_as=AccessVia.BREAK_GLASS,
        access=glass.pk,
        reason=reason,
        structure=structure.pk,
        notice=notice,
        notified=sorted(n.recipient_id for n in told),
    )
    return glass


def _access_log_url(user, person: Person) -> str:

    if rules.is_professional(user):
        return reverse("coordination:person", args=[person.pk])
    return reverse("portal_access_log")


def break_glass_fallback_recipients(glass: BreakGlassAccess):
    """When nobody of `break_glass_recipients` can be told: the structure's administrators."""
    return get_user_model().objects.filter(rules.structure_admins_q(glass.structure), is_active=True).distinct()


def break_glass_recipients(glass: BreakGlassAccess):
    """Who must be told: the person, their legal representatives, the structure's referents."""

    person = glass.person
    return (
        get_user_model()
        .objects.filter(
            rules.deciders_q(person) | rules.referents_q(glass.structure),
            is_active=True,
        )
        .distinct()
    )


# --- Consents ------------------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    actor,
    person: Person,
    kind: str,
    decision: str,
    collected_via: str,
    partner: str = "",
    partner_name: str = "",
    note: str = "",
) -> Consent:
    """Record a decision (never overwrite: the latest row is the current one).

    On the portal the person or representative records it themself; a professional
    with `record` write records a decision collected orally or in writing."""
    if rules.is_decider(actor, person):
        pass
    else:
        access.require(actor, person, Category.RECORD, "write")
        if collected_via == CollectionMethod.PORTAL:
            raise ValidationError({"collected_via": "Un professionnel enregistre un recueil oral ou écrit."})
    if kind not in ConsentKind.values:
        raise ValidationError({"kind": "Objet du consentement invalide."})
    if decision not in ConsentDecision.values:
        raise ValidationError({"decision": "Décision invalide : accord ou refus."})
    if kind == ConsentKind.PARTNER_SHARING:
        if partner not in Partner.values or not partner:
            raise ValidationError({"partner": "Choisissez le partenaire concerné."})
        if partner == Partner.OTHER and not partner_name.strip():
            raise ValidationError({"partner_name": "Indiquez le nom du partenaire."})
    else:
        partner, partner_name = "", ""
    consent = Consent.objects.create(
        person=person,
        kind=kind,
        decision=decision,
        collected_via=collected_via,
        partner=partner,
        partner_name=partner_name.strip(),
        note=note,
        recorded_by=actor,
    )
    _audit(
        actor,
        person,
        AuditEvent.Type.CONSENT_RECORDED,
        acting_as=rules.acting_as(actor, person),
        consent=consent.pk,
        kind=kind,
        decision=decision,
        partner=partner,
    )
    return consent


def current_consents(person: Person) -> dict[tuple[str, str], Consent]:
    """The latest decision per (kind, partner)."""
    latest: dict[tuple[str, str], Consent] = {}
    for consent in person.consents.order_by("-recorded_at", "-pk"):
        latest.setdefault((consent.kind, consent.partner), consent)
    return latest


def dmp_feeding_allowed(person: Person) -> bool:
    """Opt-out: feeding the DMP is allowed unless the person opposed it."""
    consent = person.consents.filter(kind=ConsentKind.DMP_FEEDING).order_by("-recorded_at", "-pk").first()
    return consent is None or consent.decision == ConsentDecision.GRANTED


@transaction.atomic
def legal_hold_set(*, actor, person: Person, hold: bool, reason: str = "") -> Person:
    """An administrator (of a structure that accompanies or accompanied the person, or the
    portal's staff) puts the record on legal hold — nothing of it is destroyed while it
    holds — or lifts it. A hold needs its reason."""
    if not (
        getattr(actor, "is_staff", False)
        or rules.administered_structures(actor).filter(accompaniments__person=person).exists()
    ):
        raise access.AccessDenied("Seul un administrateur d'une structure qui accompagne la personne peut faire cela.")
    reason = reason.strip()
    if hold and len(reason) < 5:
        raise ValidationError({"reason": "Donnez le motif du gel (au moins 5 caractères)."})
    person = Person.objects.select_for_update().get(pk=person.pk)
    person.legal_hold, person.legal_hold_reason = hold, reason if hold else ""
    person.save(update_fields=["legal_hold", "legal_hold_reason"])
    from coordination.audit_types import RetentionAudit

    event = RetentionAudit.LEGAL_HOLD_SET if hold else RetentionAudit.LEGAL_HOLD_LIFTED
    audit(actor, person, event, reason=reason)
    return person
