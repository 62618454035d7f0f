"""Input and output serializers of the liaison API.

Output serializers only read what `liaison.views._with_details` prefetched (no query of
their own). Input serializers check shapes; what may be written, by whom and until when
is decided by `liaison.services` and the gate, never here.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api import InputSerializer, choices_text, inline_enum
from coordination import access
from coordination.models import Category, Profession, Structure
from liaison.models import (
    Addressee,
    Attachment,
    RemarkableEvent,
    Scope,
    Transmission,
    TransmissionCategory,
    TransmissionKind,
    TransmissionStatus,
)
from liaison.services import MAX_ATTACHMENTS


def _enum_field(choices) -> type[serializers.ChoiceField]:
    """A choice field documented inline (see `coordination.serializers.inline_enum`:
    `category`, `kind` and `status` already name other enums in the schema)."""

    @extend_schema_field(inline_enum(choices))
    class EnumField(serializers.ChoiceField):
        def __init__(self, **kwargs):
            kwargs.setdefault("help_text", choices_text(choices))
            super().__init__(choices=choices, **kwargs)

    return EnumField


CategoryField = _enum_field(TransmissionCategory.choices)
KindField = _enum_field(TransmissionKind.choices)
ScopeField = _enum_field(Scope.choices)
RemarkableEventField = _enum_field(RemarkableEvent.choices)
StatusField = _enum_field(TransmissionStatus.choices)


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file sent in multipart/form-data (documented as binary, not as a URL)."""


# --- Output -------------------------------------------------------------------------------------


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)


class StructureRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True, help_text="Nom du fichier déposé.")
    url = serializers.SerializerMethodField(help_text="Téléchargement, réservé à qui peut lire la transmission.")
    thumbnail_url = serializers.SerializerMethodField(help_text="Vignette JPEG des images ; null pour un PDF.")

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "sha256", "url", "thumbnail_url"]
        read_only_fields = fields

    def get_url(self, attachment: Attachment) -> str:
        return reverse("liaison:attachment", args=[attachment.pk])

    def get_thumbnail_url(self, attachment: Attachment) -> str | None:
        return reverse("liaison:thumbnail", args=[attachment.pk]) if attachment.thumbnail else None


class AddresseeSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    name = serializers.CharField(source="user.__str__", read_only=True)
    acknowledged_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Accusé de réception ; null tant qu'il n'est pas donné."
    )

    class Meta:
        model = Addressee
        fields = ["user", "name", "acknowledged_at"]
        read_only_fields = fields


class TransmissionSerializer(serializers.ModelSerializer):
    """A transmission as its reader sees it (close to a FHIR DocumentReference: `person` is
    the subject, `author`, `observed_at` the date, `attachments` the content)."""

    author = UserRefSerializer(read_only=True)
    author_structure = StructureRefSerializer(
        read_only=True,
        allow_null=True,
        help_text="Structure pour laquelle l'auteur écrit ; null pour un aidant ou la personne.",
    )
    category = CategoryField(read_only=True)
    kind = KindField(read_only=True)
    scope = ScopeField(read_only=True)
    remarkable_event = RemarkableEventField(read_only=True)
    status = StatusField(read_only=True)
    corrects = serializers.IntegerField(
        source="corrects_id", read_only=True, allow_null=True, help_text="La transmission que celle-ci corrige."
    )
    corrected_by = serializers.SerializerMethodField(help_text="Les corrections de cette transmission.")
    attachments = AttachmentSerializer(many=True, read_only=True)
    addressees = AddresseeSerializer(
        many=True, read_only=True, help_text="Destinataires alertés et leurs accusés de réception."
    )
    is_read = serializers.BooleanField(read_only=True, help_text="Déjà lue par vous.")

    class Meta:
        model = Transmission
        fields = [
            "id",
            "person",
            "author",
            "author_structure",
            "observed_at",
            "created_at",
            "category",
            "kind",
            "target",
            "text",
            "data",
            "actions",
            "results",
            "scope",
            "is_important",
            "remarkable_event",
            "status",
            "edited_at",
            "corrects",
            "corrected_by",
            "attachments",
            "addressees",
            "requests_receipt",
            "is_read",
        ]
        read_only_fields = fields

    def get_corrected_by(self, transmission: Transmission) -> list[int]:
        return [correction.pk for correction in transmission.corrections.all()]


