"""Notification types of the evaluation block."""

from __future__ import annotations

from common.notify import NotificationType, register, register_block
from evaluation.selectors import referral_summaries

register_block("evaluation", "Évaluations et questionnaires", position=70)

register(
    NotificationType(
        "evaluation.satisfaction_invitation",
        "evaluation",
        "Questionnaire de satisfaction",
        "Une structure qui vous accompagne vous demande votre avis. Répondez sur votre espace.",
        None,  # about the structure, not a person's record: no category to filter on
    ),
    NotificationType(
        "evaluation.referral_received",
        "evaluation",
        "Demande d'orientation reçue",
        "Une nouvelle demande d'orientation est arrivée pour votre structure.",
        None,
        plural="demandes d'orientation reçues",
        describe=referral_summaries,
    ),
)
