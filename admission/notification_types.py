"""Notification types of the admission block. Generic sentences: no name, no health detail."""

from __future__ import annotations

from admission.selectors import notification_summaries
from common.notify import NotificationType, register, register_block

register_block("admission", "Admission", position=70)

register(
    NotificationType(
        "admission.status_changed",
        "admission",
        "Suivi de vos demandes d'admission",
        "Une demande d'admission que vous avez envoyée a changé de statut.",
        None,
        plural="suivis de vos demandes d'admission",
        describe=notification_summaries,
    ),
    NotificationType(
        "admission.request_received",
        "admission",
        "Demande d'admission reçue par votre structure",
        "Votre structure a reçu une demande d'admission, ou une réponse à une demande.",
        None,
        plural="demandes d'admission reçues par votre structure",
        describe=notification_summaries,
    ),
)
