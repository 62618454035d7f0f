"""Notification types of the projet personnalisé."""

from __future__ import annotations

from common.notify import Frequency, NotificationType, register, register_block
from coordination.access import readers
from coordination.models import Category
from ppa.selectors import notification_summaries

register_block("ppa", "Projet personnalisé", position=30)

register(
    NotificationType(
        "ppa.new_iteration",
        "ppa",
        "Nouvelle version du projet personnalisé",
        "Le projet personnalisé a été mis à jour.",
        Category.PPA,
        readers(Category.PPA),
        default_frequency=Frequency.DAILY,
        plural="nouvelles versions de projet personnalisé",
        describe=notification_summaries,
    ),
    NotificationType(
        "ppa.submitted",
        "ppa",
        "Projet personnalisé soumis à validation",
        "Un projet personnalisé attend sa validation.",
        Category.PPA,
        readers(Category.PPA),
        plural="projets personnalisés soumis",
        describe=notification_summaries,
    ),
    NotificationType(
        "ppa.validated",
        "ppa",
        "Projet personnalisé validé",
        "Un projet personnalisé a été validé.",
        Category.PPA,
        readers(Category.PPA),
        plural="projets personnalisés validés",
        describe=notification_summaries,
    ),
    NotificationType(
        "ppa.review_due",
        "ppa",
        "Révision du projet personnalisé à prévoir",
        "La révision annuelle d'un projet personnalisé approche.",
        Category.PPA,
        plural="révisions de projet personnalisé à prévoir",
        describe=notification_summaries,
    ),
    NotificationType(
        "ppa.review_overdue",
        "ppa",
        "Révision du projet personnalisé en retard",
        "La révision annuelle d'un projet personnalisé est en retard.",
        Category.PPA,
        plural="révisions de projet personnalisé en retard",
        describe=notification_summaries,
    ),
)
