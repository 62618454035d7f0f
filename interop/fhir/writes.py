"""What a connected software sends: the incoming Patient, Appointment and
DocumentReference read element by element, each refusal naming the element in French
(`Patient.identifier[0].value : clé INS invalide`), then handed to `interop.services`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

import filetype
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from agenda.models import EventStatus, EventType, Visibility
from coordination.identifiers import normalize_ins, validate_ins_matricule
from coordination.models import IdentityStatus, Profession, Professional, Sex
from documents.models import DocumentType
from documents.uploads import DEFAULT_ALLOWED
from interop import services
from interop.fhir import codes
from interop.fhir.common import FhirError, invalid
from interop.fhir.handlers import Context, _find_person_id, _visible_professionals
from reference.models import SerafinCode, SerafinKind

FHIR_GENDER = {"female": Sex.FEMALE, "male": Sex.MALE, "other": Sex.UNKNOWN, "unknown": Sex.UNKNOWN}


def identifier_param(request, resource_type: str) -> tuple[str, str]:
    """`?identifier=system|value` of a conditional update (both parts required)."""
    values = request.GET.getlist("identifier")
    unknown = sorted(set(request.GET) - {"identifier"})
    if unknown:
        raise FhirError(
            400,
            f"Mise à jour conditionnelle de {resource_type} : seul le paramètre identifier est accepté ({unknown[0]}).",
            code="not-supported",
            expression=unknown[0],
        )
    if len(values) != 1 or "|" not in values[0]:
        raise invalid("identifier", "la mise à jour conditionnelle attend identifier=système|valeur.")
    system, value = values[0].split("|", 1)
    if not system or not value or len(system) > 255 or len(value) > 255:
        raise invalid(
            "identifier", "le système et la valeur de l'identifiant sont obligatoires (255 caractères au plus)."
        )
    return system, value


def _require_type(resource, resource_type: str) -> dict:
    if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
        raise invalid(f"{resource_type}.resourceType", f"une ressource {resource_type} est attendue.")
    return resource


def _list(resource: dict, path: str, name: str) -> list:
    value = resource.get(name, [])
    if not isinstance(value, list):
        raise invalid(f"{path}.{name}", "une liste est attendue.")
    return value


def _text(value, expression: str, *, required: bool = False, max_length: int = 200) -> str:
    if value is None or value == "":
        if required:
            raise invalid(expression, "valeur obligatoire.")
        return ""
    if not isinstance(value, str):
        raise invalid(expression, "une chaîne de caractères est attendue.")
    value = " ".join(value.split()) if max_length <= 300 else value.strip()
    if len(value) > max_length:
        raise invalid(expression, f"{max_length} caractères au plus.")
    return value


def _moment(value, expression: str, *, required: bool = True) -> dt.datetime | None:
    if value in (None, ""):
        if required:
            raise invalid(expression, "date et heure obligatoires.")
        return None
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise invalid(expression, "date et heure ISO 8601 attendues (par exemple 2026-03-02T10:00:00+01:00).")
    if timezone.is_naive(moment):
        raise invalid(expression, "la date et l'heure doivent porter leur fuseau (+01:00, Z…).")
    return moment


def raise_mapped(error: ValidationError, expressions: dict[str, str], default: str) -> None:
    """A service's French ValidationError as an OperationOutcome naming the element."""
    if hasattr(error, "error_dict"):
        field, messages = next(iter(error.message_dict.items()))
        expression = expressions.get(field, default) if field != NON_FIELD_ERRORS else default
        raise invalid(expression, " ".join(messages)) from error
    raise invalid(default, " ".join(error.messages)) from error


# --- Patient ----------------------------------------------------------------------------------------


