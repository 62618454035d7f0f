"""Writes of the exchanges. Each is atomic, asks the gate for a conversation about a
person (`coordination.access`), writes its audit row in the same transaction when a
person is concerned, and tells people through the notifications block. Nothing is
deleted: an edit keeps the previous body, a withdrawal keeps the body, a participant
who leaves is dated."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from common.notify import notify
from coordination import access, rules
from coordination.models import Category, Person, Structure
from coordination.services import audit
from documents.uploads import check_upload, removes_files_on_failure, store_checked
from exchanges import selectors
from exchanges.audit_types import ExchangesAudit
from exchanges.models import (
    Conversation,
    ConversationKind,
    Message,
    MessageAttachment,
    MessageRevision,
    Participant,
)
from liaison import services as liaison_services
from liaison.models import Transmission, TransmissionCategory

MAX_ATTACHMENTS = 5
MAX_BODY = 10_000
SUBJECT_MAX = 200


class GracePeriodOver(ValidationError):
    """The message can no longer change (HTTP 409)."""


# --- Helpers -------------------------------------------------------------------------------------


def _audit(actor, conversation: Conversation, event: str, **data) -> None:
    """Only a conversation about a person is audited (a topic holds no person's data)."""
    if conversation.person_id:
        audit(actor, conversation.person, event, conversation=conversation.pk, **data)


def _url_for(conversation: Conversation, message: Message | None = None):
    anchor = f"#m{message.pk}" if message else ""

    def url(user) -> str:
        if rules.is_professional(user):
            return reverse("exchanges:conversation", args=[conversation.pk]) + anchor
        # The person's side reads it in the user portal (the page opens the person's
        # space by itself, whichever space the reader had open).
        return reverse("portal_conversation", args=[conversation.pk]) + anchor

    return url


def _clean_body(body: str, *, required: bool = True) -> str:
    body = (body or "").strip()
    if required and not body:
        raise ValidationError({"body": "Écrivez le message."})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": f"Le message est trop long : {MAX_BODY} caractères au maximum."})
    return body


def _refused(users, allowed_ids: set[int], field: str, why: str) -> None:
    refused = [u for u in users if u.pk not in allowed_ids]
    if refused:
        names = ", ".join(str(u.get_full_name() or u) for u in refused)
        raise ValidationError({field: f"{why} : {names}."})


def _mentioned(body: str, candidates: list) -> list:
    """The candidates named `@Prénom Nom` (or `@Prénom` when no other candidate bears it)."""
    lowered = body.casefold()
    found = []
    first_names: dict[str, int] = {}
    for user in candidates:
        first = (user.first_name or "").strip().casefold()
        if first:
            first_names[first] = first_names.get(first, 0) + 1
    for user in candidates:
        full = f"{user.first_name} {user.last_name}".strip().casefold()
        first = (user.first_name or "").strip().casefold()
        if full and re.search(rf"@{re.escape(full)}\b", lowered):
            found.append(user)
        elif first and first_names.get(first) == 1 and re.search(rf"@{re.escape(first)}\b", lowered):
            found.append(user)
    return found


def _attach(message: Message, files: Iterable) -> list[MessageAttachment]:
    """The same checks as the liaison notebook's attachments (documents.uploads):
    content sniffed, images re-encoded, PDFs parsed in isolation, private storage."""
    files = list(files or [])
    if len(files) + message.attachments.count() > MAX_ATTACHMENTS:
        raise ValidationError({"files": f"{MAX_ATTACHMENTS} pièces jointes au maximum par message."})
    checked_files = [(upload, check_upload(upload, field="files")) for upload in files]
    attachments = []
    for upload, checked in checked_files:
        fields = store_checked(upload, checked, folder="exchanges", field="files")
        attachments.append(MessageAttachment.objects.create(message=message, **fields))
    return attachments


def _require_write(actor, conversation: Conversation) -> Conversation:
    """Reload the conversation through the rules (Http404 if `actor` may not read it)
    and the gate's write check for a person's."""
    return selectors.conversation_for(actor, conversation.pk, "write")


def _join(conversation: Conversation, user, added_by) -> Participant:
    participant, created = Participant.objects.get_or_create(
        conversation=conversation, user=user, defaults={"added_by": added_by}
    )
    if not created and participant.removed_at is not None:
        participant.removed_at = None
        participant.added_by = added_by
        participant.added_at = timezone.now()
        participant.save(update_fields=["removed_at", "added_by", "added_at"])
    return participant


def _check_participants(actor, kind: str, person: Person | None, users: list) -> list:
    users = [u for u in users if u.pk != actor.pk]
    if not users:
        return []
    allowed = set(
        selectors.participant_candidates(person, kind=kind)
        .filter(pk__in=[u.pk for u in users])
        .values_list("pk", flat=True)
    )
    why = (
        "Ces personnes ne peuvent pas lire les échanges de cette personne"
        if person is not None
        else "Seuls des professionnels peuvent participer"
    )
    _refused(users, allowed, "participants", why)
    return users


def _team_writes_to_person_side(actor, person: Person, structure: Structure | None, users: list):
    """A professional writes to the person's side: to those of the person and their
    carers who may read the person's exchanges, with the team of one of the actor's
    structures that accompanies the person (the whole team reads), or alone (no
    structure: the actor is the named professional)."""
    if structure is not None:
        mine = rules.team_memberships_in_force(actor).filter(structure=structure).exists()
        if not mine or not rules.accompanying_structures(person).filter(pk=structure.pk).exists():
            raise ValidationError(
                {"structure": "Choisissez une de vos structures qui accompagne la personne, ou écrivez en votre nom."}
            )
    users = [u for u in users if u.pk != actor.pk]
    if not users:
        raise ValidationError({"participants": "Choisissez à qui écrire : la personne ou l'un de ses proches."})
    allowed = set(
        selectors.person_side_candidates(person).filter(pk__in=[u.pk for u in users]).values_list("pk", flat=True)
    )
    _refused(users, allowed, "participants", "Ces personnes ne peuvent pas lire les échanges de la personne")
    return structure, (None if structure is not None else actor), users


# --- Conversations -------------------------------------------------------------------------------


@removes_files_on_failure
@transaction.atomic
def conversation_start(
    *,
    actor,
    kind: str,
    subject: str,
    person: Person | None = None,
    structure: Structure | None = None,
    professional=None,
    participants: Iterable = (),
    body: str = "",
    files: Iterable = (),
) -> Conversation:
    """Start a conversation, with its first message when `body` is given.

    About a person: a professional with `write_exchanges` on the person; participants
    chosen among the professionals who may read the person's exchanges. On a topic: a
    professional, with the team of one of their structures and/or invited professionals.
    Between the person's side and their team: the person, a carer or a legal
    representative with `write_exchanges`, to the team of a structure that accompanies
    the person or to one professional of the circle who may read their exchanges; or a
    professional with `write_exchanges` on the person, to `participants` chosen among the
    person and their carers who may read the person's exchanges, with the team of
    `structure` (one of theirs that accompanies the person) or alone."""
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError({"subject": "Donnez un objet à l'échange."})
    if len(subject) > SUBJECT_MAX:
        raise ValidationError({"subject": f"L'objet est trop long : {SUBJECT_MAX} caractères au maximum."})
    if kind not in ConversationKind.values:
        raise ValidationError({"kind": "Type d'échange inconnu."})
    users = list(participants or [])
    if kind == ConversationKind.TOPIC:
        person = None
        if not rules.is_professional(actor):
            raise access.AccessDenied("Seuls les professionnels échangent sur un sujet.")
        if structure is not None and not rules.team_memberships_in_force(actor).filter(structure=structure).exists():
            raise ValidationError({"structure": "Vous ne faites pas partie de l'équipe de cette structure."})
        users = _check_participants(actor, kind, None, users)
        if structure is None and not users:
            raise ValidationError({"participants": "Invitez au moins un professionnel, ou choisissez votre équipe."})
        professional = None
    elif person is None:
        raise ValidationError({"person": "Choisissez la personne concernée."})
    else:
        access.require(actor, person, Category.EXCHANGES, "write")
        if kind == ConversationKind.PERSON:
            if not rules.is_professional(actor):
                raise access.AccessDenied("Les échanges entre professionnels sont réservés aux professionnels.")
            users = _check_participants(actor, kind, person, users)
            if not users:
                raise ValidationError({"participants": "Choisissez au moins un participant."})
            structure, professional = None, None
        elif rules.is_professional(actor):
            structure, professional, users = _team_writes_to_person_side(actor, person, structure, users)
        else:
            if not rules.is_person_side(actor, person):
                raise access.AccessDenied("Seuls la personne et ses proches écrivent ici à leur équipe.")
            users = []
            if (structure is None) == (professional is None):
                raise ValidationError(
                    {"structure": "Écrivez à l'équipe d'une structure ou à un professionnel, l'un ou l'autre."}
                )
            if structure is not None and not rules.accompanying_structures(person).filter(pk=structure.pk).exists():
                raise ValidationError({"structure": "Cette structure ne vous accompagne pas."})
            if professional is not None:
                allowed = selectors.participant_candidates(person, kind=kind).filter(pk=professional.pk).exists()
                if not allowed:
                    raise ValidationError(
                        {"professional": "Ce professionnel ne peut pas lire vos échanges : choisissez-en un autre."}
                    )
                users = [professional]
    now = timezone.now()
    conversation = Conversation.objects.create(
        kind=kind,
        person=person,
        structure=structure,
        professional=professional,
        subject=subject,
        created_by=actor,
        created_at=now,
    )
    Participant.objects.bulk_create(
        [Participant(conversation=conversation, user=actor, added_by=actor, added_at=now)]
        + [Participant(conversation=conversation, user=u, added_by=actor, added_at=now) for u in users]
    )
    _audit(actor, conversation, ExchangesAudit.CONVERSATION_STARTED, kind=kind, participants=[u.pk for u in users])
    if body or files:
        message_post(actor=actor, conversation=conversation, body=body, files=files)
    return conversation


@transaction.atomic
def participants_add(*, actor, conversation: Conversation, users: Iterable) -> list[Participant]:
    """A participant invites others (for a person: professionals who may read the
    person's exchanges). The person's side chooses nobody: their team reads."""
    conversation = _require_write(actor, conversation)
    if conversation.kind == ConversationKind.PERSON_TEAM:
        raise access.AccessDenied("Dans un échange avec la personne, l'équipe entière lit : personne à inviter.")
    users = _check_participants(actor, conversation.kind, conversation.person, list(users or []))
    if not users:
        raise ValidationError({"participants": "Choisissez au moins un participant."})
    added = [_join(conversation, u, actor) for u in users]
    _audit(actor, conversation, ExchangesAudit.PARTICIPANT_ADDED, participants=[u.pk for u in users])
    return added


@transaction.atomic
def participant_remove(*, actor, conversation: Conversation, user) -> Participant:
    """Someone leaves, or its starter takes someone out: the row is dated, never deleted."""
    conversation = selectors.conversation_for(actor, conversation.pk)
    if user.pk != actor.pk and conversation.created_by_id != actor.pk:
        raise access.AccessDenied("Seul celui qui a commencé l'échange peut en retirer quelqu'un.")
    participant = (
        Participant.objects.select_for_update()
        .filter(conversation=conversation, user=user, removed_at__isnull=True)
        .first()
    )
    if participant is None:
        raise ValidationError({"participant": "Cette personne ne participe pas à l'échange."})
    participant.removed_at = timezone.now()
    participant.save(update_fields=["removed_at"])
    _audit(actor, conversation, ExchangesAudit.PARTICIPANT_REMOVED, participant=user.pk)
    return participant


# --- Messages ------------------------------------------------------------------------------------


def _notify_message(actor, conversation: Conversation, message: Message, mentioned: list) -> None:
    """Mentioned readers are told once (as a mention); the others who read it, of a new
    message — or, for a message from the person's side, that it waits for the team."""
    url_for = _url_for(conversation, message)
    audience = selectors.audience(conversation).exclude(pk=actor.pk)
    mentioned_ids = [u.pk for u in mentioned if u.pk != actor.pk]
    if mentioned_ids:
        notify(
            "exchanges.mention",
            person=conversation.person,
            actor=actor,
            recipients=audience.filter(pk__in=mentioned_ids),
            url_for=url_for,
            subject=message,
        )
    others = audience.exclude(pk__in=mentioned_ids)
    if conversation.kind == ConversationKind.PERSON_TEAM:
        # Across the two sides, a type of its own: the person wrote, the team is told
        # it waits; the team wrote, the person's side is told (by e-mail too).
        team, side = others.filter(rules.professional_users_q()), others.exclude(rules.professional_users_q())
        if rules.is_professional(actor):
            event_type, told, others = "exchanges.team_message", side, team
        else:
            event_type, told, others = "exchanges.person_message", team, side
        notify(event_type, person=conversation.person, actor=actor, recipients=told, url_for=url_for, subject=message)
    notify(
        "exchanges.message",
        person=conversation.person,
        actor=actor,
        recipients=others,
        url_for=url_for,
        subject=message,
    )


def _mentions(conversation: Conversation, body: str, explicit: Iterable, actor) -> list:
    candidates = list(selectors.audience(conversation).exclude(pk=actor.pk))
    ids = {u.pk for u in candidates}
    explicit = list(explicit or [])
    _refused(explicit, ids, "mentions", "Ces personnes ne lisent pas cet échange")
    found = {u.pk: u for u in _mentioned(body, candidates)}
    for user in explicit:
        found.setdefault(user.pk, user)
    return list(found.values())


@removes_files_on_failure
@transaction.atomic
def message_post(
    *, actor, conversation: Conversation, body: str, files: Iterable = (), mentions: Iterable = ()
) -> Message:
    """Post a message (text and/or photos and PDFs). `@Prénom Nom` in the text, or the
    users in `mentions`, notify those readers once, as a mention. The author becomes a
    participant (a team member who answers) and has read up to their own message."""
    conversation = _require_write(actor, conversation)
    files = list(files or [])
    body = _clean_body(body, required=not files)
    mentioned = _mentions(conversation, body, mentions, actor)
    now = timezone.now()
    message = Message.objects.create(conversation=conversation, author=actor, body=body, created_at=now)
    if mentioned:
        message.mentions.set(mentioned)
    _attach(message, files)
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    conversation.last_message_at = now
    participant = _join(conversation, actor, actor)
    Participant.objects.filter(pk=participant.pk).update(last_read_message=message, last_read_at=now)
    _audit(actor, conversation, ExchangesAudit.MESSAGE_POSTED, message=message.pk, attachments=len(files))
    _notify_message(actor, conversation, message, mentioned)
    return message


def _lock_own_editable(actor, message: Message) -> Message:
    message = Message.objects.select_for_update().get(pk=message.pk)
    message.conversation = _require_write(actor, message.conversation)
    if message.author_id != actor.pk:
        raise access.AccessDenied("Seul l'auteur peut modifier ou retirer son message.")
    if message.is_withdrawn:
        raise GracePeriodOver("Ce message a été retiré.")
    if message.transmission_id:
        raise GracePeriodOver("Ce message a été versé au cahier de liaison : il ne peut plus changer.")
    if timezone.now() > message.editable_until():
        raise GracePeriodOver(
            f"Le délai de modification ({settings.EXCHANGES_GRACE_MINUTES} minutes) est passé : "
            "le message ne peut plus changer. Écrivez un nouveau message."
        )
    return message


@transaction.atomic
def message_edit(*, actor, message: Message, body: str) -> Message:
    """The author changes the text during the grace period; the previous text is kept
    (MessageRevision). Readers newly mentioned are told; those already told are not."""
    message = _lock_own_editable(actor, message)
    body = _clean_body(body, required=not message.attachments.exists())
    if body == message.body:
        return message
    MessageRevision.objects.create(message=message, body=message.body)
    already = set(message.mentions.values_list("pk", flat=True))
    mentioned = _mentions(message.conversation, body, (), actor)
    message.body = body
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "edited_at"])
    new = [u for u in mentioned if u.pk not in already]
    if new:
        message.mentions.add(*new)
        notify(
            "exchanges.mention",
            person=message.conversation.person,
            actor=actor,
            recipients=new,
            url_for=_url_for(message.conversation, message),
            subject=message,
        )
    _audit(actor, message.conversation, ExchangesAudit.MESSAGE_EDITED, message=message.pk)
    return message


