"""Input and output serializers of the coordination API.

Output serializers only read what the views prefetched (no query of their own); input
serializers validate shapes and turn level names into `Level` values. Rights are
decided by `coordination.access` and `coordination.services`, never here.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from common.api import InputSerializer, choices_text, inline_enum
from coordination.identifiers import validate_ins_matricule
from coordination.models import (
    LEVEL_BY_NAME,
    AccessLog,
    BreakGlassAccess,
    Category,
    CircleMember,
    CircleRole,
    CollectionMethod,
    Consent,
    ConsentDecision,
    ConsentKind,
    Delegation,
    DelegationStatus,
    EndReason,
    JoinRequest,
    JoinRequestStatus,
    Level,
    Partner,
    Person,
    Professional,
    Structure,
)

LEVEL_NAMES = {int(level): name for name, level in LEVEL_BY_NAME.items()}
LEVEL_CHOICES = [(name, Level(level).label) for name, level in LEVEL_BY_NAME.items()]


def level_names(levels: dict[str, int]) -> dict[str, str]:
    """{category: level} → {category: "none"|"read"|"write"}, every category present."""
    return {category: LEVEL_NAMES[int(levels.get(category, Level.NONE))] for category in Category.values}


@extend_schema_field(inline_enum(LEVEL_CHOICES))
class LevelNameField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", choices_text(LEVEL_CHOICES))
        super().__init__(choices=LEVEL_CHOICES, **kwargs)


@extend_schema_field(inline_enum(JoinRequestStatus.choices))
class JoinRequestStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=JoinRequestStatus.choices, help_text=choices_text(JoinRequestStatus.choices), **kwargs)


@extend_schema_field(inline_enum(DelegationStatus.choices))
class DelegationStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=DelegationStatus.choices, help_text=choices_text(DelegationStatus.choices), **kwargs)


@extend_schema_field(
    {
        "type": "object",
        "properties": {category: {"type": "string", "enum": list(LEVEL_BY_NAME)} for category in Category.values},
        "required": list(Category.values),
    }
)
class LevelsField(serializers.Field):
    """Output only: {category: "none"|"read"|"write"} from a dict of levels or from
    `DelegationGrant` rows, read from the prefetch cache."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value) -> dict[str, str]:
        if not isinstance(value, dict):
            value = {grant.category: grant.level for grant in value.all()}
        return level_names(value)


# --- Persons ---------------------------------------------------------------------------------


class AccompanyingStructureSerializer(serializers.Serializer):
    """An active accompaniment, shown as the structure that accompanies."""

    id = serializers.IntegerField(source="structure.id", read_only=True)
    name = serializers.CharField(source="structure.name", read_only=True)
    started_on = serializers.DateField(read_only=True)


class PersonSerializer(serializers.ModelSerializer):
    ins = serializers.CharField(
        source="shareable_ins",
        read_only=True,
        help_text="Matricule INS, seulement quand l'identité est qualifiée ; vide sinon.",
    )
    structures = AccompanyingStructureSerializer(
        source="active_accompaniments", many=True, read_only=True, help_text="Structures qui accompagnent la personne."
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "display_name",
            "birth_name",
            "used_name",
            "first_name",
            "birth_first_names",
            "birth_date",
            "sex",
            "identity_status",
            "ins",
            "structures",
        ]
        read_only_fields = fields


class PersonDetailSerializer(PersonSerializer):
    my_levels = LevelsField(source="viewer_levels", help_text="Vos droits sur chaque catégorie.")

    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "birth_place_insee", "phone", "email", "address", "my_levels"]
        read_only_fields = fields


class PersonFilterSerializer(InputSerializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Recherche sur le nom de naissance, le nom utilisé et les prénoms.",
    )
    structure = serializers.IntegerField(
        required=False, min_value=1, help_text="Personnes accompagnées actuellement par cette structure."
    )


# --- The circle --------------------------------------------------------------------------------


class CircleMemberSerializer(serializers.ModelSerializer):
    levels = LevelsField(help_text="Matrice d'habilitation du membre.")

    class Meta:
        model = CircleMember
        fields = [
            "id",
            "kind",
            "role",
            "display_name",
            "professional",
            "structure",
            "origin",
            "holds_rights",
            "started_at",
            "ended_at",
            "end_reason",
            "levels",
        ]
        read_only_fields = fields


class CircleFilterSerializer(InputSerializer):
    history = serializers.BooleanField(
        required=False, default=False, help_text="1 pour inclure les membres sortis du cercle."
    )


