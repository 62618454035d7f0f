"""OAuth scopes of the FHIR API, per resource and action (SMART-style `system/Patient.read`),
and the scopes backend of django-oauth-toolkit: a connected software may ask only for the
scopes its administrator gave it."""

from __future__ import annotations

from oauth2_provider.scopes import BaseScopes

READABLE = (
    "Patient",
    "RelatedPerson",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "CareTeam",
    "Appointment",
    "Schedule",
    "Slot",
    "DocumentReference",
    "List",
    "Binary",
    "CarePlan",
    "Goal",
    "ServiceRequest",
    "Consent",
    "Subscription",
    "AuditEvent",
    "Questionnaire",
    "QuestionnaireResponse",
)
WRITABLE = ("Patient", "Appointment", "DocumentReference", "Subscription", "QuestionnaireResponse")

ALL_SCOPES = {
    **{f"system/{name}.read": f"Lire : {name}" for name in READABLE},
    **{f"system/{name}.write": f"Écrire : {name}" for name in WRITABLE},
}
DEFAULT_SOFTWARE_SCOPES = " ".join(ALL_SCOPES)


def scope(resource_type: str, action: str) -> str:
    return f"system/{resource_type}.{action}"


class ConnectedSoftwareScopes(BaseScopes):
    def get_all_scopes(self):
        return ALL_SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        software = getattr(application, "connected_software", None) if application is not None else None
        if software is None or not software.is_active:
            return []
        return [name for name in software.scope_list if name in ALL_SCOPES]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)
