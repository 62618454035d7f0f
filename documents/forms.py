"""Forms of the documents pages (labels and messages in French)."""

from __future__ import annotations

from django import forms

from common.forms import Form
from documents.models import DocumentStatus, DocumentType

FILE_HELP = "PDF ou image (JPEG, PNG, WebP). Le contenu du fichier est vérifié."


class DocumentUploadForm(Form):
    doc_type = forms.ChoiceField(label="Type de document", choices=DocumentType.choices)
    title = forms.CharField(label="Titre", max_length=200)
    document_on = forms.DateField(
        label="Date du document",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Par défaut : aujourd'hui.",
    )
    file = forms.FileField(label="Fichier", help_text=FILE_HELP)
    validate = forms.BooleanField(
        label="Valider le document maintenant",
        required=False,
        help_text="Un document validé ne peut plus être modifié ; s'il doit être partagé "
        "au DMP, l'envoi est programmé (vous pourrez l'annuler pendant le délai).",
    )


class PortalUploadForm(Form):
    doc_type = forms.ChoiceField(label="Type de document", choices=DocumentType.choices)
    title = forms.CharField(label="Titre", max_length=200, help_text="Par exemple : attestation de la CAF.")
    file = forms.FileField(label="Fichier", help_text=FILE_HELP)


class NewVersionForm(Form):
    title = forms.CharField(
        label="Titre", max_length=200, required=False, help_text="Laissez vide pour garder le titre actuel."
    )
    document_on = forms.DateField(
        label="Date du document", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    file = forms.FileField(label="Fichier de la nouvelle version", help_text=FILE_HELP)
    validate = forms.BooleanField(label="Valider la nouvelle version maintenant", required=False)


class ReasonForm(Form):
    reason = forms.CharField(label="Motif", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)


class MssanteForm(Form):
    recipient_address = forms.EmailField(
        label="Adresse MSSanté du destinataire", help_text="Par exemple : prenom.nom@medecin.mssante.fr"
    )
    recipient_label = forms.CharField(label="Nom du destinataire", max_length=200, required=False)

    def __init__(self, *args, addresses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.addresses = list(addresses)
        if self.addresses:
            # Suggest the addresses known in the circle (a plain <datalist>, no script).
            self.fields["recipient_address"].widget.attrs["list"] = "adresses-mssante"


class DocumentFilterForm(Form):
    doc_type = forms.ChoiceField(label="Type", required=False, choices=[("", "Tous les types"), *DocumentType.choices])
    status = forms.ChoiceField(
        label="Statut", required=False, choices=[("", "Tous les statuts"), *DocumentStatus.choices]
    )
    since = forms.DateField(
        label="Du", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    until = forms.DateField(
        label="Au", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    history = forms.BooleanField(label="Afficher aussi les anciennes versions", required=False)

    def apply(self, queryset):
        if not self.is_valid():
            return queryset.filter(superseded_at__isnull=True)
        data = self.cleaned_data
        if data["doc_type"]:
            queryset = queryset.filter(doc_type=data["doc_type"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["since"]:
            queryset = queryset.filter(document_on__gte=data["since"])
        if data["until"]:
            queryset = queryset.filter(document_on__lte=data["until"])
        if not data["history"]:
            queryset = queryset.filter(superseded_at__isnull=True)
        return queryset
