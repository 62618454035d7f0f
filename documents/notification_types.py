"""Notification types of the documents block."""

from __future__ import annotations

from common.notify import Frequency, NotificationType, register, register_block
from coordination.access import readers
from coordination.models import Category
from documents.selectors import notification_summaries

register_block("documents", "Documents", position=50)

register(
    NotificationType(
        "documents.new",
        "documents",
        "Nouveau document",
        "Un nouveau document a été ajouté à un dossier que vous suivez.",
        Category.DOCUMENTS,
        readers(Category.DOCUMENTS),
        default_frequency=Frequency.DAILY,
        plural="nouveaux documents",
        describe=notification_summaries,
    ),
    NotificationType(
        "documents.sending_failed",
        "documents",
        "Échec d'envoi d'un document",
        "L'envoi d'un document a échoué.",
        Category.DOCUMENTS,
        plural="échecs d'envoi de documents",
        describe=notification_summaries,
    ),
    NotificationType(
        "documents.to_review",
        "documents",
        "Document déposé à examiner",
        "Un document a été déposé sur le portail : il attend votre examen.",
        Category.DOCUMENTS,
        plural="documents déposés à examiner",
        describe=notification_summaries,
    ),
    NotificationType(
        "documents.reviewed",
        "documents",
        "Votre document a été examiné",
        "Un document que vous avez déposé a été examiné.",
        Category.DOCUMENTS,
        plural="documents examinés",
        describe=notification_summaries,
    ),
)