@transaction.atomic
def message_withdraw(*, actor, message: Message) -> Message:
    """The author withdraws it during the grace period: "message retiré" shows in its
    place; the text is kept (for the record and the retention rules), never deleted."""
    message = _lock_own_editable(actor, message)
    message.withdrawn_at = timezone.now()
    message.save(update_fields=["withdrawn_at"])
    _audit(actor, message.conversation, ExchangesAudit.MESSAGE_WITHDRAWN, message=message.pk)
    return message


@transaction.atomic
def conversation_mark_read(*, actor, conversation: Conversation, up_to: Message | int | None = None) -> Participant:
    """`actor` (who reads it) has read up to `up_to` (default: the last message). Never
    goes backwards. A team member who reads becomes a participant (their read state)."""
    up_to_id: int | None = up_to.pk if isinstance(up_to, Message) else up_to
    if up_to_id is None:
        up_to_id = (
            Message.objects.filter(conversation=conversation).order_by("-pk").values_list("pk", flat=True).first()
        )
    # A team member's first read makes their row (never reopens a row they left).
    participant, _created = Participant.objects.get_or_create(
        conversation=conversation, user=actor, defaults={"added_by": actor}
    )
    if up_to_id and (participant.last_read_message_id or 0) < up_to_id:
        now = timezone.now()
        Participant.objects.filter(pk=participant.pk).filter(
            Q(last_read_message__isnull=True) | Q(last_read_message_id__lt=up_to_id)
        ).update(last_read_message_id=up_to_id, last_read_at=now)
        participant.last_read_message_id, participant.last_read_at = up_to_id, now
    return participant


