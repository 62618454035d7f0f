from __future__ import annotations

from django import forms
from django.utils import timezone

from common.forms import Form, SmallModelChoiceField
from coordination.identifiers import normalize_ins, validate_ins_matricule
from coordination.models import (
    AccessVia,
    Category,
    CircleRole,
    CollectionMethod,
    ConsentDecision,
    ConsentKind,
    EndReason,
    Level,
    Partner,
    Profession,
    Professional,
    Structure,
)


class CaseloadFilterForm(Form):
    q = forms.CharField(
        label="Rechercher une personne",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    structure = SmallModelChoiceField(
        label="Structure", queryset=Structure.objects.none(), required=False, empty_label="Toutes mes structures"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = Structure.objects.filter(
            team__professional__user=user, team__ended_on__isnull=True
        ).distinct()


class JoinRequestForm(Form):
    ins_matricule = forms.CharField(
        label="Matricule INS",
        required=False,
        max_length=21,
        help_text="15 caractères. Ou bien renseignez le nom, le prénom et la date de naissance.",
    )
    birth_name = forms.CharField(label="Nom de naissance", required=False, max_length=100)
    first_name = forms.CharField(label="Prénom", required=False, max_length=100)
    birth_date = forms.DateField(
        label="Date de naissance", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    role = forms.ChoiceField(
        label="Votre rôle auprès de la personne",
        choices=[
            (v, label)
            for v, label in CircleRole.choices
            if v not in {"usager", "aidant", "famille", "representant_legal", "structure", "voisin", "association"}
        ],
    )
    structure = forms.ModelChoiceField(
        label="Au titre de la structure",
        queryset=Structure.objects.none(),
        required=False,
        empty_label="À titre libéral / personnel",
    )
    message = forms.CharField(label="Motif de la demande", widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = Structure.objects.filter(
            team__professional__user=user, team__ended_on__isnull=True
        ).distinct()

    def clean_ins_matricule(self):
        value = normalize_ins(self.cleaned_data["ins_matricule"])
        if value:
            validate_ins_matricule(value)
        return value

    def clean(self):
        data = super().clean()
        if not data.get("ins_matricule") and not (
            data.get("birth_name") and data.get("first_name") and data.get("birth_date")
        ):
            raise forms.ValidationError(
                "Renseignez le matricule INS, ou bien le nom de naissance, le prénom et la date de naissance."
            )
        return data


class BreakGlassForm(Form):
    reason = forms.CharField(
        label="Motif de l'accès en urgence",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Au moins une phrase. La personne, ses représentants et le référent de votre structure "
        "en seront informés.",
    )


class MemberEndForm(Form):
    reason = forms.ChoiceField(
        label="Motif de sortie", choices=[(EndReason.END_OF_CARE.value, EndReason.END_OF_CARE.label)]
    )


LEVEL_CHOICES = [(Level.NONE, "Aucun"), (Level.READ, "Lecture"), (Level.WRITE, "Écriture")]


class DelegationForm(Form):
    delegate = forms.ModelChoiceField(label="Délégataire (professionnel)", queryset=Professional.objects.none())
    starts_at = forms.DateTimeField(
        label="Début", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    ends_at = forms.DateTimeField(
        label="Fin", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    reason = forms.CharField(label="Motif", required=False, max_length=300)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Colleagues of my structures: the usual assistants.
        self.fields["delegate"].queryset = (
            Professional.objects.filter(
                is_active=True,
                team_memberships__ended_on__isnull=True,
                team_memberships__structure__team__professional__user=user,
                team_memberships__structure__team__ended_on__isnull=True,
            )
            .exclude(user=user)
            .exclude(profession=Profession.SOFTWARE)
            .select_related("user")
            .distinct()
        )
        now = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["starts_at"].initial = now
        self.fields["ends_at"].initial = now + timezone.timedelta(days=7)
        for category, label in Category.choices:
            self.fields[f"level_{category}"] = forms.TypedChoiceField(
                label=label, choices=LEVEL_CHOICES, coerce=int, initial=Level.NONE
            )

    def levels(self) -> dict[str, int]:
        return {category: self.cleaned_data[f"level_{category}"] for category in Category.values}

    def level_fields(self):
        return [self[f"level_{category}"] for category in Category.values]


class AccessLogFilterForm(Form):
    q = forms.CharField(
        label="Personne ou professionnel",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    via = forms.ChoiceField(label="Au titre de", required=False, choices=[("", "Tous")] + AccessVia.choices)
    since = forms.DateField(
        label="Depuis le", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class InviteForm(Form):
    professional = forms.ModelChoiceField(
        label="Professionnel à proposer",
        queryset=Professional.objects.filter(is_active=True)
        .exclude(profession=Profession.SOFTWARE)
        .select_related("user")
        .order_by("user__last_name"),
    )
    role = forms.ChoiceField(label="Rôle auprès de la personne", choices=JoinRequestForm.base_fields["role"].choices)
    message = forms.CharField(label="Pourquoi le proposer ?", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)


class ConsentForm(Form):
    kind = forms.ChoiceField(label="Objet", choices=ConsentKind.choices)
    partner = forms.ChoiceField(label="Partenaire (partage hors santé)", choices=Partner.choices, required=False)
    partner_name = forms.CharField(label="Nom du partenaire", required=False, max_length=200)
    decision = forms.ChoiceField(
        label="Décision de la personne", choices=ConsentDecision.choices, widget=forms.RadioSelect
    )
    collected_via = forms.ChoiceField(
        label="Comment la décision a été recueillie", choices=[c for c in CollectionMethod.choices if c[0] != "portal"]
    )
    note = forms.CharField(label="Précisions", required=False, widget=forms.Textarea(attrs={"rows": 2}))
