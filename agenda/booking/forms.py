"""Forms of the availability editor and the booking pages (times entered in Paris time)."""

from __future__ import annotations

import datetime as dt

from django import forms

from agenda import slots
from agenda.models import ExceptionKind, PlaceKind, Weekday
from common.forms import Form

DURATIONS = [(30, "30 minutes"), (45, "45 minutes"), (60, "1 heure"), (90, "1 h 30"), (120, "2 heures")]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class WindowForm(Form):
    structure = forms.ModelChoiceField(label="Structure", queryset=None)
    weekday = forms.TypedChoiceField(label="Jour", choices=Weekday.choices, coerce=int)
    start_time = forms.TimeField(label="De", widget=TimeInput())
    end_time = forms.TimeField(label="À", widget=TimeInput())
    place_kind = forms.ChoiceField(label="Type de lieu", choices=PlaceKind.choices)
    place_label = forms.CharField(label="Lieu", required=False, max_length=200)
    valid_from = forms.DateField(label="À partir du", required=False, widget=DateInput())
    valid_until = forms.DateField(
        label="Jusqu'au",
        required=False,
        widget=DateInput(),
        help_text="Laisser vide si la plage n'a pas de fin prévue.",
    )

    def __init__(self, *args, professional=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = professional.structures.filter(
            team__ended_on__isnull=True, team__professional=professional
        )


class ExceptionForm(Form):
    kind = forms.ChoiceField(label="Type", choices=ExceptionKind.choices)
    starts_at = forms.DateTimeField(label="Début", widget=DateTimeInput())
    ends_at = forms.DateTimeField(label="Fin", widget=DateTimeInput())
    label = forms.CharField(label="Précision", required=False, max_length=200)


def _colleague_label(professional) -> str:
    return f"{professional.user.get_full_name()} ({professional.get_profession_display()})"


class SearchForm(Form):
    """Criteria of a slot search (submitted with GET: the results page can be bookmarked)."""

    invitees = forms.ModelMultipleChoiceField(
        label="Professionnels invités",
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leur présence est requise.",
    )
    motive = forms.CharField(label="Motif", max_length=500)
    duration = forms.TypedChoiceField(label="Durée", choices=DURATIONS, coerce=int, initial=60)
    window_start = forms.DateField(label="Chercher à partir du", widget=DateInput())
    window_end = forms.DateField(label="Jusqu'au", widget=DateInput())
    minimum_notice = forms.IntegerField(label="Délai de prévenance (heures)", min_value=0, max_value=720, initial=24)
    buffer = forms.IntegerField(label="Battement avant et après (minutes)", min_value=0, max_value=120, initial=0)
    opens = forms.TimeField(label="Heures ouvrées : de", widget=TimeInput(), initial=dt.time(8))
    closes = forms.TimeField(label="à", widget=TimeInput(), initial=dt.time(19))
    step = forms.TypedChoiceField(
        label="Pas entre deux créneaux",
        coerce=int,
        initial=30,
        choices=[(15, "15 minutes"), (30, "30 minutes"), (60, "1 heure")],
    )

    def __init__(self, *args, colleagues=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invitees"].queryset = colleagues
        self.fields["invitees"].label_from_instance = _colleague_label

    def clean(self):
        data = super().clean()
        start, end = data.get("window_start"), data.get("window_end")
        if start and end:
            if end < start:
                self.add_error("window_end", "La fin de la période doit être après son début.")
            elif (end - start).days > 92:
                self.add_error("window_end", "Cherchez sur trois mois au plus.")
        opens, closes = data.get("opens"), data.get("closes")
        if opens and closes and closes <= opens:
            self.add_error("closes", "La fin des heures ouvrées doit être après leur début.")
        return data

    def criteria(self) -> slots.Criteria:
        data = self.cleaned_data
        buffer = dt.timedelta(minutes=data["buffer"] or 0)
        return slots.Criteria(
            duration=dt.timedelta(minutes=data["duration"]),
            window_start=slots.local(data["window_start"], dt.time(0)),
            window_end=slots.local(data["window_end"] + dt.timedelta(days=1), dt.time(0)),
            minimum_notice=dt.timedelta(hours=data["minimum_notice"] or 0),
            buffer_before=buffer,
            buffer_after=buffer,
            opens=data["opens"],
            closes=data["closes"],
            step=dt.timedelta(minutes=data["step"]),
        )


class PickForm(Form):
    """The slot chosen in the results (hidden fields of each result's button)."""

    invitees = forms.ModelMultipleChoiceField(queryset=None, widget=forms.MultipleHiddenInput)
    motive = forms.CharField(max_length=500, widget=forms.HiddenInput)
    starts_at = forms.DateTimeField(widget=forms.HiddenInput)
    ends_at = forms.DateTimeField(widget=forms.HiddenInput)

    def __init__(self, *args, colleagues=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invitees"].queryset = colleagues


class ResponseForm(Form):
    response = forms.ChoiceField(
        label="Votre réponse",
        widget=forms.RadioSelect,
        choices=[("accepted", "J'accepte"), ("declined", "Je refuse"), ("counter", "Je propose un autre créneau")],
    )
    counter_starts_at = forms.DateTimeField(label="Autre créneau : début", required=False, widget=DateTimeInput())
    counter_ends_at = forms.DateTimeField(label="Autre créneau : fin", required=False, widget=DateTimeInput())
    comment = forms.CharField(
        label="Commentaire", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ProposalForm(Form):
    title = forms.CharField(label="Objet du rendez-vous", max_length=200)
    starts_at = forms.DateTimeField(label="Début", widget=DateTimeInput())
    ends_at = forms.DateTimeField(label="Fin", widget=DateTimeInput())
    answer_deadline = forms.DateTimeField(label="Réponse attendue avant le", widget=DateTimeInput())
    motive = forms.CharField(label="Motif", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
