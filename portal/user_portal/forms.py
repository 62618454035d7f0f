"""Forms of the user portal: short labels in plain French."""

from __future__ import annotations

from django import forms

from common.forms import Form
from coordination.models import Category, ConsentDecision, ConsentKind, Level, Partner, Relationship
from liaison.models import TransmissionCategory
from ppa.models import Section

# The matrix in plain words: what each category lets a member do.
CATEGORY_WORDS = {
    Category.RECORD: "la synthèse de mon dossier",
    Category.AGENDA: "mon agenda",
    Category.LIAISON: "le cahier de liaison",
    Category.PPA: "mon projet personnalisé",
    Category.DOCUMENTS: "mes documents",
    Category.CIRCLE: "mon cercle et mes droits",
    Category.EVALUATION: "mes évaluations",
    Category.EXCHANGES: "mes échanges avec l'équipe",
}
LEVEL_WORDS = {Level.NONE: "Rien", Level.READ: "Voir", Level.WRITE: "Voir et écrire"}


def level_sentence(category: str, level: int) -> str:
    """'Peut voir mon agenda', 'Peut voir et écrire dans le cahier de liaison'…"""
    what = CATEGORY_WORDS[category]
    if level == Level.WRITE:
        if category == Category.LIAISON:
            return "Peut lire et écrire dans le cahier de liaison"
        return f"Peut voir et modifier {what}"
    if level == Level.READ:
        return f"Peut voir {what}"
    return f"Ne peut pas voir {what}"


def rights_summary(levels: dict[str, int]) -> str:
    """One line for a member's row: 'Voit : agenda, documents. Voit et écrit : cahier de liaison.'"""
    reads = [Category(c).label.lower() for c in Category.values if levels.get(c, Level.NONE) == Level.READ]
    writes = [Category(c).label.lower() for c in Category.values if levels.get(c, Level.NONE) == Level.WRITE]
    if not reads and not writes:
        return "Ne voit rien."
    parts = []
    if reads:
        parts.append(f"Voit : {', '.join(reads)}.")
    if writes:
        parts.append(f"Voit et écrit : {', '.join(writes)}.")
    return " ".join(parts)


