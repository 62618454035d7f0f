"""Forms of the admission pages. Messages in French name their field."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.fr import nir

from admission.models import AdmissionStatus, AgreementVia, validate_department, validate_postcode
from admission.selectors import Public
from admission.services import EndKind
from common.forms import Form
from coordination.identifiers import INS_OIDS, normalize_ins, validate_ins_matricule, validate_insee_place
from coordination.models import CircleRole, IdentityStatus, Profession, Relationship, Sex, StructureKind
from reference.models import SerafinCode, SerafinKind

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NIA_OID = "1.2.250.1.213.1.4.9"
INS_NEEDED = {IdentityStatus.RETRIEVED, IdentityStatus.QUALIFIED}


def check_ins(value: str, oid: str = "") -> str:
    """The INS matricule, its key checked: python-stdnum's NIR check for a NIR (the
    kernel's own check, which knows the NIA, for the others). A French message."""
    matricule = normalize_ins(value)
    if not matricule:
        return ""
    if oid != NIA_OID:
        try:
            nir.validate(matricule)
        except InvalidChecksum:
            raise forms.ValidationError("Matricule INS : la clé de contrôle ne correspond pas.") from None
        except (InvalidFormat, InvalidLength, InvalidComponent):
            raise forms.ValidationError(
                "Matricule INS : 15 caractères attendus (13 chiffres, 2A ou 2B pour la Corse, puis la clé)."
            ) from None
    validate_ins_matricule(matricule)
    return matricule


