"""Connected software (a structure's own record software, its DUI) and what the FHIR
facade keeps about the exchanges: the identifiers the software gave to the persons,
appointments and documents it sent, and its subscriptions to notifications.

A connected software authenticates with OAuth 2.0 client credentials (an
`oauth2_provider.Application`) and acts through a service account (`user`) that is a
member of its structure's team: the one access gate decides for it as for any team
member, and every access it makes is logged under its name ("Logiciel de la structure X").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from coordination.models import Person, Structure, TeamRole


class ConnectedSoftware(models.Model):
    name = models.CharField("nom du logiciel", max_length=200)
    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="connected_software", verbose_name="structure"
    )
    application = models.OneToOneField(
        "oauth2_provider.Application",
        on_delete=models.PROTECT,
        related_name="connected_software",
        verbose_name="application OAuth",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="connected_software",
        verbose_name="compte de service",
    )
    team_role = models.CharField(
        "rôle dans l'équipe",
        max_length=20,
        choices=TeamRole.choices,
        default=TeamRole.SOFTWARE,
        help_text="Les droits par défaut de ce rôle (matrice de l'équipe) s'appliquent au logiciel.",
    )
    scopes = models.TextField(
        "périmètres OAuth autorisés", help_text="Séparés par des espaces, par exemple system/Patient.read."
    )
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField("connecté le", default=timezone.now)
    revoked_at = models.DateTimeField("déconnecté le", null=True, blank=True)

    class Meta:
        verbose_name = "logiciel connecté"
        verbose_name_plural = "logiciels connectés"
        ordering = ["structure__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.structure})"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class ResourceKind(models.TextChoices):
    PATIENT = "Patient", "Personne"
    APPOINTMENT = "Appointment", "Rendez-vous"
    DOCUMENT = "DocumentReference", "Document"


class SourceIdentifier(models.Model):
    """An identifier a connected software gave to something it sent (`system|value`),
    and what it became here. Conditional updates find the object again by it."""

    software = models.ForeignKey(
        ConnectedSoftware, on_delete=models.PROTECT, related_name="identifiers", verbose_name="logiciel"
    )
    kind = models.CharField("ressource", max_length=20, choices=ResourceKind.choices)
    system = models.CharField("système", max_length=255)
    value = models.CharField("valeur", max_length=255)
    object_id = models.PositiveBigIntegerField("objet")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="source_identifiers", verbose_name="personne"
    )
    # SHA-256 of the last resource accepted: the same resource sent again changes nothing.
    content_hash = models.CharField("empreinte du dernier envoi", max_length=64)
    received_at = models.DateTimeField("reçu le", default=timezone.now)
    updated_at = models.DateTimeField("mis à jour le", default=timezone.now)

    class Meta:
        verbose_name = "identifiant d'un logiciel connecté"
        verbose_name_plural = "identifiants des logiciels connectés"
        constraints = [
            models.UniqueConstraint(fields=["software", "kind", "system", "value"], name="source_identifier_unique"),
        ]
        indexes = [models.Index(fields=["kind", "person"], name="source_identifier_person")]

    def __str__(self) -> str:
        return f"{self.kind} {self.system}|{self.value}"


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    OFF = "off", "Arrêtée"
    ERROR = "error", "En erreur"


class Subscription(models.Model):
    """A connected software's subscription to one event type of the catalogue for one
    person (CI-SIS "notification d'évènements"), delivered by rest-hook."""

    software = models.ForeignKey(
        ConnectedSoftware, on_delete=models.PROTECT, related_name="subscriptions", verbose_name="logiciel"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", verbose_name="personne")
    event_type = models.CharField("type d'évènement", max_length=50)
    endpoint = models.URLField("adresse de notification", max_length=500)
    header = models.CharField(
        "en-tête envoyé", max_length=500, blank=True, help_text="Par exemple « Authorization: Bearer … »."
    )
    reason = models.CharField("motif", max_length=300, blank=True)
    status = models.CharField(
        "statut", max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    starts_at = models.DateTimeField("début")
    ends_at = models.DateTimeField("fin", null=True, blank=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    ended_at = models.DateTimeField("arrêté le", null=True, blank=True)
    last_error = models.TextField("dernière erreur", blank=True)

    class Meta:
        verbose_name = "abonnement aux notifications"
        verbose_name_plural = "abonnements aux notifications"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["event_type", "person"], condition=Q(status="active"), name="subscription_active_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.software} — {self.event_type}"


class SubscriptionDelivery(models.Model):
    """Which subscription a rest-hook delivery (a `notifications.Delivery` row) is for."""

    delivery = models.OneToOneField(
        "notifications.Delivery", on_delete=models.CASCADE, related_name="subscription_link", verbose_name="envoi"
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="deliveries", verbose_name="abonnement"
    )

    class Meta:
        verbose_name = "notification d'un abonnement"
        verbose_name_plural = "notifications des abonnements"

    def __str__(self) -> str:
        return f"{self.subscription} → envoi {self.delivery_id}"