def parse_patient(resource) -> tuple[dict, dict[str, str]]:
    """(identity traits for `interop.services.patient_upsert`, field → FHIR element)."""
    resource = _require_type(resource, "Patient")
    expressions = {
        "birth_name": "Patient.name[0].family",
        "birth_first_names": "Patient.name[0].given",
        "first_name": "Patient.name[1].given",
        "used_name": "Patient.name[1].family",
        "birth_date": "Patient.birthDate",
        "sex": "Patient.gender",
        "birth_place_insee": "Patient.extension[birthPlace]",
        "identity_status": "Patient.extension[identityReliability]",
        "phone": "Patient.telecom",
        "email": "Patient.telecom",
        "address": "Patient.address",
        "ins_matricule": "Patient.identifier",
        "ins_oid": "Patient.identifier",
    }
    traits: dict = {}
    names = _list(resource, "Patient", "name")
    official = next((n for n in names if isinstance(n, dict) and n.get("use") == "official"), None)
    if official is None and names and isinstance(names[0], dict):
        official = names[0]
    if official is None:
        raise invalid("Patient.name", "le nom de naissance (name, use = official) est obligatoire.")
    index = names.index(official)
    traits["birth_name"] = _text(official.get("family"), f"Patient.name[{index}].family", required=True, max_length=100)
    given = official.get("given") or []
    if not isinstance(given, list) or not all(isinstance(g, str) for g in given) or not given:
        raise invalid(f"Patient.name[{index}].given", "les prénoms de naissance sont obligatoires.")
    traits["birth_first_names"] = _text(" ".join(given), f"Patient.name[{index}].given", max_length=200)
    expressions["birth_name"] = f"Patient.name[{index}].family"
    expressions["birth_first_names"] = f"Patient.name[{index}].given"
    usual = next((n for n in names if isinstance(n, dict) and n.get("use") == "usual"), None)
    if usual is not None:
        u = names.index(usual)
        traits["used_name"] = _text(usual.get("family"), f"Patient.name[{u}].family", max_length=100)
        usual_given = usual.get("given") or []
        traits["first_name"] = _text(
            usual_given[0] if isinstance(usual_given, list) and usual_given else "",
            f"Patient.name[{u}].given",
            max_length=100,
        )
        if traits["used_name"] == traits["birth_name"]:
            traits["used_name"] = ""
    birth = resource.get("birthDate")
    try:
        traits["birth_date"] = dt.date.fromisoformat(birth) if isinstance(birth, str) and len(birth) == 10 else None
    except ValueError:
        traits["birth_date"] = None
    if traits["birth_date"] is None:
        raise invalid("Patient.birthDate", "date de naissance complète attendue (AAAA-MM-JJ).")
    gender = resource.get("gender")
    if gender not in FHIR_GENDER:
        raise invalid("Patient.gender", "female, male, other ou unknown attendu.")
    traits["sex"] = FHIR_GENDER[gender]
    traits["birth_place_insee"] = ""
    status = IdentityStatus.PROVISIONAL
    for position, extension in enumerate(_list(resource, "Patient", "extension")):
        if not isinstance(extension, dict):
            continue
        if extension.get("url") == codes.EXT_BIRTH_PLACE:
            address = extension.get("valueAddress") or {}
            for inner in address.get("extension", []) if isinstance(address, dict) else []:
                if isinstance(inner, dict) and inner.get("url") == codes.EXT_INSEE_CODE:
                    traits["birth_place_insee"] = _text(
                        (inner.get("valueCoding") or {}).get("code"), f"Patient.extension[{position}]", max_length=5
                    ).upper()
            expressions["birth_place_insee"] = f"Patient.extension[{position}]"
        if extension.get("url") == codes.EXT_IDENTITY_RELIABILITY:
            for inner in extension.get("extension", []):
                if isinstance(inner, dict) and inner.get("url") == "identityStatus":
                    code = (inner.get("valueCoding") or {}).get("code")
                    if code not in IdentityStatus.values:
                        raise invalid(
                            f"Patient.extension[{position}]", "statut d'identité attendu : PROV, RECUP, VALI ou QUAL."
                        )
                    status = code
            expressions["identity_status"] = f"Patient.extension[{position}]"
    traits["identity_status"] = status
    traits["ins_matricule"] = ""
    traits["ins_oid"] = ""
    for position, identifier in enumerate(_list(resource, "Patient", "identifier")):
        if not isinstance(identifier, dict) or identifier.get("system") not in codes.INS_SYSTEMS:
            continue
        matricule = normalize_ins(identifier.get("value") or "")
        try:
            validate_ins_matricule(matricule)
        except ValidationError as error:
            message = " ".join(error.messages)
            if error.code == "ins_key" or "clé" in message:
                message = "clé INS invalide (la clé de contrôle ne correspond pas aux 13 premiers caractères)."
            raise invalid(f"Patient.identifier[{position}].value", message) from None
        traits["ins_matricule"] = matricule
        traits["ins_oid"] = codes.INS_SYSTEMS[identifier["system"]]
        expressions["ins_matricule"] = expressions["ins_oid"] = f"Patient.identifier[{position}].value"
    if status in (IdentityStatus.RETRIEVED, IdentityStatus.QUALIFIED) and not traits["ins_matricule"]:
        raise invalid(
            expressions["identity_status"],
            "une identité récupérée ou qualifiée porte son INS (identifier avec le système de l'OID INS).",
        )
    for telecom in _list(resource, "Patient", "telecom"):
        if isinstance(telecom, dict) and telecom.get("system") == "phone" and not traits.get("phone"):
            traits["phone"] = _text(telecom.get("value"), "Patient.telecom", max_length=20)
        if isinstance(telecom, dict) and telecom.get("system") == "email" and not traits.get("email"):
            traits["email"] = _text(telecom.get("value"), "Patient.telecom", max_length=254)
    addresses = _list(resource, "Patient", "address")
    if addresses and isinstance(addresses[0], dict):
        address = addresses[0]
        lines = [*(address.get("line") or []), " ".join(filter(None, [address.get("postalCode"), address.get("city")]))]
        traits["address"] = address.get("text") or "\n".join(line for line in lines if isinstance(line, str) and line)
    return traits, expressions


