"""Agenda: events around a person or between professionals, their participants and
places, busy times imported from external calendars, and ICS subscription feeds.

Times are stored as aware datetimes (UTC in the database) and shown in Europe/Paris;
recurring events keep their RFC 5545 rule and are expanded when read, in the event's
time zone, so that a weekly 10:00 stays at 10:00 across daylight-saving changes.

Models hold data; every write goes through `agenda.services`, every read of a person's
agenda through `coordination.access` (category `agenda`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.timezone import PARIS_NAME
from coordination.models import Person, Professional, Structure


def new_uid() -> str:
    return f"{uuid.uuid4()}@portail-coordination"


class EventType(models.TextChoices):
    HEALTH_APPOINTMENT = "rdv_sante", "Rendez-vous de santé"
    HOME_VISIT = "intervention_domicile", "Intervention à domicile"
    SUPPORT_ACTIVITY = "activite", "Activité d'accompagnement"
    COORDINATION_MEETING = "reunion", "Réunion de coordination"
    OTHER = "autre", "Autre"


class EventStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposé"
    CONFIRMED = "confirmed", "Confirmé"
    CANCELLED = "cancelled", "Annulé"
    DONE = "done", "Réalisé"


class Visibility(models.TextChoices):
    INTERNAL = "internal", "Interne à la structure"
    SHARED = "shared", "Partagé dans l'agenda de la personne"


class EventSource(models.TextChoices):
    PORTAL = "portal", "Saisi dans le portail"
    BOOKING = "booking", "Prise de rendez-vous entre professionnels"
    PPA = "ppa", "Projet personnalisé"
    IMPORT = "import", "Importé d'un logiciel de structure"


class Event(models.Model):
    """One event (or, with `rrule`, a recurring series; `recurrence_of` marks a changed
    occurrence of a series, identified by `recurrence_id` as in RFC 5545)."""

    uid = models.CharField("identifiant (UID)", max_length=255, default=new_uid)
    source = models.CharField("source", max_length=20, choices=EventSource.choices, default=EventSource.PORTAL)
    source_reference = models.CharField("référence à la source", max_length=255, blank=True)
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name="personne concernée",
    )
    structure = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name="structure qui l'a créé",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_events", verbose_name="créé par"
    )
    title = models.CharField("titre", max_length=200)
    motive = models.TextField("motif", blank=True)
    event_type = models.CharField("type", max_length=30, choices=EventType.choices, default=EventType.OTHER)
    starts_at = models.DateTimeField("début")
    ends_at = models.DateTimeField("fin")
    is_all_day = models.BooleanField("toute la journée", default=False)
    time_zone = models.CharField("fuseau horaire", max_length=50, default=PARIS_NAME)
    status = models.CharField("statut", max_length=10, choices=EventStatus.choices, default=EventStatus.CONFIRMED)
    visibility = models.CharField("visibilité", max_length=10, choices=Visibility.choices, default=Visibility.SHARED)
    rrule = models.CharField(
        "règle de récurrence (RRULE)",
        max_length=500,
        blank=True,
        help_text="RFC 5545, par exemple FREQ=WEEKLY;BYDAY=MO,TH;COUNT=10.",
    )
    exdates = models.JSONField("occurrences supprimées (EXDATE)", default=list, blank=True)
    recurrence_of = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="overrides",
        verbose_name="occurrence modifiée de la série",
    )
    recurrence_id = models.DateTimeField("occurrence d'origine (RECURRENCE-ID)", null=True, blank=True)
    serafin_service = models.ForeignKey(
        "reference.SerafinCode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to={"kind": "service"},
        related_name="events",
        verbose_name="prestation SERAFIN-PH",
    )
    # A proposal held for its participants (booking) or awaiting the person's answer.
    hold_expires_at = models.DateTimeField("créneau réservé jusqu'au", null=True, blank=True)
    answer_deadline = models.DateTimeField("réponse attendue avant le", null=True, blank=True)
    # Bounds of the whole series (ends_at for a single event; None for an endless rule),
    # so that period queries stay indexed.
    series_ends_at = models.DateTimeField("fin de la série", null=True, blank=True)
    sequence = models.PositiveIntegerField("révision (SEQUENCE)", default=0)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    updated_at = models.DateTimeField("modifié le", default=timezone.now)

    class Meta:
        verbose_name = "évènement"
        verbose_name_plural = "évènements"
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gte=models.F("starts_at")), name="event_ends_after_start"),
            # The same event fed from several sources is stored once.
            models.UniqueConstraint(fields=["uid"], condition=Q(recurrence_of__isnull=True), name="event_uid_unique"),
            models.UniqueConstraint(
                fields=["recurrence_of", "recurrence_id"],
                condition=Q(recurrence_of__isnull=False),
                name="event_override_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "starts_at"], name="event_person_start"),
            models.Index(fields=["person", "series_ends_at"], name="event_person_series_end"),
            models.Index(fields=["structure", "starts_at"], name="event_structure_start"),
            # Busy times of professionals (slot search, booking checks): the events of a
            # period, whoever they belong to, read by the bounds of `recurrence.period_q`.
            models.Index(fields=["series_ends_at", "starts_at"], name="event_series_end_start"),
            # …and the recurring series among them (few rows: a small partial index).
            models.Index(fields=["series_ends_at", "starts_at"], condition=~Q(rrule=""), name="event_series_window"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # Safety net for rows written outside `agenda.services` (tests, admin, data
        # fixes): a single event's period ends with it, as every period query expects.
        # Recurring series get theirs from `agenda.recurrence.series_end` in the services.
        if not self.rrule and self.series_ends_at is None and self.ends_at is not None:
            self.series_ends_at = self.ends_at
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "series_ends_at"}
        adding = self._state.adding
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and not {"starts_at", "series_ends_at"} & set(update_fields):
            return
        bounds = (self.starts_at, self.series_ends_at)
        if not adding and bounds != getattr(self, "_stored_bounds", None):
            # The participants carry a copy of the period (busy lookups by professional).
            self.participants.update(event_starts_at=self.starts_at, event_series_ends_at=self.series_ends_at)
        self._stored_bounds = bounds

    @classmethod
    def from_db(cls, db, field_names, values):
        event = super().from_db(db, field_names, values)
        event._stored_bounds = (event.__dict__.get("starts_at"), event.__dict__.get("series_ends_at"))
        return event

    @property
    def is_recurring(self) -> bool:
        return bool(self.rrule)

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED


class PlaceKind(models.TextChoices):
    ADDRESS = "address", "Adresse"
    HOME = "home", "Au domicile"
    VISIO = "visio", "Visioconférence"


class EventPlace(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="places", verbose_name="évènement")
    kind = models.CharField("type de lieu", max_length=10, choices=PlaceKind.choices)
    label = models.CharField("lieu", max_length=200, blank=True)
    address = models.TextField("adresse", blank=True)
    url = models.URLField("lien de visioconférence", blank=True)

    class Meta:
        verbose_name = "lieu"
        verbose_name_plural = "lieux"
        ordering = ["pk"]

    def __str__(self) -> str:
        if self.kind == PlaceKind.HOME:
            return "Au domicile"
        if self.kind == PlaceKind.VISIO:
            return self.label or "Visioconférence"
        return self.label or self.address


class ParticipantKind(models.TextChoices):
    PROFESSIONAL = "professional", "Professionnel"
    STRUCTURE = "structure", "Structure"
    PERSON = "person", "La personne"
    CARER = "carer", "Aidant ou représentant"


class Response(models.TextChoices):
    """iCalendar PARTSTAT."""

    NEEDS_ACTION = "needs_action", "En attente de réponse"
    ACCEPTED = "accepted", "Accepté"
    DECLINED = "declined", "Refusé"
    TENTATIVE = "tentative", "Provisoire"


class ParticipantQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for participant in objs:
            participant.copy_event_bounds()
        return super().bulk_create(objs, *args, **kwargs)


class Participant(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participants", verbose_name="évènement")
    kind = models.CharField("type", max_length=15, choices=ParticipantKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="event_participations",
        verbose_name="compte",
    )
    professional = models.ForeignKey(
        Professional,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="event_participations",
        verbose_name="professionnel",
    )
    structure = models.ForeignKey(
        Structure,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="event_participations",
        verbose_name="structure",
    )
    display_name = models.CharField("nom affiché", max_length=200, blank=True)
    is_required = models.BooleanField("présence requise", default=True)
    is_organiser = models.BooleanField("organisateur", default=False)
    response = models.CharField("réponse", max_length=15, choices=Response.choices, default=Response.NEEDS_ACTION)
    responded_at = models.DateTimeField("répondu le", null=True, blank=True)
    comment = models.TextField("commentaire", blank=True)
    # iTIP COUNTER: the slot this participant proposes instead.
    counter_starts_at = models.DateTimeField("contre-proposition : début", null=True, blank=True)
    counter_ends_at = models.DateTimeField("contre-proposition : fin", null=True, blank=True)
    # Copies of the event's `starts_at` and `series_ends_at`, kept by `Event.save` and set
    # on creation (`save`, `bulk_create`): a professional's busy events in a period are
    # found from their own participant rows, without reading every event of the period.
    event_starts_at = models.DateTimeField("début de l'évènement", null=True, editable=False)
    event_series_ends_at = models.DateTimeField("fin de la série", null=True, editable=False)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        verbose_name = "participant"
        verbose_name_plural = "participants"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "professional"],
                condition=Q(professional__isnull=False),
                name="participant_professional_unique",
            ),
            models.UniqueConstraint(
                fields=["event", "user"], condition=Q(user__isnull=False), name="participant_user_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["professional", "event"], name="participant_pro_event"),
            models.Index(
                fields=["professional", "event_series_ends_at", "event_starts_at"], name="participant_pro_period"
            ),
            models.Index(fields=["user", "event"], name="participant_user_event"),
        ]

    def __str__(self) -> str:
        return self.display_name or str(self.professional or self.structure or self.user or "")

    def save(self, *args, **kwargs) -> None:
        if self._state.adding:
            self.copy_event_bounds()
        super().save(*args, **kwargs)

    def copy_event_bounds(self) -> None:
        self.event_starts_at, self.event_series_ends_at = self.event.starts_at, self.event.series_ends_at


class ExternalCalendarKind(models.TextChoices):
    URL = "url", "Adresse d'abonnement (ICS)"
    FILE = "file", "Fichier importé"


class ExternalCalendar(models.Model):
    """A professional's own calendar elsewhere; its events become busy times."""

    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="external_calendars", verbose_name="professionnel"
    )
    name = models.CharField("nom", max_length=100)
    kind = models.CharField("type", max_length=5, choices=ExternalCalendarKind.choices)
    url = models.URLField("adresse ICS", max_length=1000, blank=True)
    is_active = models.BooleanField("actif", default=True)
    last_synced_at = models.DateTimeField("dernière synchronisation réussie", null=True, blank=True)
    last_error = models.TextField("dernière erreur", blank=True)
    last_error_at = models.DateTimeField("date de la dernière erreur", null=True, blank=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)

    class Meta:
        verbose_name = "agenda externe"
        verbose_name_plural = "agendas externes"
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ExternalBusyTime(models.Model):
    """One (expanded) occurrence of an imported event: free/busy only, no title kept."""

    calendar = models.ForeignKey(
        ExternalCalendar, on_delete=models.CASCADE, related_name="busy_times", verbose_name="agenda externe"
    )
    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="external_busy_times", verbose_name="professionnel"
    )
    external_uid = models.CharField("UID externe", max_length=500)
    recurrence_id = models.DateTimeField("occurrence", null=True, blank=True)
    starts_at = models.DateTimeField("début")
    ends_at = models.DateTimeField("fin")

    class Meta:
        verbose_name = "plage occupée importée"
        verbose_name_plural = "plages occupées importées"
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["professional", "starts_at"], name="busy_pro_start")]

    def __str__(self) -> str:
        return f"{self.starts_at:%d/%m/%Y %H:%M} – {self.ends_at:%H:%M}"