class TransmissionPageSerializer(serializers.Serializer):
    """A keyset page: pass `next` as `?after=` to get the following one."""

    results = TransmissionSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="Curseur de la page suivante ; null à la fin.")


class FeedPageSerializer(TransmissionPageSerializer):
    unread = serializers.IntegerField(help_text="Nombre de transmissions non lues dans votre fil.")


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(
        help_text="Nombre de transmissions, parmi celles envoyées, que vous pouvez "
        "lire et qui sont désormais marquées lues."
    )


# --- Input --------------------------------------------------------------------------------------


class TransmissionContentSerializer(InputSerializer):
    """What a transmission says (the fields its author may edit during the grace period)."""

    category = CategoryField(required=False)
    kind = KindField(
        required=False, help_text="general : texte libre ; targeted : cible et DAR (données, actions, résultats)."
    )
    observed_at = serializers.DateTimeField(required=False, help_text="Moment de l'observation ; maintenant si absent.")
    text = serializers.CharField(required=False, allow_blank=True)
    target = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Cible d'une transmission ciblée, par exemple : douleur.",
    )
    data = serializers.CharField(required=False, allow_blank=True)
    actions = serializers.CharField(required=False, allow_blank=True)
    results = serializers.CharField(required=False, allow_blank=True)
    is_important = serializers.BooleanField(required=False)
    remarkable_event = RemarkableEventField(required=False, allow_blank=True)


class TransmissionEditSerializer(TransmissionContentSerializer):
    """Only the fields sent change; the previous content is kept as a revision."""

    def validate(self, data):
        if not data:
            raise serializers.ValidationError("Indiquez au moins un champ à modifier.")
        return data


class _AlertingSerializer(TransmissionContentSerializer):
    """Content, addressees and files. Needs `person` in the context: addressees are chosen
    among the members who may read the notebook, like on the page."""

    addressees = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=get_user_model().objects.none(),
        help_text="Comptes à alerter (identifiants), parmi les lecteurs du cahier de liaison. Professionnels "
        "seulement.",
    )
    requests_receipt = serializers.BooleanField(
        required=False, help_text="Demander un accusé de réception aux destinataires."
    )
    files = serializers.ListField(
        child=UploadField(),
        required=False,
        max_length=MAX_ATTACHMENTS,
        help_text=f"Photos (JPEG, PNG, WebP) ou PDF, {MAX_ATTACHMENTS} au maximum, en multipart/form-data. Les "
        "métadonnées des photos (lieu, appareil) sont effacées. Les erreurs sur les fichiers sont "
        "rendues sous la clé `attachments`.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        person = self.context.get("person")
        if person is not None:  # absent when the schema is generated
            self.fields["addressees"].child_relation.queryset = (
                access.users_allowed(person, Category.LIAISON, "read")
                .exclude(pk=self.context["request"].user.pk)
                .exclude(professional__profession=Profession.SOFTWARE)
            )

    def validate(self, data):
        if not self.context["request"].user.is_professional:
            # As on the page: carers and the person write in the shared notebook, without alerts.
            for field in ("addressees", "requests_receipt"):
                if data.get(field):
                    raise serializers.ValidationError({field: "Seul un professionnel peut alerter des destinataires."})
        return data


class TransmissionCreateSerializer(_AlertingSerializer):
    category = CategoryField()
    scope = ScopeField(
        required=False,
        help_text="shared (par défaut) : tout le cahier de liaison ; internal : l'équipe de votre structure seulement.",
    )
    author_structure = serializers.PrimaryKeyRelatedField(
        queryset=Structure.objects.all(),
        required=False,
        help_text="Structure pour laquelle vous écrivez, si vous êtes dans plusieurs équipes.",
    )


class CorrectionCreateSerializer(_AlertingSerializer):
    """A correction has the audience of the original; its category by default."""


class AttachmentUploadSerializer(InputSerializer):
    files = serializers.ListField(
        child=UploadField(),
        min_length=1,
        max_length=MAX_ATTACHMENTS,
        help_text="Photos (JPEG, PNG, WebP) ou PDF, en multipart/form-data.",
    )


class MarkReadSerializer(InputSerializer):
    transmissions = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=500,
        help_text="Identifiants des transmissions lues.",
    )
