"""Audit types of the ppa block (registered with the kernel's audit vocabulary)."""

from __future__ import annotations

from django.db import models

from coordination import audit


class PlanAudit(models.TextChoices):
    PLAN_CREATED = "plan_created", "Projet personnalisé créé"
    PLAN_EDITED = "plan_edited", "Projet personnalisé complété"
    PLAN_SUBMITTED = "plan_submitted", "Projet personnalisé soumis à validation"
    PLAN_SIGNED = "plan_signed", "Projet personnalisé signé"
    PLAN_VALIDATED = "plan_validated", "Projet personnalisé validé"
    PLAN_AMENDED = "plan_amended", "Avenant au projet personnalisé"
    PLAN_DMP_REFUSED = "plan_dmp_refused", "Projet personnalisé non envoyé au DMP"


audit.register(PlanAudit)
