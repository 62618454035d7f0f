"""Audit types of the interoperability layer (registered with the kernel's vocabulary)."""

from __future__ import annotations

from django.db import models

from coordination import audit


class InteropAudit(models.TextChoices):
    SOFTWARE_CONNECTED = "software_connected", "Logiciel de structure connecté"
    SOFTWARE_REVOKED = "software_revoked", "Logiciel de structure déconnecté"
    PATIENT_RECEIVED = "fhir_patient_received", "Identité reçue du logiciel de la structure"
    SUBSCRIPTION_CREATED = "fhir_subscription_created", "Abonnement aux notifications créé"
    SUBSCRIPTION_ENDED = "fhir_subscription_ended", "Abonnement aux notifications arrêté"


audit.register(InteropAudit)
