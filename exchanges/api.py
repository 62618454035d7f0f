"""REST API of the exchanges, under /api/exchanges/.

The same rules, gate and services as the pages: a conversation is loaded by
`selectors.conversation_for` (a stranger, a removed participant or one who lost the
right gets 404; a conversation about a person is a read of the person's exchanges, in
the access log; a write without the right answers 403), every write goes through
`exchanges.services`.

Reading messages through the API does not mark them read: a client says what it showed
with POST …/read/.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import ERRORS, READ_ERRORS, DetailSerializer, PaginatedAPIView, ServiceAPIView
from coordination import access, rules
from coordination.models import Category, Person, Structure
from exchanges import selectors, services
from exchanges.models import Conversation, ConversationKind, Message
from exchanges.serializers import (
    ConversationCreateSerializer,
    ConversationParticipantSerializer,
    ConversationSerializer,
    ExchangeMarkReadSerializer,
    MessageCreateSerializer,
    MessagePageSerializer,
    MessageSerializer,
    ParticipantsAddSerializer,
    ReadStateSerializer,
)

TAGS = ["Échanges"]
WRITE_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(DetailSerializer, description="Le message ne peut plus changer (délai passé, retiré)."),
}
BEFORE = OpenApiParameter(
    "avant", int, description="Les messages écrits avant celui-ci (la valeur `next` de la page précédente)."
)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Le message ne peut plus changer."
    default_code = "conflict"


class ExchangesAPIView(ServiceAPIView):
    """The coordination error mapping, plus 409 when a message can no longer change."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.GracePeriodOver):
            exc = Conflict(" ".join(exc.messages))
        return super().handle_exception(exc)

    def conversation(self, pk: int, action: str = "read") -> Conversation:
        return selectors.conversation_for(self.request.user, pk, action, path=self.request.path)


def _with_unread(user, conversation: Conversation) -> Conversation:
    """The conversation as the list shows it (my unread count), one query."""
    return selectors.my_conversations(user).get(pk=conversation.pk)


def _read_state(user, conversation: Conversation) -> dict:
    row = selectors.my_conversations(user).filter(pk=conversation.pk).values("unread").get()  # type: ignore[misc]
    participant = conversation.participants.filter(user=user).first()
    return {
        "conversation": conversation.pk,
        "last_read_message": participant.last_read_message_id if participant else None,
        "last_read_at": participant.last_read_at if participant else None,
        "unread": row["unread"],
    }


def _chosen_users(candidates, ids: list[int], field: str = "participants") -> list:
    """The users of `ids`, each one of `candidates` (else a 400 naming the field and the
    ids only: an id outside the candidates discloses no name)."""
    ids = list(dict.fromkeys(ids))
    found = {user.pk: user for user in candidates.filter(pk__in=ids)}
    unknown = [str(pk) for pk in ids if pk not in found]
    if unknown:
        raise exceptions.ValidationError(
            {field: [f"Ces identifiants ne désignent personne que vous puissiez inviter ici : {', '.join(unknown)}."]}
        )
    return [found[pk] for pk in ids]


def _start_arguments(request: Request, data: dict) -> dict:
    """The service's arguments from the API's ids: the person through the gate (a
    stranger gets 404, a reader without the write right 403), the users among those who
    may take part, as the pages offer them."""
    user = request.user
    kind = data["kind"]
    arguments: dict = {"kind": kind, "participants": []}
    if kind == ConversationKind.TOPIC:
        if "person" in data:
            raise exceptions.ValidationError({"person": ["Un échange sur un sujet ne concerne aucune personne."]})
        person: Person | None = None
    else:
        if "person" not in data:
            raise exceptions.ValidationError({"person": ["Choisissez la personne concernée."]})
        person = access.require(user, data["person"], Category.EXCHANGES, "write", path=request.path).person
        arguments["person"] = person
    if "structure" in data:
        structure = Structure.objects.filter(pk=data["structure"]).first()
        if structure is None:
            raise exceptions.ValidationError({"structure": ["Cette structure n'existe pas."]})
        arguments["structure"] = structure
    ids = data.get("participants") or []
    if kind == ConversationKind.PERSON_TEAM and not rules.is_professional(user):
        if ids:
            raise exceptions.ValidationError(
                {"participants": ["Vous écrivez à une équipe ou à un professionnel : personne d'autre à inviter."]}
            )
        if "professional" in data:
            [arguments["professional"]] = _chosen_users(
                selectors.participant_candidates(person, kind=kind), [data["professional"]], "professional"
            )
        return arguments
    if "professional" in data:
        raise exceptions.ValidationError(
            {"professional": ["Seuls la personne et ses proches écrivent à un professionnel nommé."]}
        )
    if person is not None and kind == ConversationKind.PERSON_TEAM:
        candidates = selectors.person_side_candidates(person)
    else:
        candidates = selectors.participant_candidates(person, kind=kind)
    arguments["participants"] = _chosen_users(candidates.exclude(pk=user.pk), ids)
    return arguments


