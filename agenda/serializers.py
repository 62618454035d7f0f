"""Input and output serializers of the agenda API, shaped close to FHIR R4 `Appointment`
(status proposed/booked/cancelled/fulfilled, participant actor + status, start/end,
serviceType with the SERAFIN-PH code). Output serializers read only what
`agenda.selectors.with_details` prefetched; input serializers check shapes, the services
decide the rest.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agenda.models import EventStatus, EventType, FeedOwnerKind, PlaceKind, Response, Visibility
from common.api import InputSerializer, choices_text, inline_enum
from coordination.models import Professional
from reference.models import SerafinCode

FHIR_STATUS = {
    EventStatus.PROPOSED: "proposed",
    EventStatus.CONFIRMED: "booked",
    EventStatus.CANCELLED: "cancelled",
    EventStatus.DONE: "fulfilled",
}
FHIR_PARTSTAT = {
    Response.NEEDS_ACTION: "needs-action",
    Response.ACCEPTED: "accepted",
    Response.DECLINED: "declined",
    Response.TENTATIVE: "tentative",
}
SERAFIN_SYSTEM = "https://www.cnsa.fr/serafin-ph"


def _enum_field(choices) -> type[serializers.ChoiceField]:
    @extend_schema_field(inline_enum(choices))
    class EnumField(serializers.ChoiceField):
        def __init__(self, **kwargs):
            kwargs.setdefault("help_text", choices_text(choices))
            super().__init__(choices=choices, **kwargs)

    return EnumField


FhirStatusField = _enum_field([(v, v) for v in FHIR_STATUS.values()])
FhirPartstatField = _enum_field([(v, v) for v in FHIR_PARTSTAT.values()])
EventTypeField = _enum_field(EventType.choices)
VisibilityField = _enum_field(Visibility.choices)
PlaceKindField = _enum_field(PlaceKind.choices)


class ActorSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Practitioner, Organization, Patient ou RelatedPerson.")
    reference = serializers.CharField(allow_blank=True)
    display = serializers.CharField()


class AppointmentParticipantSerializer(serializers.Serializer):
    actor = ActorSerializer()
    required = serializers.CharField(help_text="required ou optional.")
    status = FhirPartstatField()
    organiser = serializers.BooleanField()


class CodingSerializer(serializers.Serializer):
    system = serializers.CharField()
    code = serializers.CharField()
    display = serializers.CharField()


class CodeableConceptSerializer(serializers.Serializer):
    coding = CodingSerializer(many=True)


class PlaceSerializer(serializers.Serializer):
    kind = PlaceKindField()
    label = serializers.CharField(allow_blank=True, required=False, default="")
    address = serializers.CharField(allow_blank=True, required=False, default="")
    url = serializers.URLField(allow_blank=True, required=False, default="")


_ACTOR_TYPE = {
    "professional": "Practitioner",
    "structure": "Organization",
    "person": "Patient",
    "carer": "RelatedPerson",
}


def _participant(p) -> dict:
    if p.professional_id:
        reference, display = f"Practitioner/{p.professional_id}", p.display_name or str(p.professional)
    elif p.structure_id:
        reference, display = f"Organization/{p.structure_id}", p.display_name or str(p.structure)
    else:
        reference, display = "", p.display_name or str(p.user or "")
    return {
        "actor": {"type": _ACTOR_TYPE.get(p.kind, "Practitioner"), "reference": reference, "display": display},
        "required": "required" if p.is_required else "optional",
        "status": FHIR_PARTSTAT[p.response],
        "organiser": p.is_organiser,
    }


class AppointmentSerializer(serializers.Serializer):
    """One occurrence, as a FHIR-like Appointment (a series' occurrences share `id` and `uid`)."""

    resourceType = serializers.SerializerMethodField()
    id = serializers.IntegerField(source="event.pk")
    uid = serializers.CharField(source="event.uid")
    status = serializers.SerializerMethodField()
    start = serializers.DateTimeField(source="starts_at")
    end = serializers.DateTimeField(source="ends_at")
    allDay = serializers.BooleanField(source="event.is_all_day")
    recurrenceId = serializers.DateTimeField(source="recurrence_id", allow_null=True)
    rrule = serializers.CharField(source="event.rrule")
    description = serializers.CharField(source="event.title")
    appointmentType = EventTypeField(source="event.event_type")
    visibility = VisibilityField(source="event.visibility")
    person = serializers.IntegerField(source="event.person_id", allow_null=True)
    structure = serializers.IntegerField(source="event.structure_id", allow_null=True)
    sequence = serializers.IntegerField(source="event.sequence")
    serviceType = serializers.SerializerMethodField()
    participant = serializers.SerializerMethodField()
    places = serializers.SerializerMethodField()

    def get_resourceType(self, occurrence) -> str:  # noqa: N802 - FHIR name
        return "Appointment"

    @extend_schema_field(FhirStatusField())
    def get_status(self, occurrence) -> str:
        return FHIR_STATUS[occurrence.event.status]

    @extend_schema_field(CodeableConceptSerializer(many=True))
    def get_serviceType(self, occurrence) -> list:  # noqa: N802 - FHIR name
        code = occurrence.event.serafin_service
        if code is None:
            return []
        return [{"coding": [{"system": SERAFIN_SYSTEM, "code": code.code, "display": code.label}]}]

    @extend_schema_field(AppointmentParticipantSerializer(many=True))
    def get_participant(self, occurrence) -> list:
        return [_participant(p) for p in occurrence.event.participants.all()]

    @extend_schema_field(PlaceSerializer(many=True))
    def get_places(self, occurrence) -> list:
        return [
            {"kind": p.kind, "label": p.label, "address": p.address, "url": p.url}
            for p in occurrence.event.places.all()
        ]


class AppointmentListSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    results = AppointmentSerializer(many=True)


class EventWriteSerializer(InputSerializer):
    person = serializers.IntegerField(
        required=False, allow_null=True, help_text="La personne concernée (droit « agenda » en écriture)."
    )
    title = serializers.CharField(max_length=200)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(required=False, allow_null=True)
    allDay = serializers.BooleanField(required=False, default=False)
    appointmentType = EventTypeField(required=False, default=EventType.OTHER)
    visibility = VisibilityField(required=False, default=Visibility.SHARED)
    rrule = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    motive = serializers.CharField(required=False, allow_blank=True, default="")
    serviceType = serializers.SlugRelatedField(
        slug_field="code",
        queryset=SerafinCode.objects.filter(kind="service"),
        required=False,
        allow_null=True,
        help_text="Code SERAFIN-PH de prestation.",
    )
    places = PlaceSerializer(many=True, required=False)
    participants = serializers.PrimaryKeyRelatedField(
        queryset=Professional.objects.filter(is_active=True),
        many=True,
        required=False,
        help_text="Identifiants des professionnels invités.",
    )

    RENAMES = {
        "start": "starts_at",
        "end": "ends_at",
        "allDay": "is_all_day",
        "appointmentType": "event_type",
        "serviceType": "serafin_service",
    }

    def to_service(self, data: dict) -> dict:
        return {self.RENAMES.get(k, k): v for k, v in data.items() if k != "person"}


class EventUpdateSerializer(EventWriteSerializer):
    title = serializers.CharField(max_length=200, required=False)
    start = serializers.DateTimeField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("person", "participants", "rrule"):
            self.fields.pop(name)
        for field in self.fields.values():
            field.default = serializers.empty


class CancelSerializer(InputSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


# --- ICS subscriptions ------------------------------------------------------------------


class FeedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text=choices_text(FeedOwnerKind.choices))
    person = serializers.IntegerField(
        allow_null=True, help_text="La personne dont c'est l'agenda, si vous la suivez encore."
    )
    person_name = serializers.CharField(
        allow_null=True,
        help_text="Nul quand vous ne voyez plus l'agenda de la personne (l'adresse ne fonctionne plus).",
    )
    include_titles = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)


class NewFeedSerializer(FeedSerializer):
    url = serializers.CharField(
        help_text="L'adresse webcal:// secrète, donnée une seule fois : seule son empreinte est gardée."
    )


class FeedCreateSerializer(InputSerializer):
    kind = serializers.ChoiceField(choices=FeedOwnerKind.choices, help_text=choices_text(FeedOwnerKind.choices))
    person = serializers.IntegerField(required=False, allow_null=True, min_value=1, help_text="Pour `person`.")
    include_titles = serializers.BooleanField(required=False, default=False)
