"""`GET /fhir/metadata`: the CapabilityStatement, built from the handlers' registry, so
that it lists exactly what the server does (resources, interactions, search parameters,
the profiles claimed, the OAuth token endpoint)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from interop.fhir import codes
from interop.fhir.common import instant, prune
from interop.fhir.handlers import HANDLERS

SEARCH_DEFINITIONS = {
    "_id": "http://hl7.org/fhir/SearchParameter/Resource-id",
    "identifier": "http://hl7.org/fhir/SearchParameter/clinical-identifier",
    "patient": "http://hl7.org/fhir/SearchParameter/clinical-patient",
    "date": "http://hl7.org/fhir/SearchParameter/clinical-date",
    "type": "http://hl7.org/fhir/SearchParameter/clinical-type",
}


def capability_statement() -> dict:
    resources = []
    for handler in HANDLERS.values():
        interactions = [{"code": "read"}]
        if handler.name != "Binary":
            interactions.append({"code": "search-type"})
        for write in handler.writes:
            interactions.append({"code": write})
        resource = {
            "type": handler.name,
            "profile": handler.profile,
            "documentation": handler.documentation,
            "interaction": interactions,
            "conditionalUpdate": "update" in handler.writes and handler.name != "Subscription",
            "conditionalCreate": False,
            "readHistory": False,
            "searchInclude": list(handler.includes),
            "searchParam": [
                {
                    "name": name,
                    "type": kind,
                    "definition": SEARCH_DEFINITIONS.get(name),
                    "documentation": documentation,
                }
                for name, (kind, documentation) in handler.params.items()
                if name != "_include"
            ]
            + [
                {
                    "name": "_count",
                    "type": "number",
                    "documentation": f"Taille de la page (1 à {settings.FHIR_MAX_PAGE_SIZE}).",
                },
            ]
            if handler.name != "Binary"
            else [],
        }
        if handler.name == "Patient":
            resource["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                    "documentation": "Tout le dossier de la personne que l'appelant peut lire, en un Bundle "
                    "(collection) : les types de ressources que donnent les périmètres du jeton.",
                }
            ]
        resources.append(resource)
    token_url = f"{codes.base_url()}/auth/token"
    return prune(
        {
            "resourceType": "CapabilityStatement",
            "id": "portail-coordination",
            "url": f"{codes.base_url()}/metadata",
            "name": "PortailCoordinationFHIR",
            "title": "Portail de coordination — serveur FHIR (façade CI-SIS)",
            "status": "active",
            "experimental": False,
            "date": instant(timezone.now()),
            "publisher": "Portail de coordination",
            "description": (
                "Façade FHIR R4 du portail de coordination, aux formes des volets du CI-SIS (cercle de soins, "
                "gestion d'agendas partagés, cahier de liaison, partage de documents, transfert de données DUI, "
                "notification d'évènements). Chaque lecture passe par la porte d'accès du portail et est tracée."
            ),
            "kind": "instance",
            "implementation": {"description": "Portail de coordination", "url": codes.base_url()},
            "fhirVersion": codes.FHIR_VERSION,
            "format": [codes.JSON, "json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": (
                        "Recherches paginées (Bundle searchset, lien next) ; un paramètre inconnu est refusé (400). "
                        "Une personne hors de portée de l'appelant : 404."
                    ),
                    "security": {
                        "cors": False,
                        "service": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                        "code": "OAuth",
                                    }
                                ],
                                "text": "OAuth 2.0, client credentials (logiciels connectés d'une structure)",
                            }
                        ],
                        "extension": [
                            {
                                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                                "extension": [{"url": "token", "valueUri": token_url}],
                            }
                        ],
                        "description": f"Jeton : POST {token_url} (grant_type=client_credentials, périmètres "
                        "system/<Ressource>.read|write).",
                    },
                    "resource": resources,
                }
            ],
        }
    )
