"""Audit types of the exchanges block (registered with the kernel's audit vocabulary)."""

from __future__ import annotations

from django.db import models

from coordination import audit


class ExchangesAudit(models.TextChoices):
    CONVERSATION_STARTED = "exchange_started", "Échange commencé"
    PARTICIPANT_ADDED = "exchange_participant_added", "Participant ajouté à un échange"
    PARTICIPANT_REMOVED = "exchange_participant_removed", "Participant retiré d'un échange"
    MESSAGE_POSTED = "exchange_message_posted", "Message écrit dans un échange"
    MESSAGE_EDITED = "exchange_message_edited", "Message d'un échange modifié (délai de saisie)"
    MESSAGE_WITHDRAWN = "exchange_message_withdrawn", "Message d'un échange retiré"
    MESSAGE_FILED = "exchange_message_filed", "Message d'un échange versé au cahier de liaison"


audit.register(ExchangesAudit)
