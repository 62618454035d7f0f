"""Forms of the agenda pages (French labels; the services validate again)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import Q

from agenda.models import EventType, FeedOwnerKind, PlaceKind, Visibility
from common.forms import Form
from common.timezone import PARIS
from coordination.models import CircleMember, Profession, Professional, TeamMembership
from reference.models import SerafinCode

REPEAT_CHOICES = [
    ("", "Ne se répète pas"),
    ("FREQ=DAILY", "Tous les jours"),
    ("FREQ=WEEKLY", "Toutes les semaines"),
    ("FREQ=WEEKLY;INTERVAL=2", "Toutes les deux semaines"),
    ("FREQ=MONTHLY", "Tous les mois"),
]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class EventForm(Form):
    title = forms.CharField(
        label="Titre",
        max_length=200,
        help_text="Visible par les personnes qui voient l'évènement ; pas de détail de santé.",
    )
    event_type = forms.ChoiceField(label="Type", choices=EventType.choices, initial=EventType.OTHER)
    starts_at = forms.DateTimeField(
        label="Début", widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"]
    )
    ends_at = forms.DateTimeField(
        label="Fin",
        widget=DateTimeLocalInput(),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"],
        help_text="Facultatif pour un évènement sur toute la journée.",
    )
    is_all_day = forms.BooleanField(label="Toute la journée", required=False)
    visibility = forms.ChoiceField(
        label="Visibilité", choices=Visibility.choices, initial=Visibility.SHARED, widget=forms.RadioSelect
    )
    repeat = forms.ChoiceField(label="Répétition", choices=REPEAT_CHOICES, required=False)
    repeat_until = forms.DateField(
        label="Jusqu'au (inclus)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Laissez vide pour une répétition sans fin.",
    )
    place_kind = forms.ChoiceField(label="Lieu", choices=[("", "Non précisé"), *PlaceKind.choices], required=False)
    place_address = forms.CharField(label="Adresse", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    place_url = forms.URLField(label="Lien de visioconférence", required=False, assume_scheme="https")
    participants = forms.ModelMultipleChoiceField(
        label="Professionnels invités",
        required=False,
        queryset=Professional.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    serafin_service = forms.ModelChoiceField(
        label="Prestation SERAFIN-PH", required=False, queryset=SerafinCode.objects.filter(kind="service")
    )
    motive = forms.CharField(
        label="Motif (visible seulement dans le portail)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Jamais transmis dans les abonnements ICS.",
    )

    def __init__(self, *args, user, person=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        my_structures = TeamMembership.objects.filter(professional__user=user, ended_on__isnull=True).values(
            "structure_id"
        )
        scope = Q(team_memberships__structure__in=my_structures, team_memberships__ended_on__isnull=True)
        if person is not None:
            scope |= Q(
                pk__in=CircleMember.objects.filter(
                    person=person, ended_at__isnull=True, professional__isnull=False
                ).values("professional_id")
            )
        self.fields["participants"].queryset = (
            Professional.objects.filter(scope, is_active=True)
            .exclude(user=user)
            .exclude(profession=Profession.SOFTWARE)
            .select_related("user")
            .distinct()
        )
        self.fields["participants"].label_from_instance = lambda p: p.user.get_full_name() or str(p)
        if person is None:
            del self.fields["visibility"]
        if editing:
            for name in ("repeat", "repeat_until", "participants"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        for name in ("starts_at", "ends_at"):
            value = data.get(name)
            if value is not None and value.tzinfo is None:
                data[name] = value.replace(tzinfo=PARIS)
        if data.get("is_all_day") and data.get("starts_at") and not data.get("ends_at"):
            data["ends_at"] = data["starts_at"]
        return data

    def service_kwargs(self) -> dict:
        """The form's data as the services take it."""
        data = self.cleaned_data
        kwargs = {
            name: data[name]
            for name in ("title", "event_type", "starts_at", "ends_at", "is_all_day", "serafin_service", "motive")
            if name in data
        }
        if "visibility" in data:
            kwargs["visibility"] = data["visibility"]
        if data.get("repeat"):
            rule = data["repeat"]
            if data.get("repeat_until"):
                until = datetime.combine(data["repeat_until"], time(23, 59, 59), tzinfo=PARIS)
                rule += f";UNTIL={until.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}"
            kwargs["rrule"] = rule
        kind = data.get("place_kind")
        kwargs["places"] = (
            [
                {
                    "kind": kind,
                    "address": data.get("place_address", ""),
                    "url": data.get("place_url", ""),
                    "label": (data.get("place_address") or "").splitlines()[0][:200]
                    if data.get("place_address")
                    else "",
                }
            ]
            if kind
            else []
        )
        if "participants" in data:
            kwargs["participants"] = list(data["participants"])
        return kwargs


class RespondForm(Form):
    response = forms.ChoiceField(
        label="Réponse", choices=[("accepted", "Accepter"), ("declined", "Refuser"), ("tentative", "Provisoire")]
    )
    comment = forms.CharField(label="Commentaire", required=False, max_length=2000)


class FeedForm(Form):
    kind = forms.ChoiceField(label="Agenda", choices=FeedOwnerKind.choices, widget=forms.HiddenInput)
    include_titles = forms.BooleanField(
        label="Inclure les titres des évènements",
        required=False,
        help_text="Par défaut, l'abonnement ne montre que l'heure, le lieu et « Rendez-vous ». Jamais le motif.",
    )


class ExternalCalendarForm(Form):
    name = forms.CharField(label="Nom de l'agenda", max_length=100)
    url = forms.URLField(
        label="Adresse d'abonnement (ICS)",
        required=False,
        assume_scheme="https",
        help_text="Par exemple l'adresse « iCal secrète » de votre agenda ; ou choisissez un fichier.",
    )
    file = forms.FileField(label="Ou un fichier .ics", required=False)

    def clean(self):
        data = super().clean()
        if bool(data.get("url")) == bool(data.get("file")):
            self.add_error("url", "Indiquez une adresse ICS ou choisissez un fichier (l'un ou l'autre).")
        return data
