"""Every form of every page, posted through its page by the user who would post it.

Each persona of the circle — the nurse (a professional of the circle), the referent
(coordinator and structure administrator), the person herself and her daughter (a
carer with rights) — opens every page of the project with the ids of a person who has
something in every block (`world`). On each page that answers with HTML, every
`<form method="post">` is read with an HTML parser and filled from its own fields (its
hidden inputs and CSRF token kept, the chosen or first option of each list, sensible
values for the required inputs, a clean PDF for a file), then posted to its action with
the same client, CSRF checks on, as HTMX when the form is an HTMX one. The answer is
never a server error: a redirect or a page, or — for the few forms whose automatic
values are rightly refused, listed below with the reason — a 4xx with a French message.

Every URL pattern of the project is opened by some persona or posted by some form, or
excluded below with its reason, so a new page cannot escape the walk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from coordination import services as coordination_services
from coordination.models import Category, CircleMember, Level
from tests.robustness.conftest import url_routes
from tests.uploads_corpus import CLEAN_PDF

PERSONAS = ("nurse", "referent", "person_user", "carer")

# URL patterns that the walk does not open, by prefix or exactly, each with its reason.
EXCLUDED_PREFIXES = {
    "admin/": "Django's administration, for the staff; its forms are Django's own",
    "static/": "static files",
    "api/": "the JSON API, posted by tests/robustness/test_schemathesis.py and the API tests",
    "fhir/": "the FHIR API (tokens, JSON), tests/interop",
    "accounts/": "allauth's sign-in, sign-up, password, e-mail and 2FA pages (tests/portal/test_signin*)",
    "echanges/flux/": "the exchanges' server-sent event streams (never end; tests/exchanges)",
}
EXCLUDED = {
    "healthz": "the load balancer's probe (text, no form)",
    "readyz": "the load balancer's probe (text, no form)",
}

# Patterns the walk does not reach yet, with why: the world has no such object, or the
# page's form left it before its turn (an earlier post of the walk moved the item on).
# Each is a debt: give the world the object, and the pattern leaves this list.
NO_OBJECT = "the world has no {} yet"
GONE = "its form leaves the page before its turn ({})"
SLUG = "needs a questionnaire's code (the world fills slugs with a placeholder)"
NOT_REACHED = {
    "admission/demandes/<int:copy_id>/": NO_OBJECT.format("admission request received"),
    "admission/demandes/<int:copy_id>/admission/": NO_OBJECT.format("admission request received"),
    "admission/demandes/<int:copy_id>/documents/<int:attachment_id>/": NO_OBJECT.format("admission request received"),
    "admission/demandes/<int:copy_id>/reponse/": NO_OBJECT.format("admission request received"),
    "admission/mes-demandes/<int:request_id>/": NO_OBJECT.format("admission request sent"),
    "admission/mes-demandes/<int:request_id>/demandes/<int:copy_id>/reponse/": NO_OBJECT.format("admission request"),
    "admission/mes-demandes/<int:request_id>/demandes/<int:copy_id>/retrait/": NO_OBJECT.format("admission request"),
    "admission/mes-demandes/<int:request_id>/documents/<int:attachment_id>/": NO_OBJECT.format("admission request"),
    "admission/offre/<int:structure_id>/": NO_OBJECT.format("published offer of a structure"),
    "agenda/agendas-externes/<int:calendar_id>/": NO_OBJECT.format("external calendar"),
    "agenda/evenements/<int:event_id>/realise/": NO_OBJECT.format("past event (its event is in three days)"),
    "mon-espace/agenda/mes-rendez-vous/<int:event_id>/annuler/": NO_OBJECT.format("appointment of the person's own"),
    "agenda/reunions/<int:pk>/contre-proposition/<int:participant_id>/accepter/": NO_OBJECT.format("counter-proposal"),
    "agenda/reunions/reserver/": "posted from the slot search's results, a GET form the walk does not submit",
    "agenda/ics/<str:token>/": "a calendar feed's secret address, read by calendar software without a session",
    "mon-espace/invitation/<str:token>/": "an invitation's secret link, opened before the account exists",
    "evaluation/satisfaction/<str:token>/": "a satisfaction survey's secret link, answered without an account",
    "coordination/dmp/<int:share_id>/annuler/": GONE.format("the document is withdrawn first"),
    "coordination/documents/<int:document_id>/examiner/": NO_OBJECT.format("document deposited by the person"),
    "coordination/documents/<int:document_id>/valider/": NO_OBJECT.format("document waiting for validation"),
    "coordination/personnes/<int:person_id>/cercle/<int:member_id>/fin/": GONE.format("the circle page changes"),
    "dossier-complet/personnes/<int:person_id>/exports/<int:export_id>/": NO_OBJECT.format("record export"),
    "dossier-complet/personnes/<int:person_id>/exports/<int:export_id>/etat/": NO_OBJECT.format("record export"),
    "dossier-complet/personnes/<int:person_id>/exports/<int:export_id>/telecharger/": NO_OBJECT.format("record export"),
    "echanges/<int:conversation_id>/lu/": NO_OBJECT.format("conversation"),
    "echanges/pieces-jointes/<int:attachment_id>/": NO_OBJECT.format("conversation"),
    "echanges/pieces-jointes/<int:attachment_id>/vignette/": NO_OBJECT.format("conversation"),
    "mon-espace/messages/<int:conversation_id>/": NO_OBJECT.format("conversation"),
    "mon-espace/messages/<int:conversation_id>/repondre/": NO_OBJECT.format("conversation"),
    "evaluation/evaluations/<int:evaluation_id>/": NO_OBJECT.format("evaluation"),
    "evaluation/personnes/<int:person_id>/remplir/<slug:code>/": SLUG,
    "evaluation/personnes/<int:person_id>/suivi/<slug:code>/": SLUG,
    "evaluation/propositions/<int:suggestion_id>/": NO_OBJECT.format("evaluation suggestion"),
    "evaluation/structures/<int:structure_id>/questionnaires/<int:questionnaire_id>/": NO_OBJECT.format(
        "questionnaire"
    ),
    "evaluation/structures/<int:structure_id>/satisfaction/<int:campaign_id>/": NO_OBJECT.format("survey campaign"),
    "mon-espace/projet/versions/<int:version_id>/signer/": NO_OBJECT.format("plan submitted for signature"),
    "ppa/versions/<int:version_id>/signer/": NO_OBJECT.format("plan submitted for signature"),
    "notifications/<int:notification_id>/lue/": GONE.format("the notifications are all marked read first"),
    "notifications/groupe/<str:event_type>/<int:person_id>/": "needs a notification type in the address",
    "ppa/versions/<int:version_id>/soumettre/": GONE.format("the plan version page changes"),
    "ppa/personnes/<int:person_id>/commencer/": "the world's person has a plan already",
    "ppa/versions/<int:version_id>/agenda/": "posted from the plan version page when an action has a schedule",
    "ppa/versions/<int:version_id>/document/": "a file answer (the plan as PDF), no page",
    "ppa/versions/<int:version_id>/fiche-mdph/deposer/": "posted from the MDPH sheet's preview (a POST answer)",
    "pro/structures/<int:structure_id>/<slug:slug>.csv": "a CSV download, needs the list's name in the address",
}

# Forms whose automatically filled values are rightly refused with a 4xx and a French
# message, keyed by the URL name of their action and the persona ("*": any), with the reason.
READER = "opened by its address by a reader (the page reads with the read right, saving needs the write right)"
REFUSED_4XX: dict[tuple[str, str], str] = {
    ("ppa:objective_edit", "nurse"): READER + "; the nurse's team default is to read the plan",
    ("ppa:objective_edit", "person_user"): READER + "; the professionals write the plan",
    ("ppa:objective_edit", "carer"): READER + "; the professionals write the plan",
    ("ppa:amend", "nurse"): READER,
    ("ppa:amend", "person_user"): READER,
    ("ppa:amend", "carer"): READER,
    ("ppa:amend", "referent"): "the world's plan has an amendment under way already: one at a time",
    ("liaison:edit", "*"): "only the author edits a transmission; opened by its address by another writer",
    ("admission:request_new", "*"): "the structures asked come from the offer search (?structure=…), not the form",
    ("evaluation:referral_new", "*"): "no coordination device (DAC) in the world: the list of devices is empty",
    ("portal_invitation_create", "*"): "the person already has a portal account",
    ("exchanges:file", "referent"): "the nurse versed the message into the notebook first: once per message",
    ("coordination:delegation_create", "*"): "the form delegates no right until the user chooses one (all at 0)",
    ("coordination:invite", "referent"): "the first professional of the list is in the circle already",
    ("coordination:join_request", "referent"): "the referent is in the circle of the person the form names already",
    ("agenda:booking_proposal_create", "person_user"): "only professionals propose appointments (opened by address)",
    ("agenda:booking_proposal_create", "carer"): "only professionals propose appointments (opened by address)",
}

# What a browser sends back from a date, time or datetime input (anything else is dropped
# silently by the browser, and the field's value is lost at the next save).
BROWSER_FORMATS = {
    "date": r"\d{4}-\d{2}-\d{2}",
    "time": r"\d{2}:\d{2}(:\d{2})?",
    "datetime-local": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?",
}

SERVER_ERROR = 500


@dataclass
class Form:
    action: str
    hx: bool
    fields: list[dict] = field(default_factory=list)  # one per input/select/textarea/button
    submitter: dict | None = None


class FormParser(HTMLParser):
    """The `<form method="post">` elements of a page, with their controls."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: dict | None = None
        self.textarea: dict | None = None
        self.option: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self.current = Form(
                    action=urljoin(self.page_url, a.get("action") or self.page_url),
                    hx="hx-post" in a,
                    fields=[],
                )
                self.current.enctype = a.get("enctype", "")
                self.forms.append(self.current)
            return
        if self.current is None:
            return
        if tag == "input":
            self.current.fields.append({"tag": "input", **a})
        elif tag == "button":
            self.current.fields.append({"tag": "button", **a})
        elif tag == "select":
            self.select = {"tag": "select", "options": [], **a}
            self.current.fields.append(self.select)
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
            self.select["options"].append(self.option)
        elif tag == "textarea":
            self.textarea = {"tag": "textarea", "text": "", **a}
            self.current.fields.append(self.textarea)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea["text"] += data
        elif self.option is not None:
            self.option["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = self.option = None
        elif tag == "option":
            if self.option is not None and self.option["value"] is None:
                self.option["value"] = self.option["text"].strip()
            self.option = None
        elif tag == "textarea":
            self.textarea = None


def post_forms(html: str, page_url: str) -> list[Form]:
    parser = FormParser(page_url)
    parser.feed(html)
    parser.close()
    return parser.forms


TEXT = "Essai du formulaire"
LONG_TEXT = "Essai du formulaire : une phrase écrite par le parcours de toutes les pages."

# Values for text inputs whose name says what they hold (their first match wins).
NAMED_VALUES = (
    (r"^ins_|_ins$|matricule", ""),  # optional identifiers with a check digit: left empty
    (r"invited|invite", "kine@exemple.fr"),
    (r"postal|postcode", "75011"),
    (r"department|departement", "75"),
    (r"finess", "750000001"),
    (r"insee", "75056"),
    (r"siret", "73282932000074"),
    (r"^code$|_code$", "essai-formulaire"),
    (r"mail", "essai.formulaire@exemple.fr"),
    (r"phone|telephone|mobile", "0612345678"),
    (r"url|ics", "https://exemple.fr/agenda.ics"),
)


class Filler:
    """Sensible values for one form: successive times an hour apart (an end after its
    start), dates a week ahead (a birth date in the past)."""

    forms = 0

    def __init__(self):
        self.hour = 9
        Filler.forms += 1
        # Each form its own day, so that an appointment does not take the slot of the previous one.
        self.soon = date.today() + timedelta(days=7 + Filler.forms % 60)

    def text(self, control: dict) -> str:
        name = control.get("name", "").lower()
        kind = control.get("type", "text").lower()
        soon = self.soon
        if control["tag"] == "textarea" and not any(re.search(p, name) for p, _v in NAMED_VALUES):
            return LONG_TEXT
        if kind == "datetime-local" and "deadline" in name:
            return f"{(soon - timedelta(days=1)).isoformat()}T10:00"
        if kind in ("time", "datetime-local"):
            self.hour += 1
            at = f"{self.hour:02d}:00"
            return at if kind == "time" else f"{soon.isoformat()}T{at}"
        if kind == "date":
            if re.search(r"birth|naissance", name):
                return "1950-03-01"
            if re.search(r"closes|until|deadline|target", name):
                return soon.isoformat()
            return date.today().isoformat()  # a document's date, an end of care: not in the future
        if kind == "number":
            low = control.get("min")
            return low if low not in (None, "") else "1"
        if kind == "email":
            return "essai.formulaire@exemple.fr"
        if kind == "password":
            return "Mot-de-passe-essai-2026"
        for pattern, value in NAMED_VALUES:
            if re.search(pattern, name):
                return value
        return TEXT


def fill(form: Form) -> tuple[dict, bool]:
    """The data the browser would send for this form filled in by a careful user: what
    the page put in it, the first choice of each list, and every empty field filled."""
    data: dict[str, list] = {}
    has_file = False
    filler = Filler()
    checkbox_names = [c.get("name") for c in form.fields if c.get("type", "").lower() == "checkbox"]
    groups = {name for name in checkbox_names if checkbox_names.count(name) > 1}

    def put(name, value):
        data.setdefault(name, []).append(value)

    for control in form.fields:
        name = control.get("name")
        if not name or "disabled" in control:
            continue
        tag, kind = control["tag"], control.get("type", "text").lower()
        required = "required" in control
        if tag == "button" or kind in ("submit", "image", "reset", "button"):
            continue
        if tag == "select":
            options = [o for o in control["options"] if "disabled" not in o]
            chosen = [o["value"] for o in options if o["selected"] and o["value"]]
            if not chosen:  # the blank "---------" choice, selected by default, is no choice
                chosen = [o["value"] for o in options if o["value"]][:1]
            for value in chosen:
                put(name, value)
        elif tag == "textarea":
            put(name, control["text"].lstrip("\n") or filler.text(control))
        elif kind == "checkbox":
            # A list of choices: the checked ones, or else the first; a lone box: as the page has it.
            first_of_group = name in groups and name not in data
            if "checked" in control or required:
                put(name, control.get("value", "on") or "on")
            elif first_of_group and not any("checked" in c for c in form.fields if c.get("name") == name):
                put(name, control.get("value", "on") or "on")
        elif kind == "radio":
            value = control.get("value", "on")
            if ("checked" in control and value) or (name not in data and value):
                data[name] = [value]
        elif kind == "file":
            if required:
                put(name, SimpleUploadedFile("essai.pdf", CLEAN_PDF, content_type="application/pdf"))
                has_file = True
        elif kind == "hidden":
            put(name, control.get("value", ""))
        else:
            put(name, control.get("value", "") or filler.text(control))
    buttons = [
        c
        for c in form.fields
        if c.get("name")
        and "disabled" not in c
        and (
            (c["tag"] == "button" and c.get("type", "submit").lower() == "submit")
            or (c["tag"] == "input" and c.get("type", "").lower() == "submit")
        )
    ]
    if buttons:
        put(buttons[0]["name"], buttons[0].get("value", ""))
    return {k: (v if len(v) > 1 else v[0]) for k, v in data.items()}, has_file


def _summary(form: Form) -> str:
    return ", ".join(
        f"{c.get('name')}:{c.get('type', c['tag'])}{'*' if 'required' in c else ''}"
        + (f"[{len(c['options'])}]" if c["tag"] == "select" else "")
        for c in form.fields
        if c.get("name") and c.get("type") != "hidden"
    )


def _body(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8", "replace")


def _is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html") and not response.streaming


def _route_of(path: str) -> tuple[str, str] | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.route, match.view_name


def _message(text: str) -> str:
    """The error summary of a page, or its main content, as text."""
    import lxml.html

    tree = lxml.html.fromstring(text)
    found = tree.xpath('//*[@role="alert"]') + tree.xpath('//*[contains(@class, "field__errors")]')
    found = found or tree.xpath("//main") or [tree]
    return " | ".join(" ".join(node.text_content().split()) for node in found)[:400]


def _french_refusal(text: str) -> bool:
    return bool(re.search(r'role="alert"|class="field__errors"|Erreur 4\d\d', text))


# The order of the posts: the ordinary forms, then those that remove an item, then those
# that move an item to its next state (the page then offers other forms), then those that
# end someone's access (a member's end, a consent withdrawn), then signing out.
REMOVAL = re.compile(r"/(retirer|annuler|revoquer|supprimer|quitter|retrait|tout-lu)/")
TRANSITION = re.compile(r"/(soumettre|signer|valider|examiner|realise|accepter|commencer|avenant|admission|reponse)/")
ACCESS_END = re.compile(r"/fin/|consentements")


@pytest.fixture
def carer_with_rights(world, person, person_user, carer):
    member = CircleMember.objects.active().get(person=person, user=carer)
    coordination_services.grants_set(
        actor=person_user, member=member, levels={category: Level.WRITE for category in Category.values}
    )
    return carer


@pytest.fixture
def more(world, person, person_user, nurse, referent, carer_with_rights):
    """What the world lacks for some pages: calendar feeds, a proposal to the person, a
    transmission asking the nurse's receipt, a conversation between professionals."""
    from agenda import services as agenda_services
    from agenda.booking import services as booking
    from agenda.models import FeedOwnerKind
    from exchanges import services as exchange_services
    from exchanges.models import ConversationKind
    from liaison import services as liaison_services
    from notifications.models import Notification

    pro_feed, _token = agenda_services.agenda_feed_create(actor=nurse, kind=FeedOwnerKind.PERSON, person=person)
    person_feed, _token = agenda_services.agenda_feed_create(
        actor=person_user, kind=FeedOwnerKind.PERSON, person=person
    )
    starts = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=90)
    proposal = booking.appointment_propose(
        actor=referent,
        person=person,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        title="Bilan",
        answer_deadline=starts - timedelta(days=2),
    )
    liaison_services.transmission_create(
        actor=referent, person=person, category="autre", text="Lu ?", addressees=[nurse], requests_receipt=True
    )
    # The nurse's notice of that transmission: without its id, the notification's page
    # would be opened with the person's id (found or not by chance of the sequences).
    notice = Notification.objects.filter(recipient=nurse).latest("pk")
    conversation = exchange_services.conversation_start(
        actor=nurse,
        kind=ConversationKind.PERSON,
        subject="Chute",
        person=person,
        participants=[referent],
        body="Avez-vous vu la chute de mardi ?",
    )
    world.ids.update(
        {
            "abonnements": pro_feed.pk,
            "abonnement": person_feed.pk,
            "propositions": proposal.pk,
            "echanges": conversation.pk,
            "conversation_id": conversation.pk,
            "messages": conversation.messages.get().pk,
            "notifications": notice.pk,
            "notification_id": notice.pk,
        }
    )
    return world


def _excluded(route: str) -> bool:
    return route in EXCLUDED or route.startswith(tuple(EXCLUDED_PREFIXES))


def test_every_form_of_every_page_posts_as_its_user(world, request, carer_with_rights, more):
    world.ids.update({"page": "agenda", "code": "x", "slug": "persons"})
    routes = [route for route, _pattern in url_routes() if not _excluded(route)]
    clients = {}
    for persona in PERSONAS:
        client = Client(enforce_csrf_checks=True, raise_request_exception=False)
        client.force_login(request.getfixturevalue(persona))
        clients[persona] = client

    covered: set[str] = set()
    found: dict[tuple, tuple[str, str, int]] = {}  # (persona, action route, field names) → page, persona, index
    pages = set()
    failures = []
    for persona, client in clients.items():
        for route in routes:
            path = world.fill(route)
            response = client.get(path)
            if response.status_code >= SERVER_ERROR:
                failures.append(f"GET {path} as {persona} → {response.status_code}")
                continue
            if 200 <= response.status_code < 300 or (
                response.status_code in (301, 302) and "/accounts/login/" not in response["Location"]
            ):
                covered.add(route)
            if response.status_code != 200 or not _is_html(response):
                continue
            pages.add(route)
            for index, form in enumerate(post_forms(_body(response), path)):
                target = _route_of(form.action)
                if target is None:
                    failures.append(f"{path} as {persona}: a form posts to {form.action}, which is no page")
                    continue
                for control in form.fields:
                    kind, value = control.get("type", "").lower(), control.get("value")
                    if kind in BROWSER_FORMATS and value and not re.fullmatch(BROWSER_FORMATS[kind], value):
                        failures.append(f"{path} as {persona}: {control.get('name')} ({kind}) shows {value!r}")
                names = tuple(sorted({c.get("name", "") for c in form.fields}))
                found.setdefault((persona, target[0], names), (path, persona, index))

    def sort_key(item):
        (_persona, action_route, _names), (path, persona, _index) = item
        route = "/" + action_route
        rank = next(
            (i for i, pattern in enumerate((REMOVAL, TRANSITION, ACCESS_END), 1) if pattern.search(route)),
            4 if "logout" in route else 0,
        )
        return (rank, persona, path)

    posted = 0
    skipped: list[str] = []
    for (_p, action_route, names), (path, persona, index) in sorted(found.items(), key=sort_key):
        client = clients[persona]
        page = client.get(path)
        forms = post_forms(_body(page), path) if page.status_code == 200 and _is_html(page) else []
        form = next(
            (
                f
                for f in forms
                if (_route_of(f.action) or ("",))[0] == action_route
                and tuple(sorted({c.get("name", "") for c in f.fields})) == names
            ),
            None,
        )
        if form is None:  # an earlier post changed the page (the item was answered, ended…)
            skipped.append(f"{persona}: {action_route} on {path} ({page.status_code})")
            continue
        data, _has_file = fill(form)
        headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver" + path} if form.hx else {}
        response = client.post(form.action, data, **headers)
        posted += 1
        covered.add(action_route)
        status = response.status_code
        where = f"POST {form.action} (form {index} of {path}) as {persona}"
        if status >= SERVER_ERROR:
            failures.append(f"{where} → {status}")
        elif status >= 400:
            name = _route_of(form.action)[1]
            if (name, persona) not in REFUSED_4XX and (name, "*") not in REFUSED_4XX:
                failures.append(f"{where} → {status}: {_message(_body(response))} — sent {data!r} ({_summary(form)})")
            elif not _french_refusal(_body(response)):
                failures.append(f"{where} → {status} without a French message")

    missing = sorted(route for route in routes if route not in covered and route not in NOT_REACHED)
    print(
        f"walk: {len(pages)} pages, {len(found)} forms, {posted} posted, {len(skipped)} gone, {len(covered)} patterns"
    )
    assert not failures, "\n".join(failures)
    assert not covered & set(NOT_REACHED), f"reached now, to remove from NOT_REACHED: {covered & set(NOT_REACHED)}"
    assert not missing, (
        "neither opened nor posted, nor excluded:\n"
        + "\n".join(missing)
        + "\nforms gone from their page when their turn came:\n"
        + "\n".join(skipped)
    )
    # 2026-12-07: 83 pages, 167 forms (persona × action × fields), 155 posted, 132 patterns.
    assert posted >= 150, posted
    assert len(pages) >= 80, len(pages)
