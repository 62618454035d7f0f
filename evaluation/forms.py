"""Page forms of the evaluation block. A questionnaire's form is built from its
version's definition: one field per question, named `q_<code>`."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from common.forms import Form
from common.validation import LONG_TEXT_MAX
from coordination.models import CarerLink
from evaluation import definition as d

PREFIX = "q_"


def field_name(code: str) -> str:
    return PREFIX + code


def _question_field(question: d.Question) -> forms.Field:
    # Required only when always shown; a question shown on a condition is checked by the
    # service (it knows whether the condition holds). The message names the question.
    required = question.required and question.show_if is None
    help_text = question.help
    if question.show_if is not None:
        hint = "À remplir seulement si la réponse à une question précédente l'appelle"
        help_text = f"{help_text} ({hint})" if help_text else f"{hint}."
    common = {
        "label": question.text,
        "required": required,
        "help_text": help_text,
        "error_messages": {
            "required": f"« {question.text} » : une réponse est obligatoire.",
            "invalid_choice": f"« {question.text} » : cette réponse n'est pas proposée.",
            "invalid_list": f"« {question.text} » : choisissez parmi les réponses proposées.",
        },
    }
    choices = [(c.value, c.label) for c in question.all_choices()]
    if question.type in (d.SINGLE, d.YES_NO):
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if question.type == d.MULTIPLE:
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    if (
        question.type == d.SCALE
        and question.min is not None
        and question.max is not None
        and question.max - question.min <= 10
    ):
        values = range(int(question.min), int(question.max) + 1)
        return forms.ChoiceField(choices=[(str(v), str(v)) for v in values], widget=forms.RadioSelect, **common)
    if question.type in (d.SCALE, d.NUMBER):
        attrs = {"inputmode": "decimal"}
        if question.min is not None:
            attrs["min"] = str(question.min)
        if question.max is not None:
            attrs["max"] = str(question.max)
        # A text input: the service parses and bounds the number and names the question.
        return forms.CharField(max_length=30, widget=forms.TextInput(attrs=attrs), **common)
    if question.type == d.DATE:
        return forms.CharField(
            max_length=10, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common
        )
    if question.type == d.LONG_TEXT:
        return forms.CharField(
            max_length=LONG_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4, "maxlength": LONG_TEXT_MAX}), **common
        )
    return forms.CharField(max_length=d.SHORT_TEXT_MAX, **common)


class QuestionnaireForm(Form):
    """The questions of one version, grouped by section for the page."""

    use_required_attribute = False

    def __init__(self, *args, definition: d.Definition, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition
        for question in definition.questions.values():
            self.fields[field_name(question.code)] = _question_field(question)

    def sections(self):
        return [(s.title, [self[field_name(q.code)] for q in s.questions]) for s in self.definition.sections]

    def answers(self) -> dict:
        return {
            code: self.cleaned_data.get(field_name(code))
            for code in self.definition.questions
            if self.cleaned_data.get(field_name(code)) not in (None, "", [])
        }

    def renames(self) -> dict[str, str]:
        return {code: field_name(code) for code in self.definition.questions}


class EvaluationForm(QuestionnaireForm):
    evaluated_on = forms.DateField(
        label="Date de l'évaluation",
        # ISO: what a date input shows and sends back.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        initial=timezone.localdate,
        error_messages={"required": "« Date de l'évaluation » : indiquez la date."},
    )
    respondent_carer = forms.ModelChoiceField(
        label="Aidant qui répond",
        queryset=CarerLink.objects.none(),
        required=False,
        empty_label="La personne elle-même / sans objet",
    )
    comment = forms.CharField(label="Commentaire", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["respondent_carer"].queryset = CarerLink.objects.filter(
            person=person, ended_on__isnull=True
        ).select_related("user")
        self.fields["respondent_carer"].label_from_instance = lambda link: (
            f"{link.user.get_full_name() or link.user.email} ({link.get_relationship_display()})"
        )


class CompareForm(Form):
    left = forms.TypedChoiceField(label="Première évaluation", coerce=int)
    right = forms.TypedChoiceField(label="Seconde évaluation", coerce=int)

    def __init__(self, *args, evaluations, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (e.pk, f"{e.evaluated_on:%d/%m/%Y}" + (f" — {e.score.normalize()}" if e.score is not None else ""))
            for e in evaluations
        ]
        self.fields["left"].choices = choices
        self.fields["right"].choices = choices
        if len(choices) >= 2 and not self.is_bound:
            self.initial = {"left": choices[-2][0], "right": choices[-1][0]}


class CampaignForm(Form):
    questionnaire = forms.ModelChoiceField(label="Questionnaire", queryset=None, empty_label=None)
    title = forms.CharField(
        label="Titre de l'envoi", max_length=200, help_text="Par exemple : Votre avis — printemps 2026."
    )
    closes_on = forms.DateField(
        label="Date de clôture", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    is_anonymous = forms.BooleanField(label="Réponses anonymes", required=False, initial=True)

    def __init__(self, *args, questionnaires, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["questionnaire"].queryset = questionnaires


class ReferralForm(QuestionnaireForm):
    structure = forms.ModelChoiceField(label="Dispositif de coordination", queryset=None, empty_label=None)
    person = forms.ModelChoiceField(label="Pour qui", queryset=None, required=False, empty_label=None)

    def __init__(self, *args, structures, persons, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures
        if persons is None:
            del self.fields["person"]
        else:
            self.fields["person"].queryset = persons
            self.fields["person"].required = True
            self.fields["person"].label_from_instance = lambda p: p.display_name


# --- The builder (structure administrators) ----------------------------------------------------


class NewQuestionnaireForm(Form):
    title = forms.CharField(label="Titre", max_length=200)
    code = forms.SlugField(
        label="Code", max_length=60, help_text="Lettres minuscules, chiffres et tirets ; il ne change plus."
    )
    kind = forms.ChoiceField(
        label="Nature",
        choices=[("evaluation", "Évaluation, échelle"), ("satisfaction", "Questionnaire de satisfaction")],
    )
    description = forms.CharField(label="Présentation", required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _lines(text: str, where: str, width: int) -> list[list[str]]:
    rows = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) > width:
            raise forms.ValidationError(f"{where}, ligne {number} : {width} éléments au plus, séparés par « | ».")
        rows.append(parts + [""] * (width - len(parts)))
    return rows


class QuestionBuilderForm(Form):
    section = forms.CharField(
        label="Partie", max_length=200, help_text="Le titre d'une partie existante, ou d'une nouvelle partie."
    )
    text = forms.CharField(label="Question", max_length=1000)
    code = forms.CharField(
        label="Code de la question", max_length=40, help_text="Court et unique, par exemple « douleur »."
    )
    type = forms.ChoiceField(label="Type de réponse", choices=list(d.QUESTION_TYPES.items()))
    required = forms.BooleanField(label="Réponse obligatoire", required=False)
    choices = forms.CharField(
        label="Réponses proposées",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Pour un choix : une réponse par ligne, « valeur | libellé | points » (les points sont facultatifs).",
    )
    min = forms.DecimalField(label="Minimum", required=False)
    max = forms.DecimalField(label="Maximum", required=False)
    scored = forms.BooleanField(label="Compte dans le score", required=False)
    weight = forms.DecimalField(label="Coefficient", required=False, help_text="Pour une somme pondérée.")
    show_if_question = forms.CharField(label="Afficher seulement si la question (code)", max_length=40, required=False)
    show_if_values = forms.CharField(
        label="… a pour réponse",
        max_length=300,
        required=False,
        help_text="Une ou plusieurs valeurs, séparées par des virgules.",
    )
    help = forms.CharField(label="Aide", max_length=1000, required=False)

    def clean_choices(self):
        return [
            {"value": value, "label": label, **({"score": score} if score else {})}
            for value, label, score in _lines(self.cleaned_data.get("choices", ""), "Réponses proposées", 3)
        ]

    def question(self) -> dict:
        data = self.cleaned_data
        question = {
            "code": data["code"].strip(),
            "text": data["text"],
            "type": data["type"],
            "required": data["required"],
        }
        if data["choices"]:
            question["choices"] = data["choices"]
        for name in ("min", "max", "weight"):
            if data.get(name) is not None:
                question[name] = str(data[name])
        if data["scored"]:
            question["scored"] = True
        if data["help"]:
            question["help"] = data["help"]
        if data["show_if_question"]:
            values = [v.strip() for v in data["show_if_values"].split(",") if v.strip()]
            question["show_if"] = {"question": data["show_if_question"].strip(), "values": values}
        return question


class ScoringBuilderForm(Form):
    method = forms.ChoiceField(
        label="Score",
        required=False,
        choices=[("", "Pas de score"), (d.SUM, "Somme des points"), (d.WEIGHTED_SUM, "Somme pondérée")],
    )
    bands = forms.CharField(
        label="Tranches",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Une tranche par ligne : « minimum | maximum | résultat | interprétation ».",
    )

    def clean_bands(self):
        return [
            {"min": low, "max": high, "label": label, "interpretation": text}
            for low, high, label, text in _lines(self.cleaned_data.get("bands", ""), "Tranches", 4)
        ]


class NeedRuleBuilderForm(Form):
    serafin = forms.CharField(label="Besoin SERAFIN-PH (code)", max_length=20, help_text="Par exemple 1.2.1.3.")
    description = forms.CharField(label="Description du besoin proposé", max_length=2000)
    question = forms.CharField(label="Quand la question (code)", max_length=40, required=False)
    values = forms.CharField(
        label="… a pour réponse", max_length=300, required=False, help_text="Valeurs séparées par des virgules."
    )
    score_min = forms.DecimalField(label="Ou quand le score atteint au moins", required=False)

    def rule(self) -> dict:
        data = self.cleaned_data
        when: dict = {}
        if data["question"]:
            when["question"] = data["question"].strip()
            when["values"] = [v.strip() for v in data["values"].split(",") if v.strip()]
        if data["score_min"] is not None:
            when["score_min"] = str(data["score_min"])
        return {"serafin": data["serafin"].strip(), "description": data["description"], "when": when}
