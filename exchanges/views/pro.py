"""The professionals' pages of the exchanges. Every page loads its conversation through
`exchanges.selectors` (the rules and the gate: a stranger gets 404, a person's
conversation read is in the access log); writes go through `exchanges.services`.

Live updates (exch-live) hook onto the conversation page: the list of messages is the
element `#conversation-messages` (`data-last-message-id`, `data-conversation-id`), and
`exchanges/partials/message.html` renders one message decorated by
`exchanges.views.shared.decorate_messages`. (`#messages` is already the flash messages'
box of base.html: one id per page.)"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from common.forms import add_service_errors
from coordination import access, rules
from coordination.models import Category
from documents.uploads import private_file_response
from exchanges import selectors, services
from exchanges.forms import (
    TOPIC_REMINDER,
    AddParticipantsForm,
    EditForm,
    FileToLiaisonForm,
    MessageForm,
    PersonConversationForm,
    PersonSideConversationForm,
    TopicConversationForm,
)
from exchanges.models import Conversation, ConversationKind, Message, MessageAttachment
from exchanges.views.shared import decorate_messages

LIST_PAGE_SIZE = 30


def _pro_only(request) -> None:
    if not rules.is_professional(request.user):
        raise Http404


def _id(value) -> int:
    """An id from the address, within what the database takes (else 404, never a 500)."""
    if not 0 < int(value) <= selectors.MAX_ID:
        raise Http404
    return int(value)


def _list_page(request, queryset):
    page = Paginator(queryset, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    persons = {c.person_id: c.person for c in page.object_list if c.person_id}
    if persons:
        access.log_many(request.user, list(persons.values()), Category.EXCHANGES, path=request.path)
    return page


@login_required
def conversation_list(request: HttpRequest) -> HttpResponse:
    """ "Mes échanges": every conversation I may read, newest activity first, unread counts."""
    _pro_only(request)
    page = _list_page(request, selectors.my_conversations(request.user))
    return render(request, "exchanges/pro/list.html", {"page": page})


@login_required
def person_conversations(request: HttpRequest, person_id: int) -> HttpResponse:
    """The conversations about one person that I may read, and the way to start one."""
    _pro_only(request)
    grant = access.require(
        request.user, _id(person_id), Category.EXCHANGES, "read", path=request.path, probe_write=True
    )
    person = grant.person
    page = Paginator(selectors.my_conversations(request.user, person=person), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    may_write_side = bool(grant.can_write) and selectors.person_side_candidates(person).exists()
    return render(
        request,
        "exchanges/pro/person.html",
        {"person": person, "page": page, "can_write": grant.can_write, "may_write_side": may_write_side},
    )


STARTED = "Échange commencé ; les participants sont prévenus."


def _start(request, form, success: str, *, renames: dict[str, str] | None = None, **start) -> HttpResponse | None:
    """Start a conversation from a valid start form (its subject, body and files, with
    `start`'s other arguments) and go to it; None when the service refused, its errors
    then shown on the form."""
    data = form.cleaned_data
    try:
        conversation = services.conversation_start(
            actor=request.user, subject=data["subject"], body=data["body"], files=data["files"], **start
        )
    except ValidationError as error:
        add_service_errors(form, error, renames)
        return None
    messages.success(request, success)
    return redirect("exchanges:conversation", conversation_id=conversation.pk)


@login_required
def person_start(request: HttpRequest, person_id: int) -> HttpResponse:
    """Start a conversation among professionals about a person."""
    _pro_only(request)
    person = access.require(request.user, _id(person_id), Category.EXCHANGES, "write", path=request.path).person
    candidates = selectors.participant_candidates(person, kind=ConversationKind.PERSON).exclude(pk=request.user.pk)
    form = PersonConversationForm(request.POST or None, request.FILES or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        started = _start(
            request,
            form,
            STARTED,
            kind=ConversationKind.PERSON,
            person=person,
            participants=list(form.cleaned_data["participants"]),
        )
        if started:
            return started
    return render(
        request,
        "exchanges/pro/start_person.html",
        {"person": person, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def person_side_start(request: HttpRequest, person_id: int) -> HttpResponse:
    """Write to the person's side (the person, their carers who may read the person's
    exchanges), with the team of one of my structures that accompanies them, or alone.
    They read and answer in the user portal."""
    _pro_only(request)
    person = access.require(request.user, _id(person_id), Category.EXCHANGES, "write", path=request.path).person
    candidates = selectors.person_side_candidates(person)
    structures = (
        rules.accompanying_structures(person)
        .filter(pk__in=rules.team_memberships_in_force(request.user).values("structure_id"))
        .order_by("name")
    )
    has_candidates = candidates.exists()
    form = PersonSideConversationForm(
        request.POST or None, request.FILES or None, candidates=candidates, structures=structures
    )
    if request.method == "POST" and has_candidates and form.is_valid():
        started = _start(
            request,
            form,
            "Message envoyé ; il est prévenu qu'un message l'attend sur le portail.",
            kind=ConversationKind.PERSON_TEAM,
            person=person,
            structure=form.cleaned_data["structure"],
            participants=list(form.cleaned_data["participants"]),
        )
        if started:
            return started
    return render(
        request,
        "exchanges/pro/start_person_side.html",
        {"person": person, "form": form, "has_candidates": has_candidates},
        status=400 if form.errors or (request.method == "POST" and not has_candidates) else 200,
    )


@login_required
def topic_start(request: HttpRequest) -> HttpResponse:
    """Start a conversation on a topic: with my team and/or invited professionals."""
    _pro_only(request)
    form = TopicConversationForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        started = _start(
            request,
            form,
            STARTED,
            renames={"participants": "invited"},
            kind=ConversationKind.TOPIC,
            structure=form.cleaned_data["structure"],
            participants=form.cleaned_data["invited"],
        )
        if started:
            return started
    return render(
        request,
        "exchanges/pro/start_topic.html",
        {"form": form, "reminder": TOPIC_REMINDER},
        status=400 if form.errors else 200,
    )


def _conversation_context(request, conversation: Conversation, *, form=None, before=None) -> dict:
    page = selectors.messages_page(conversation, before=before)
    is_topic = conversation.kind == ConversationKind.TOPIC
    can_write = selectors.may_write(request.user, conversation)
    add_candidates = []
    if can_write and conversation.kind == ConversationKind.PERSON:
        participants, add_candidates = selectors.participants_and_candidates(conversation)
    else:
        participants = list(selectors.participants(conversation))
    decorate_messages(page.items, request.user, selectors.read_receipts(participants))
    # "Ajouter des participants": on a topic, any professional may be invited by e-mail;
    # about a person, only those who may read the person's exchanges and are not in yet
    # (none left: no form). With the person's side, the team reads: nobody to add.
    if conversation.kind == ConversationKind.TOPIC:
        can_add = can_write
    else:
        can_add = bool(add_candidates)
    return {
        "conversation": conversation,
        "page": page,
        "participants": participants,
        "is_participant": any(p.user_id == request.user.pk for p in participants),
        "add_candidates": add_candidates,
        "can_add": can_add,
        "can_write": can_write,
        "can_file": selectors.may_file_to_liaison(request.user, conversation),
        "is_topic": is_topic,
        "form": form or (MessageForm(topic=is_topic) if can_write else None),
        "reminder": TOPIC_REMINDER if is_topic else "",
    }


@login_required
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """One conversation: its last page of messages first, "Messages précédents" for the
    page before (HTMX, or a plain link), the composer, the participants."""
    conversation = selectors.conversation_for(request.user, conversation_id, path=request.path)
    before = request.GET.get("avant") or None
    context = _conversation_context(request, conversation, before=before)
    page = context["page"]
    if before is None and page.items:
        # Read up to its last message, unless the reader's row (among the participants
        # just read) already says so: then the service would change nothing.
        mine = next((p for p in context["participants"] if p.user_id == request.user.pk), None)
        if mine is None or (mine.last_read_message_id or 0) < page.last_id:
            services.conversation_mark_read(actor=request.user, conversation=conversation, up_to=page.last_id)
    if request.htmx and before:
        return render(request, "exchanges/pro/partials/older.html", context)
    return render(request, "exchanges/pro/conversation.html", context)


def _for_htmx_or_redirect(request, conversation_id: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("exchanges:conversation", args=[conversation_id]) + anchor)


@login_required
@require_POST
def message_post(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_for(request.user, conversation_id, "write", path=request.path)
    is_topic = conversation.kind == ConversationKind.TOPIC
    form = MessageForm(request.POST, request.FILES, topic=is_topic)
    if form.is_valid():
        try:
            message = services.message_post(
                actor=request.user,
                conversation=conversation,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["files"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                return _for_htmx_or_redirect(request, conversation.pk, f"#m{message.pk}")
            # HTMX: the new message is appended to the list; a fresh composer replaces
            # the old one out of band.
            message = selectors.messages_after(conversation, message.pk - 1, limit=1)[0]
            decorate_messages([message], request.user)
            return render(
                request,
                "exchanges/pro/partials/posted.html",
                {
                    "m": message,
                    "conversation": conversation,
                    "form": MessageForm(topic=is_topic),
                    "can_write": True,
                    "can_file": selectors.may_file_to_liaison(request.user, conversation),
                    "reminder": TOPIC_REMINDER if is_topic else "",
                },
            )
    if request.htmx:
        response = render(
            request,
            "exchanges/pro/partials/composer.html",
            {"conversation": conversation, "form": form, "reminder": TOPIC_REMINDER if is_topic else ""},
            status=400,
        )
        return reswap(retarget(response, "#composer"), "outerHTML")
    context = _conversation_context(request, conversation, form=form)
    return render(request, "exchanges/pro/conversation.html", context, status=400)


@login_required
@require_POST
def mark_read(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Read up to the message `jusqu_a` (the live page calls it as messages arrive)."""
    conversation = selectors.conversation_for(request.user, conversation_id, path=request.path)
    up_to = request.POST.get("jusqu_a", "")
    up_to_id = int(up_to) if up_to.isdigit() and len(up_to) < 19 else None
    if up_to_id is not None and not Message.objects.filter(conversation=conversation, pk=up_to_id).exists():
        up_to_id = None
    services.conversation_mark_read(actor=request.user, conversation=conversation, up_to=up_to_id)
    if request.htmx:
        return HttpResponse(status=204)
    return _for_htmx_or_redirect(request, conversation.pk)


