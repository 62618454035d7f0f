"""Reads of the exchanges. Who may read a conversation is decided here, at each read,
from the matrix (through the gate's lists) and the teams: a participant row alone never
opens a conversation about a person, so someone who loses `read_exchanges` on the
person stops seeing it at the next request, without any row being changed.

The rule, in one place (`visible_conversations` for a reader, `audience` for a
conversation; both say the same):

- about a person, among professionals: an active participant who is a professional
  and may read the person's exchanges;
- on a topic: an active participant who is a professional, or a member today of the
  team of the conversation's structure;
- between the person's side and their team: whoever may read the person's exchanges
  and is an active participant, or (a professional) a member today of the team of the
  conversation's structure.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from coordination import access, rules
from coordination.models import Category, Person
from exchanges.models import Conversation, ConversationKind, Message, MessageAttachment, Participant

MAX_ID = 2**63 - 1


def _team_q(prefix: str = "") -> Q:
    """`Q` on team memberships in force today (as `rules.team_memberships_in_force`)."""
    today = timezone.localdate()
    return Q(**{f"{prefix}ended_on__isnull": True}) | Q(**{f"{prefix}ended_on__gt": today})


def visible_conversations(user) -> QuerySet[Conversation]:
    """The conversations `user` may read now."""
    if not getattr(user, "is_authenticated", False):
        return Conversation.objects.none()
    mine = Exists(Participant.objects.filter(conversation=OuterRef("pk"), user=user, removed_at__isnull=True))
    readable = access.visible_person_ids(user, Category.EXCHANGES, "read")
    if not rules.is_professional(user):
        return Conversation.objects.filter(kind=ConversationKind.PERSON_TEAM, person__in=readable).filter(mine)
    teams = rules.team_memberships_in_force(user).values("structure_id")
    in_team = Q(structure__isnull=False, structure__in=teams)
    return Conversation.objects.filter(
        Q(kind=ConversationKind.TOPIC) & (mine | in_team)
        | Q(kind=ConversationKind.PERSON, person__in=readable) & mine
        | Q(kind=ConversationKind.PERSON_TEAM, person__in=readable) & (mine | in_team)
    )


def audience(conversation: Conversation) -> QuerySet:
    """The users who may read `conversation` now (recipients, mention candidates, the
    participants list)."""
    User = get_user_model()
    members = Q(exchange_participations__conversation=conversation, exchange_participations__removed_at__isnull=True)
    if conversation.structure_id and conversation.kind != ConversationKind.PERSON:
        members |= Q(
            professional__is_active=True, professional__team_memberships__structure_id=conversation.structure_id
        ) & _team_q("professional__team_memberships__")
    users = User.objects.filter(is_active=True, pk__in=User.objects.filter(members).values("pk"))
    if conversation.kind != ConversationKind.PERSON_TEAM:
        users = users.filter(rules.professional_users_q())
    if conversation.person is not None:
        users = access.users_allowed(conversation.person, Category.EXCHANGES, "read", users=users)
    return users


def _visible(user, conversation: Conversation, *, person_listed: bool) -> bool:
    """`visible_conversations`'s rule for one conversation loaded by `_conversation_row`;
    `person_listed`: its person is in the gate's list of the persons whose exchanges
    `user` may read. tests/exchanges/test_visibility.py pins the two together."""
    # The annotations of `_conversation_row` (absent: the row says nothing, no access).
    mine = bool(getattr(conversation, "reader_is_participant", False))
    in_team = conversation.structure_id is not None and bool(getattr(conversation, "reader_in_team", False))
    about_person = conversation.person_id is not None and person_listed
    if not rules.is_professional(user):
        return conversation.kind == ConversationKind.PERSON_TEAM and mine and about_person
    if conversation.kind == ConversationKind.TOPIC:
        return mine or in_team
    if conversation.kind == ConversationKind.PERSON:
        return mine and about_person
    if conversation.kind == ConversationKind.PERSON_TEAM:
        return (mine or in_team) and about_person
    return False


def _conversation_row(user, conversation_id: int) -> Conversation | None:
    """The conversation by its id, with what `_visible` asks of `user`: an active
    participant row, a team membership in force in its structure."""
    return (
        Conversation.objects.select_related("structure", "professional", "created_by")
        .annotate(
            reader_is_participant=Exists(
                Participant.objects.filter(conversation=OuterRef("pk"), user=user, removed_at__isnull=True)
            ),
            reader_in_team=Exists(rules.team_memberships_in_force(user).filter(structure=OuterRef("structure"))),
        )
        .filter(pk=conversation_id)
        .first()
    )


def conversation_for(user, conversation_id, action: str = "read", *, path: str = "") -> Conversation:
    """Load a conversation `user` may read (else Http404: its existence is not
    disclosed). A conversation about a person then goes through the gate, which logs
    the read (or refuses a write with a plain reason).

    The same rule as `visible_conversations`, decided for this one conversation: its
    row, then the gate's query for its person (is the person in the list of the
    persons whose exchanges `user` may read: `access.require_listed`), rather than the
    list's subquery, which cost this page more to build and plan than everything else
    it asks the database (bench/README.md, "A long conversation")."""
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < conversation_id <= MAX_ID or not getattr(user, "is_authenticated", False):
        raise Http404
    conversation = _conversation_row(user, conversation_id)
    # The rows first (participant, team): `person_listed` is the rule's last condition,
    # so the gate is asked (and the read logged) only when the rows let the user in.
    if conversation is None or not _visible(user, conversation, person_listed=True):
        raise Http404
    if conversation.person_id is None:
        return conversation
    grant = access.require_listed(
        user, conversation.person_id, Category.EXCHANGES, action, path=path, probe_write=action == "read"
    )
    if grant is None:
        raise Http404
    conversation.person = grant.person
    # The same query said whether the reader may also write (may_write reads it).
    conversation.reader_may_write = grant.can_write if action == "read" else True
    return conversation


def may_write(user, conversation: Conversation) -> bool:
    """Whether `user` (who reads it) may post in it: the person's exchanges in write."""
    if conversation.person is None:
        return True
    known = getattr(conversation, "reader_may_write", None)
    if known is not None:
        return bool(known)
    return access.check(user, conversation.person, Category.EXCHANGES, "write") is not None


