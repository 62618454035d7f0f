"""Notification types of the liaison notebook."""

from __future__ import annotations

from common.notify import Frequency, NotificationType, register, register_block
from coordination.access import readers
from coordination.models import Category
from liaison.selectors import notification_summaries

register_block("liaison", "Cahier de liaison", position=40)

register(
    NotificationType(
        "liaison.transmission_shared",
        "liaison",
        "Nouvelle transmission partagée",
        "Une nouvelle transmission a été partagée dans un cahier de liaison que vous suivez.",
        Category.LIAISON,
        readers(Category.LIAISON),
        default_frequency=Frequency.DAILY,
        plural="nouvelles transmissions",
        describe=notification_summaries,
    ),
    NotificationType(
        "liaison.alert",
        "liaison",
        "Alerte qui vous est adressée",
        "Une transmission vous est adressée dans le cahier de liaison.",
        Category.LIAISON,
        plural="alertes qui vous sont adressées",
        describe=notification_summaries,
    ),
    NotificationType(
        "liaison.remarkable_event",
        "liaison",
        "Évènement remarquable",
        "Un évènement remarquable a été signalé dans un cahier de liaison que vous suivez.",
        Category.LIAISON,
        readers(Category.LIAISON),
        plural="évènements remarquables",
        describe=notification_summaries,
    ),
    NotificationType(
        "liaison.receipt_missing",
        "liaison",
        "Accusé de réception manquant",
        "Un accusé de réception que vous avez demandé n'a pas encore été donné.",
        Category.LIAISON,
        plural="accusés de réception manquants",
        describe=notification_summaries,
    ),
)