def upsert_patient(ctx: Context, request, resource) -> services.Outcome:
    system, value = identifier_param(request, "Patient")
    traits, expressions = parse_patient(resource)
    ids = [i for i in resource.get("identifier", []) if isinstance(i, dict)]
    if ids and not any(i.get("system") == system and i.get("value") == value for i in ids):
        raise invalid("Patient.identifier", f"l'identifiant {system}|{value} de la requête manque dans la ressource.")
    if system in codes.INS_SYSTEMS and normalize_ins(value) != traits["ins_matricule"]:
        raise invalid("Patient.identifier", "l'INS de la requête diffère de celui de la ressource.")
    try:
        return services.patient_upsert(
            software=ctx.caller.software,
            system=system,
            value=value,
            traits=traits,
            digest=services.content_hash(resource),
        )
    except ValidationError as error:
        raise_mapped(error, expressions, "Patient")


# --- Appointment ------------------------------------------------------------------------------------

INCOMING_STATUS = {
    "proposed": EventStatus.PROPOSED,
    "pending": EventStatus.PROPOSED,
    "booked": EventStatus.CONFIRMED,
    "arrived": EventStatus.CONFIRMED,
    "checked-in": EventStatus.CONFIRMED,
    "fulfilled": EventStatus.DONE,
    "cancelled": EventStatus.CANCELLED,
    "noshow": EventStatus.CANCELLED,
    "entered-in-error": EventStatus.CANCELLED,
}


def _patient_from_reference(ctx: Context, ref, expression: str) -> int:
    if not isinstance(ref, dict):
        raise invalid(expression, "une référence à la personne est attendue.")
    target = ref.get("reference")
    if isinstance(target, str) and target.startswith("Patient/") and target[8:].isdigit():
        return int(target[8:])
    identifier = ref.get("identifier")
    if isinstance(identifier, dict) and identifier.get("value"):
        found = _find_person_id(ctx, identifier.get("system"), str(identifier["value"]))
        if found:
            return found
    raise invalid(
        expression, "personne inconnue : envoyez d'abord le Patient, puis référencez-le (Patient/id ou identifier)."
    )


