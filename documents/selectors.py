"""Which documents a user may see — always after the gate has allowed `documents` read.

- professionals with the right see the whole record: drafts, validated versions (with
  their history), withdrawn ones and what the person deposited on the portal;
- the person, carers and representatives see validated documents and their own
  deposits (with their review status and the reason of a refusal).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.text import Truncator

from common.notify import Summary
from coordination import access, rules
from coordination.models import (
    Accompaniment,
    Category,
    CircleMember,
    CircleRole,
    Person,
    Structure,
    TeamMembership,
    TeamRole,
)
from documents.models import DmpAction, DmpShare, Document, DocumentStatus


def visibility(user) -> Q:
    if rules.is_professional(user):
        return Q()
    return Q(status=DocumentStatus.VALIDATED) | Q(author=user)


def documents_of(user, person: Person) -> QuerySet[Document]:
    """The person's documents as `user` may see them (the caller has passed the gate)."""
    return Document.objects.filter(visibility(user), person=person)


def can_see(user, document: Document) -> bool:
    return documents_of(user, document.person).filter(pk=document.pk).exists()


def with_list_details(queryset: QuerySet[Document]) -> QuerySet[Document]:
    """What a list row shows, in the same query: author, structure, the DMP state."""
    publish = DmpShare.objects.filter(document=OuterRef("pk"), action=DmpAction.PUBLISH)
    return queryset.select_related("author", "author_structure").annotate(
        dmp_status=Subquery(publish.values("status")[:1]),
        dmp_sent_at=Subquery(publish.values("sent_at")[:1]),
    )


def inbox(user) -> QuerySet[Document]:
    """ "Documents à examiner": deposits on the portal for persons of whom `user` is a
    referent with `documents` write."""
    persons = access.persons_visible_to(user, Category.DOCUMENTS, "write").filter(
        Exists(
            CircleMember.objects.filter(
                person=OuterRef("pk"), user=user, ended_at__isnull=True, role=CircleRole.REFERENT
            )
        )
    )
    return (
        Document.objects.filter(status=DocumentStatus.TO_REVIEW, person__in=persons.values("pk"))
        .select_related("person", "author")
        .order_by("created_at", "pk")
    )


def new_since_counter(user, *, delegate: bool | None = None) -> QuerySet:
    return (
        Document.objects.filter(
            visibility(user),
            person=OuterRef("pk"),
            created_at__gt=OuterRef("news_since"),
            person__in=access.visible_person_ids(user, Category.DOCUMENTS, delegate=delegate),
        )
        .exclude(author=user)
        .exclude(status=DocumentStatus.DRAFT)
    )


# --- The professional's day (portal dashboard) ---------------------------------------------------


def _from_software() -> Exists:
    """The author is a structure's connected software (its service account's team role)."""
    return Exists(TeamMembership.objects.filter(professional__user=OuterRef("author"), role=TeamRole.SOFTWARE))


def waiting_q() -> Q:
    """Documents waiting for a professional: deposits on the portal to review, and drafts
    sent by a connected software (not final) to validate."""
    return Q(status=DocumentStatus.TO_REVIEW) | (
        Q(status=DocumentStatus.DRAFT, superseded_at__isnull=True) & Q(_from_software())
    )


def to_review(user, *, delegate: bool | None = None, reach: access.Reach | None = None) -> QuerySet[Document]:
    """What `user` has to examine, oldest first: the inbox's deposits (as referent with
    `documents` write) and the connected software's drafts on the same persons."""
    referent = Exists(
        CircleMember.objects.filter(
            person=OuterRef("person_id"), user=user, ended_at__isnull=True, role=CircleRole.REFERENT
        )
    )
    return (
        Document.objects.filter(
            waiting_q(),
            person__among=access.persons_in(user, Category.DOCUMENTS, "write", delegate=delegate, reach=reach),
        )
        .filter(referent)
        .select_related("person", "author")
        .order_by("created_at", "pk")
    )


def structure_waiting(
    user, structure: Structure, *, delegate: bool | None = None, reach: access.Reach | None = None
) -> QuerySet[Document]:
    """Documents waiting (`waiting_q`) for persons `structure` accompanies today and whose
    documents `user` may read."""
    persons = Accompaniment.objects.filter(
        structure=structure,
        ended_on__isnull=True,
        person__among=access.persons_in(user, Category.DOCUMENTS, delegate=delegate, reach=reach),
    ).values("person_id")
    return (
        Document.objects.filter(waiting_q(), person__in=persons)
        .select_related("person", "author")
        .order_by("created_at", "pk")
    )


def notification_summaries(user, ids: list[int]) -> dict[int, Summary]:
    """The notification centre's summary of documents `user` may still see: the title and
    type, who deposited it, its status when it was declined. One query."""
    rows = Document.objects.filter(
        visibility(user), pk__in=ids, person__in=access.persons_visible_to(user, Category.DOCUMENTS).values("pk")
    ).select_related("author")
    summaries = {}
    for document in rows:
        summaries[document.pk] = Summary(
            excerpt=Truncator(f"{document.title} ({document.get_doc_type_display()})").words(15),
            author=document.author.get_full_name() or document.author.email,
            kind=document.get_status_display() if document.status == DocumentStatus.DECLINED else "",
        )
    return summaries
