"""The portal's objects as FHIR R4 resources (CI-SIS and FR Core shapes).

Pure functions over objects already loaded (with what they need select- or
prefetch-related by the searches): rendering a page never runs a query per row.
"""

from __future__ import annotations

import base64
import datetime as dt

from agenda.models import Event, EventStatus, Response
from coordination.models import (
    CarerLink,
    CircleMember,
    Consent,
    IdentityStatus,
    MemberKind,
    Person,
    Professional,
    Structure,
    TeamMembership,
)
from documents.models import Document, DocumentStatus
from interop.fhir import codes
from interop.fhir.common import day, instant, prune, reference
from liaison.models import Scope, Transmission, TransmissionCategory, TransmissionKind
from ppa.models import Need, Objective, PlanVersion, SignOff, SignOffRole, VersionStatus

GENDER = {"F": "female", "M": "male", "I": "unknown"}


def coding(system: str, code: str, display: str | None = None) -> dict:
    return prune({"system": system, "code": code, "display": display})


def concept(system: str, code: str, display: str | None = None) -> dict:
    return {"coding": [coding(system, code, display)]}


def local_concept(name: str, value, label) -> dict:
    """A value of one of the portal's own vocabularies (its code and French label)."""
    return concept(codes.local_system(name), str(value), str(label))


def _resource(resource_type: str, resource_id, profile: str | None = None, **fields) -> dict:
    meta = fields.pop("meta", {})
    if profile:
        meta = {"profile": [profile], **meta}
    return prune({"resourceType": resource_type, "id": str(resource_id), "meta": meta, **fields})


# --- Persons -------------------------------------------------------------------------------------


def ins_identifier(person: Person) -> dict | None:
    """The INS, only when the identity is qualifiée (Ségur: it may not be shared otherwise)."""
    if not person.shareable_ins:
        return None
    kind = "INS-NIA" if person.ins_oid == codes.INS_NIA_OID else "INS-NIR"
    return {
        "use": "official",
        "type": concept(codes.FR_V2_0203, kind),
        "system": f"urn:oid:{person.ins_oid or '1.2.250.1.213.1.4.8'}",
        "value": person.shareable_ins,
    }


def portal_identifier(person_id: int) -> dict:
    return {"use": "secondary", "system": codes.local_system("identifiant-personne"), "value": str(person_id)}


def patient(person: Person, local_identifiers=()) -> dict:
    """FR Core Patient (the INS profile when the identity is qualifiée)."""
    identifiers = [ins_identifier(person)]
    identifiers += [
        {"use": "usual", "type": concept(codes.V2_0203, "PI"), "system": i.system, "value": i.value}
        for i in local_identifiers
    ]
    identifiers.append(portal_identifier(person.pk))
    extensions = [
        {
            "url": codes.EXT_IDENTITY_RELIABILITY,
            "extension": [
                {
                    "url": "identityStatus",
                    "valueCoding": coding(
                        codes.IDENTITY_STATUS_SYSTEM,
                        person.identity_status,
                        IdentityStatus(person.identity_status).label,
                    ),
                }
            ],
        }
    ]
    if person.birth_place_insee:
        extensions.append(
            {
                "url": codes.EXT_BIRTH_PLACE,
                "valueAddress": {
                    "extension": [
                        {
                            "url": codes.EXT_INSEE_CODE,
                            "valueCoding": coding(codes.INSEE_COMMUNE_SYSTEM, person.birth_place_insee),
                        }
                    ]
                },
            }
        )
    names = [
        {
            "use": "official",
            "family": person.birth_name,
            "given": person.birth_first_names.split(),
            "extension": [{"url": codes.EXT_BIRTH_LIST_GIVEN_NAME, "valueString": person.birth_first_names}],
        }
    ]
    if person.used_name or person.first_name:
        names.append(
            {
                "use": "usual",
                "family": person.used_name or person.birth_name,
                "given": [person.first_name or person.birth_first_names.split()[0]],
            }
        )
    telecom = []
    if person.phone:
        telecom.append({"system": "phone", "value": person.phone})
    if person.email:
        telecom.append({"system": "email", "value": person.email})
    return _resource(
        "Patient",
        person.pk,
        codes.PROFILE_PATIENT_INS if person.shareable_ins else codes.PROFILE_PATIENT,
        extension=extensions,
        identifier=identifiers,
        active=True,
        name=names,
        telecom=telecom,
        gender=GENDER.get(person.sex, "unknown"),
        birthDate=day(person.birth_date),
        address=[{"use": "home", "text": person.address}] if person.address else [],
    )


