"""Accounts: one user model for everyone, identified by e-mail address.

Whether a user is a professional, a person or a carer is said by the profiles of the
`coordination` app (Professional, Person.user, CarerLink), not by this model.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from common.outbox import OutboxItem
from common.phones import validate_french_mobile


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("L'adresse e-mail est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email: str):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("adresse e-mail", unique=True)
    first_name = models.CharField("prénom", max_length=150, blank=True)
    last_name = models.CharField("nom", max_length=150, blank=True)
    phone = models.CharField(
        "téléphone mobile",
        max_length=20,
        blank=True,
        validators=[validate_french_mobile],
        help_text="Pour les SMS : un mobile français, enregistré au format international (+33…).",
    )
    is_staff = models.BooleanField("administrateur", default=False, help_text="Peut se connecter à l'administration.")
    is_active = models.BooleanField("actif", default=True)
    date_joined = models.DateTimeField("inscrit le", default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
        ordering = ["last_name", "first_name", "email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def is_professional(self) -> bool:
        """True when the account has an active professional profile (`coordination.rules`)."""
        from coordination.rules import is_professional

        return is_professional(self)


class PortalInvitation(models.Model):
    """An e-mailed, single-use, expiring link that opens the user portal to a person or a
    carer. Only a SHA-256 hash of the token is stored here; the link is kept only in its
    e-mail's outbox row (`InvitationEmail`) until the e-mail has left."""

    person = models.ForeignKey(
        "coordination.Person", on_delete=models.PROTECT, related_name="portal_invitations", verbose_name="personne"
    )
    email = models.EmailField("adresse e-mail invitée")
    # Empty: the person themself; else the carer's relationship (coordination.Relationship).
    relationship = models.CharField("lien", max_length=20, blank=True)
    token_hash = models.CharField("empreinte du lien", max_length=64, unique=True)
    created_by = models.ForeignKey("portal.User", on_delete=models.PROTECT, related_name="+", verbose_name="invité par")
    created_at = models.DateTimeField("envoyée le", default=timezone.now)
    expires_at = models.DateTimeField("expire le")
    used_at = models.DateTimeField("utilisée le", null=True, blank=True)
    user = models.ForeignKey(
        "portal.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="compte créé ou lié",
    )

    class Meta:
        verbose_name = "invitation au portail"
        verbose_name_plural = "invitations au portail"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["person", "-created_at"])]

    def __str__(self) -> str:
        return f"Invitation de {self.email}"

    @property
    def is_for_person(self) -> bool:
        return not self.relationship

    @property
    def is_pending(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class KnownDevice(models.Model):
    """Browsers a user has signed in from, to tell them of a sign-in from a new one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="known_devices", verbose_name="utilisateur"
    )
    fingerprint = models.CharField("empreinte", max_length=64)
    label = models.CharField("navigateur", max_length=200, blank=True)
    first_seen_at = models.DateTimeField("vu la première fois", default=timezone.now)
    last_seen_at = models.DateTimeField("vu la dernière fois", default=timezone.now)

    class Meta:
        verbose_name = "appareil connu"
        verbose_name_plural = "appareils connus"
        constraints = [models.UniqueConstraint(fields=["user", "fingerprint"], name="known_device_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.label}"


class InvitationEmailStatus(models.TextChoices):
    PENDING = "pending", "À envoyer"
    SENDING = "sending", "En cours d'envoi"
    RETRY = "retry", "Nouvel essai prévu"
    SENT = "sent", "Envoyé"
    FAILED = "failed", "Échec définitif"


class InvitationEmail(OutboxItem):
    """The e-mail of an invitation, an outbox row (`common.outbox`): it leaves through
    the worker like every other e-mail, never inside the web request. The link (which
    holds the clear token) is kept only until the e-mail has left, then blanked."""

    invitation = models.ForeignKey(
        PortalInvitation, on_delete=models.CASCADE, related_name="emails", verbose_name="invitation"
    )
    link = models.CharField("lien (effacé une fois envoyé)", max_length=500, blank=True)
    status = models.CharField(
        "statut", max_length=10, choices=InvitationEmailStatus.choices, default=InvitationEmailStatus.PENDING
    )
    created_at = models.DateTimeField("créé le", default=timezone.now)

    class Meta:
        verbose_name = "e-mail d'invitation"
        verbose_name_plural = "e-mails d'invitation"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.invitation} ({self.get_status_display()})"


class Heartbeat(models.Model):
    """The last sign of life of a background process: the worker (each time it runs the
    heartbeat task) and beat (each time it queues a task). Shown to administrators and in
    /readyz as warnings when too old (portal/health.py)."""

    name = models.CharField("processus", max_length=20, unique=True)
    last_seen = models.DateTimeField("dernier signe de vie")
    detail = models.CharField("détail", max_length=200, blank=True)

    class Meta:
        verbose_name = "signe de vie"
        verbose_name_plural = "signes de vie des processus"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def touch(cls, name: str, detail: str = "") -> None:
        cls.objects.update_or_create(name=name, defaults={"last_seen": timezone.now(), "detail": detail[:200]})