class CircleMemberAddSerializer(InputSerializer):
    role = serializers.ChoiceField(choices=CircleRole.choices)
    professional = serializers.PrimaryKeyRelatedField(
        queryset=Professional.objects.filter(is_active=True),
        required=False,
        help_text="Un professionnel du portail.",
    )
    structure = serializers.PrimaryKeyRelatedField(
        queryset=Structure.objects.filter(is_active=True), required=False, help_text="Une structure."
    )
    other_name = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Une autre personne ou un organisme sans compte."
    )
    other_contact = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate(self, data):
        given = [key for key in ("professional", "structure", "other_name") if data.get(key)]
        if len(given) != 1:
            raise serializers.ValidationError(
                "Indiquez un seul membre : un professionnel, une structure, ou le nom d'une autre personne."
            )
        return data


class LevelsInputSerializer(InputSerializer):
    """{category: "none"|"read"|"write"}: only the categories given change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for category, label in Category.choices:
            self.fields[category] = LevelNameField(required=False, help_text=f"{label} : {choices_text(LEVEL_CHOICES)}")

    def to_internal_value(self, data):
        # Also when nested (no `initial_data` then): an unknown category is an error, not ignored.
        if isinstance(data, dict):
            unknown = set(data) - set(Category.values)
            if unknown:
                raise serializers.ValidationError(
                    {api_settings.NON_FIELD_ERRORS_KEY: [f"Catégorie inconnue : {', '.join(sorted(unknown))}."]}
                )
        return super().to_internal_value(data)

    def validate(self, data):
        if not data:
            raise serializers.ValidationError("Indiquez au moins une catégorie.")
        return {category: LEVEL_BY_NAME[name] for category, name in data.items()}


class GrantsInputSerializer(LevelsInputSerializer):
    """Levels to set, by category; the categories not sent stay as they are."""


class CircleMemberEndSerializer(InputSerializer):
    reason = serializers.ChoiceField(
        choices=[
            (EndReason.END_OF_CARE.value, EndReason.END_OF_CARE.label),
            (EndReason.OPPOSITION.value, EndReason.OPPOSITION.label),
        ],
        help_text="Fin de prise en charge, ou opposition de la personne (le professionnel ne pourra plus "
        "demander à revenir).",
    )


# --- Join requests --------------------------------------------------------------------------------


class JoinRequestCreateSerializer(InputSerializer):
    ins_matricule = serializers.CharField(
        required=False, allow_blank=True, max_length=30, validators=[validate_ins_matricule]
    )
    birth_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    birth_date = serializers.DateField(required=False, allow_null=True)
    role = serializers.ChoiceField(choices=CircleRole.choices)
    message = serializers.CharField(max_length=2000, help_text="Pourquoi vous demandez à entrer dans le cercle.")
    structure = serializers.PrimaryKeyRelatedField(
        queryset=Structure.objects.all(),
        required=False,
        allow_null=True,
        help_text="Au titre de cette structure (vous faites partie de son équipe).",
    )

    def validate_structure(self, structure: Structure | None) -> Structure | None:
        # Checked here, before looking the person up, so that the answer does not
        # depend on whether the person exists.
        user = self.context["request"].user
        if structure is not None and not structure.team.filter(professional__user=user, ended_on__isnull=True).exists():
            raise serializers.ValidationError("Vous ne faites pas partie de l'équipe de cette structure.")
        return structure

    def validate(self, data):
        if not data.get("ins_matricule") and not (
            data.get("birth_name") and data.get("first_name") and data.get("birth_date")
        ):
            raise serializers.ValidationError(
                "Indiquez le matricule INS, ou le nom de naissance, le prénom et la date de naissance."
            )
        return data


class JoinRequestSerializer(serializers.ModelSerializer):
    """A request as the person or their representative sees it."""

    professional_name = serializers.CharField(source="professional.user.get_full_name", read_only=True)
    profession = serializers.CharField(source="professional.get_profession_display", read_only=True)
    structure_name = serializers.CharField(source="structure.name", read_only=True, allow_null=True, default=None)
    status = JoinRequestStatusField(read_only=True)

    class Meta:
        model = JoinRequest
        fields = [
            "id",
            "professional",
            "professional_name",
            "profession",
            "structure",
            "structure_name",
            "role",
            "message",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class MyJoinRequestSerializer(serializers.ModelSerializer):
    """A request as the professional who made it sees it."""

    person_name = serializers.CharField(source="person.display_name", read_only=True)
    structure_name = serializers.CharField(source="structure.name", read_only=True, allow_null=True, default=None)
    status = JoinRequestStatusField(read_only=True)

    class Meta:
        model = JoinRequest
        fields = [
            "id",
            "person_name",
            "structure",
            "structure_name",
            "role",
            "message",
            "status",
            "created_at",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class JoinRequestFilterSerializer(InputSerializer):
    person = serializers.IntegerField(min_value=1, help_text="La personne dont on veut les demandes en attente.")


class JoinRequestAnswerSerializer(InputSerializer):
    accept = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


# --- Delegations ----------------------------------------------------------------------------------


class DelegationSerializer(serializers.ModelSerializer):
    delegator_name = serializers.CharField(source="delegator.display_name", read_only=True)
    delegate_name = serializers.CharField(source="delegate.user.get_full_name", read_only=True)
    levels = LevelsField(source="grants", help_text="Droits délégués.")
    status = DelegationStatusField(read_only=True)

    class Meta:
        model = Delegation
        fields = [
            "id",
            "delegator",
            "delegator_name",
            "delegate",
            "delegate_name",
            "levels",
            "starts_at",
            "ends_at",
            "reason",
            "status",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class DelegationCreateSerializer(InputSerializer):
    delegate = serializers.PrimaryKeyRelatedField(
        queryset=Professional.objects.filter(is_active=True), help_text="Le professionnel qui reçoit les droits."
    )
    levels = LevelsInputSerializer(help_text="Droits délégués, jamais plus que les vôtres.")
    starts_at = serializers.DateTimeField(required=False, help_text="Maintenant si absent.")
    ends_at = serializers.DateTimeField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class DelegationAnswerSerializer(InputSerializer):
    accept = serializers.BooleanField()


# --- Access log -------------------------------------------------------------------------------------


class AccessLogEntrySerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.__str__", read_only=True)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    action_label = serializers.CharField(source="get_action_display", read_only=True)
    via_label = serializers.CharField(source="get_via_display", read_only=True)
    ip = serializers.SerializerMethodField(
        help_text="Adresse IP : seulement pour l'administrateur d'une structure "
        "qui accompagne la personne ; null sinon."
    )

    class Meta:
        model = AccessLog
        fields = ["at", "user_name", "category", "category_label", "action", "action_label", "via", "via_label", "ip"]
        read_only_fields = fields

    @extend_schema_field(serializers.IPAddressField(allow_null=True))
    def get_ip(self, entry: AccessLog) -> str | None:
        return entry.ip if self.context.get("show_ip") else None


# --- Consents ---------------------------------------------------------------------------------


class ConsentSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    decision_label = serializers.CharField(source="get_decision_display", read_only=True)
    collected_via_label = serializers.CharField(source="get_collected_via_display", read_only=True)
    recorded_by_name = serializers.CharField(source="recorded_by.__str__", read_only=True)

    class Meta:
        model = Consent
        fields = [
            "id",
            "kind",
            "kind_label",
            "partner",
            "partner_name",
            "decision",
            "decision_label",
            "collected_via",
            "collected_via_label",
            "note",
            "recorded_by_name",
            "recorded_at",
        ]
        read_only_fields = fields


class ConsentsSerializer(serializers.Serializer):
    dmp_feeding_allowed = serializers.BooleanField(help_text="Vrai sauf opposition de la personne (non-opposition).")
    current = ConsentSerializer(many=True, help_text="La dernière décision par objet (et partenaire).")
    history = ConsentSerializer(many=True, help_text="Toutes les décisions, de la plus récente à la plus ancienne.")


class ConsentRecordSerializer(InputSerializer):
    kind = serializers.ChoiceField(choices=ConsentKind.choices)
    decision = serializers.ChoiceField(choices=ConsentDecision.choices)
    collected_via = serializers.ChoiceField(
        choices=CollectionMethod.choices,
        help_text="`portal` pour la personne ou son représentant ; un professionnel enregistre `oral` ou `written`.",
    )
    partner = serializers.ChoiceField(choices=Partner.choices, required=False, allow_blank=True, default="")
    partner_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


# --- Break-the-glass ----------------------------------------------------------------------------


class BreakGlassSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.__str__", read_only=True)
    structure_name = serializers.CharField(source="structure.name", read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = BreakGlassAccess
        fields = ["id", "person", "user_name", "structure_name", "reason", "started_at", "expires_at", "is_active"]
        read_only_fields = fields

    def get_is_active(self, glass: BreakGlassAccess) -> bool:
        return glass.expires_at > timezone.now()


class BreakGlassOpenSerializer(InputSerializer):
    reason = serializers.CharField(
        max_length=2000, help_text="Pourquoi cet accès en urgence est nécessaire (une phrase)."
    )
