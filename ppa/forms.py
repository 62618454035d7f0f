"""Forms of the projet personnalisé pages. They check shapes; the services decide."""

from __future__ import annotations

from django import forms

from common.forms import Form
from coordination.models import Profession, Professional, Structure
from ppa.models import EXPECTATION_FIELDS, ObjectiveStatus, PlanVersion, Section, SignOffRole, Weekday
from reference.models import SerafinCode


class SerafinChoiceField(forms.ModelChoiceField):
    """A select of SERAFIN-PH codes (grouped by their parent); the page adds a search box
    that narrows it with HTMX, and it works as a plain select without JavaScript."""

    def __init__(self, kind: str, **kwargs):
        super().__init__(queryset=SerafinCode.objects.filter(kind=kind).order_by("code"), **kwargs)
        self.kind = kind

    def label_from_instance(self, obj: SerafinCode) -> str:
        return f"{obj.code} — {obj.label}"


class ExpectationsForm(Form):
    tastes = forms.CharField(label="Goûts", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    wishes = forms.CharField(label="Souhaits", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    habits = forms.CharField(label="Habitudes", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    beliefs = forms.CharField(label="Croyances", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    interests = forms.CharField(label="Centres d'intérêt", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    @classmethod
    def for_version(cls, version: PlanVersion) -> ExpectationsForm:
        return cls(initial={name: getattr(version, name) for name in EXPECTATION_FIELDS}, prefix="attentes")


class TextSectionForm(Form):
    text = forms.CharField(label="Texte", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CommentForm(Form):
    section = forms.ChoiceField(label="Partie commentée", choices=Section.choices)
    text = forms.CharField(label="Votre commentaire", widget=forms.Textarea(attrs={"rows": 2}))


class NeedForm(Form):
    serafin = SerafinChoiceField("need", label="Besoin (nomenclature SERAFIN-PH)")
    description = forms.CharField(label="Description du besoin évalué", widget=forms.Textarea(attrs={"rows": 2}))


class ObjectiveForm(Form):
    title = forms.CharField(label="Objectif", max_length=300)
    needs = forms.ModelMultipleChoiceField(
        label="Besoins auxquels il répond", queryset=None, widget=forms.CheckboxSelectMultiple
    )
    indicator = forms.CharField(
        label="Indicateur de réussite", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    target_on = forms.DateField(
        label="Échéance", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    status = forms.ChoiceField(label="État", choices=ObjectiveStatus.choices, initial=ObjectiveStatus.NOT_STARTED)
    status_note = forms.CharField(label="Note sur l'état", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, version: PlanVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["needs"].queryset = version.needs.select_related("serafin")
        self.fields["needs"].label_from_instance = lambda n: f"{n.serafin.code} — {n.description}"


class ActionForm(Form):
    title = forms.CharField(label="Modalité d'accompagnement", max_length=300)
    objectives = forms.ModelMultipleChoiceField(
        label="Objectifs servis", queryset=None, widget=forms.CheckboxSelectMultiple
    )
    professional = forms.ModelChoiceField(label="Professionnel qui intervient", queryset=None, required=False)
    structure = forms.ModelChoiceField(label="Ou structure qui intervient", queryset=None, required=False)
    serafin = SerafinChoiceField("service", label="Prestation (nomenclature SERAFIN-PH)", required=False)
    weekdays = forms.MultipleChoiceField(
        label="Jours", choices=Weekday.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    interval_weeks = forms.IntegerField(label="Toutes les … semaines", min_value=1, max_value=52, initial=1)
    starts_at_time = forms.TimeField(label="Heure", required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(label="Durée (minutes)", min_value=5, max_value=1440, required=False)
    schedule_text = forms.CharField(
        label="Ou fréquence en clair",
        required=False,
        max_length=200,
        help_text="Sans jours fixes, par exemple « selon les besoins ».",
    )
    starts_on = forms.DateField(
        label="Début", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label="Fin", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    trial_ends_on = forms.DateField(
        label="Fin de la période d'essai (facultatif)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    involves_person = forms.BooleanField(label="Avec la personne (dans son agenda)", required=False, initial=True)

    def __init__(self, *args, version: PlanVersion, **kwargs):
        super().__init__(*args, **kwargs)
        person = version.plan.person
        self.fields["objectives"].queryset = version.objectives.all()
        self.fields["professional"].queryset = (
            Professional.objects.filter(circle_memberships__person=person, circle_memberships__ended_at__isnull=True)
            .exclude(profession=Profession.SOFTWARE)
            .select_related("user")
            .distinct()
        )
        self.fields["structure"].queryset = Structure.objects.filter(
            accompaniments__person=person, accompaniments__ended_on__isnull=True
        ).distinct()


class SignForm(Form):
    role = forms.ChoiceField(label="Je signe au titre de", choices=SignOffRole.choices)


class AmendForm(Form):
    reason = forms.CharField(label="Motif de l'avenant", widget=forms.Textarea(attrs={"rows": 3}))


class DiffForm(Form):
    old = forms.ModelChoiceField(label="Version de départ", queryset=None)
    new = forms.ModelChoiceField(label="Version comparée", queryset=None)

    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("old", "new"):
            self.fields[name].queryset = versions
            self.fields[name].label_from_instance = lambda v: f"Version {v.number} ({v.get_status_display()})"


class MdphSheetForm(Form):
    change = forms.CharField(label="Changement d'accompagnement demandé", widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(label="Pourquoi", widget=forms.Textarea(attrs={"rows": 3}))


class MdphSheetFileForm(MdphSheetForm):
    send = forms.BooleanField(label="L'envoyer à la MDPH par messagerie sécurisée de santé (MSSanté)", required=False)
    recipient_address = forms.EmailField(
        label="Adresse MSSanté du destinataire",
        required=False,
        help_text="Celle de la MDPH du cercle quand elle est connue ; elle finit par « mssante.fr ».",
    )

    def clean(self):
        data = super().clean()
        if data.get("send") and not data.get("recipient_address"):
            self.add_error("recipient_address", "Indiquez l'adresse MSSanté où envoyer la fiche.")
        return data
