"""Reads of the admission block: who takes persons in for a structure, possible
duplicates, the offer directory, the requests a structure received or a user sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.text import Truncator

from admission.models import OPEN_STATUSES, AdmissionCopy, AdmissionEvent, AdmissionRequest, Offer
from common.notify import Summary
from coordination import access, rules
from coordination.identifiers import normalize_ins
from coordination.models import AccessVia, Category, Person, Structure, TeamRole
from reference.models import SerafinCode
from reference.text import fold

# Who takes persons in and answers admission requests for a structure: its
# administrators, référents, secretaries and direction.
ADMISSION_ROLES = (TeamRole.REFERENT, TeamRole.SECRETARY, TeamRole.DIRECTION)


def admitting_structures(user) -> QuerySet[Structure]:
    """Active structures for which `user` takes persons in today."""
    if not rules.is_professional(user):
        return Structure.objects.none()
    memberships = rules.team_memberships_in_force(user).filter(Q(is_structure_admin=True) | Q(role__in=ADMISSION_ROLES))
    return Structure.objects.filter(pk__in=memberships.values("structure_id"), is_active=True)


def admits_for(user, structure: Structure | int) -> bool:
    structure_id = structure.pk if isinstance(structure, Structure) else structure
    return admitting_structures(user).filter(pk=structure_id).exists()


# --- Possible duplicates ------------------------------------------------------------------------------


def folded_name(name: str) -> str:
    """A birth name compared without accents, case, hyphens or spaces."""
    return "".join(ch for ch in fold(name or "") if ch.isalnum())


@dataclass
class Duplicates:
    """Persons who may be the one being taken in: those the user may see, and whether
    others exist that the user may not see (never named)."""

    visible: list[Person] = field(default_factory=list)
    hidden: list[Person] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.visible or self.hidden)


def find_duplicates(
    user,
    *,
    ins_matricule: str = "",
    birth_name: str = "",
    birth_date: date | None = None,
    sex: str = "",
    birth_place_insee: str = "",
) -> Duplicates:
    """Same INS, or the same birth name (accents and case ignored), date of birth, sex
    and (when both are known) place of birth. The candidates are the persons born that
    day of that sex: a handful, compared in Python (folding accents is not portable SQL)."""
    conditions = Q()
    ins = normalize_ins(ins_matricule)
    if ins:
        conditions |= Q(ins_matricule=ins)
    if birth_date and sex:
        conditions |= Q(birth_date=birth_date, sex=sex)
    if not conditions:
        return Duplicates()
    wanted = folded_name(birth_name)
    place = (birth_place_insee or "").upper()
    matches = []
    for candidate in Person.objects.filter(conditions).order_by("pk")[:200]:
        if ins and candidate.ins_matricule == ins:
            matches.append(candidate)
        elif (
            candidate.birth_date == birth_date
            and candidate.sex == sex
            and folded_name(candidate.birth_name) == wanted
            and (not place or not candidate.birth_place_insee or candidate.birth_place_insee.upper() == place)
        ):
            matches.append(candidate)
    if not matches:
        return Duplicates()
    visible_ids = set(
        access.persons_visible_to(user, Category.RECORD)
        .filter(pk__in=[m.pk for m in matches])
        .values_list("pk", flat=True)
    )
    return Duplicates(
        visible=[m for m in matches if m.pk in visible_ids],
        hidden=[m for m in matches if m.pk not in visible_ids],
    )


# --- Requests --------------------------------------------------------------------------------------


def file_is_open_to(user, copy: AdmissionCopy, now=None) -> bool:
    """The scoped access: a structure's admission staff read the file of a request their
    structure received while it is open and its access period runs."""
    now = now or timezone.now()
    return copy.status in OPEN_STATUSES and copy.access_until > now and admits_for(user, copy.structure_id)


def incoming_copies(user) -> QuerySet[AdmissionCopy]:
    """Requests received by the structures the user answers for."""
    return AdmissionCopy.objects.filter(structure__in=admitting_structures(user))


def structure_open_copies(structure: Structure | int, now=None) -> QuerySet[AdmissionCopy]:
    """Requests a structure received that are still open and whose file it may read (the
    structure's figures): newest change first."""
    return (
        AdmissionCopy.objects.filter(
            structure=structure, status__in=OPEN_STATUSES, access_until__gt=now or timezone.now()
        )
        .select_related("request__person")
        .order_by("-updated_at", "-pk")
    )


def requests_of(user) -> QuerySet[AdmissionRequest]:
    """Requests the user sent, and, for the person and their legal representatives, every
    request made for the person."""
    if not getattr(user, "is_authenticated", False):
        return AdmissionRequest.objects.none()
    represented = rules.legal_representative_links(user=user).values("person_id")
    return AdmissionRequest.objects.filter(
        Q(created_by=user) | Q(person__user=user) | Q(person_id__in=represented)
    ).distinct()


# --- The offer directory --------------------------------------------------------------------------


class Public:
    DISABILITY = "handicap"
    OLDER = "personnes_agees"
    choices = [(DISABILITY, "Personnes en situation de handicap"), (OLDER, "Personnes âgées")]


def department_of(postcode: str) -> str:
    """The department of a French postcode (Corsica 20xxx: 2A below 20200, else 2B)."""
    if postcode.startswith("97"):
        return postcode[:3]
    if postcode.startswith("20"):
        return "2A" if postcode < "20200" else "2B"
    return postcode[:2]


def offer_search(
    *,
    kind: str = "",
    department: str = "",
    postcode: str = "",
    public: str = "",
    age: int | None = None,
    service=None,
    with_places: bool = False,
    text: str = "",
):
    """Published offers matching the filters, most relevant first: the postcode itself
    before the rest of its department, then those with places available, the freshest
    figures first (a service asked finds the offers giving it or one of its sub-services).
    One query, plus one for the services of a page."""
    offers = Offer.objects.filter(is_published=True, structure__is_active=True).select_related("structure")
    if kind:
        offers = offers.filter(structure__kind=kind)
    if postcode:
        offers = offers.filter(department=department_of(postcode))
    elif department:
        offers = offers.filter(department=department.upper())
    if public == Public.DISABILITY:
        offers = offers.filter(serves_disability=True)
    elif public == Public.OLDER:
        offers = offers.filter(serves_older=True)
    if age is not None:
        offers = offers.filter(Q(age_min__isnull=True) | Q(age_min__lte=age)).filter(
            Q(age_max__isnull=True) | Q(age_max__gte=age)
        )
    if with_places:
        offers = offers.filter(places_available__gt=0)
    for word in (text or "").split()[:5]:
        offers = offers.filter(Q(structure__name__icontains=word) | Q(city__icontains=word))
    rank_postcode = Case(When(postcode=postcode, then=Value(1)), default=Value(0)) if postcode else Value(0)
    if service is not None:
        codes = SerafinCode.objects.filter(kind=service.kind).filter(
            Q(code=service.code) | Q(code__startswith=f"{service.code}.")
        )
        offers = offers.filter(
            pk__in=Offer.services.through.objects.filter(serafincode__in=codes.values("pk")).values("offer_id")
        )
    has_places = Case(When(places_available__gt=0, then=Value(1)), default=Value(0), output_field=IntegerField())
    offers = offers.annotate(rank_postcode=rank_postcode, has_places=has_places)
    return offers.order_by(
        "-rank_postcode", "-has_places", "-availability_updated_on", "structure__name", "pk"
    ).prefetch_related(Prefetch("services", queryset=SerafinCode.objects.order_by("code")))


# --- The directory of professionals -------------------------------------------------------------


def professional_search(*, text: str = "", profession: str = "", structure: str = ""):
    """Active professionals (not a structure's software) by name, RPPS, profession or
    structure, accents and case ignored in the profession's label; their structures of
    today come in one more query."""
    from coordination.models import Profession, Professional, TeamMembership

    professionals = Professional.objects.filter(is_active=True, user__is_active=True).exclude(
        profession=Profession.SOFTWARE
    )
    if profession:
        professionals = professionals.filter(profession=profession)
    if structure.strip():
        professionals = professionals.filter(
            team_memberships__structure__name__icontains=structure.strip(), team_memberships__ended_on__isnull=True
        )
    for word in text.split()[:5]:
        folded = fold(word)
        professions = [value for value, label in Profession.choices if folded in fold(label)]
        professionals = professionals.filter(
            Q(user__last_name__icontains=word)
            | Q(user__first_name__icontains=word)
            | Q(rpps=word)
            | Q(profession__in=professions)
        )
    return (
        professionals.select_related("user")
        .prefetch_related(
            Prefetch(
                "team_memberships",
                queryset=TeamMembership.objects.filter(ended_on__isnull=True).select_related("structure"),
                to_attr="current_teams",
            )
        )
        .distinct()
        .order_by("user__last_name", "user__first_name", "pk")
    )


def notification_summaries(user, ids: list[int]) -> dict[int, Summary]:
    """The notification centre's summary of admission requests (copies): for the
    structure's staff while the file is open to them, the person, the status and the first
    words of the latest message (the person read through the admission scope); for the
    requester, the structure, the status and its latest message. Four queries."""
    now = timezone.now()
    copies = list(
        AdmissionCopy.objects.filter(pk__in=ids).select_related("request__person", "request__created_by", "structure")
    )
    if not copies:
        return {}
    staff_of = set(admitting_structures(user).values_list("pk", flat=True))
    mine = set(requests_of(user).filter(pk__in={c.request_id for c in copies}).values_list("pk", flat=True))
    latest: dict[int, str] = {}
    for event in AdmissionEvent.objects.filter(copy__in=copies).exclude(message="").order_by("-at", "-pk"):
        latest.setdefault(event.copy_id, event.message)
    summaries = {}
    for copy in copies:
        status = copy.get_status_display()
        words = latest.get(copy.pk) or copy.request.message
        if copy.structure_id in staff_of and copy.status in OPEN_STATUSES and copy.access_until > now:
            person = copy.request.person
            summaries[copy.pk] = Summary(
                excerpt=Truncator(" ".join(f"{person.display_name} — {words}".split())).words(15),
                author=copy.request.created_by.get_full_name() or copy.request.created_by.email,
                kind=status,
                person=person,
                via=AccessVia.SCOPED,
            )
        elif copy.request_id in mine:
            excerpt = f"{copy.structure.name}" + (f" — {latest[copy.pk]}" if copy.pk in latest else "")
            summaries[copy.pk] = Summary(
                excerpt=Truncator(" ".join(excerpt.split())).words(15), author=copy.structure.name, kind=status
            )
    return summaries
