"""The user portal's menu: only the pages the user may open in the current space, worded
for who they are ("Mon cercle et mes droits" for the person, "Le cercle de Jeanne" for her
daughter). Built lazily: a fragment that shows no menu costs nothing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.urls import reverse

from coordination import access, rules
from coordination.models import Category, Level, Person

DECIDER = "decider"


def of_name(template: str, name: str) -> str:
    """'Le dossier de {}' → 'Le dossier de Jeanne', 'Le dossier d'Agnès'."""
    if name[:1].lower() in "aeiouyéèêh":
        return template.replace("de {}", "d'{}").format(name)
    return template.format(name)


# url name, what it needs (a category read, or being a decider), said to the person, to others.
ENTRIES = [
    ("portal_home", None, "Mon espace", "Espace de {}"),
    ("portal_record", Category.RECORD, "Mon dossier", "Le dossier de {}"),
    ("portal_agenda", Category.AGENDA, "Mon agenda", "L'agenda de {}"),
    ("portal_documents", Category.DOCUMENTS, "Mes documents", "Les documents de {}"),
    ("portal_ppa", Category.PPA, "Mon projet", "Le projet de {}"),
    ("portal_notebook", Category.LIAISON, "Cahier de liaison", "Cahier de liaison"),
    ("portal_messages", Category.EXCHANGES, "Mes messages à l'équipe", "Messages à l'équipe"),
    ("portal_circle", Category.CIRCLE, "Mon cercle et mes droits", "Le cercle de {}"),
    ("portal_consents", Category.RECORD, "Mes consentements", "Les consentements de {}"),
    ("portal_access_log", DECIDER, "Qui a vu mes données", "Qui a vu ses données"),
    # The user's own requests and questionnaires (not the person's record: no category).
    ("admission:my_requests", None, "Mes demandes d'admission", "Mes demandes d'admission"),
    ("evaluation:my_questionnaires", None, "Mes questionnaires", "Mes questionnaires"),
]


@dataclass(frozen=True)
class MenuEntry:
    url: str
    label: str


class PortalMenu:
    def __init__(self, request):
        self.request = request

    @cached_property
    def person(self) -> Person | None:
        # Read the chosen space without choosing one: an error page must change nothing.
        from portal.user_portal.spaces import SESSION_KEY, spaces_of

        mine = spaces_of(self.request)  # the page read them already, in this request
        person_id = self.request.session.get(SESSION_KEY)
        if not person_id:
            person_id = mine[0].pk if len(mine) == 1 else None
        if not person_id:
            return None
        # A space of mine is the row the page read; another id (a link ended since it was
        # chosen) is read as before.
        return next((p for p in mine if p.pk == int(person_id)), None) or Person.objects.filter(pk=person_id).first()

    @cached_property
    def entries(self) -> list[MenuEntry]:
        user, person = self.request.user, self.person
        if person is None:
            # No space chosen (several, or none yet): the portal's home, and the choice.
            return [MenuEntry(reverse("portal_home"), "Mon espace"), MenuEntry(reverse("portal_spaces"), "Mes espaces")]
        is_self = person.user_id == user.pk
        levels = access.effective_levels(user, person)
        is_decider = is_self or rules.is_legal_representative(user, person)
        name = person.first_name or str(person)
        entries = []
        for url_name, needs, mine, theirs in ENTRIES:
            if needs == DECIDER:
                allowed = is_decider
            else:
                allowed = needs is None or levels.get(needs, Level.NONE) >= Level.READ
            if allowed:
                entries.append(MenuEntry(reverse(url_name), mine if is_self else of_name(theirs, name)))
        return entries
