"""Audit types of the liaison block (registered with the kernel's audit vocabulary)."""

from __future__ import annotations

from django.db import models

from coordination import audit


class LiaisonAudit(models.TextChoices):
    TRANSMISSION_CREATED = "transmission_created", "Transmission écrite"
    TRANSMISSION_EDITED = "transmission_edited", "Transmission modifiée (délai de saisie)"
    TRANSMISSION_WITHDRAWN = "transmission_withdrawn", "Transmission retirée"
    RECEIPT_GIVEN = "receipt_given", "Accusé de réception donné"


audit.register(LiaisonAudit)