def _professional_from_reference(ctx: Context, ref, expression: str) -> Professional:
    target = ref.get("reference") if isinstance(ref, dict) else None
    visible = _visible_professionals(ctx)
    professional = None
    if isinstance(target, str) and target.startswith("Practitioner/") and target[13:].isdigit():
        professional = visible.filter(pk=int(target[13:])).first()
    identifier = ref.get("identifier") if isinstance(ref, dict) else None
    if professional is None and isinstance(identifier, dict) and identifier.get("system") == codes.RPPS_SYSTEM:
        professional = visible.filter(rpps=str(identifier.get("value", ""))).first()
    if professional is None or professional.profession == Profession.SOFTWARE:
        raise invalid(expression, "professionnel inconnu de la structure (Practitioner/id ou identifiant RPPS).")
    return professional


def upsert_appointment(ctx: Context, request, resource) -> services.Outcome:
    system, value = identifier_param(request, "Appointment")
    resource = _require_type(resource, "Appointment")
    status = resource.get("status")
    if status not in INCOMING_STATUS:
        raise invalid("Appointment.status", "statut attendu : proposed, booked, fulfilled, cancelled…")
    starts_at = _moment(resource.get("start"), "Appointment.start")
    ends_at = _moment(resource.get("end"), "Appointment.end")
    participants = _list(resource, "Appointment", "participant")
    if not participants:
        raise invalid("Appointment.participant", "au moins un participant (la personne) est attendu.")
    person_id = None
    practitioners = []
    for index, participant in enumerate(participants):
        actor = participant.get("actor") if isinstance(participant, dict) else None
        target = actor.get("reference", "") if isinstance(actor, dict) else ""
        expression = f"Appointment.participant[{index}].actor"
        if (isinstance(target, str) and target.startswith("Practitioner/")) or (
            isinstance(actor, dict) and (actor.get("identifier") or {}).get("system") == codes.RPPS_SYSTEM
        ):
            practitioners.append((actor, expression))
        elif person_id is None:
            person_id = _patient_from_reference(ctx, actor, expression)
    if person_id is None:
        raise invalid("Appointment.participant", "la personne (Patient) doit figurer parmi les participants.")
    # The person first: someone out of reach is a 404, whatever else the resource says.
    person = ctx.gate(person_id, "agenda", "write")
    professionals = [_professional_from_reference(ctx, actor, expression) for actor, expression in practitioners]
    fields = {
        "title": _text(resource.get("description"), "Appointment.description") or "Rendez-vous",
        "starts_at": starts_at,
        "ends_at": ends_at,
        "motive": _text(resource.get("comment"), "Appointment.comment", max_length=5000),
        "status": EventStatus.CONFIRMED
        if INCOMING_STATUS[status] == EventStatus.CANCELLED
        else INCOMING_STATUS[status],
        "visibility": Visibility.SHARED,
        "event_type": EventType.HEALTH_APPOINTMENT,
        "serafin_service": None,
    }
    appointment_type = resource.get("appointmentType")
    if isinstance(appointment_type, dict):
        for coding in appointment_type.get("coding", []):
            if isinstance(coding, dict) and coding.get("system") == codes.local_system("type-rendez-vous"):
                if coding.get("code") not in EventType.values:
                    raise invalid("Appointment.appointmentType", "type de rendez-vous inconnu.")
                fields["event_type"] = coding["code"]
    for index, service in enumerate(_list(resource, "Appointment", "serviceType")):
        for coding in service.get("coding", []) if isinstance(service, dict) else []:
            if isinstance(coding, dict) and coding.get("system") == codes.SERAFIN_SYSTEM:
                found = SerafinCode.objects.filter(kind=SerafinKind.SERVICE, code=coding.get("code")).first()
                if found is None:
                    raise invalid(f"Appointment.serviceType[{index}]", "prestation SERAFIN-PH inconnue.")
                fields["serafin_service"] = found
    expressions = {
        "title": "Appointment.description",
        "starts_at": "Appointment.start",
        "ends_at": "Appointment.end",
        "motive": "Appointment.comment",
        "status": "Appointment.status",
        "participant": "Appointment.participant",
        "identifier": "Appointment.identifier",
    }
    try:
        return services.appointment_upsert(
            software=ctx.caller.software,
            system=system,
            value=value,
            person=person,
            fields=fields,
            professionals=professionals,
            cancelled=INCOMING_STATUS[status] == EventStatus.CANCELLED,
            digest=services.content_hash(resource),
        )
    except ValidationError as error:
        raise_mapped(error, expressions, "Appointment")


