"""Messages between the person's side and their team, in the user portal.

The person, a carer or a legal representative writes to the team of a structure that
accompanies the person, or to one professional of the circle, and reads the answers.
The professionals answer from their own pages (`exchanges.views.pro`). The rules are the
exchanges block's (`exchanges.selectors`): the space's gate on `exchanges` first (404
for a stranger, 403 without the right), then only the conversations of this person the
user takes part in — a carer does not see the ones her mother or the tutor started.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from common.forms import add_service_errors
from coordination import access, rules
from coordination.models import Category
from exchanges import selectors as exchange_selectors
from exchanges import services as exchange_services
from exchanges.models import Conversation, ConversationKind
from portal.user_portal.forms import ReplyForm, WriteToTeamForm
from portal.user_portal.spaces import SESSION_KEY, open_space, page_context, portal_page, spaces

LIST_PAGE_SIZE = 20


def with_whom(conversation: Conversation) -> str:
    """'L'équipe de EHPAD Les Tilleuls', 'Inès Infirmière'."""
    if conversation.structure_id:
        return f"L'équipe de {conversation.structure.name}"
    if conversation.professional_id:
        return conversation.professional.get_full_name() or conversation.professional.email
    return conversation.subject


def _enter_its_space(request: HttpRequest, conversation_id: int) -> None:
    """A link to a conversation (a notification, an e-mail) opens it whichever space the
    reader had open: the space becomes the conversation's person's, when the reader may
    open that space and take part in it (the gate still decides next)."""
    if not 0 < conversation_id <= exchange_selectors.MAX_ID:
        raise Http404
    person_id = (
        exchange_selectors.visible_conversations(request.user)
        .filter(pk=conversation_id, kind=ConversationKind.PERSON_TEAM)
        .values_list("person_id", flat=True)
        .first()
    )
    if person_id and request.session.get(SESSION_KEY) != person_id:
        if spaces(request.user).filter(pk=person_id).exists():
            request.session[SESSION_KEY] = person_id


def _conversation(request: HttpRequest, person, conversation_id: int) -> Conversation:
    """A conversation of this space the user takes part in, else 404. Not logged again:
    the space's gate just logged this read of the person's exchanges."""
    conversation = (
        exchange_selectors.visible_conversations(request.user)
        .filter(pk=conversation_id, person=person, kind=ConversationKind.PERSON_TEAM)
        .select_related("person", "structure", "professional")
        .first()
    )
    if conversation is None:
        raise Http404
    return conversation


@portal_page
def message_list(request: HttpRequest) -> HttpResponse:
    """'Mes messages': the conversations with the team, the newest first, with what is new."""
    grant = open_space(request, Category.EXCHANGES, probe_write=True)
    person = grant.person
    queryset = exchange_selectors.my_conversations(request.user, person=person).filter(
        kind=ConversationKind.PERSON_TEAM
    )
    page = Paginator(queryset, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    for conversation in page.object_list:
        conversation.with_whom = with_whom(conversation)
    return render(
        request,
        "portal/user/messages.html",
        page_context(request, person, page=page, can_write=grant.can_write),
    )


@portal_page
def message_new(request: HttpRequest) -> HttpResponse:
    """'Écrire à l'équipe': to whom, about what, the message."""
    person = open_space(request, Category.EXCHANGES, "write").person
    if not rules.is_person_side(request.user, person):
        raise Http404
    structures = list(rules.accompanying_structures(person).order_by("name"))
    professionals = list(exchange_selectors.participant_candidates(person, kind=ConversationKind.PERSON_TEAM))
    form = WriteToTeamForm(
        request.POST or None, request.FILES or None, structures=structures, professionals=professionals
    )
    if request.method == "POST" and form.is_valid():
        try:
            conversation = exchange_services.conversation_start(
                actor=request.user,
                kind=ConversationKind.PERSON_TEAM,
                person=person,
                structure=form.cleaned_data["structure"],
                professional=form.cleaned_data["professional"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                files=form.cleaned_data["files"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Votre message est envoyé. L'équipe vous répondra ici.")
            return redirect("portal_conversation", conversation_id=conversation.pk)
    return render(
        request,
        "portal/user/message_new.html",
        page_context(request, person, form=form),
        status=400 if form.errors else 200,
    )


def _page(request: HttpRequest, person, conversation: Conversation, form: ReplyForm | None, can_write: bool) -> dict:
    page = exchange_selectors.messages_page(conversation, before=request.GET.get("avant") or None)
    receipts = exchange_selectors.read_receipts(list(exchange_selectors.participants(conversation)))
    decorate(page.items, request.user, receipts)
    return page_context(
        request,
        person,
        conversation=conversation,
        with_whom=with_whom(conversation),
        page=page,
        form=form,
        can_write=can_write,
        can_file=False,
        stream_url=reverse("exchanges_live:conversation", args=[conversation.pk]),
    )


def decorate(items, user, receipts) -> None:
    # The professionals' page decorates the messages for the shared partial; the same here.
    from exchanges.views.shared import decorate_messages as _decorate

    _decorate(items, user, receipts)


@portal_page
def conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """One conversation with the team: the last messages first, and the answer box."""
    _enter_its_space(request, conversation_id)
    grant = open_space(request, Category.EXCHANGES, probe_write=True)
    person = grant.person
    conversation = _conversation(request, person, conversation_id)
    form = ReplyForm() if grant.can_write else None
    context = _page(request, person, conversation, form, bool(grant.can_write))
    if context["page"].items and not request.GET.get("avant"):
        exchange_services.conversation_mark_read(
            actor=request.user, conversation=conversation, up_to=context["page"].last_id
        )
    return render(request, "portal/user/conversation.html", context)


@portal_page
@require_POST
def conversation_reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Answer in a conversation (the answer box of its page)."""
    grant = open_space(request, Category.EXCHANGES, probe_write=True)
    person = grant.person
    conversation = _conversation(request, person, conversation_id)
    if not grant.can_write:
        access.require(request.user, person, Category.EXCHANGES, "write", path=request.path)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            message = exchange_services.message_post(
                actor=request.user,
                conversation=conversation,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["files"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Votre message est envoyé.")
            return redirect(reverse("portal_conversation", args=[conversation.pk]) + f"#m{message.pk}")
    context = _page(request, person, conversation, form, True)
    return render(request, "portal/user/conversation.html", context, status=400)