class ConversationListView(PaginatedAPIView, ExchangesAPIView):
    serializer_class = ConversationCreateSerializer  # type: ignore[assignment]
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        operation_id="exchanges_conversations_list",
        tags=TAGS,
        summary="Mes échanges",
        description="Les échanges que vous pouvez lire, l'activité la plus récente d'abord, chacun avec le nombre "
        "de messages non lus. Paginé. Chaque personne concernée d'une page est tracée dans l'historique des "
        "accès (lecture des échanges).",
        parameters=[OpenApiParameter("person", int, description="Seulement les échanges autour de cette personne.")],
        responses={200: ConversationSerializer(many=True), 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        person = None
        if request.query_params.get("person"):
            person = access.get_person_or_404(
                request.user, request.query_params["person"], Category.EXCHANGES, path=request.path
            )
        page = self.paginate_queryset(selectors.my_conversations(request.user, person=person)) or []
        persons: dict[int, Person] = {}
        for item in page:
            if item.person is not None:
                persons[item.person.pk] = item.person
        if persons and person is None:
            access.log_many(request.user, list(persons.values()), Category.EXCHANGES, path=request.path)
        return self.get_paginated_response(ConversationSerializer(page, many=True).data)

    @extend_schema(
        operation_id="exchanges_conversation_create",
        tags=TAGS,
        summary="Commencer un échange",
        description="Comme sur les pages : `person`, entre professionnels autour d'une personne (droit "
        "« échanges » en écriture sur elle ; des participants qui peuvent lire ses échanges) ; `topic`, sur un "
        "sujet, avec l'équipe d'une de vos structures et/ou des professionnels invités (aucune donnée "
        "personnelle d'une personne accompagnée) ; `person_team`, entre la personne et son équipe : la "
        "personne ou un proche écrit à une structure qui l'accompagne ou à un professionnel de son cercle, ou "
        "un professionnel écrit à la personne ou à ses proches. Avec un premier message facultatif (JSON, ou "
        "multipart/form-data pour joindre des fichiers). Les participants sont prévenus selon leurs "
        "préférences, sans le texte.",
        request={
            "application/json": ConversationCreateSerializer,
            "multipart/form-data": ConversationCreateSerializer,
        },
        responses={201: ConversationSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(ConversationCreateSerializer, request.data)
        conversation = services.conversation_start(
            actor=request.user,
            subject=data["subject"],
            body=data.get("body", ""),
            files=data.get("files", []),
            **_start_arguments(request, data),
        )
        return Response(
            ConversationSerializer(_with_unread(request.user, conversation)).data, status=status.HTTP_201_CREATED
        )


class ConversationView(ExchangesAPIView):
    @extend_schema(
        operation_id="exchanges_conversation_retrieve",
        tags=TAGS,
        summary="Un échange",
        description="Un échange que vous pouvez lire (sinon 404), avec votre nombre de messages non lus.",
        responses={200: ConversationSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        conversation = self.conversation(pk)
        return Response(ConversationSerializer(_with_unread(request.user, conversation)).data)


class MessagesView(ExchangesAPIView):
    serializer_class = MessageCreateSerializer  # type: ignore[assignment]
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        operation_id="exchanges_messages_list",
        tags=TAGS,
        summary="Les messages d'un échange, les derniers d'abord",
        description="Du plus récent au plus ancien, par pages (`next` → `?avant=`) ; le coût d'une page ne dépend "
        "pas de la longueur de l'échange. Ne marque pas les messages comme lus (voir …/read/).",
        parameters=[BEFORE],
        responses={200: MessagePageSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        conversation = self.conversation(pk)
        before = request.query_params.get("avant") or None
        if before is not None and not before.isdigit():
            raise exceptions.ValidationError({"avant": ["Un numéro de message est attendu."]})
        page = selectors.messages_page(conversation, before=before)
        items = list(reversed(page.items))
        return Response({"results": MessageSerializer(items, many=True).data, "next": page.older_than})

    @extend_schema(
        operation_id="exchanges_message_create",
        tags=TAGS,
        summary="Écrire un message",
        description="Droit « échanges » en écriture pour un échange autour d'une personne. JSON, ou "
        "multipart/form-data pour joindre des photos ou des PDF (`files`, répété). Les autres lecteurs "
        "sont prévenus selon leurs préférences (sans le texte du message).",
        request={"application/json": MessageCreateSerializer, "multipart/form-data": MessageCreateSerializer},
        responses={201: MessageSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = self.conversation(pk, "write")
        data = self.validated(MessageCreateSerializer, request.data)
        message = services.message_post(
            actor=request.user, conversation=conversation, body=data.get("body", ""), files=data.get("files", [])
        )
        loaded = selectors.messages_after(conversation, message.pk - 1, limit=1)[0]
        return Response(MessageSerializer(loaded).data, status=status.HTTP_201_CREATED)


class ParticipantsView(ExchangesAPIView):
    serializer_class = ParticipantsAddSerializer  # type: ignore[assignment]

    @extend_schema(
        operation_id="exchanges_participants_list",
        tags=TAGS,
        summary="Les participants d'un échange",
        description="Ceux qui peuvent encore le lire (la liste suit les droits décidés par la personne), avec ce "
        "qu'ils ont lu : les accusés de lecture.",
        responses={200: ConversationParticipantSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        conversation = self.conversation(pk)
        return Response(ConversationParticipantSerializer(selectors.participants(conversation), many=True).data)

    @extend_schema(
        operation_id="exchanges_participants_add",
        tags=TAGS,
        summary="Inviter des participants",
        description="Un participant qui peut écrire invite d'autres utilisateurs : pour un échange autour d'une "
        "personne, des professionnels qui peuvent lire ses échanges ; sur un sujet, des professionnels. Dans un "
        "échange avec la personne, toute l'équipe lit déjà : personne à inviter (403). Répond la liste des "
        "participants.",
        request=ParticipantsAddSerializer,
        responses={200: ConversationParticipantSerializer(many=True), **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = self.conversation(pk, "write")
        ids = self.validated(ParticipantsAddSerializer, request.data)["participants"]
        if conversation.kind == ConversationKind.PERSON_TEAM:
            raise access.AccessDenied("Dans un échange avec la personne, l'équipe entière lit : personne à inviter.")
        candidates = selectors.participant_candidates(conversation, kind=conversation.kind).exclude(pk=request.user.pk)
        services.participants_add(actor=request.user, conversation=conversation, users=_chosen_users(candidates, ids))
        return Response(ConversationParticipantSerializer(selectors.participants(conversation), many=True).data)


class ReadView(ExchangesAPIView):
    serializer_class = ExchangeMarkReadSerializer  # type: ignore[assignment]

    @extend_schema(
        operation_id="exchanges_read_state",
        tags=TAGS,
        summary="Où j'en suis de la lecture d'un échange",
        responses={200: ReadStateSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        conversation = self.conversation(pk)
        return Response(ReadStateSerializer(_read_state(request.user, conversation)).data)

    @extend_schema(
        operation_id="exchanges_mark_read",
        tags=TAGS,
        summary="Marquer un échange comme lu",
        description="Jusqu'au message `up_to` (un message de cet échange), ou jusqu'au dernier. Ne revient "
        "jamais en arrière. Les autres participants voient « Lu par … ».",
        request=ExchangeMarkReadSerializer,
        responses={200: ReadStateSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = self.conversation(pk)
        up_to = self.validated(ExchangeMarkReadSerializer, request.data).get("up_to")
        if up_to is not None and not Message.objects.filter(conversation=conversation, pk=up_to).exists():
            raise exceptions.ValidationError({"up_to": ["Ce message n'appartient pas à cet échange."]})
        services.conversation_mark_read(actor=request.user, conversation=conversation, up_to=up_to)
        return Response(ReadStateSerializer(_read_state(request.user, conversation)).data)