def may_file_to_liaison(user, conversation: Conversation) -> bool:
    """Whether `user` may turn a message of it into a liaison transmission."""
    if conversation.person is None:
        return False
    return access.check(user, conversation.person, Category.LIAISON, "write") is not None


def my_conversations(user, *, person: Person | None = None) -> QuerySet[Conversation]:
    """The list "Mes échanges": newest activity first, each with my unread count
    (messages after the last one I read, not mine, not withdrawn). Constant queries."""
    last_read = Participant.objects.filter(conversation=OuterRef("pk"), user=user).values("last_read_message_id")[:1]
    unread = (
        Message.objects.filter(conversation=OuterRef("pk"), pk__gt=OuterRef("my_last_read"), withdrawn_at__isnull=True)
        .exclude(author=user)
        .order_by()
        .values("conversation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    queryset = visible_conversations(user)
    if person is not None:
        queryset = queryset.filter(person=person)
    return (
        queryset.select_related("person", "structure", "professional")
        .annotate(my_last_read=Coalesce(Subquery(last_read), Value(0), output_field=IntegerField()))
        .annotate(unread=Coalesce(Subquery(unread), Value(0), output_field=IntegerField()))
        .order_by(Coalesce("last_message_at", "created_at").desc(), "-pk")
    )


def participants(conversation: Conversation) -> QuerySet[Participant]:
    """The participants shown: active rows of users who may still read it (the list
    follows the matrix)."""
    return (
        conversation.participants.filter(removed_at__isnull=True, user__in=audience(conversation))
        .select_related("user")
        .order_by("added_at", "pk")
    )


def participant_candidates(conversation_or_person, *, kind: str) -> QuerySet:
    """Who may be added: for a person, the professionals who may read their exchanges;
    on a topic, every active professional."""
    User = get_user_model()
    users = User.objects.filter(is_active=True).filter(rules.professional_users_q())
    person = (
        conversation_or_person.person if isinstance(conversation_or_person, Conversation) else conversation_or_person
    )
    if kind != ConversationKind.TOPIC and person is not None:
        users = access.users_allowed(person, Category.EXCHANGES, "read", users=users)
    return users.order_by("last_name", "first_name", "pk")


def participants_and_candidates(conversation: Conversation) -> tuple[list[Participant], list]:
    """For a conversation about a person among professionals: `participants(conversation)`
    and `participant_candidates(conversation)` less them (whom the form may add), from
    one read of the users allowed (the matrix's users, the delegation rules asked once)
    instead of two. There, who may read it is an active participant who is an active
    professional allowed on the person's exchanges: the allowed active professionals,
    among whom the participants are the ones with an active row."""
    if conversation.kind != ConversationKind.PERSON:
        raise ValueError("only for a conversation about a person among professionals")
    allowed = list(participant_candidates(conversation, kind=conversation.kind))
    allowed_ids = {user.pk for user in allowed}
    shown = [
        participant
        for participant in conversation.participants.filter(removed_at__isnull=True)
        .select_related("user")
        .order_by("added_at", "pk")
        if participant.user_id in allowed_ids
    ]
    shown_ids = {participant.user_id for participant in shown}
    return shown, [user for user in allowed if user.pk not in shown_ids]


def person_side_candidates(person: Person) -> QuerySet:
    """Whom a professional may write to on the person's side: the person and their carers
    (a legal representative among them) today, who may read the person's exchanges."""
    User = get_user_model()
    side = Q(pk=person.user_id) if person.user_id else Q(pk__in=[])
    side |= Q(carer_links__person=person, carer_links__ended_on__isnull=True)
    users = User.objects.filter(is_active=True, pk__in=User.objects.filter(side).values("pk"))
    return access.users_allowed(person, Category.EXCHANGES, "read", users=users).order_by(
        "last_name", "first_name", "pk"
    )


@dataclass
class MessagePage:
    items: list[Message]
    older_than: int | None  # the id to ask for the page before (None: this is the first)

    @property
    def last_id(self) -> int:
        return self.items[-1].pk if self.items else 0


def _with_details(queryset: QuerySet[Message]) -> QuerySet[Message]:
    return queryset.select_related("author", "transmission").prefetch_related(
        Prefetch("attachments", queryset=MessageAttachment.objects.order_by("uploaded_at", "pk"))
    )


def messages_page(conversation: Conversation, *, before=None, size: int | None = None) -> MessagePage:
    """One page of messages in reading order, the last page when `before` is empty,
    else the messages just before the id `before` (keyset: constant cost at any depth)."""
    size = size or settings.EXCHANGES_PAGE_SIZE
    queryset = Message.objects.filter(conversation=conversation)
    try:
        before_id = int(before) if before not in (None, "") else None
    except (TypeError, ValueError):
        before_id = None
    if before_id is not None and 0 < before_id <= MAX_ID:
        queryset = queryset.filter(pk__lt=before_id)
    rows = list(_with_details(queryset).order_by("-pk")[: size + 1])
    has_older = len(rows) > size
    rows = rows[:size]
    rows.reverse()
    return MessagePage(items=rows, older_than=rows[0].pk if has_older and rows else None)


def messages_after(conversation: Conversation, after_id: int, *, limit: int = 200) -> list[Message]:
    """Messages after `after_id`, in reading order (the live updates)."""
    return list(
        _with_details(Message.objects.filter(conversation=conversation, pk__gt=after_id)).order_by("pk")[:limit]
    )


def message_for(user, message_id, action: str = "read", *, path: str = "") -> Message:
    """A message of a conversation `user` may read (else Http404), through the gate."""
    try:
        message_id = int(message_id)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < message_id <= MAX_ID:
        raise Http404
    conversation_id = Message.objects.filter(pk=message_id).values_list("conversation_id", flat=True).first()
    if conversation_id is None:
        raise Http404
    conversation = conversation_for(user, conversation_id, action, path=path)
    message = _with_details(Message.objects.filter(pk=message_id)).get()
    message.conversation = conversation
    return message


def read_receipts(shown: list[Participant]) -> dict[int, list]:
    """message id -> the users among `shown` (from `participants`) whose last read
    message it is: "Vu par …" under that message."""
    seen: dict[int, list] = {}
    for participant in shown:
        if participant.last_read_message_id is not None:
            seen.setdefault(participant.last_read_message_id, []).append(participant.user)
    return seen
