"""Audit types of the evaluation block (registered with the kernel's audit vocabulary)."""

from __future__ import annotations

from django.db import models

from coordination import audit


class EvaluationAudit(models.TextChoices):
    QUESTIONNAIRE_PUBLISHED = "questionnaire_published", "Version de questionnaire publiée"
    EVALUATION_RECORDED = "evaluation_recorded", "Évaluation enregistrée"
    NEED_ACCEPTED = "evaluation_need_accepted", "Besoin proposé par une évaluation accepté"
    NEED_DISCARDED = "evaluation_need_discarded", "Besoin proposé par une évaluation écarté"
    REFERRAL_SENT = "referral_sent", "Demande d'orientation envoyée"
    REFERRAL_HANDLED = "referral_handled", "Demande d'orientation traitée"
    CAMPAIGN_SENT = "satisfaction_sent", "Questionnaire de satisfaction envoyé"


audit.register(EvaluationAudit)
