"""Notification types of the exchanges block. Their messages say only that a message
waits: never a name, a subject or a word of the message (they leave by e-mail or SMS)."""

from __future__ import annotations

from common.notify import NotificationType, register, register_block
from coordination.models import Category

register_block("exchanges", "Échanges", position=45)

register(
    NotificationType(
        "exchanges.message",
        "exchanges",
        "Nouveau message dans un échange",
        "Un nouveau message vous attend dans un échange auquel vous participez.",
        Category.EXCHANGES,
        default_channels=frozenset({"in_app"}),
        plural="nouveaux messages",
    ),
    NotificationType(
        "exchanges.mention",
        "exchanges",
        "Vous êtes mentionné·e",
        "Un message vous mentionne dans un échange auquel vous participez.",
        Category.EXCHANGES,
        plural="mentions",
    ),
    NotificationType(
        "exchanges.person_message",
        "exchanges",
        "Message de la personne ou de ses proches",
        "Un message de la personne accompagnée ou de ses proches attend une réponse de l'équipe.",
        Category.EXCHANGES,
        plural="messages de personnes ou de leurs proches",
    ),
    NotificationType(
        "exchanges.team_message",
        "exchanges",
        "Message de l'équipe",
        "Un message de l'équipe qui vous accompagne vous attend sur le portail.",
        Category.EXCHANGES,
        plural="messages de l'équipe",
    ),
)