@login_required
@require_POST
def participants_add(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_for(request.user, conversation_id, "write", path=request.path)
    candidates = None
    if conversation.person_id:
        candidates = selectors.participant_candidates(conversation, kind=conversation.kind)
    form = AddParticipantsForm(request.POST, candidates=candidates)
    if form.is_valid():
        try:
            services.participants_add(actor=request.user, conversation=conversation, users=form.users())
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Participants ajoutés.")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return _for_htmx_or_redirect(request, conversation.pk)


@login_required
@require_POST
def leave(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_for(request.user, conversation_id, path=request.path)
    try:
        services.participant_remove(actor=request.user, conversation=conversation, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _for_htmx_or_redirect(request, conversation.pk)
    messages.success(request, "Vous avez quitté l'échange.")
    return redirect("exchanges:list")


@login_required
def message_edit(request: HttpRequest, message_id: int) -> HttpResponse:
    """The author changes their text during the grace period; the former text is kept."""
    message = selectors.message_for(request.user, message_id, "write", path=request.path)
    if message.author_id != request.user.pk:
        raise access.AccessDenied("Seul l'auteur peut modifier son message.")
    form = EditForm(request.POST or None, initial={"body": message.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.message_edit(actor=request.user, message=message, body=form.cleaned_data["body"])
        except services.GracePeriodOver as error:
            messages.error(request, " ".join(error.messages))
            return _for_htmx_or_redirect(request, message.conversation_id, f"#m{message.pk}")
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Message modifié ; la version précédente est conservée.")
            return _for_htmx_or_redirect(request, message.conversation_id, f"#m{message.pk}")
    return render(
        request,
        "exchanges/pro/edit.html",
        {
            "m": message,
            "conversation": message.conversation,
            "form": form,
            "revisions": message.revisions.all(),
            "grace_minutes": settings.EXCHANGES_GRACE_MINUTES,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def message_withdraw(request: HttpRequest, message_id: int) -> HttpResponse:
    message = selectors.message_for(request.user, message_id, "write", path=request.path)
    try:
        services.message_withdraw(actor=request.user, message=message)
    except ValidationError as error:
        if request.htmx:
            return HttpResponse(" ".join(error.messages), status=409)
        messages.error(request, " ".join(error.messages))
    else:
        if request.htmx:
            refreshed = selectors.message_for(request.user, message.pk)
            decorate_messages([refreshed], request.user)
            return render(
                request, "exchanges/partials/message.html", {"m": refreshed, "conversation": refreshed.conversation}
            )
        messages.success(request, "Message retiré : « message retiré » s'affiche à sa place.")
    return _for_htmx_or_redirect(request, message.conversation_id, f"#m{message.pk}")


@login_required
def message_file(request: HttpRequest, message_id: int) -> HttpResponse:
    """ "Verser au cahier de liaison": the message becomes a shared transmission."""
    message = selectors.message_for(request.user, message_id, path=request.path)
    conversation = message.conversation
    if not selectors.may_file_to_liaison(request.user, conversation):
        if conversation.person_id is None:
            raise Http404
        access.require(request.user, conversation.person, Category.LIAISON, "write", path=request.path)
    form = FileToLiaisonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            transmission = services.message_file_to_liaison(
                actor=request.user, message=message, category=form.cleaned_data["category"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Message versé au cahier de liaison.")
            return redirect(reverse("liaison:transmission", args=[transmission.pk]))
    decorate_messages([message], request.user)
    return render(
        request,
        "exchanges/pro/file.html",
        {"m": message, "conversation": conversation, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def attachment(request: HttpRequest, attachment_id: int, thumbnail: bool = False) -> FileResponse:
    """A file, only through the conversation's rules and the gate (no public URL)."""
    item = get_object_or_404(MessageAttachment.objects.only("pk", "message_id"), pk=_id(attachment_id))
    selectors.message_for(request.user, item.message_id, path=request.path)
    item = MessageAttachment.objects.get(pk=item.pk)
    stored = item.thumbnail if thumbnail and item.thumbnail else item.file
    content_type = "image/jpeg" if thumbnail and item.thumbnail else item.content_type
    return private_file_response(stored, content_type=content_type, filename=item.original_name)
