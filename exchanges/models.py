"""Échanges: conversations among professionals around a person or a topic, and between
the person's side (the person, a carer, a legal representative) and their team.

Nothing is lost: a message is never deleted. Its author may edit it (the previous body
is kept as a revision) or withdraw it ("message retiré", the body kept) during a short
grace period (`EXCHANGES_GRACE_MINUTES`); participants are never deleted either (a
removal is dated). Who sees a conversation about a person is decided at each read by
the matrix (`exchanges.selectors`), never by these rows alone.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from coordination.models import Person, Structure


class ConversationKind(models.TextChoices):
    PERSON = "person", "Entre professionnels, autour d'une personne"
    TOPIC = "topic", "Entre professionnels, sur un sujet"
    PERSON_TEAM = "person_team", "Entre la personne et son équipe"


class Conversation(models.Model):
    kind = models.CharField("type", max_length=12, choices=ConversationKind.choices)
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name="personne",
    )
    # A topic: the structure whose whole team takes part (none: invited professionals
    # only). The person's side with their team: the team of this structure.
    structure = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name="équipe de la structure",
    )
    # One named professional of the circle, without a team (no structure): the one the
    # person's side writes to, or the one who wrote to the person's side in their own name.
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="professionnel destinataire",
    )
    subject = models.CharField("objet", max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="commencé par"
    )
    created_at = models.DateTimeField("commencé le", default=timezone.now)
    # Kept by the services on each message: the lists sort on it without reading messages.
    last_message_at = models.DateTimeField("dernier message le", null=True, blank=True)

    # Not stored: set by `selectors.conversation_for` from the gate's answer (whether the
    # reader may also write), so a page asks the gate once.
    reader_may_write: bool | None = None

    class Meta:
        verbose_name = "échange"
        verbose_name_plural = "échanges"
        ordering = ["-last_message_at", "-pk"]
        indexes = [
            models.Index(fields=["person", "-last_message_at"], name="conversation_person_recent"),
            models.Index(fields=["structure", "-last_message_at"], name="conversation_structure_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="topic", person__isnull=True) | (~Q(kind="topic") & Q(person__isnull=False)),
                name="conversation_person_by_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_about_person(self) -> bool:
        return self.person_id is not None


class Participant(models.Model):
    """A user taking part. Never deleted: a removal is dated. A row alone never opens a
    conversation about a person: the matrix is asked at each read."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants", verbose_name="échange"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="exchange_participations",
        verbose_name="compte",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="ajouté par",
    )
    added_at = models.DateTimeField("ajouté le", default=timezone.now)
    last_read_at = models.DateTimeField("lu le", null=True, blank=True)
    last_read_message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="dernier message lu"
    )
    removed_at = models.DateTimeField("retiré le", null=True, blank=True)

    class Meta:
        verbose_name = "participant"
        verbose_name_plural = "participants"
        ordering = ["added_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="participant_unique")]
        indexes = [
            models.Index(
                fields=["user", "conversation"], condition=Q(removed_at__isnull=True), name="participant_active"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.conversation}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", verbose_name="échange", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exchange_messages", verbose_name="auteur"
    )
    body = models.TextField("message")
    created_at = models.DateTimeField("écrit le", default=timezone.now)
    edited_at = models.DateTimeField("modifié le", null=True, blank=True)
    withdrawn_at = models.DateTimeField("retiré le", null=True, blank=True)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name="personnes mentionnées"
    )
    # "Versé au cahier de liaison": the transmission made from this message (liaison
    # never imports this app; the reverse relation tells a transmission where it came from).
    transmission = models.OneToOneField(
        "liaison.Transmission",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exchange_message",
        verbose_name="transmission du cahier de liaison",
    )

    class Meta:
        verbose_name = "message"
        verbose_name_plural = "messages"
        ordering = ["created_at", "pk"]
        indexes = [
            # The last page first, then older ones by id (keyset paging), and counts of
            # unread messages after a participant's last read one.
            models.Index(fields=["conversation", "id"], name="message_conversation_id"),
            models.Index(fields=["conversation", "created_at"], name="message_conversation_created"),
        ]

    def __str__(self) -> str:
        return f"Message du {self.created_at:%d/%m/%Y %H:%M}"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def editable_until(self):
        return self.created_at + timedelta(minutes=settings.EXCHANGES_GRACE_MINUTES)


class MessageRevision(models.Model):
    """The body of a message before an edit made during the grace period."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="revisions", verbose_name="message")
    body = models.TextField("texte précédent")
    revised_at = models.DateTimeField("remplacé le", default=timezone.now)

    class Meta:
        verbose_name = "version antérieure"
        verbose_name_plural = "versions antérieures"
        ordering = ["revised_at", "pk"]

    def __str__(self) -> str:
        return f"Version remplacée le {self.revised_at:%d/%m/%Y %H:%M}"


class MessageAttachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="attachments", verbose_name="message")
    file = models.FileField("fichier", upload_to="exchanges/%Y/%m/")
    thumbnail = models.FileField("vignette", upload_to="exchanges/thumbnails/%Y/%m/", blank=True)
    original_name = models.CharField("nom d'origine", max_length=200)
    content_type = models.CharField("type", max_length=50)
    size = models.PositiveIntegerField("taille (octets)")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    uploaded_at = models.DateTimeField("déposé le", default=timezone.now)

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
