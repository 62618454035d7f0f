"""Audit types of the admission block (registered with the kernel's audit vocabulary)."""

from __future__ import annotations

from django.db import models

from coordination import audit


class AdmissionAudit(models.TextChoices):
    PERSON_ADMITTED = "admission_person_admitted", "Personne prise en charge par une structure"
    IDENTITY_REVIEW_ASKED = "admission_identity_review", "Doublon possible transmis à un administrateur"
    IDENTITY_REVIEW_DECIDED = "admission_identity_decided", "Doublon possible examiné"
    OFFER_UPDATED = "admission_offer_updated", "Offre d'une structure mise à jour"
    REQUEST_SENT = "admission_request_sent", "Demande d'admission envoyée"
    REQUEST_STATUS = "admission_request_status", "Statut d'une demande d'admission"
    REQUEST_ANSWERED = "admission_request_answered", "Réponse du demandeur"


audit.register(AdmissionAudit)