class AdmitForm(Form):
    structure = forms.ModelChoiceField(queryset=None, label="Structure qui accueille", empty_label=None)
    birth_name = forms.CharField(label="Nom de naissance", max_length=100)
    used_name = forms.CharField(label="Nom utilisé", max_length=100, required=False)
    birth_first_names = forms.CharField(
        label="Prénoms de naissance", max_length=200, help_text="Dans l'ordre de l'état civil, séparés par des espaces."
    )
    first_name = forms.CharField(label="Prénom utilisé", max_length=100, required=False)
    birth_date = forms.DateField(label="Date de naissance", widget=DATE)
    sex = forms.ChoiceField(label="Sexe", choices=[("", "—"), *Sex.choices])
    birth_place_insee = forms.CharField(
        label="Code INSEE du lieu de naissance",
        max_length=5,
        required=False,
        help_text="5 caractères ; 99 suivi du code du pays pour une naissance à l'étranger.",
    )
    ins_matricule = forms.CharField(
        label="Matricule INS", max_length=21, required=False, help_text="15 caractères, clé comprise."
    )
    ins_oid = forms.ChoiceField(label="Nature de l'INS", choices=[("", "—"), *INS_OIDS.items()], required=False)
    identity_status = forms.ChoiceField(
        label="Statut de l'identité", choices=IdentityStatus.choices, initial=IdentityStatus.PROVISIONAL
    )
    phone = forms.CharField(label="Téléphone", max_length=20, required=False)
    email = forms.EmailField(label="Adresse e-mail", required=False)
    address = forms.CharField(label="Adresse", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    started_on = forms.DateField(label="Début de l'accompagnement", widget=DATE)
    invite_person = forms.BooleanField(
        label="Inviter la personne sur le portail (à son adresse e-mail)", required=False
    )

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures
        self.fields["started_on"].initial = timezone.localdate()

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("Date de naissance : elle ne peut pas être dans le futur.")
        return value

    def clean_birth_place_insee(self):
        value = self.cleaned_data["birth_place_insee"].strip().upper()
        if value:
            validate_insee_place(value)
        return value

    def clean(self):
        data = super().clean()
        if "ins_matricule" in data:
            try:
                data["ins_matricule"] = check_ins(data["ins_matricule"], data.get("ins_oid", ""))
            except forms.ValidationError as error:
                self.add_error("ins_matricule", error)
                data.pop("ins_matricule", None)
        if data.get("ins_matricule") and not data.get("ins_oid"):
            self.add_error("ins_oid", "Nature de l'INS : indiquez si c'est un NIR ou un NIA.")
        status = data.get("identity_status")
        if status in INS_NEEDED and not self.cleaned_data.get("ins_matricule") and "ins_matricule" not in self.errors:
            self.add_error(
                "ins_matricule",
                "Matricule INS : il est nécessaire pour une identité récupérée ou qualifiée (téléservice INSi).",
            )
        if data.get("invite_person") and not data.get("email"):
            self.add_error("email", "Adresse e-mail : indiquez-la pour inviter la personne sur le portail.")
        return data

    def traits(self) -> dict:
        names = (
            "birth_name",
            "used_name",
            "birth_first_names",
            "first_name",
            "birth_date",
            "sex",
            "birth_place_insee",
            "ins_matricule",
            "ins_oid",
            "identity_status",
            "phone",
            "email",
            "address",
        )
        data = {name: self.cleaned_data[name] for name in names}
        data["birth_name"] = data["birth_name"].strip().upper()
        data["used_name"] = data["used_name"].strip().upper()
        return data


class InviteeForm(Form):
    email = forms.EmailField(label="Adresse e-mail", required=False)
    relationship = forms.ChoiceField(
        label="Lien avec la personne", choices=[("", "—"), *Relationship.choices], required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("email") and not data.get("relationship"):
            self.add_error("relationship", "Lien avec la personne : choisissez-le.")
        return data


InviteeFormSet = forms.formset_factory(InviteeForm, extra=2, max_num=5, absolute_max=5)


class AccompanimentEndForm(Form):
    ended_on = forms.DateField(label="Date de fin", widget=DATE)
    kind = forms.ChoiceField(label="Motif", choices=EndKind.choices)
    detail = forms.CharField(
        label="Précisions", max_length=150, required=False, help_text="Par exemple la structure d'accueil."
    )


class AnswerForm(Form):
    """The structure answers a request."""

    STATUSES = [
        (AdmissionStatus.UNDER_REVIEW, "Mettre en cours d'examen"),
        (AdmissionStatus.INFO_REQUESTED, "Demander des informations ou des documents"),
        (AdmissionStatus.WAITING_LIST, "Inscrire sur la liste d'attente"),
        (AdmissionStatus.ACCEPTED, "Accepter (proposer une date d'entrée)"),
        (AdmissionStatus.REFUSED, "Refuser (avec le motif)"),
    ]
    status = forms.ChoiceField(label="Réponse", choices=STATUSES, widget=forms.RadioSelect)
    message = forms.CharField(label="Message au demandeur", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    waiting_rank = forms.IntegerField(label="Rang sur la liste d'attente", min_value=1, max_value=9999, required=False)
    proposed_entry_on = forms.DateField(label="Date d'entrée proposée", widget=DATE, required=False)
    refusal_reason = forms.CharField(label="Motif du refus", widget=forms.Textarea(attrs={"rows": 2}), required=False)


class AdmitCopyForm(Form):
    entered_on = forms.DateField(label="Date d'entrée", widget=DATE)


class RequestForm(Form):
    """An admission request (user portal or professional)."""

    person = forms.ModelChoiceField(queryset=None, label="Pour qui est la demande", empty_label=None)
    structures = forms.ModelMultipleChoiceField(
        queryset=None,
        label="Structures à qui envoyer la demande",
        widget=forms.CheckboxSelectMultiple,
        help_text="Chaque structure reçoit sa propre demande et vous répond séparément.",
    )
    needs = forms.ModelMultipleChoiceField(
        queryset=None, label="Besoins (nomenclature SERAFIN-PH)", required=False, widget=forms.CheckboxSelectMultiple
    )
    mdph_reference = forms.CharField(label="Référence de la décision MDPH", max_length=50, required=False)
    mdph_decided_on = forms.DateField(label="Date de la décision MDPH", widget=DATE, required=False)
    mdph_valid_until = forms.DateField(label="Décision valable jusqu'au", widget=DATE, required=False)
    message = forms.CharField(
        label="Présentation de la demande",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Qui est la personne, ce qu'elle souhaite, depuis quand vous cherchez.",
    )
    agreement_via = forms.ChoiceField(label="Accord de la personne", choices=AgreementVia.choices, required=False)
    agreement_note = forms.CharField(label="Précisions sur l'accord", max_length=300, required=False)
    document_title = forms.CharField(label="Titre du document", max_length=200, required=False)
    document = forms.FileField(
        label="Document (PDF ou image)", required=False, help_text="Par exemple la notification de décision MDPH."
    )

    def __init__(self, *args, structures, needs, with_agreement: bool, persons, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = persons
        self.fields["structures"].queryset = structures
        self.fields["needs"].queryset = needs
        if not with_agreement:
            del self.fields["agreement_via"]
            del self.fields["agreement_note"]


class RequesterAnswerForm(Form):
    message = forms.CharField(label="Votre réponse", widget=forms.Textarea(attrs={"rows": 4}), required=False)
    document_title = forms.CharField(label="Titre du document", max_length=200, required=False)
    document = forms.FileField(label="Document (PDF ou image)", required=False)


class WithdrawForm(Form):
    message = forms.CharField(label="Pourquoi vous retirez la demande (facultatif)", max_length=500, required=False)


class OfferSearchForm(Form):
    q = forms.CharField(label="Nom ou commune", max_length=100, required=False)
    kind = forms.ChoiceField(label="Type de structure", choices=[("", "Tous"), *StructureKind.choices], required=False)
    postcode = forms.CharField(label="Code postal", max_length=5, required=False, validators=[validate_postcode])
    department = forms.CharField(
        label="Département", max_length=3, required=False, help_text="Par exemple 75, 2A ou 974."
    )
    public = forms.ChoiceField(label="Public accueilli", choices=[("", "Tous"), *Public.choices], required=False)
    age = forms.IntegerField(label="Âge de la personne", min_value=0, max_value=130, required=False)
    service = forms.ModelChoiceField(
        queryset=SerafinCode.objects.filter(kind=SerafinKind.SERVICE, depth__lte=3).order_by("code"),
        label="Prestation",
        required=False,
        empty_label="Toutes",
    )
    with_places = forms.BooleanField(label="Seulement avec des places disponibles", required=False)

    def clean_department(self):
        value = self.cleaned_data["department"].strip().upper()
        if value:
            validate_department(value)
        return value


class OfferForm(Form):
    department = forms.CharField(label="Département", max_length=3, validators=[validate_department])
    postcode = forms.CharField(label="Code postal", max_length=5, validators=[validate_postcode])
    city = forms.CharField(label="Commune", max_length=100)
    serves_disability = forms.BooleanField(label="Accueille des personnes en situation de handicap", required=False)
    serves_older = forms.BooleanField(label="Accueille des personnes âgées", required=False)
    age_min = forms.IntegerField(label="Âge minimum", min_value=0, max_value=130, required=False)
    age_max = forms.IntegerField(label="Âge maximum", min_value=0, max_value=130, required=False)
    conditions = forms.CharField(label="Conditions d'accueil", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    services = forms.ModelMultipleChoiceField(
        queryset=SerafinCode.objects.filter(kind=SerafinKind.SERVICE, depth__lte=3).order_by("code"),
        label="Prestations directes (SERAFIN-PH)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    capacity = forms.IntegerField(label="Capacité (places)", min_value=0, max_value=100000, required=False)
    places_available = forms.IntegerField(label="Places disponibles", min_value=0, max_value=100000, required=False)
    waiting_list_length = forms.IntegerField(
        label="Personnes en liste d'attente", min_value=0, max_value=100000, required=False
    )
    how_to_apply = forms.CharField(
        label="Comment demander une admission", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    contact_email = forms.EmailField(label="E-mail de contact", required=False)
    contact_phone = forms.CharField(label="Téléphone de contact", max_length=20, required=False)
    accepts_requests = forms.BooleanField(label="Recevoir les demandes d'admission sur le portail", required=False)
    is_published = forms.BooleanField(label="Visible dans l'annuaire", required=False)

    def clean(self):
        data = super().clean()
        if data.get("age_min") is not None and data.get("age_max") is not None and data["age_max"] < data["age_min"]:
            self.add_error("age_max", "Âge maximum : il doit être au moins l'âge minimum.")
        return data


class IncomingFilterForm(Form):
    STATUSES = [("open", "En cours"), ("", "Toutes"), *AdmissionStatus.choices]
    PUBLICS = [("", "Tous"), ("minor", "Mineurs"), ("adult", "Adultes de 18 à 59 ans"), ("older", "60 ans et plus")]
    status = forms.ChoiceField(label="Statut", choices=STATUSES, required=False)
    structure = forms.ModelChoiceField(queryset=None, label="Structure", required=False, empty_label="Toutes")
    since = forms.DateField(label="Reçues depuis le", widget=DATE, required=False)
    until = forms.DateField(label="Reçues jusqu'au", widget=DATE, required=False)
    public = forms.ChoiceField(label="Public", choices=PUBLICS, required=False)

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures


PROFESSIONAL_ROLES = [
    (value, label)
    for value, label in CircleRole.choices
    if value not in {"usager", "aidant", "famille", "representant_legal", "structure", "voisin", "association"}
]


class DirectorySearchForm(Form):
    q = forms.CharField(label="Nom, RPPS ou profession", max_length=100, required=False)
    profession = forms.ChoiceField(
        label="Profession",
        choices=[("", "Toutes"), *[c for c in Profession.choices if c[0] != "logiciel"]],
        required=False,
    )
    structure = forms.CharField(label="Structure", max_length=100, required=False)


class DirectoryAddForm(Form):
    role = forms.ChoiceField(label="Rôle auprès de la personne", choices=PROFESSIONAL_ROLES)
    message = forms.CharField(label="Pourquoi le proposer ?", max_length=1000, required=False)
