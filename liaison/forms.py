from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from common.forms import Form, SmallModelChoiceField
from coordination import access
from coordination.models import Category, Profession, Structure
from liaison.models import RemarkableEvent, Scope, TransmissionCategory, TransmissionKind
from liaison.selectors import search


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class TransmissionForm(Form):
    category = forms.ChoiceField(label="Catégorie", choices=TransmissionCategory.choices)
    kind = forms.ChoiceField(
        label="Type", choices=TransmissionKind.choices, initial=TransmissionKind.GENERAL, widget=forms.RadioSelect
    )
    observed_at = forms.DateTimeField(
        label="Moment de l'observation",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Laissez vide pour maintenant.",
    )
    text = forms.CharField(label="Transmission", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    target = forms.CharField(
        label="Cible (transmission ciblée)",
        required=False,
        max_length=100,
        help_text="Par exemple : douleur, chute, alimentation.",
    )
    data = forms.CharField(label="Données", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    actions = forms.CharField(label="Actions", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    results = forms.CharField(label="Résultats", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    scope = forms.ChoiceField(label="Diffusion", choices=Scope.choices, initial=Scope.SHARED, widget=forms.RadioSelect)
    is_important = forms.BooleanField(label="Important", required=False)
    remarkable_event = forms.ChoiceField(label="Évènement remarquable", choices=RemarkableEvent.choices, required=False)
    addressees = forms.ModelMultipleChoiceField(
        label="Alerter (destinataires)",
        required=False,
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    requests_receipt = forms.BooleanField(label="Demander un accusé de réception", required=False)
    files = MultipleFileField(
        label="Photos ou PDF",
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}),
        help_text="Jusqu'à 5 fichiers. Les informations cachées des photos (lieu, appareil) sont effacées.",
    )

    def __init__(self, *args, user, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["addressees"].queryset = (
            access.users_allowed(person, Category.LIAISON, "read")
            .exclude(pk=user.pk)
            .exclude(professional__profession=Profession.SOFTWARE)
            .order_by("last_name", "first_name")
        )
        if not user.is_professional:
            # Carers and the person write in the shared notebook only.
            del self.fields["scope"]
            del self.fields["addressees"]
            del self.fields["requests_receipt"]

    def clean_observed_at(self):
        return self.cleaned_data["observed_at"] or timezone.now()


class CorrectionForm(Form):
    text = forms.CharField(
        label="Correction",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="La transmission d'origine reste lisible ; elle sera marquée « corrigée ».",
    )


class NotebookFilterForm(Form):
    q = forms.CharField(
        label="Rechercher", required=False, max_length=200, widget=forms.TextInput(attrs={"type": "search"})
    )
    category = forms.ChoiceField(
        label="Catégorie", required=False, choices=[("", "Toutes"), *TransmissionCategory.choices]
    )
    kind = forms.ChoiceField(label="Type", required=False, choices=[("", "Tous"), *TransmissionKind.choices])
    author = forms.CharField(label="Auteur", required=False, max_length=100)
    structure = SmallModelChoiceField(
        label="Structure", required=False, queryset=Structure.objects.none(), empty_label="Toutes"
    )
    since = forms.DateField(
        label="Du", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    until = forms.DateField(
        label="Au", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        if person is not None:
            self.fields["structure"].queryset = Structure.objects.filter(accompaniments__person=person).distinct()

    def apply(self, queryset):

        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["category"]:
            queryset = queryset.filter(category=data["category"])
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data.get("structure"):
            queryset = queryset.filter(author_structure=data["structure"])
        if data["author"].strip():
            for word in data["author"].split():
                queryset = queryset.filter(Q(author__last_name__icontains=word) | Q(author__first_name__icontains=word))
        zone = timezone.get_current_timezone()
        # Ranges on the column itself, so the timeline index serves them.
        if data["since"]:
            queryset = queryset.filter(observed_at__gte=datetime.combine(data["since"], time.min, tzinfo=zone))
        if data["until"]:
            queryset = queryset.filter(
                observed_at__lt=datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=zone)
            )
        return search(queryset, data["q"])
