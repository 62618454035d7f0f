"""Notification types of the kernel: the circle of care and security notices."""

from __future__ import annotations

from common.notify import Frequency, NotificationType, register, register_block
from coordination.access import deciders, readers
from coordination.models import Category

register_block("circle", "Cercle de santé et d'accompagnement", position=10)
register_block("security", "Sécurité", position=90)

register(
    NotificationType(
        "circle.member_added",
        "circle",
        "Un membre entre dans le cercle",
        "Un nouveau membre a rejoint un cercle que vous suivez.",
        Category.CIRCLE,
        readers(Category.CIRCLE),
        default_frequency=Frequency.DAILY,
    ),
    NotificationType(
        "circle.member_ended",
        "circle",
        "Un membre quitte le cercle",
        "Un membre a quitté un cercle que vous suivez.",
        Category.CIRCLE,
        readers(Category.CIRCLE),
        default_frequency=Frequency.DAILY,
    ),
    NotificationType(
        "circle.join_request",
        "circle",
        "Demande d'entrée à laquelle répondre",
        "Un professionnel demande à entrer dans le cercle : votre réponse est attendue.",
        Category.CIRCLE,
        deciders,
    ),
    NotificationType(
        "circle.delegation_request",
        "circle",
        "Délégation à approuver",
        "Un professionnel souhaite déléguer une partie de ses droits : votre accord est attendu.",
        Category.CIRCLE,
        deciders,
    ),
    NotificationType(
        "security.break_glass",
        "security",
        "Accès en urgence à un dossier",
        "Un dossier que vous suivez ou que vous représentez a été ouvert en urgence (bris de glace).",
        None,
        mutable=False,
    ),
    NotificationType(
        "security.login_failures",
        "security",
        "Mots de passe erronés",
        "Plusieurs mots de passe erronés ont été saisis pour votre compte. Votre compte reste utilisable ; "
        "si ce n'est pas vous, changez votre mot de passe.",
        None,
        mutable=False,
    ),
    NotificationType(
        "security.new_device",
        "security",
        "Connexion depuis un nouvel appareil",
        "Une connexion à votre compte a eu lieu depuis un appareil inconnu. Si ce n'est pas vous, "
        "changez votre mot de passe.",
        None,
        mutable=False,
    ),
)
