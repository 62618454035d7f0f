"""The home page of the user portal and the space chooser."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from agenda import selectors as agenda_selectors
from agenda.models import Event, EventStatus
from common.notify import catalogue
from coordination.models import (
    Category,
    Delegation,
    DelegationStatus,
    JoinRequest,
    JoinRequestStatus,
    Person,
    RecordVisit,
)
from documents import selectors as document_selectors
from documents.models import Document, DocumentStatus
from liaison import selectors as liaison_selectors
from liaison.models import Scope
from notifications.models import Notification
from portal.user_portal.forms import (
    SpaceForm,
)
from portal.user_portal.spaces import (
    SESSION_KEY,
    ChooseSpace,
    current_person_id,
    may_each,
    page_context,
    portal_page,
    spaces,
    spaces_of,
)
from ppa.models import PlanVersion, VersionStatus

HOME_TRANSMISSIONS = 5


HOME_APPOINTMENTS = 3


HOME_DOCUMENTS = 5


NEW_DOCUMENTS_DAYS = 30


@portal_page
def space_choose(request: HttpRequest) -> HttpResponse:
    """A carer of several persons picks whose space they are in."""
    mine = list(spaces(request.user))
    if request.method == "POST":
        form = SpaceForm(request.POST)
        if not form.is_valid() or form.cleaned_data["person"] not in {p.pk for p in mine}:
            raise Http404
        request.session[SESSION_KEY] = form.cleaned_data["person"]
        return redirect("portal_home")
    return render(request, "portal/user/spaces.html", {"spaces": mine, "current": request.session.get(SESSION_KEY)})


SPACE_PAGES = {
    "accueil": "portal_home",
    "documents": "portal_documents",
    "agenda": "portal_agenda",
    "projet": "portal_ppa",
    "cahier-de-liaison": "portal_notebook",
    "cercle": "portal_circle",
}


@login_required
def space_open(request: HttpRequest, person_id: int, page: str) -> HttpResponse:
    """Open `page` in the space of `person_id` (404 unless it is one of my spaces)."""
    if page not in SPACE_PAGES or not spaces(request.user).filter(pk=person_id).exists():
        raise Http404
    request.session[SESSION_KEY] = person_id
    return redirect(SPACE_PAGES[page])


HOME_CATEGORIES = (Category.LIAISON, Category.AGENDA, Category.PPA, Category.DOCUMENTS)


def _block_tiles(request, person: Person, allowed: dict[str, bool]) -> dict:
    """Home tiles of the agenda, PPA and documents, each only with its read right."""
    tiles: dict = {}
    if allowed[Category.AGENDA]:
        tiles["appointments"] = upcoming(request.user, person)
        tiles["proposals"] = pending_proposals(request.user, person)
    if allowed[Category.PPA]:
        tiles["plan"] = plan_summary(person)
    if allowed[Category.DOCUMENTS]:
        tiles["new_documents"] = new_documents(request.user, person)
    return tiles


@portal_page
def home(request: HttpRequest) -> HttpResponse:
    """Latest shared transmissions I may read, unread notifications, decisions awaiting me."""
    mine = spaces_of(request)  # read once: the page, its banner and its menu
    if not request.session.get(SESSION_KEY) and not mine:
        return render(request, "portal/user_home.html", {"no_space": True})
    person_id = current_person_id(request)
    if person_id is None:
        raise ChooseSpace
    person = next((p for p in mine if p.pk == person_id), None)
    if person is None:
        # A link ended since the space was chosen (or a forged id): forget it.
        request.session.pop(SESSION_KEY, None)
        raise Http404
    # Every tile's read right asked at once: one gate query, one access-log INSERT.
    allowed = may_each(request, person, HOME_CATEGORIES)
    transmissions = None
    if allowed[Category.LIAISON]:
        transmissions = list(
            liaison_selectors.notebook(request.user, person)
            .filter(scope=Scope.SHARED, withdrawn_at__isnull=True)
            .select_related("author")
            .order_by("-observed_at", "-pk")[:HOME_TRANSMISSIONS]
        )
    notifications = list(
        Notification.objects.filter(recipient=request.user, is_in_app=True, read_at__isnull=True).order_by(
            "-created_at"
        )[:5]
    )
    for notification in notifications:
        kind = catalogue().get(notification.event_type)
        notification.message = kind.message if kind else ""
    context = page_context(request, person, transmissions=transmissions, notifications=notifications)
    context.update(_block_tiles(request, person, allowed))
    if context["is_decider"]:
        context["pending_requests"] = list(
            JoinRequest.objects.filter(person=person, status=JoinRequestStatus.PENDING).select_related(
                "professional__user", "structure"
            )
        )
        context["pending_delegations"] = list(
            Delegation.objects.filter(person=person, status=DelegationStatus.PENDING).select_related(
                "delegate__user", "delegator__user"
            )
        )
    return render(request, "portal/user_home.html", context)


def pending_proposals(user, person: Person) -> list[Event]:
    """Appointments proposed to the person that still wait for an answer, nearest deadline first."""
    return list(
        agenda_selectors.person_events(user, person)
        .filter(status=EventStatus.PROPOSED, answer_deadline__gt=timezone.now())
        .select_related("structure")
        .prefetch_related("places")
        .order_by("answer_deadline", "pk")[:20]
    )


def upcoming(user, person: Person, days: int = 60, limit: int = HOME_APPOINTMENTS) -> list:
    """The next occurrences (not cancelled, not still proposed) in the coming `days`."""
    now = timezone.now()
    items = agenda_selectors.without_duplicates(
        agenda_selectors.occurrences(agenda_selectors.person_events(user, person), now, now + timedelta(days=days))
    )
    return [i for i in items if not i.is_cancelled and i.event.status != EventStatus.PROPOSED and i.ends_at > now][
        :limit
    ]


def new_documents(user, person: Person) -> list[Document]:
    """Validated documents added since my last visit of my documents (else the last 30 days).
    One query: the visit's date is read inside it (there is one row per user and person)."""
    since = Coalesce(
        Subquery(RecordVisit.objects.filter(user=user, person=person).values("visited_at")[:1]),
        Value(timezone.now() - timedelta(days=NEW_DOCUMENTS_DAYS)),
    )
    return list(
        document_selectors.documents_of(user, person)
        .filter(status=DocumentStatus.VALIDATED, superseded_at__isnull=True, validated_at__gt=since)
        .order_by("-validated_at", "-pk")[:HOME_DOCUMENTS]
    )


def plan_summary(person: Person) -> dict:
    """The plan's state for the home tile: the version in force, the one in progress."""
    versions = list(
        PlanVersion.objects.filter(
            plan__person=person, status__in=[VersionStatus.VALIDATED, VersionStatus.DRAFT, VersionStatus.SUBMITTED]
        )
    )
    return {
        "current": next((v for v in versions if v.status == VersionStatus.VALIDATED), None),
        "open": next((v for v in versions if v.status != VersionStatus.VALIDATED), None),
        "today": timezone.localdate(),
    }
