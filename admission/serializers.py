"""Explicit input and output shapes of the admission API."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from admission.forms import check_ins
from admission.models import AdmissionCopy, AdmissionEvent, AdmissionRequest, AdmissionStatus, AgreementVia, Offer
from admission.selectors import Public
from admission.services import EndKind
from common.api import InputSerializer
from coordination.identifiers import INS_OIDS
from coordination.models import IdentityStatus, Relationship, Sex, StructureKind

# --- Taking a person in ------------------------------------------------------------------------------


class InviteeSerializer(InputSerializer):
    email = serializers.EmailField()
    relationship = serializers.ChoiceField(choices=Relationship.choices, required=False, allow_blank=True)


class AdmitSerializer(InputSerializer):
    structure = serializers.IntegerField(min_value=1, help_text="La structure qui accueille (vous y êtes habilité).")
    birth_name = serializers.CharField(max_length=100)
    used_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    birth_first_names = serializers.CharField(max_length=200)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    birth_date = serializers.DateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    birth_place_insee = serializers.CharField(max_length=5, required=False, allow_blank=True, default="")
    ins_matricule = serializers.CharField(max_length=21, required=False, allow_blank=True, default="")
    ins_oid = serializers.ChoiceField(choices=list(INS_OIDS.items()), required=False, allow_blank=True, default="")
    identity_status = serializers.ChoiceField(choices=IdentityStatus.choices, default=IdentityStatus.PROVISIONAL)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    started_on = serializers.DateField(required=False)
    invitees = InviteeSerializer(many=True, required=False, help_text="Proches à inviter sur le portail.")
    on_duplicate = serializers.ChoiceField(
        choices=[("ask", "ask"), ("create", "create"), ("refer", "refer")],
        default="ask",
        help_text="ask : 409 avec les doublons possibles que vous pouvez voir ; create : créer quand même "
        "(refusé si un doublon vous est inaccessible) ; refer : transmettre un doublon inaccessible à un "
        "administrateur.",
    )
    link_person = serializers.IntegerField(
        min_value=1, required=False, help_text="Accueillir cette personne déjà connue (un doublon que vous voyez)."
    )

    def validate(self, attrs):
        if attrs["birth_date"] > timezone.localdate():
            raise serializers.ValidationError(
                {"birth_date": "Date de naissance : elle ne peut pas être dans le futur."}
            )
        try:
            attrs["ins_matricule"] = check_ins(attrs.get("ins_matricule", ""), attrs.get("ins_oid", ""))
        except DjangoValidationError as error:
            raise serializers.ValidationError({"ins_matricule": error.messages}) from None
        return attrs


class DuplicateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    birth_date = serializers.DateField()


class DuplicatesSerializer(serializers.Serializer):
    detail = serializers.CharField()
    matches = DuplicateSerializer(many=True)
    hidden_match = serializers.BooleanField(
        help_text="Une personne qui vous est inaccessible ressemble (jamais nommée)."
    )


class AdmittedSerializer(serializers.Serializer):
    person = serializers.IntegerField(source="person.pk")
    accompaniment = serializers.IntegerField(source="accompaniment.pk")
    started_on = serializers.DateField(source="accompaniment.started_on")
    invited = serializers.ListField(child=serializers.EmailField())
    not_invited = serializers.ListField(child=serializers.EmailField())


class AccompanimentEndSerializer(InputSerializer):
    ended_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=EndKind.choices)
    detail = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


# --- The offer -----------------------------------------------------------------------------------------


class OfferFilterSerializer(InputSerializer):
    q = serializers.CharField(max_length=100, required=False, allow_blank=True, help_text="Nom ou commune.")
    kind = serializers.ChoiceField(choices=StructureKind.choices, required=False)
    department = serializers.RegexField(r"^(?:[0-9]{2}|2A|2B|97[1-6])$", required=False)
    postcode = serializers.RegexField(r"^[0-9]{5}$", required=False)
    public = serializers.ChoiceField(choices=Public.choices, required=False)
    age = serializers.IntegerField(min_value=0, max_value=130, required=False)
    service = serializers.CharField(max_length=20, required=False, help_text="Code SERAFIN-PH (ex. 2.1).")
    with_places = serializers.BooleanField(required=False, default=False)


class OfferSerializer(serializers.ModelSerializer):
    structure = serializers.IntegerField(source="structure.pk")
    name = serializers.CharField(source="structure.name")
    kind = serializers.CharField(source="structure.kind")
    finess = serializers.CharField(source="structure.finess")
    services = serializers.SerializerMethodField()

    class Meta:
        model = Offer
        fields = [
            "structure",
            "name",
            "kind",
            "finess",
            "department",
            "postcode",
            "city",
            "serves_disability",
            "serves_older",
            "age_min",
            "age_max",
            "conditions",
            "services",
            "capacity",
            "places_available",
            "waiting_list_length",
            "availability_updated_on",
            "how_to_apply",
            "contact_email",
            "contact_phone",
            "accepts_requests",
        ]

    def get_services(self, offer) -> list[str]:
        return [code.code for code in offer.services.all()]


# --- Requests ------------------------------------------------------------------------------------------


class RequestCreateSerializer(InputSerializer):
    person = serializers.IntegerField(min_value=1)
    structures = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=10)
    message = serializers.CharField(max_length=5000)
    needs = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, help_text="Codes SERAFIN-PH des besoins."
    )
    mdph_reference = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    mdph_decided_on = serializers.DateField(required=False, allow_null=True, default=None)
    mdph_valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    agreement_via = serializers.ChoiceField(choices=AgreementVia.choices, required=False, allow_blank=True, default="")
    agreement_note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdmissionEvent
        fields = ["status", "previous_status", "message", "is_requester_answer", "at"]


class CopySerializer(serializers.ModelSerializer):
    structure_name = serializers.CharField(source="structure.name")
    events = EventSerializer(many=True, read_only=True)

    class Meta:
        model = AdmissionCopy
        fields = [
            "id",
            "structure",
            "structure_name",
            "status",
            "waiting_rank",
            "proposed_entry_on",
            "refusal_reason",
            "created_at",
            "updated_at",
            "events",
        ]


class RequestSerializer(serializers.ModelSerializer):
    copies = CopySerializer(many=True, read_only=True)
    needs = serializers.SerializerMethodField()

    class Meta:
        model = AdmissionRequest
        fields = [
            "id",
            "person",
            "requester_kind",
            "agreement_via",
            "needs",
            "mdph_reference",
            "mdph_decided_on",
            "mdph_valid_until",
            "message",
            "created_at",
            "copies",
        ]

    def get_needs(self, admission_request) -> list[str]:
        return [code.code for code in admission_request.needs.all()]


class IncomingSerializer(serializers.ModelSerializer):
    """A copy as its structure lists it: the person is named while the file is open to it."""

    person_name = serializers.SerializerMethodField()

    class Meta:
        model = AdmissionCopy
        fields = ["id", "structure", "status", "created_at", "updated_at", "person_name"]

    def get_person_name(self, copy) -> str:
        return copy.request.person.display_name if getattr(copy, "names_person", False) else ""


class FileRequestSerializer(RequestSerializer):
    """The file as a structure reads it: not the other structures' copies."""

    class Meta(RequestSerializer.Meta):
        fields = [name for name in RequestSerializer.Meta.fields if name != "copies"]


class FileSerializer(serializers.Serializer):
    copy = CopySerializer()
    request = FileRequestSerializer()
    birth_name = serializers.CharField(source="person.birth_name")
    birth_first_names = serializers.CharField(source="person.birth_first_names")
    birth_date = serializers.DateField(source="person.birth_date")
    sex = serializers.CharField(source="person.sex")


class AnswerSerializer(InputSerializer):
    status = serializers.ChoiceField(
        choices=AdmissionStatus.choices,
        help_text="under_review, info_requested (avec un message), waiting_list, accepted (avec la date "
        "d'entrée proposée), refused (avec le motif) ; les autres passages sont refusés.",
    )
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    waiting_rank = serializers.IntegerField(min_value=1, max_value=9999, required=False, allow_null=True, default=None)
    proposed_entry_on = serializers.DateField(required=False, allow_null=True, default=None)
    refusal_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AdmitCopySerializer(InputSerializer):
    entered_on = serializers.DateField(required=False, allow_null=True, default=None)


class RequesterMessageSerializer(InputSerializer):
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
