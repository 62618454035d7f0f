"""Audit types of the agenda block (registered with the kernel's audit vocabulary)."""

from __future__ import annotations

from django.db import models

from coordination import audit


class AgendaAudit(models.TextChoices):
    EVENT_CREATED = "event_created", "Rendez-vous créé"
    EVENT_UPDATED = "event_updated", "Rendez-vous modifié"
    EVENT_CANCELLED = "event_cancelled", "Rendez-vous annulé"
    EVENT_ANSWERED = "event_answered", "Réponse à un rendez-vous"
    AGENDA_FEED_CREATED = "agenda_feed_created", "Abonnement à l'agenda créé"
    AGENDA_FEED_REVOKED = "agenda_feed_revoked", "Abonnement à l'agenda révoqué"


audit.register(AgendaAudit)