class GrantsForm(Form):
    """One radio group per category: rien / voir / voir et écrire. Said to the person
    ("Mon agenda") or, for whoever decides for her, plainly ("Agenda")."""

    def __init__(self, *args, levels: dict[str, int] | None = None, is_self: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        levels = levels or {}
        for category in Category.values:
            words = CATEGORY_WORDS[category] if is_self else Category(category).label
            self.fields[category] = forms.TypedChoiceField(
                label=f"{words[0].upper()}{words[1:]}",
                choices=[(str(level), LEVEL_WORDS[level]) for level in Level],
                coerce=int,
                widget=forms.RadioSelect,
                initial=str(levels.get(category, Level.NONE)),
            )

    def levels(self) -> dict[str, int]:
        return {category: self.cleaned_data[category] for category in Category.values}


class AnswerForm(Form):
    accept = forms.TypedChoiceField(
        choices=[("1", "Accepter"), ("0", "Refuser")], coerce=lambda v: v == "1", widget=forms.HiddenInput
    )


class MemberEndForm(Form):
    how = forms.ChoiceField(choices=[("end", "Retirer"), ("oppose", "M'opposer")], widget=forms.HiddenInput)


class ObservationForm(Form):
    category = forms.ChoiceField(label="C'est à propos de", choices=TransmissionCategory.choices)
    text = forms.CharField(
        label="Ce que je veux dire",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="Écrivez avec vos mots. Tout le cercle qui lit le cahier verra ce message.",
    )


class ConsentForm(Form):
    kind = forms.ChoiceField(label="Ma décision concerne", choices=ConsentKind.choices)
    partner = forms.ChoiceField(label="Partenaire (seulement pour un partage)", required=False, choices=Partner.choices)
    partner_name = forms.CharField(label="Nom du partenaire (si « Autre »)", required=False, max_length=200)
    decision = forms.ChoiceField(
        label="Ma décision",
        choices=[
            (ConsentDecision.GRANTED, "Je suis d'accord"),
            (ConsentDecision.REFUSED, "Je refuse ou je m'oppose"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label="Précisions (facultatif)", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SpaceForm(Form):
    person = forms.IntegerField(widget=forms.HiddenInput)


class InvitationForm(Form):
    email = forms.EmailField(label="Adresse e-mail de la personne à inviter")
    relationship = forms.ChoiceField(
        label="Qui invitez-vous ?",
        choices=[("", "La personne accompagnée elle-même")] + list(Relationship.choices),
        required=False,
        widget=forms.RadioSelect,
        initial="",
    )


class SetPasswordForm(Form):
    first_name = forms.CharField(label="Prénom", max_length=150, required=False)
    last_name = forms.CharField(label="Nom", max_length=150, required=False)
    password1 = forms.CharField(
        label="Mot de passe",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Au moins 12 caractères. Gardez-le pour vous.",
    )
    password2 = forms.CharField(
        label="Mot de passe, une deuxième fois", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "Les deux mots de passe ne sont pas les mêmes.")
        return data


class ProposalAnswerForm(Form):
    """Accept or decline an appointment proposed to the person."""

    accept = forms.ChoiceField(
        choices=[("1", "Accepter"), ("0", "Refuser"), ("autre", "Demander une autre date")], widget=forms.HiddenInput
    )
    comment = forms.CharField(
        label="Un mot pour le professionnel (facultatif)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FeedCreateForm(Form):
    include_titles = forms.BooleanField(
        label="Montrer le nom des rendez-vous dans mon calendrier",
        required=False,
        help_text="Sinon, votre calendrier montre seulement « Rendez-vous ».",
    )


class FeedActionForm(Form):
    action = forms.ChoiceField(
        choices=[("revoke", "Arrêter"), ("regenerate", "Nouvelle adresse")], widget=forms.HiddenInput
    )


class PlanCommentForm(Form):
    section = forms.ChoiceField(label="Mon commentaire porte sur", choices=Section.choices)
    text = forms.CharField(label="Mon commentaire", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class OwnAppointmentForm(Form):
    """An appointment the person (or her legal representative) adds to her own agenda."""

    title = forms.CharField(label="Quel rendez-vous ?", max_length=200, help_text="Par exemple : dentiste, coiffeur.")
    on = forms.DateField(label="Quel jour ?", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    starts = forms.TimeField(label="À quelle heure ?", widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label="Jusqu'à quelle heure ?", widget=forms.TimeInput(attrs={"type": "time"}))
    place = forms.CharField(label="Où ? (facultatif)", required=False, max_length=200)

    def clean(self):
        data = super().clean()
        if data.get("starts") and data.get("ends") and data["ends"] <= data["starts"]:
            self.add_error("ends", "L'heure de fin doit être après l'heure de début.")
        return data


# --- Messages to the team (views/messages.py) ------------------------------------------------

MESSAGE_MAX = 10_000


def _photo_field():
    # The exchanges block's own file field (several files, checked by content by its service).
    from exchanges.forms import MultipleFileField, MultipleFileInput

    return MultipleFileField(
        label="Ajouter une photo ou un document (si vous voulez)",
        required=False,
        help_text="Photo ou PDF. 5 fichiers au plus.",
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}),
    )


class WriteToTeamForm(Form):
    """Who to write to (a team that accompanies the person, or one professional), what it
    is about, the message."""

    to = forms.ChoiceField(label="À qui voulez-vous écrire ?", widget=forms.RadioSelect)
    subject = forms.CharField(
        label="En quelques mots, de quoi voulez-vous parler ?",
        max_length=200,
        help_text="Par exemple : rendez-vous de mardi, une question sur les repas.",
    )
    body = forms.CharField(label="Votre message", max_length=MESSAGE_MAX, widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args, structures, professionals, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"] = _photo_field()
        self._targets = {f"equipe-{s.pk}": ("structure", s) for s in structures}
        self._targets.update({f"pro-{u.pk}": ("professional", u) for u in professionals})
        choices = [(f"equipe-{s.pk}", f"L'équipe de {s.name}") for s in structures]
        choices += [(f"pro-{u.pk}", u.get_full_name() or u.email) for u in professionals]
        self.fields["to"].choices = choices
        if len(choices) == 1:
            self.fields["to"].initial = choices[0][0]

    def clean(self):
        data = super().clean()
        kind, target = self._targets.get(data.get("to") or "", (None, None))
        data["structure"] = target if kind == "structure" else None
        data["professional"] = target if kind == "professional" else None
        return data


class ReplyForm(Form):
    body = forms.CharField(label="Votre réponse", max_length=MESSAGE_MAX, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"] = _photo_field()