@removes_files_on_failure
@transaction.atomic
def message_file_to_liaison(
    *, actor, message: Message, category: str = TransmissionCategory.OBSERVATIONS
) -> Transmission:
    """ "Verser au cahier de liaison": a shared transmission made by liaison's own service,
    with the message's author, the message's date as the observation time, its text and
    its files (checked again as the notebook's). The message points to it, and the
    transmission's page tells where it came from. Once only; not a withdrawn message."""
    message = Message.objects.select_for_update().select_related("author").get(pk=message.pk)
    conversation = selectors.conversation_for(actor, message.conversation_id)
    if conversation.person_id is None:
        raise ValidationError({"message": "Un échange sur un sujet ne concerne aucune personne : rien à verser."})
    if message.is_withdrawn:
        raise ValidationError({"message": "Ce message a été retiré : il ne peut pas être versé au cahier."})
    if message.transmission_id:
        raise ValidationError({"message": "Ce message a déjà été versé au cahier de liaison."})
    if category not in TransmissionCategory.values:
        raise ValidationError({"category": "Choisissez la catégorie de la transmission."})
    files = [ContentFile(a.file.read(), name=a.original_name) for a in _opened(message.attachments.all())]
    transmission = liaison_services.transmission_create(
        actor=actor,
        author=message.author,
        person=conversation.person,
        category=category,
        observed_at=message.created_at,
        text=message.body or "(pièces jointes)",
        files=files,
    )
    message.transmission = transmission
    message.save(update_fields=["transmission"])
    _audit(actor, conversation, ExchangesAudit.MESSAGE_FILED, message=message.pk, transmission=transmission.pk)
    return transmission


def _opened(attachments):
    for attachment in attachments:
        with attachment.file.open("rb"):
            yield attachment
