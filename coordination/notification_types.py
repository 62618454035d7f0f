"""Notification types of the kernel: the circle of care and security notices."""

from __future__ import annotations

from common.notify import Frequency, NotificationType, register, register_block
from coordination import selectors
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
        plural="nouveaux membres du cercle",
        describe=selectors.member_summaries,
    ),
    NotificationType(
        "circle.member_ended",
        "circle",
        "Un membre quitte le cercle",
        "Un membre a quitté un cercle que vous suivez.",
        Category.CIRCLE,
        readers(Category.CIRCLE),
        default_frequency=Frequency.DAILY,
        plural="membres qui quittent le cercle",
        describe=selectors.member_summaries,
    ),
    NotificationType(
        "circle.join_request",
        "circle",
        "Demande d'entrée à laquelle répondre",
        "Un professionnel demande à entrer dans le cercle : votre réponse est attendue.",
        Category.CIRCLE,
        deciders,
        plural="demandes d'entrée auxquelles répondre",
        describe=selectors.join_request_summaries,
    ),
    NotificationType(
        "circle.delegation_request",
        "circle",
        "Délégation à approuver",
        "Un professionnel souhaite déléguer une partie de ses droits : votre accord est attendu.",
        Category.CIRCLE,
        deciders,
        plural="délégations à approuver",
        describe=selectors.delegation_summaries,
    ),
    NotificationType(
        "security.break_glass",
        "security",
        "Accès en urgence à un dossier",
        "Un dossier que vous suivez ou que vous représentez a été ouvert en urgence (bris de glace).",
        None,
        mutable=False,
        plural="accès en urgence au dossier",
        describe=selectors.break_glass_summaries,
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
