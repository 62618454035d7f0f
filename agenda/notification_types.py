"""Notification types of the agenda block."""

from __future__ import annotations

from agenda.selectors import notification_summaries
from common.notify import NotificationType, register, register_block
from coordination.models import Category

register_block("agenda", "Agenda", position=20)

register(
    NotificationType(
        "agenda.appointment_proposed",
        "agenda",
        "Rendez-vous proposé",
        "Un rendez-vous vous est proposé.",
        Category.AGENDA,
        plural="rendez-vous proposés",
        describe=notification_summaries,
    ),
    NotificationType(
        "agenda.appointment_changed",
        "agenda",
        "Rendez-vous modifié",
        "Un rendez-vous a été modifié.",
        Category.AGENDA,
        plural="rendez-vous modifiés",
        describe=notification_summaries,
    ),
    NotificationType(
        "agenda.appointment_cancelled",
        "agenda",
        "Rendez-vous annulé",
        "Un rendez-vous a été annulé.",
        Category.AGENDA,
        plural="rendez-vous annulés",
        describe=notification_summaries,
    ),
    NotificationType(
        "agenda.meeting_slot_chosen",
        "agenda",
        "Créneau de réunion choisi",
        "Un créneau a été choisi pour une réunion à laquelle vous êtes invité·e.",
        Category.AGENDA,
        plural="créneaux de réunion choisis",
        describe=notification_summaries,
    ),
    NotificationType(
        "agenda.meeting_confirmed",
        "agenda",
        "Tous les participants ont accepté",
        "Tous les participants ont accepté : la réunion est confirmée.",
        Category.AGENDA,
        plural="réunions confirmées",
        describe=notification_summaries,
    ),
    NotificationType(
        "agenda.appointment_new_date_asked",
        "agenda",
        "Autre date demandée",
        "La personne demande une autre date pour un rendez-vous proposé.",
        Category.AGENDA,
        plural="autres dates demandées",
        describe=notification_summaries,
    ),
    NotificationType(
        "agenda.answer_deadline_passed",
        "agenda",
        "Délai de réponse dépassé",
        "Le délai de réponse à une proposition de rendez-vous est dépassé.",
        Category.AGENDA,
        plural="délais de réponse dépassés",
        describe=notification_summaries,
    ),
)