# --- DocumentReference --------------------------------------------------------------------------------


def upsert_document(ctx: Context, request, resource) -> services.Outcome:
    system, value = identifier_param(request, "DocumentReference")
    resource = _require_type(resource, "DocumentReference")
    person_id = _patient_from_reference(ctx, resource.get("subject"), "DocumentReference.subject")
    person = ctx.gate(person_id, "documents", "write")
    doc_type = None
    type_ = resource.get("type")
    for coding in type_.get("coding", []) if isinstance(type_, dict) else []:
        if isinstance(coding, dict) and coding.get("system") == codes.local_system("type-document"):
            doc_type = coding.get("code")
    if doc_type not in DocumentType.values:
        raise invalid(
            "DocumentReference.type",
            f"type de document attendu dans le système {codes.local_system('type-document')} "
            f"({', '.join(DocumentType.values)}).",
        )
    contents = _list(resource, "DocumentReference", "content")
    if len(contents) != 1 or not isinstance(contents[0], dict) or not isinstance(contents[0].get("attachment"), dict):
        raise invalid("DocumentReference.content", "un seul contenu (content.attachment) est attendu.")
    attachment = contents[0]["attachment"]
    data = attachment.get("data")
    if not isinstance(data, str) or not data:
        raise invalid(
            "DocumentReference.content[0].attachment.data",
            "le fichier est attendu en base64 (les adresses externes ne sont pas suivies).",
        )
    if len(data) * 3 // 4 > settings.UPLOAD_MAX_BYTES + 3:
        raise invalid(
            "DocumentReference.content[0].attachment.data",
            f"fichier trop volumineux : {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} Mo au maximum.",
        )
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("DocumentReference.content[0].attachment.data", "base64 invalide.") from None
    title = _text(
        resource.get("description") or attachment.get("title"), "DocumentReference.description", required=True
    )
    filename = _text(attachment.get("title"), "DocumentReference.content[0].attachment.title") or f"{doc_type}.pdf"
    document_on = None
    date_value = resource.get("date")
    if date_value:
        document_on = _moment(date_value, "DocumentReference.date").astimezone(timezone.get_current_timezone()).date()
    status = resource.get("status", "current")
    if status not in ("current", "entered-in-error"):
        raise invalid("DocumentReference.status", "current ou entered-in-error attendu.")
    doc_status = resource.get("docStatus", "final")
    if doc_status not in ("preliminary", "final", "amended"):
        raise invalid("DocumentReference.docStatus", "preliminary, final ou amended attendu.")
    declared = attachment.get("contentType")
    guessed = filetype.guess(content)
    if (
        isinstance(declared, str)
        and guessed is not None
        and guessed.mime in DEFAULT_ALLOWED
        and declared.split(";")[0].strip() != guessed.mime
    ):
        # The content decides, as for an upload; a mismatch is said rather than ignored.
        raise invalid(
            "DocumentReference.content[0].attachment.contentType",
            f"le type déclaré ({declared}) ne correspond pas au contenu du fichier ({guessed.mime}).",
        )
    expressions = {
        "file": "DocumentReference.content[0].attachment.data",
        "title": "DocumentReference.description",
        "doc_type": "DocumentReference.type",
        "document_on": "DocumentReference.date",
        "status": "DocumentReference.status",
        "subject": "DocumentReference.subject",
        "reason": "DocumentReference.status",
    }
    try:
        outcome = services.document_upsert(
            software=ctx.caller.software,
            system=system,
            value=value,
            person=person,
            doc_type=doc_type,
            title=title,
            content=content,
            filename=filename,
            document_on=document_on,
            final=doc_status != "preliminary",
            withdrawn=status == "entered-in-error",
            digest=services.content_hash(resource),
        )
    except ValidationError as error:
        raise_mapped(error, expressions, "DocumentReference")
    return outcome
