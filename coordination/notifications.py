"""Notifications: one catalogue, one call for every block.

    notify("liaison.transmission_shared", person=person, actor=user, url=...)

records one `Notification` per recipient in the caller's transaction (nothing is lost
if the broker is down) and queues the e-mail/SMS deliveries with
`transaction.on_commit`. Recipients default to the members concerned and are always
filtered through the access gate: nobody is told about what they may not see.
Messages are generic sentences: no person's name, no health detail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from coordination import access
from coordination.models import Category, Channel, Delivery, Frequency, Notification, NotificationPreference, Person

Recipients = Callable[[Person | None], QuerySet]


def _readers(category: str) -> Recipients:
    def recipients(person):
        return access.users_allowed(person, category, "read")

    return recipients


def _deciders(person):
    return get_user_model().objects.filter(access.deciders_q(person), is_active=True).distinct()


@dataclass(frozen=True)
class NotificationType:
    key: str
    block: str
    label: str  # what the preferences page calls it
    message: str  # what the user is told: generic, no personal or health detail
    category: str | None  # the matrix category the recipients must be allowed to read
    default_recipients: Recipients | None = None  # None: the caller names them
    mutable: bool = True  # security notices cannot be muted
    default_frequency: str = Frequency.IMMEDIATE
    default_channels: frozenset[str] = field(default_factory=lambda: frozenset({"in_app", "email"}))


BLOCKS = {
    "circle": "Cercle de santé et d'accompagnement",
    "agenda": "Agenda",
    "ppa": "Projet personnalisé",
    "liaison": "Cahier de liaison",
    "documents": "Documents",
    "security": "Sécurité",
}

_TYPES = [
    NotificationType(
        "circle.member_added",
        "circle",
        "Un membre entre dans le cercle",
        "Un nouveau membre a rejoint un cercle que vous suivez.",
        Category.CIRCLE,
        _readers(Category.CIRCLE),
        default_frequency=Frequency.DAILY,
    ),
    NotificationType(
        "circle.member_ended",
        "circle",
        "Un membre quitte le cercle",
        "Un membre a quitté un cercle que vous suivez.",
        Category.CIRCLE,
        _readers(Category.CIRCLE),
        default_frequency=Frequency.DAILY,
    ),
    NotificationType(
        "circle.join_request",
        "circle",
        "Demande d'entrée à laquelle répondre",
        "Un professionnel demande à entrer dans le cercle : votre réponse est attendue.",
        Category.CIRCLE,
        _deciders,
    ),
    NotificationType(
        "circle.delegation_request",
        "circle",
        "Délégation à approuver",
        "Un professionnel souhaite déléguer une partie de ses droits : votre accord est attendu.",
        Category.CIRCLE,
        _deciders,
    ),
    NotificationType(
        "agenda.appointment_proposed",
        "agenda",
        "Rendez-vous proposé",
        "Un rendez-vous vous est proposé.",
        Category.AGENDA,
    ),
    NotificationType(
        "agenda.appointment_changed", "agenda", "Rendez-vous modifié", "Un rendez-vous a été modifié.", Category.AGENDA
    ),
    NotificationType(
        "agenda.appointment_cancelled", "agenda", "Rendez-vous annulé", "Un rendez-vous a été annulé.", Category.AGENDA
    ),
    NotificationType(
        "agenda.meeting_slot_chosen",
        "agenda",
        "Créneau de réunion choisi",
        "Un créneau a été choisi pour une réunion à laquelle vous êtes invité·e.",
        Category.AGENDA,
    ),
    NotificationType(
        "agenda.meeting_confirmed",
        "agenda",
        "Tous les participants ont accepté",
        "Tous les participants ont accepté : la réunion est confirmée.",
        Category.AGENDA,
    ),
    NotificationType(
        "agenda.answer_deadline_passed",
        "agenda",
        "Délai de réponse dépassé",
        "Le délai de réponse à une proposition de rendez-vous est dépassé.",
        Category.AGENDA,
    ),
    NotificationType(
        "ppa.new_iteration",
        "ppa",
        "Nouvelle version du projet personnalisé",
        "Le projet personnalisé a été mis à jour.",
        Category.PPA,
        _readers(Category.PPA),
        default_frequency=Frequency.DAILY,
    ),
    NotificationType(
        "ppa.submitted",
        "ppa",
        "Projet personnalisé soumis à validation",
        "Un projet personnalisé attend sa validation.",
        Category.PPA,
        _readers(Category.PPA),
    ),
    NotificationType(
        "ppa.validated",
        "ppa",
        "Projet personnalisé validé",
        "Un projet personnalisé a été validé.",
        Category.PPA,
        _readers(Category.PPA),
    ),
    NotificationType(
        "ppa.review_due",
        "ppa",
        "Révision du projet personnalisé à prévoir",
        "La révision annuelle d'un projet personnalisé approche.",
        Category.PPA,
    ),
    NotificationType(
        "ppa.review_overdue",
        "ppa",
        "Révision du projet personnalisé en retard",
        "La révision annuelle d'un projet personnalisé est en retard.",
        Category.PPA,
    ),
    NotificationType(
        "liaison.transmission_shared",
        "liaison",
        "Nouvelle transmission partagée",
        "Une nouvelle transmission a été partagée dans un cahier de liaison que vous suivez.",
        Category.LIAISON,
        _readers(Category.LIAISON),
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
        _readers(Category.LIAISON),
    ),
    NotificationType(
        "liaison.receipt_missing",
        "liaison",
        "Accusé de réception manquant",
        "Un accusé de réception que vous avez demandé n'a pas encore été donné.",
        Category.LIAISON,
    ),
    NotificationType(
        "documents.new",
        "documents",
        "Nouveau document",
        "Un nouveau document a été ajouté à un dossier que vous suivez.",
        Category.DOCUMENTS,
        _readers(Category.DOCUMENTS),
        default_frequency=Frequency.DAILY,
    ),
    NotificationType(
        "documents.sending_failed",
        "documents",
        "Échec d'envoi d'un document",
        "L'envoi d'un document a échoué.",
        Category.DOCUMENTS,
    ),
    NotificationType(
        "documents.to_review",
        "documents",
        "Document déposé à examiner",
        "Un document a été déposé sur le portail : il attend votre examen.",
        Category.DOCUMENTS,
    ),
    NotificationType(
        "documents.reviewed",
        "documents",
        "Votre document a été examiné",
        "Un document que vous avez déposé a été examiné.",
        Category.DOCUMENTS,
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
        "security.new_device",
        "security",
        "Connexion depuis un nouvel appareil",
        "Une connexion à votre compte a eu lieu depuis un appareil inconnu. Si ce n'est pas vous, "
        "changez votre mot de passe.",
        None,
        mutable=False,
    ),
]

CATALOGUE: dict[str, NotificationType] = {t.key: t for t in _TYPES}


@dataclass(frozen=True)
class Preference:
    frequency: str
    in_app: bool
    email: bool
    sms: bool


def default_preference(event_type: NotificationType) -> Preference:
    return Preference(
        event_type.default_frequency,
        "in_app" in event_type.default_channels,
        "email" in event_type.default_channels,
        "sms" in event_type.default_channels,
    )


def effective_preference(event_type: NotificationType, stored: NotificationPreference | None) -> Preference:
    """The user's choice, except that a security notice always goes, at once, in the
    portal and by e-mail."""
    preference = (
        default_preference(event_type)
        if stored is None
        else Preference(stored.frequency, stored.in_app, stored.email, stored.sms)
    )
    if not event_type.mutable:
        preference = Preference(Frequency.IMMEDIATE, True, True, preference.sms)
    return preference


def preferences_for(user) -> list[tuple[NotificationType, Preference]]:
    stored = {p.event_type: p for p in NotificationPreference.objects.filter(user=user)}
    return [(t, effective_preference(t, stored.get(t.key))) for t in _TYPES]


def _default_url(recipient, person: Person | None) -> str:
    if person is not None and getattr(recipient, "is_professional", False):
        return reverse("coordination:person", args=[person.pk])
    return reverse("portal_home")


def notify(
    event_type: str,
    *,
    person: Person | None,
    actor=None,
    url: str | None = None,
    url_for: Callable[[object], str] | None = None,
    recipients: Iterable | QuerySet | None = None,
) -> list[Notification]:
    """Tell the people concerned that something happened. Returns the notifications made.

    Call it inside the transaction that makes the change: the notifications are part of
    it, and their deliveries leave after the commit.
    """
    kind = CATALOGUE[event_type]
    User = get_user_model()
    if recipients is None:
        if kind.default_recipients is None:
            raise ValueError(f"{event_type}: this type needs explicit recipients")
        queryset = kind.default_recipients(person)
    elif isinstance(recipients, QuerySet):
        queryset = recipients
    else:
        queryset = User.objects.filter(pk__in=[getattr(r, "pk", r) for r in recipients])
    queryset = queryset.filter(is_active=True)
    if kind.category is not None and person is not None:
        # Through the gate: only users who may read this category of this person.
        queryset = access.users_allowed(person, kind.category, "read", users=queryset)
    if actor is not None:
        queryset = queryset.exclude(pk=actor.pk)
    users = list(queryset.distinct().select_related("professional"))
    if not users:
        return []
    stored = {p.user_id: p for p in NotificationPreference.objects.filter(user__in=users, event_type=event_type)}
    now = timezone.now()
    notifications = []
    for user in users:
        preference = effective_preference(kind, stored.get(user.pk))
        if preference.frequency == Frequency.NEVER:
            continue
        notifications.append(
            Notification(
                recipient=user,
                event_type=event_type,
                person=person,
                actor=actor,
                created_at=now,
                url=url or (url_for(user) if url_for else _default_url(user, person)),
                is_in_app=preference.in_app,
                frequency=preference.frequency,
                wants_email=preference.email,
                wants_sms=preference.sms and bool(user.phone),
            )
        )
    Notification.objects.bulk_create(notifications)
    if any(n.pk is None for n in notifications):
        notifications = list(Notification.objects.filter(event_type=event_type, created_at=now, recipient__in=users))
    deliveries = []
    for notification in notifications:
        if notification.frequency != Frequency.IMMEDIATE:
            continue
        if notification.wants_email:
            deliveries.append(
                Delivery(user=notification.recipient, channel=Channel.EMAIL, notification=notification, created_at=now)
            )
        if notification.wants_sms:
            deliveries.append(
                Delivery(user=notification.recipient, channel=Channel.SMS, notification=notification, created_at=now)
            )
    Delivery.objects.bulk_create(deliveries)
    dispatch_after_commit(deliveries)
    return notifications


def dispatch_after_commit(deliveries: Iterable[Delivery]) -> None:
    ids = [d.pk for d in deliveries if d.pk is not None]
    if not ids:
        return

    def send():
        from coordination.tasks import deliver

        for delivery_id in ids:
            deliver.delay(delivery_id)

    transaction.on_commit(send)
