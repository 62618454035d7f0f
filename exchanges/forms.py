from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from common.forms import Form
from coordination import rules
from coordination.models import Structure
from exchanges.services import MAX_BODY, SUBJECT_MAX
from liaison.models import TransmissionCategory

TOPIC_REMINDER = (
    "Rappel : un échange sur un sujet ne contient aucune donnée personnelle d'une personne accompagnée "
    "(ni nom, ni élément permettant de la reconnaître). Pour parler d'une personne, ouvrez un échange "
    "depuis sa page."
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class _Users(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.email


def _files_field() -> MultipleFileField:
    return MultipleFileField(
        label="Photos ou PDF",
        required=False,
        help_text="5 fichiers au maximum (JPEG, PNG, WebP ou PDF).",
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}),
    )


def _body_field(required: bool = False) -> forms.CharField:
    return forms.CharField(
        label="Message",
        required=required,
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Pour prévenir quelqu'un, écrivez @ suivi de son prénom et de son nom.",
    )


class MessageForm(Form):
    body = _body_field()
    files = _files_field()

    def __init__(self, *args, topic: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if topic:
            self.fields["body"].help_text = f"{TOPIC_REMINDER} {self.fields['body'].help_text}"

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("files"):
            self.add_error("body", "Écrivez le message ou joignez un fichier.")
        return data


class EditForm(Form):
    body = _body_field(required=True)


class PersonConversationForm(Form):
    subject = forms.CharField(label="Objet", max_length=SUBJECT_MAX)
    participants = _Users(
        label="Participants",
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Les professionnels du cercle qui peuvent lire les échanges de cette personne.",
    )
    body = _body_field(required=True)
    files = _files_field()

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = candidates


class PersonSideConversationForm(Form):
    """A professional writes to the person's side (the person, their carers)."""

    subject = forms.CharField(label="Objet", max_length=SUBJECT_MAX)
    participants = _Users(
        label="À qui écrire",
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="La personne et ses proches qui ont accès à ses échanges. Ils lisent et répondent sur le portail.",
    )
    structure = forms.ModelChoiceField(
        label="Avec l'équipe de",
        queryset=Structure.objects.none(),
        required=False,
        empty_label="Personne d'autre : en mon nom seul",
        help_text="Toute l'équipe de la structure lit l'échange et peut répondre.",
    )
    body = _body_field(required=True)
    files = _files_field()

    def __init__(self, *args, candidates, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = candidates
        self.fields["structure"].queryset = structures
        if structures.count() == 1:
            self.fields["structure"].initial = structures.get().pk
        self.fields["body"].help_text = (
            "La personne et ses proches lisent ce message sur le portail ; l'e-mail ou le SMS "
            "qui les prévient dit seulement qu'un message les attend."
        )


def _emails_to_professionals(raw: str) -> list:
    emails = [e.strip().lower() for e in raw.replace(",", "\n").replace(";", "\n").splitlines() if e.strip()]
    if not emails:
        return []
    User = get_user_model()
    found = {
        u.email.lower(): u for u in User.objects.filter(rules.professional_users_q(), is_active=True, email__in=emails)
    }
    unknown = [e for e in emails if e not in found]
    if unknown:
        raise ValidationError(f"Aucun professionnel du portail n'a cette adresse : {', '.join(unknown)}.")
    return list({u.pk: u for u in found.values()}.values())


class InviteField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Professionnels invités")
        kwargs.setdefault("help_text", "Leurs adresses e-mail, une par ligne (professionnels inscrits sur le portail).")
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        super().__init__(**kwargs)

    def clean(self, value):
        return _emails_to_professionals(super().clean(value) or "")


class TopicConversationForm(Form):
    subject = forms.CharField(
        label="Sujet", max_length=SUBJECT_MAX, help_text="Par exemple : protocole de prévention des chutes."
    )
    structure = forms.ModelChoiceField(
        label="Avec toute l'équipe de",
        queryset=Structure.objects.none(),
        required=False,
        empty_label="Personne d'autre que les invités",
    )
    invited = InviteField()
    body = _body_field(required=True)
    files = _files_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = Structure.objects.filter(
            pk__in=rules.team_memberships_in_force(user).values("structure_id")
        ).order_by("name")
        self.fields["body"].help_text = TOPIC_REMINDER

    def clean(self):
        data = super().clean()
        if not data.get("structure") and not data.get("invited") and "invited" not in self.errors:
            self.add_error("invited", "Invitez au moins un professionnel, ou choisissez votre équipe.")
        return data


class AddParticipantsForm(Form):
    participants = _Users(
        label="Ajouter des participants",
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    invited = InviteField()

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        if candidates is None:
            del self.fields["participants"]
        else:
            self.fields["participants"].queryset = candidates
            del self.fields["invited"]

    def users(self) -> list:
        return list(self.cleaned_data.get("participants") or self.cleaned_data.get("invited") or [])


class FileToLiaisonForm(Form):
    category = forms.ChoiceField(
        label="Catégorie de la transmission",
        choices=TransmissionCategory.choices,
        initial=TransmissionCategory.OBSERVATIONS,
    )
