"""Notification types of the liaison notebook."""

from __future__ import annotations

from common.notify import Frequency, NotificationType, register, register_block
from coordination.access import readers
from coordination.models import Category

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
    ),
    NotificationType(
        "liaison.alert",
        "liaison",
        "Alerte qui vous est adressée",
        "Une transmission vous est adressée dans le cahier de liaison.",
        Category.LIAISON,
    ),
    NotificationType(
        "liaison.remarkable_event",
        "liaison",
        "Évènement remarquable",
        "Un évènement remarquable a été signalé dans un cahier de liaison que vous suivez.",
        Category.LIAISON,
        readers(Category.LIAISON),
    ),
    NotificationType(
        "liaison.receipt_missing",
        "liaison",
        "Accusé de réception manquant",
        "Un accusé de réception que vous avez demandé n'a pas encore été donné.",
        Category.LIAISON,
    ),
)