class FeedOwnerKind(models.TextChoices):
    PERSON = "person", "Agenda d'une personne"
    PROFESSIONAL = "professional", "Agenda d'un professionnel"


class AgendaFeed(models.Model):
    """A secret, revocable ICS subscription URL. Only a hash of the token is stored."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agenda_feeds", verbose_name="abonné"
    )
    kind = models.CharField("agenda", max_length=15, choices=FeedOwnerKind.choices)
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="agenda_feeds", verbose_name="personne"
    )
    token_hash = models.CharField("empreinte du jeton", max_length=64, unique=True)
    include_titles = models.BooleanField("inclure les titres", default=False)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)

    class Meta:
        verbose_name = "abonnement ICS"
        verbose_name_plural = "abonnements ICS"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="professional", person__isnull=True) | Q(kind="person", person__isnull=False),
                name="agenda_feed_kind_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.owner})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# --- Availability and booking (agenda.availability, agenda.slots, agenda.booking) ----------


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Lundi"
    TUESDAY = 1, "Mardi"
    WEDNESDAY = 2, "Mercredi"
    THURSDAY = 3, "Jeudi"
    FRIDAY = 4, "Vendredi"
    SATURDAY = 5, "Samedi"
    SUNDAY = 6, "Dimanche"


class AvailabilityWindow(models.Model):
    """A recurring weekly window in which a professional can be booked, in local time
    (Europe/Paris): 09:00–12:00 stays 09:00–12:00 across daylight-saving changes."""

    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="availability_windows", verbose_name="professionnel"
    )
    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="availability_windows", verbose_name="structure"
    )
    place_kind = models.CharField("type de lieu", max_length=10, choices=PlaceKind.choices, default=PlaceKind.ADDRESS)
    place_label = models.CharField("lieu", max_length=200, blank=True)
    weekday = models.PositiveSmallIntegerField("jour", choices=Weekday.choices)
    start_time = models.TimeField("de")
    end_time = models.TimeField("à")
    valid_from = models.DateField("à partir du", default=timezone.localdate)
    valid_until = models.DateField("jusqu'au", null=True, blank=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)

    class Meta:
        verbose_name = "plage de disponibilité"
        verbose_name_plural = "plages de disponibilité"
        ordering = ["weekday", "start_time", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="availability_window_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["professional", "weekday"], name="availability_pro_day")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class ExceptionKind(models.TextChoices):
    ABSENCE = "absence", "Absence"
    HOLIDAY = "holiday", "Congés ou jour férié"
    EXTRA = "extra", "Disponibilité exceptionnelle"


class AvailabilityException(models.Model):
    """An absence or holiday (removes availability) or a one-off extra window (adds it)."""

    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="availability_exceptions", verbose_name="professionnel"
    )
    kind = models.CharField("type", max_length=10, choices=ExceptionKind.choices)
    starts_at = models.DateTimeField("début")
    ends_at = models.DateTimeField("fin")
    label = models.CharField("précision", max_length=200, blank=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)

    class Meta:
        verbose_name = "exception de disponibilité"
        verbose_name_plural = "exceptions de disponibilité"
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="availability_exception_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["professional", "starts_at"], name="availability_exc_pro_start")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%d/%m/%Y %H:%M}"
