"""Cahier de liaison partagé: transmissions, their attachments, addressees and receipts.

Nothing is lost: a transmission can be edited or withdrawn by its author only during a
short grace period (each edit keeps the previous text as a revision); after that it is
immutable and a correction is a new transmission pointing to the original.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from coordination.models import Person, Structure


class TransmissionCategory(models.TextChoices):
    SYMPTOMS = "symptomes", "Symptômes"
    RESULTS = "resultats", "Résultats"
    OBSERVATIONS = "observations", "Observations et avis"
    INSTRUCTIONS = "consignes", "Recommandations et consignes"
    FOOD = "alimentation", "Alimentation"
    HYGIENE = "hygiene", "Hygiène"
    AUTONOMY = "autonomie", "Autonomie"
    MOOD = "etat_emotionnel", "État émotionnel ou psychologique"
    SOCIAL = "vie_sociale", "Vie sociale"
    OTHER = "autre", "Autre"


class TransmissionKind(models.TextChoices):
    GENERAL = "general", "Générale"
    TARGETED = "targeted", "Ciblée (Données, Actions, Résultats)"


class Scope(models.TextChoices):
    INTERNAL = "internal", "Interne à ma structure"
    SHARED = "shared", "Partagée dans le cahier de liaison"


class RemarkableEvent(models.TextChoices):
    NONE = "", "—"
    FALL = "chute", "Chute"
    HOSPITALISATION = "hospitalisation", "Hospitalisation"
    RETURN_HOME = "retour_domicile", "Retour à domicile"
    RUNAWAY = "fugue", "Fugue"
    DEATH = "deces", "Décès"
    OTHER = "autre", "Autre évènement"


class TransmissionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    WITHDRAWN = "withdrawn", "Retirée par son auteur"


class Transmission(models.Model):
    # No index of its own: every index below starts with the person, and a plain one on
    # the person alone won the planner's choice for "new since my last visit" while it
    # filters the dates row by row (issue 19).
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="transmissions", verbose_name="personne", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transmissions", verbose_name="auteur"
    )
    author_structure = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transmissions",
        verbose_name="structure de l'auteur",
    )
    observed_at = models.DateTimeField("observé le")
    created_at = models.DateTimeField("saisi le", default=timezone.now)
    category = models.CharField("catégorie", max_length=20, choices=TransmissionCategory.choices)
    kind = models.CharField("type", max_length=10, choices=TransmissionKind.choices, default=TransmissionKind.GENERAL)
    target = models.CharField("cible", max_length=100, blank=True, help_text="Par exemple : douleur, chute.")
    text = models.TextField("transmission", blank=True)
    data = models.TextField("données", blank=True)
    actions = models.TextField("actions", blank=True)
    results = models.TextField("résultats", blank=True)
    scope = models.CharField("diffusion", max_length=10, choices=Scope.choices, default=Scope.SHARED)
    is_important = models.BooleanField("important", default=False)
    remarkable_event = models.CharField(
        "évènement remarquable", max_length=20, choices=RemarkableEvent.choices, blank=True
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name="corrige la transmission",
    )
    status = models.CharField(
        "statut", max_length=10, choices=TransmissionStatus.choices, default=TransmissionStatus.ACTIVE
    )
    edited_at = models.DateTimeField("modifiée le", null=True, blank=True)
    withdrawn_at = models.DateTimeField("retirée le", null=True, blank=True)
    requests_receipt = models.BooleanField("accusé de réception demandé", default=False)
    # What full-text search reads (category, target, text, DAR), kept by the services.
    search_document = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = "transmission"
        verbose_name_plural = "transmissions"
        ordering = ["-observed_at", "-pk"]
        indexes = [
            models.Index(fields=["person", "-observed_at", "-id"], name="transmission_timeline"),
            models.Index(fields=["person", "scope", "-observed_at", "-id"], name="transmission_scope_timeline"),
            models.Index(fields=["author", "-created_at"], name="transmission_author"),
            models.Index(fields=["-observed_at", "-id"], name="transmission_recent"),
            # "Unread" is bounded by entry time: with this index an empty unread set costs nothing.
            models.Index(fields=["created_at"], name="transmission_entered"),
            # "New since my last visit" counts one person's entries after a date: without
            # it PostgreSQL read the person's whole history and filtered the dates (issue 19).
            models.Index(fields=["person", "created_at"], name="transmission_person_entered"),
            # The professional's day: remarkable events and asked receipts are rare, so
            # these partial indexes stay small and find them without reading the notebook.
            models.Index(
                fields=["person", "created_at"], condition=~Q(remarkable_event=""), name="transmission_remarkable"
            ),
            models.Index(
                fields=["person", "created_at"], condition=Q(requests_receipt=True), name="transmission_receipt_asked"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(kind="targeted") | ~Q(target=""), name="transmission_target_set"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} — {self.observed_at:%d/%m/%Y %H:%M}"

    @property
    def is_withdrawn(self) -> bool:
        return self.status == TransmissionStatus.WITHDRAWN

    def editable_until(self):
        return self.created_at + timedelta(minutes=settings.LIAISON_GRACE_MINUTES)


class TransmissionRevision(models.Model):
    """The text of a transmission before an edit made during the grace period."""

    transmission = models.ForeignKey(
        Transmission, on_delete=models.CASCADE, related_name="revisions", verbose_name="transmission"
    )
    snapshot = models.JSONField("contenu précédent")
    replaced_at = models.DateTimeField("remplacé le", default=timezone.now)

    class Meta:
        verbose_name = "version antérieure"
        verbose_name_plural = "versions antérieures"
        ordering = ["replaced_at", "pk"]

    def __str__(self) -> str:
        return f"Version du {self.replaced_at:%d/%m/%Y %H:%M}"


class Attachment(models.Model):
    transmission = models.ForeignKey(
        Transmission, on_delete=models.PROTECT, related_name="attachments", verbose_name="transmission"
    )
    file = models.FileField("fichier", upload_to="liaison/%Y/%m/")
    thumbnail = models.FileField("vignette", upload_to="liaison/thumbnails/%Y/%m/", blank=True)
    original_name = models.CharField("nom d'origine", max_length=200)
    content_type = models.CharField("type", max_length=50)
    size = models.PositiveIntegerField("taille (octets)")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="déposé par"
    )
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


class Addressee(models.Model):
    """A member the transmission is addressed to (an alert), and their receipt."""

    transmission = models.ForeignKey(
        Transmission, on_delete=models.CASCADE, related_name="addressees", verbose_name="transmission"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="liaison_alerts", verbose_name="destinataire"
    )
    acknowledged_at = models.DateTimeField("accusé de réception le", null=True, blank=True)
    reminded_at = models.DateTimeField("relancé le", null=True, blank=True)

    class Meta:
        verbose_name = "destinataire"
        verbose_name_plural = "destinataires"
        constraints = [models.UniqueConstraint(fields=["transmission", "user"], name="addressee_unique")]
        indexes = [models.Index(fields=["user"], condition=Q(acknowledged_at__isnull=True), name="addressee_pending")]

    def __str__(self) -> str:
        return f"{self.user} — {self.transmission}"


class ReadMark(models.Model):
    """A user has read a transmission (for "my feed": unread first, unread counts)."""

    transmission = models.ForeignKey(
        Transmission, on_delete=models.CASCADE, related_name="read_marks", verbose_name="transmission"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="lecteur"
    )
    read_at = models.DateTimeField("lue le", default=timezone.now)

    class Meta:
        verbose_name = "lecture"
        verbose_name_plural = "lectures"
        constraints = [models.UniqueConstraint(fields=["user", "transmission"], name="read_mark_unique")]

    def __str__(self) -> str:
        return f"{self.user} a lu {self.transmission_id}"


class FeedState(models.Model):
    """Per user: everything entered before `read_before` counts as read ("mark all as read"
    without writing a row per transmission)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="liaison_feed", verbose_name="lecteur"
    )
    read_before = models.DateTimeField("tout lu avant le")

    class Meta:
        verbose_name = "état du fil"
        verbose_name_plural = "états du fil"

    def __str__(self) -> str:
        return f"{self.user} : tout lu avant le {self.read_before:%d/%m/%Y %H:%M}"
