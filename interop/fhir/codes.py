"""Systems, profiles and code mappings of the FHIR facade (CI-SIS guides, FR Core).

Every URL here comes from the ANS guides' FSH sources or FR Core; the portal's own
code systems (for its vocabularies that have no national one) live under
`FHIR_BASE/CodeSystem/…`.
"""

from __future__ import annotations

from django.conf import settings

FHIR_VERSION = "4.0.1"
JSON = "application/fhir+json"

# --- Profiles claimed --------------------------------------------------------------------------
FR_CORE = "https://hl7.fr/ig/fhir/core/StructureDefinition"
PROFILE_PATIENT = f"{FR_CORE}/fr-core-patient"
PROFILE_PATIENT_INS = f"{FR_CORE}/fr-core-patient-ins"
PROFILE_RELATED_PERSON = f"{FR_CORE}/fr-core-related-person"
PROFILE_ORGANIZATION = f"{FR_CORE}/fr-core-organization"
PROFILE_PRACTITIONER = f"{FR_CORE}/fr-core-practitioner"
PROFILE_PRACTITIONER_ROLE = f"{FR_CORE}/fr-core-practitioner-role"
PROFILE_SCHEDULE = f"{FR_CORE}/fr-core-schedule"
PROFILE_SLOT = f"{FR_CORE}/fr-core-slot"
PROFILE_APPOINTMENT = f"{FR_CORE}/fr-core-appointment"
PROFILE_CARE_TEAM = "https://interop.esante.gouv.fr/ig/fhir/cds/StructureDefinition/cds-ihe-careteam"
PROFILE_CDL_NOTE = "https://interop.esante.gouv.fr/ig/fhir/cdl/StructureDefinition/cdl-document-reference"
TDDUI = "https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition"
PROFILE_CARE_PLAN = f"{TDDUI}/tddui-careplan-projet-perso"
PROFILE_GOAL_OBJECTIVE = f"{TDDUI}/tddui-goal-objectif"
PROFILE_NEED = f"{TDDUI}/tddui-service-request-besoin"
NDE = "https://interop.esante.gouv.fr/ig/fhir/nde/StructureDefinition"
PROFILE_SUBSCRIPTION = f"{NDE}/nde-subscription"
PROFILE_NOTIFICATION = f"{NDE}/nde-notificationrequest"

# --- Identifiers ---------------------------------------------------------------------------------
INS_SYSTEMS = {
    f"urn:oid:{oid}": oid
    for oid in ("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11")
}
INS_NIA_OID = "1.2.250.1.213.1.4.9"
FINESS_SYSTEM = "http://finess.sante.gouv.fr"
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
IDNAT_STRUCT_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
FR_V2_0203 = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
IDENTITY_STATUS_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445"
EXT_IDENTITY_RELIABILITY = f"{FR_CORE}/fr-core-identity-reliability"
EXT_BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
EXT_INSEE_CODE = f"{FR_CORE}/fr-core-address-insee-code"
EXT_BIRTH_LIST_GIVEN_NAME = f"{FR_CORE}/fr-core-birth-list-given-name"
INSEE_COMMUNE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R13-Commune/FHIR/TRE-R13-Commune"
PPA_IDENTIFIER_SYSTEM = "https://identifiant-medicosocial-projetpersonnalise.esante.gouv.fr"
GOAL_IDENTIFIER_SYSTEM = "https://identifiant-medicosocial-objectif.esante.gouv.fr"
NEED_IDENTIFIER_SYSTEM = "https://identifiant-medicosocial-besoin.esante.gouv.fr"
EXT_CAREPLAN_REFERENCE = f"{TDDUI}/tddui-careplan-reference"
EXT_GOAL_NOTE = f"{TDDUI}/tddui-goal-note"

# --- Terminologies ----------------------------------------------------------------------------
NOTE_TYPE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R234-TypeNote/FHIR/TRE-R234-TypeNote"
VISIBILITY_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
)
INVISIBLE_PATIENT = "INVISIBLE_PATIENT"
EXT_IS_EMERGENCY = "https://interop.esante.gouv.fr/ig/fhir/cdl/StructureDefinition/cdl-ext-is-emergency"
SERAFIN_SYSTEM = "https://smt.esante.gouv.fr/terminologie-SERAFINPH"
CARE_TEAM_ROLE_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_R260-HL7RoleClass/FHIR/TRE-R260-HL7RoleClass"
PARTICIPATION_FUNCTION_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_R259-HL7ParticipationFunction/FHIR/TRE-R259-HL7ParticipationFunction"
)
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY_LOINC = "http://loinc.org"
PARTICIPATION_MODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
NDE_EXT = {
    name: f"https://interop.esante.gouv.fr/ig/fhir/nde/StructureDefinition/{slug}"
    for name, slug in (
        ("start", "start"),
        ("subject", "subject"),
        ("declarant", "declarant"),
        ("event_type", "event-type"),
        ("subscriber", "subscriber"),
        ("subscription_date", "subscription-date"),
        ("event_time", "event-time"),
        ("emission_time", "event-emission-time"),
        ("recipient_endpoint", "recipient-endpoint"),
    )
}


def base_url() -> str:
    """Absolute address of the FHIR endpoint (references, links)."""
    return f"{settings.SITE_URL}/fhir"


def local_system(name: str) -> str:
    """One of the portal's own code systems or identifier namespaces."""
    return f"{base_url()}/CodeSystem/{name}"


def local_extension(name: str) -> str:
    return f"{base_url()}/StructureDefinition/{name}"