def related_person(link: CarerLink) -> dict:
    """A carer or legal representative (FR Core RelatedPerson, CI-SIS cercle de soins)."""
    user = link.user
    relationship = [local_concept("lien-personne", link.relationship, link.get_relationship_display())]
    if link.is_legal_representative:
        relationship.append(concept("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "GUARD", "guardian"))
    return _resource(
        "RelatedPerson",
        link.pk,
        codes.PROFILE_RELATED_PERSON,
        identifier=[{"system": codes.local_system("identifiant-proche"), "value": str(link.pk)}],
        active=link.ended_on is None,
        patient=reference("Patient", link.person_id),
        relationship=relationship,
        name=[{"family": user.last_name or user.email, "given": [user.first_name] if user.first_name else []}],
        telecom=[{"system": "email", "value": user.email}]
        + ([{"system": "phone", "value": user.phone}] if user.phone else []),
        period={"start": day(link.started_on), "end": day(link.ended_on)},
    )


# --- Structures and professionals ---------------------------------------------------------------


def organization(structure: Structure) -> dict:
    telecom = []
    if structure.phone:
        telecom.append({"system": "phone", "value": structure.phone})
    if structure.mssante_address:
        telecom.append({"system": "email", "value": structure.mssante_address})
    return _resource(
        "Organization",
        structure.pk,
        codes.PROFILE_ORGANIZATION,
        identifier=[
            {"use": "official", "system": codes.FINESS_SYSTEM, "value": structure.finess},
            {"use": "official", "system": codes.IDNAT_STRUCT_SYSTEM, "value": f"1{structure.finess}"},
        ],
        active=structure.is_active,
        type=[local_concept("type-structure", structure.kind, structure.get_kind_display())],
        name=structure.name,
        telecom=telecom,
        address=[{"text": structure.address}] if structure.address else [],
    )


def practitioner(professional: Professional) -> dict:
    user = professional.user
    identifiers = []
    if professional.rpps:
        identifiers = [
            {"use": "official", "system": codes.RPPS_SYSTEM, "value": professional.rpps},
            {"use": "official", "system": "urn:oid:1.2.250.1.71.4.2.1", "value": professional.national_id},
        ]
    return _resource(
        "Practitioner",
        professional.pk,
        codes.PROFILE_PRACTITIONER,
        identifier=identifiers,
        active=professional.is_active,
        name=[{"use": "usual", "family": user.last_name, "given": [user.first_name] if user.first_name else []}],
        telecom=[{"system": "email", "value": professional.mssante_address}] if professional.mssante_address else [],
    )


def practitioner_role(membership: TeamMembership) -> dict:
    """A professional in a structure's team (situation d'exercice): id `t<team membership>`."""
    professional = membership.professional
    return _resource(
        "PractitionerRole",
        f"t{membership.pk}",
        codes.PROFILE_PRACTITIONER_ROLE,
        active=membership.ended_on is None,
        period={"start": day(membership.started_on), "end": day(membership.ended_on)},
        practitioner=reference("Practitioner", professional.pk, str(professional.user)),
        organization=reference("Organization", membership.structure_id, membership.structure.name),
        code=[
            local_concept("role-equipe", membership.role, membership.get_role_display()),
            local_concept("profession", professional.profession, professional.get_profession_display()),
        ],
    )


def practitioner_role_alone(professional: Professional) -> dict:
    """A professional outside any team (a liberal practitioner): id `p<professional>`."""
    return _resource(
        "PractitionerRole",
        f"p{professional.pk}",
        codes.PROFILE_PRACTITIONER_ROLE,
        active=professional.is_active,
        practitioner=reference("Practitioner", professional.pk, str(professional.user)),
        code=[local_concept("profession", professional.profession, professional.get_profession_display())],
    )


# --- The circle ----------------------------------------------------------------------------------


def care_team_member(member: CircleMember, teams: dict[tuple[int, int], int]) -> dict | None:
    """The participant's member: PractitionerRole, RelatedPerson or Organization (CDS profile)."""
    if member.kind == MemberKind.PROFESSIONAL and member.professional_id:
        team = teams.get((member.professional_id, member.structure_id)) if member.structure_id else None
        role_id = f"t{team}" if team else f"p{member.professional_id}"
        return reference("PractitionerRole", role_id, member.display_name)
    if member.kind == MemberKind.CARER and member.carer_link_id:
        return reference("RelatedPerson", member.carer_link_id, member.display_name)
    if member.kind == MemberKind.STRUCTURE and member.structure_id:
        return reference("Organization", member.structure_id, member.display_name)
    if member.kind == MemberKind.OTHER:
        return {"display": member.other_name}
    return None


def care_team(person: Person, members: list[CircleMember], teams: dict[tuple[int, int], int]) -> dict:
    """The circle as a CI-SIS CareTeam: one participant per membership (a re-entry is a
    new participant; an ended membership keeps its end). The person is the subject, not
    a participant; the structure's own software is not a member shown to others."""
    participants = []
    for member in members:
        target = care_team_member(member, teams)
        if target is None:
            continue
        participants.append(
            {
                "role": [local_concept("role-cercle", member.role, member.get_role_display())],
                "member": target,
                "period": {"start": instant(member.started_at), "end": instant(member.ended_at)},
            }
        )
    moments = [m.started_at for m in members] + [m.ended_at for m in members if m.ended_at]
    # The version grows with every entry and every exit (what changes a circle).
    version = len(members) + sum(1 for m in members if m.ended_at)
    start = min([m.started_at for m in members], default=person.created_at)
    managing = [
        reference("Organization", m.structure_id, m.display_name)
        for m in members
        if m.kind == MemberKind.STRUCTURE and m.ended_at is None and m.structure_id
    ]
    return _resource(
        "CareTeam",
        person.pk,
        codes.PROFILE_CARE_TEAM,
        meta={"versionId": str(max(version, 1)), "lastUpdated": instant(max(moments, default=person.created_at))},
        identifier=[{"system": codes.local_system("identifiant-cercle"), "value": str(person.pk)}],
        status="active",
        name=f"Cercle de santé et d'accompagnement de {person.display_name}",
        subject=reference("Patient", person.pk, person.display_name),
        period={"start": instant(start)},
        participant=participants,
        managingOrganization=managing,
    )


# --- Agenda ----------------------------------------------------------------------------------------

APPOINTMENT_STATUS = {
    EventStatus.PROPOSED: "proposed",
    EventStatus.CONFIRMED: "booked",
    EventStatus.CANCELLED: "cancelled",
    EventStatus.DONE: "fulfilled",
}
PARTICIPANT_STATUS = {
    Response.NEEDS_ACTION: "needs-action",
    Response.ACCEPTED: "accepted",
    Response.DECLINED: "declined",
    Response.TENTATIVE: "tentative",
}


def appointment(event: Event, source_identifiers=()) -> dict:
    participants = []
    if event.person_id:
        participants.append(
            {"actor": reference("Patient", event.person_id, event.person.display_name), "status": "accepted"}
        )
    for participant in event.participants.all():
        if participant.professional_id:
            participants.append(
                {
                    "actor": reference("Practitioner", participant.professional_id, participant.display_name or None),
                    "required": "required" if participant.is_required else "optional",
                    "status": PARTICIPANT_STATUS.get(participant.response, "needs-action"),
                }
            )
    extensions = [
        {"url": codes.local_extension("source-rendez-vous"), "valueCode": event.source},
        {"url": codes.local_extension("visibilite"), "valueCode": event.visibility},
    ]
    if event.rrule:
        extensions.append({"url": codes.local_extension("regle-recurrence"), "valueString": event.rrule})
    identifiers = [{"system": codes.local_system("uid-rendez-vous"), "value": event.uid}]
    identifiers += [{"system": i.system, "value": i.value} for i in source_identifiers]
    service = event.serafin_service
    return _resource(
        "Appointment",
        event.pk,
        codes.PROFILE_APPOINTMENT,
        meta={"versionId": str(event.sequence + 1), "lastUpdated": instant(event.updated_at)},
        extension=extensions,
        identifier=identifiers,
        status=APPOINTMENT_STATUS.get(event.status, "booked"),
        serviceType=[concept(codes.SERAFIN_SYSTEM, service.code, service.label)] if service else [],
        appointmentType=local_concept("type-rendez-vous", event.event_type, event.get_event_type_display()),
        description=event.title,
        start=instant(event.starts_at),
        end=instant(event.ends_at),
        created=instant(event.created_at),
        comment=event.motive,
        participant=participants,
    )


def schedule(professional: Professional) -> dict:
    """A professional's availability (the windows and exceptions of `agenda.availability`)."""
    return _resource(
        "Schedule",
        professional.pk,
        codes.PROFILE_SCHEDULE,
        active=professional.is_active,
        actor=[reference("Practitioner", professional.pk, str(professional.user))],
        comment="Disponibilités déclarées dans le portail (libre/occupé seulement).",
    )


def slot_id(professional_id: int, start: dt.datetime, end: dt.datetime, status: str) -> str:
    return f"{professional_id}-{int(start.timestamp())}-{int(end.timestamp())}-{status}"


def slot(professional_id: int, start: dt.datetime, end: dt.datetime, status: str) -> dict:
    return _resource(
        "Slot",
        slot_id(professional_id, start, end, status),
        codes.PROFILE_SLOT,
        schedule=reference("Schedule", professional_id),
        status=status,
        start=instant(start),
        end=instant(end),
    )


# --- Liaison notebook and documents -----------------------------------------------------------

NOTE_TYPE = {
    TransmissionCategory.SYMPTOMS: ("OBS", "Note d'observation"),
    TransmissionCategory.RESULTS: ("OBS", "Note d'observation"),
    TransmissionCategory.OBSERVATIONS: ("OBS", "Note d'observation"),
    TransmissionCategory.INSTRUCTIONS: ("INST", "Instruction"),
    TransmissionCategory.FOOD: ("INTERV", "Note d'intervention"),
    TransmissionCategory.HYGIENE: ("INTERV", "Note d'intervention"),
    TransmissionCategory.AUTONOMY: ("INTERV", "Note d'intervention"),
    TransmissionCategory.MOOD: ("OBS", "Note d'observation"),
    TransmissionCategory.SOCIAL: ("OBS", "Note d'observation"),
    TransmissionCategory.OTHER: ("GEN", "Note générale"),
}
NOTEBOOK_CATEGORY = ("cahier-de-liaison", "Cahier de liaison")
RECORD_CATEGORY = ("dossier", "Document du dossier")


def note_type_codes(code: str) -> list[str]:
    """The transmission categories a JDV_J23 note type stands for (the `type` search)."""
    return [category for category, (note, _label) in NOTE_TYPE.items() if note == code]


def author_reference(user, carer_links: dict[int, int]) -> dict:
    """Who wrote: a professional (Practitioner), the person (Patient), a carer (RelatedPerson)."""
    name = user.get_full_name() or user.email
    professional = getattr(user, "professional", None)
    if professional is not None:
        return reference("Practitioner", professional.pk, name)
    person = getattr(user, "person_profile", None)
    if person is not None:
        return reference("Patient", person.pk, name)
    if user.pk in carer_links:
        return reference("RelatedPerson", carer_links[user.pk], name)
    return {"display": name}


def transmission_text(transmission: Transmission) -> str:
    parts = []
    if transmission.kind == TransmissionKind.TARGETED:
        parts.append(f"Cible : {transmission.target}")
    if transmission.text:
        parts.append(transmission.text)
    for label, value in (
        ("Données", transmission.data),
        ("Actions", transmission.actions),
        ("Résultats", transmission.results),
    ):
        if value:
            parts.append(f"{label} : {value}")
    return "\n".join(parts)


def note(transmission: Transmission, carer_links: dict[int, int]) -> dict:
    """A transmission as a CI-SIS "cahier de liaison" note (DocumentReference `cdl-<id>`)."""
    code, label = NOTE_TYPE.get(transmission.category, ("GEN", "Note générale"))
    content = [
        {
            "attachment": {
                "contentType": "text/plain; charset=utf-8",
                "language": "fr",
                "data": base64.b64encode(transmission_text(transmission).encode()).decode(),
                "title": transmission.get_category_display(),
                "creation": instant(transmission.created_at),
            }
        }
    ]
    for attachment in transmission.attachments.all():
        content.append(
            {
                "attachment": {
                    "contentType": attachment.content_type,
                    "url": f"{codes.base_url()}/Binary/cdl-{attachment.pk}",
                    "title": attachment.original_name,
                    "size": attachment.size,
                    "creation": instant(attachment.uploaded_at),
                }
            }
        )
    extensions = [{"url": codes.EXT_IS_EMERGENCY, "valueBoolean": transmission.is_important}]
    if transmission.remarkable_event:
        extensions.append(
            {
                "url": codes.local_extension("evenement-remarquable"),
                "valueCodeableConcept": local_concept(
                    "evenement-remarquable", transmission.remarkable_event, transmission.get_remarkable_event_display()
                ),
            }
        )
    updated = max(filter(None, [transmission.created_at, transmission.edited_at, transmission.withdrawn_at]))
    return _resource(
        "DocumentReference",
        f"cdl-{transmission.pk}",
        codes.PROFILE_CDL_NOTE,
        meta={"lastUpdated": instant(updated)},
        extension=extensions,
        masterIdentifier={"system": codes.local_system("identifiant-transmission"), "value": str(transmission.pk)},
        status="entered-in-error" if transmission.is_withdrawn else "current",
        type=concept(codes.NOTE_TYPE_SYSTEM, code, label),
        category=[
            concept(codes.local_system("categorie-document"), *NOTEBOOK_CATEGORY),
            local_concept("categorie-transmission", transmission.category, transmission.get_category_display()),
        ],
        subject=reference("Patient", transmission.person_id),
        date=instant(transmission.observed_at),
        author=[author_reference(transmission.author, carer_links)],
        relatesTo=[{"code": "appends", "target": reference("DocumentReference", f"cdl-{transmission.corrects_id}")}]
        if transmission.corrects_id
        else [],
        description=transmission.target,
        securityLabel=[concept(codes.VISIBILITY_SYSTEM, codes.INVISIBLE_PATIENT, "Non visible par le patient")]
        if transmission.scope == Scope.INTERNAL
        else [],
        content=content,
        context={
            "period": {"start": instant(transmission.observed_at)},
            "related": [reference("Organization", transmission.author_structure_id)]
            if transmission.author_structure_id
            else [],
        },
    )


DOCUMENT_STATUS = {
    DocumentStatus.DRAFT: ("current", "preliminary"),
    DocumentStatus.TO_REVIEW: ("current", "preliminary"),
    DocumentStatus.VALIDATED: ("current", "final"),
    DocumentStatus.DECLINED: ("entered-in-error", None),
    DocumentStatus.WITHDRAWN: ("entered-in-error", None),
}


def document_status(document: Document) -> tuple[str, str | None]:
    if document.status == DocumentStatus.VALIDATED and document.superseded_at is not None:
        return "superseded", "final"
    return DOCUMENT_STATUS.get(document.status, ("current", None))


def record_document(document: Document, carer_links: dict[int, int], source_identifiers=()) -> dict:
    """A record document (DocumentReference `doc-<id>`); the file is an attachment URL
    served through the gate (`Binary/doc-<id>`)."""
    status, doc_status = document_status(document)
    return _resource(
        "DocumentReference",
        f"doc-{document.pk}",
        meta={"lastUpdated": instant(document.withdrawn_at or document.validated_at or document.created_at)},
        masterIdentifier={"system": codes.local_system("identifiant-document"), "value": str(document.pk)},
        identifier=[{"system": i.system, "value": i.value} for i in source_identifiers],
        status=status,
        docStatus=doc_status,
        type=local_concept("type-document", document.doc_type, document.get_doc_type_display()),
        category=[concept(codes.local_system("categorie-document"), *RECORD_CATEGORY)],
        subject=reference("Patient", document.person_id),
        date=instant(document.created_at),
        author=[author_reference(document.author, carer_links)],
        custodian=reference("Organization", document.author_structure_id) if document.author_structure_id else None,
        relatesTo=[{"code": "replaces", "target": reference("DocumentReference", f"doc-{document.replaces_id}")}]
        if document.replaces_id
        else [],
        description=document.title,
        content=[
            {
                "attachment": {
                    "contentType": document.content_type,
                    "url": f"{codes.base_url()}/Binary/doc-{document.pk}",
                    "size": document.size,
                    "title": document.original_name,
                    "creation": instant(document.created_at),
                }
            }
        ],
        context={"period": {"start": day(document.document_on)}},
    )


def document_list(person: Person, documents: list[Document]) -> dict:
    """The person's current documents as one List (the folder of PDSm)."""
    return _resource(
        "List",
        person.pk,
        status="current",
        mode="working",
        title=f"Documents de {person.display_name}",
        code=concept(codes.local_system("categorie-document"), *RECORD_CATEGORY),
        subject=reference("Patient", person.pk),
        date=instant(max((d.created_at for d in documents), default=person.created_at)),
        entry=[{"item": reference("DocumentReference", f"doc-{d.pk}", d.title)} for d in documents],
        emptyReason=concept("http://terminology.hl7.org/CodeSystem/list-empty-reason", "nilknown")
        if not documents
        else None,
    )


# --- Projet personnalisé ------------------------------------------------------------------------

CARE_PLAN_STATUS = {
    VersionStatus.DRAFT: "draft",
    VersionStatus.SUBMITTED: "draft",
    VersionStatus.VALIDATED: "active",
    VersionStatus.SUPERSEDED: "revoked",
}
GOAL_STATUS = {
    "not_started": ("planned", None),
    "in_progress": ("active", "in-progress"),
    "reached": ("completed", "achieved"),
    "abandoned": ("cancelled", "not-achieved"),
}


def tddui_identifier(version: PlanVersion, tag: str, number) -> str:
    """`3` + FINESS `/` local id `-PPER-` number (TDDUI), the local id being the portal's."""
    plan = version.plan
    prefix = f"3{plan.structure.finess}/" if plan.structure_id else ""
    return f"{prefix}{plan.person_id}-{tag}-{number}"


def sign_off_display(sign_off: SignOff) -> str:
    return "Consentement de l'usager" if sign_off.role == SignOffRole.PERSON else "Consentement de la structure"


def care_plan(version: PlanVersion) -> dict:
    """One version of the projet personnalisé (TDDUI CarePlan): needs as ServiceRequest,
    objectives as Goal, the support modalities as activities coded with SERAFIN-PH
    services, the sign-offs as Consent references."""
    plan = version.plan
    activities = []
    for action in version.actions.all():
        detail = {
            "status": "in-progress" if version.status == VersionStatus.VALIDATED else "not-started",
            "description": action.title,
            "code": concept(codes.SERAFIN_SYSTEM, action.serafin.code, action.serafin.label)
            if action.serafin_id
            else None,
            "performer": [reference("Practitioner", action.professional_id, action.performer_display())]
            if action.professional_id
            else ([reference("Organization", action.structure_id)] if action.structure_id else []),
            "goal": [reference("Goal", f"objectif-{o.pk}") for o in action.objectives.all()],
            "scheduledString": action.schedule_display(),
        }
        activities.append({"detail": detail})
    sign_offs = list(version.sign_offs.all())
    goals = [reference("Goal", f"objectif-{o.pk}", o.title) for o in version.objectives.all()]
    goals.insert(0, reference("Goal", f"attentes-{version.pk}", "Attentes de la personne"))
    return _resource(
        "CarePlan",
        version.pk,
        codes.PROFILE_CARE_PLAN,
        meta={"versionId": str(version.number)},
        identifier=[
            {"system": codes.PPA_IDENTIFIER_SYSTEM, "value": tddui_identifier(version, "PPER", version.number)}
        ],
        status=CARE_PLAN_STATUS.get(version.status, "unknown"),
        intent="plan",
        title=f"Projet personnalisé de {plan.person.display_name} — version {version.number}",
        description=version.amendment_reason or None,
        subject=reference("Patient", plan.person_id, plan.person.display_name),
        period={"start": instant(version.validated_at), "end": day(version.review_due_on)},
        created=instant(version.created_at),
        replaces=[reference("CarePlan", version.based_on_id)] if version.based_on_id else [],
        supportingInfo=[reference("Consent", f"signature-{s.pk}", sign_off_display(s)) for s in sign_offs],
        addresses=[],
        goal=goals,
        activity=activities,
        note=[{"text": version.remarks}] if version.remarks else [],
    )


def goal_note(kind: str, text: str) -> dict:
    return {"extension": [{"url": codes.EXT_GOAL_NOTE, "valueCode": kind}], "text": text}


def objective_goal(objective: Objective, version: PlanVersion) -> dict:
    lifecycle, achievement = GOAL_STATUS.get(objective.status, ("proposed", None))
    return _resource(
        "Goal",
        f"objectif-{objective.pk}",
        codes.PROFILE_GOAL_OBJECTIVE,
        extension=[{"url": codes.EXT_CAREPLAN_REFERENCE, "valueReference": reference("CarePlan", version.pk)}],
        identifier=[{"system": codes.GOAL_IDENTIFIER_SYSTEM, "value": tddui_identifier(version, "OBJE", objective.pk)}],
        lifecycleStatus=lifecycle,
        achievementStatus=local_concept("etat-objectif", objective.status, objective.get_status_display())
        if achievement is None
        else concept("http://terminology.hl7.org/CodeSystem/goal-achievement", achievement),
        description={"text": objective.title},
        subject=reference("Patient", version.plan.person_id),
        target=[{"detailString": objective.indicator or None, "dueDate": day(objective.target_on)}]
        if objective.indicator or objective.target_on
        else [],
        statusReason=objective.status_note or None,
        addresses=[reference("ServiceRequest", f"besoin-{n.pk}") for n in objective.needs.all()],
        note=[goal_note("titreObjectif", objective.title)],
    )


def expectations_goal(version: PlanVersion) -> dict:
    """The person's expectations in their own words (TDDUI "attentes"), one Goal per version."""
    parts = [
        (label, getattr(version, name))
        for name, label in (
            ("tastes", "Goûts"),
            ("wishes", "Souhaits"),
            ("habits", "Habitudes"),
            ("beliefs", "Croyances"),
            ("interests", "Centres d'intérêt"),
        )
    ]
    text = "\n".join(f"{label} : {value}" for label, value in parts if value) or "Non renseignées."
    return _resource(
        "Goal",
        f"attentes-{version.pk}",
        extension=[{"url": codes.EXT_CAREPLAN_REFERENCE, "valueReference": reference("CarePlan", version.pk)}],
        lifecycleStatus="active" if version.status == VersionStatus.VALIDATED else "proposed",
        category=[concept(codes.local_system("categorie-objectif"), "attentes", "Attentes de la personne")],
        description={"text": text},
        subject=reference("Patient", version.plan.person_id),
        expressedBy=reference("Patient", version.plan.person_id),
    )


def need_request(need: Need, version: PlanVersion) -> dict:
    return _resource(
        "ServiceRequest",
        f"besoin-{need.pk}",
        codes.PROFILE_NEED,
        identifier=[{"system": codes.NEED_IDENTIFIER_SYSTEM, "value": tddui_identifier(version, "BESO", need.pk)}],
        basedOn=[reference("CarePlan", version.pk)],
        status="active" if version.status == VersionStatus.VALIDATED else "draft",
        intent="plan",
        category=[concept(codes.SERAFIN_SYSTEM, need.serafin.code, need.serafin.label)],
        code={
            "coding": [coding(codes.SERAFIN_SYSTEM, need.serafin.code, need.serafin.label)],
            "text": need.description,
        },
        subject=reference("Patient", version.plan.person_id),
    )


# --- Consents ---------------------------------------------------------------------------------------


def consent(record: Consent) -> dict:
    """A recorded decision: DMP feeding (non-opposition), DMP consultation, a partner."""
    decision = "permit" if record.decision == "granted" else "deny"
    return _resource(
        "Consent",
        f"consentement-{record.pk}",
        status="active",
        scope=concept(codes.CONSENT_SCOPE_SYSTEM, "patient-privacy", "Privacy Consent"),
        category=[local_concept("objet-consentement", record.kind, record.get_kind_display())],
        patient=reference("Patient", record.person_id),
        dateTime=instant(record.recorded_at),
        policyRule=local_concept("objet-consentement", record.kind, record.get_kind_display()),
        provision={
            "type": decision,
            "actor": [
                {
                    "role": concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP"),
                    "reference": {"display": record.partner_name or record.get_partner_display()},
                }
            ]
            if record.partner
            else [],
        },
        extension=[{"url": codes.local_extension("mode-recueil"), "valueCode": record.collected_via}],
    )


def sign_off_consent(sign_off: SignOff, version: PlanVersion) -> dict:
    """A sign-off of a projet personnalisé version (TDDUI: the agreements as Consent)."""
    signer = (
        reference("Patient", version.plan.person_id)
        if sign_off.role == SignOffRole.PERSON and not sign_off.is_legal_representative
        else {"display": str(sign_off.user)}
    )
    return _resource(
        "Consent",
        f"signature-{sign_off.pk}",
        status="active",
        scope=concept(codes.CONSENT_SCOPE_SYSTEM, "treatment", "Treatment"),
        category=[concept(codes.local_system("objet-consentement"), "signature-projet", sign_off_display(sign_off))],
        patient=reference("Patient", version.plan.person_id),
        dateTime=instant(sign_off.signed_at),
        performer=[signer],
        sourceReference=reference("CarePlan", version.pk),
        policyRule=concept(codes.local_system("objet-consentement"), "signature-projet", sign_off_display(sign_off)),
    )


def outcome_person_identifiers(person: Person) -> list[dict]:
    """What a notification says of the person: identifiers only (no name, no health text)."""
    return [i for i in (ins_identifier(person), portal_identifier(person.pk)) if i]


# --- The access log -------------------------------------------------------------------------------

ACCESS_ACTION = {"read": ("R", "read", "read"), "write": ("U", "update", "update")}


def access_audit_event(log, *, show_ip: bool = False) -> dict:
    """One row of the access log (who read or wrote which category, when, as whom) as an
    R4 AuditEvent `acces-<id>`. The IP address only for a structure administrator (the
    person's own page does not show it either)."""
    action, interaction, display = ACCESS_ACTION.get(log.action, ACCESS_ACTION["read"])
    user = log.user
    agent = {
        "type": local_concept("au-titre-de", log.via, log.get_via_display()),
        "who": {"display": user.get_full_name() or user.email},
        "requestor": True,
    }
    if show_ip and log.ip:
        agent["network"] = {"address": log.ip, "type": "2"}
    return _resource(
        "AuditEvent",
        f"acces-{log.pk}",
        type=coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation"),
        subtype=[coding("http://hl7.org/fhir/restful-interaction", interaction, display)],
        action=action,
        recorded=instant(log.at),
        outcome="0",
        purposeOfEvent=[concept("http://terminology.hl7.org/CodeSystem/v3-ActReason", "ETREAT", "Emergency Treatment")]
        if log.via == "break_glass"
        else [],
        agent=[agent],
        source={"observer": {"display": "Portail de coordination"}},
        entity=[
            {
                "what": reference("Patient", log.person_id),
                "description": log.get_category_display(),
                "detail": [{"type": "chemin", "valueString": log.path}] if log.path else [],
            }
        ],
    )
