"""Notification types of the whole-record app."""

from __future__ import annotations

from common.notify import NotificationType, register, register_block

register_block("records", "Dossier complet", position=90)

register(
    NotificationType(
        "records.export_ready",
        "records",
        "Export du dossier prêt",
        "L'export de dossier que vous avez demandé est prêt : il peut être téléchargé pendant quelques jours.",
        None,  # told to the requester only, who was let through the gate when asking
    ),
    NotificationType(
        "records.export_failed",
        "records",
        "Échec de l'export du dossier",
        "L'export de dossier que vous avez demandé n'a pas pu être préparé. Vous pouvez le demander à nouveau.",
        None,
    ),
)
