"""Load test (issue 19): 200 simulated users at once, a realistic mix of reads and writes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_scale .venv/bin/python bench/load.py --duration 120

Starts the portal under gunicorn as bench/throughput.py does (production settings, the
bench URLconf; --worker-class, --workers, --threads), signs --users users in over HTTP
before the measured window (professionals with TOTP and persons with a user-portal
account, from the personas file's "load" section), learns over HTTP what each may see
(the persons API, their levels), and then, for --duration seconds, runs every user in
its own thread: pick an action by weight, run it (one to three requests, as a browser
with HTMX sends them, CSRF token taken from the page that holds the form), wait a think
time (exponential, mean --think seconds; 0 = no pause at all), again.

Professionals read the caseload, person overviews, notebooks, their feed, agendas, the
PPA, the persons API, notifications and their dashboard; they write transmissions (a
third addressed to colleagues who are load users too, with a receipt asked), give the
receipts they find on their feed, and propose appointments to persons with an account.
Persons read their portal home, notebook, agenda, circle and notifications, and answer
the proposals they find on their agenda page. Every request goes to 127.0.0.1; each user
connects from its own loopback source address (127.0.0.x), as allauth rate-limits
sign-ins per address.

Reports, per request type and in all: requests, errors (status >= 400, a redirect to the
sign-in page, exceptions such as timeouts), p50 / p95 / p99 / max, requests/s; and the
machine's state. Stops gunicorn (by pid) on exit, Ctrl-C included. Standard library only.

Exit status: 0 when there was no error and the overall p95 is under --p95-ms (300), 1
otherwise, 2 on a set-up error.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import harness

PERSON_PAGES_API = "/api/coordination/persons/"
# The booking form's refusal when the slot is no longer free (agenda.booking.services.SLOT_TAKEN,
# as the page prints it: the apostrophe before it is escaped).
SLOT_TAKEN = "plus libre pour"
REFUSED = object()  # what `call` answers for such a refusal
ACK_ACTION = re.compile(r'action="(/liaison/transmissions/(\d+)/accuse-reception/)"')
PROPOSAL_ACTION = re.compile(r'action="(/mon-espace/agenda/propositions/(\d+)/)"')
PARTICIPANT = re.compile(r'name="participants"\s+value="(\d+)"')
ADDRESSEE = re.compile(r'name="addressees"\s+value="(\d+)"|value="(\d+)"[^>]*name="addressees"')
CATEGORY_SELECT = re.compile(r'<select name="category"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]+)"')
PHRASES = [
    "A bien dormi cette nuit.",
    "Repas pris en totalité.",
    "Douleur au genou droit, évaluée à 3 sur 10.",
    "Visite de sa fille l'après-midi.",
    "Toilette faite avec aide partielle.",
    "Humeur triste ce matin, entretien d'écoute.",
    "Traitement pris sans difficulté.",
    "Sortie au jardin accompagnée.",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_scale")
    )
    parser.add_argument("--cache-url", default=harness.DEFAULT_CACHE_URL)
    parser.add_argument("--personas", help="personas file (default bench/personas/<database>.json)")
    parser.add_argument("--port", type=int, default=harness.DEFAULT_PORT)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=60, help="gunicorn worker timeout (s)")
    parser.add_argument("--duration", type=int, default=600, help="measured seconds (default 600 = 10 min)")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--persons", type=int, default=30, help="of the users, persons (user portal)")
    parser.add_argument("--think", type=float, default=10.0, help="mean think time between actions, s (0: none)")
    parser.add_argument("--client-timeout", type=float, default=60.0, help="a request slower than this is an error")
    parser.add_argument("--sign-in-parallel", type=int, default=4)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--p95-ms", type=float, default=300.0)
    parser.add_argument(
        "--no-proposals",
        action="store_true",
        help="leave appointment proposals (agenda booking page) out of the mix",
    )
    parser.add_argument("--no-query-count", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args()


# --- Recording ----------------------------------------------------------------------------------


@dataclass
class Sample:
    label: str
    started: float
    ms: float
    error: str | None


class Recorder:
    def __init__(self):
        self.samples: list[Sample] = []
        self.lock = threading.Lock()
        self.error_examples: dict[str, str] = {}

    def add(self, sample: Sample, detail: str = "") -> None:
        with self.lock:
            self.samples.append(sample)
            if sample.error:
                self.error_examples.setdefault(f"{sample.label}: {sample.error}", detail)


# --- Simulated users ----------------------------------------------------------------------------


@dataclass
class User:
    kind: str  # "pro" or "person"
    email: str
    client: harness.Http
    rng: random.Random
    user_id: int = 0
    professional_id: int | None = None
    persons: list[int] = field(default_factory=list)
    proposal_targets: list[int] = field(default_factory=list)
    levels: dict[str, str] = field(default_factory=dict)
    person_id: int | None = None
    receipts: dict[str, str] = field(default_factory=dict)  # action path -> csrf token of its page
    proposals: dict[str, str] = field(default_factory=dict)
    invitations: collections.deque = field(default_factory=collections.deque)  # event pages to answer
    slots: int = 0

    def may(self, category: str, level: str = "read") -> bool:
        return self.levels.get(category) in (("read", "write") if level == "read" else ("write",))


class Simulation:
    def __init__(self, args, personas: dict, recorder: Recorder, users: list[User]):
        self.args = args
        self.personas = personas
        self.recorder = recorder
        self.load_user_ids = {user.user_id for user in users}
        self.by_professional = {user.professional_id: user for user in users if user.professional_id}
        self.heavy = personas["heavy_person"]
        self.deadline = 0.0
        self.window_start = 0.0
        self.stop = threading.Event()

    # One request, timed and recorded (only inside the measured window).
    def call(
        self, user: User, label: str, method: str, path: str, body=None, headers=None, content_type=None, refusal=None
    ):
        """One request, recorded under `label`. `refusal`: the text of a refusal a real user
        meets and answers (a slot taken meanwhile): a 400 that says it is recorded under
        "<label> (refused: slot taken)", is not an error, and REFUSED is returned; any
        other 400 still is an error."""
        started = time.perf_counter()
        error, detail, response = None, "", None
        try:
            if method == "GET":
                response = user.client.get(path, headers=headers)
            elif content_type:
                response = user.client.request(
                    "POST",
                    path,
                    body=body,
                    headers={
                        "Content-Type": content_type,
                        "Origin": f"http://{harness.HOST}:{self.args.port}",
                        **(headers or {}),
                    },
                )
            else:
                response = user.client.post(path, body, headers=headers)
        except Exception as exc:  # noqa: BLE001 — every failure is a figure
            error, detail = f"exception {exc.__class__.__name__}", str(exc)[:200]
            user.client.close()
        ms = (time.perf_counter() - started) * 1000
        if response is not None:
            if refusal and response.status == 400 and refusal in response.text:
                label, response = f"{label} (refused: slot taken)", REFUSED
            elif response.status >= 400:
                error, detail = f"status {response.status}", f"{method} {path}"
            elif response.status in (301, 302, 303) and response.location.startswith("/accounts/login"):
                error, detail = "signed out", f"{method} {path} -> {response.location}"
        if self.window_start <= started <= self.deadline:
            self.recorder.add(Sample(label, started, ms, error), detail)
        return response if error is None else None

    def follow(self, user: User, label: str, response):
        """A browser follows the redirect after a POST."""
        if response is not None and response.status in (301, 302, 303) and response.location:
            return self.call(user, label + " (redirect)", "GET", response.location)
        return response

    def pause(self, user: User, scale: float = 1.0) -> None:
        if self.args.think > 0:
            self.stop.wait(min(user.rng.expovariate(1 / (self.args.think * scale)), self.args.think * scale * 6))

    def person_for(self, user: User) -> int:
        if self.heavy in user.persons and user.rng.random() < 0.1:
            return self.heavy
        return user.rng.choice(user.persons)

    # --- Professionals

    def pro_actions(self, user: User):
        actions = [
            (self.caseload, 10),
            (self.overview, 14),
            (self.api_persons, 4),
            (self.notifications, 5),
            (self.dashboard, 8),
        ]
        if user.may("liaison"):
            actions += [(self.notebook, 18), (self.feed, 14)]
        if user.may("agenda"):
            actions += [(self.agenda, 8), (self.agenda_week, 3)]
        if user.may("ppa"):
            actions.append((self.ppa, 4))
        if user.may("liaison", "write"):
            actions.append((self.post_transmission, 7))
        if user.receipts:
            actions.append((self.give_receipt, 6))
        if user.may("agenda", "write"):
            actions.append((self.invite, 2))
            if user.proposal_targets and not self.args.no_proposals:
                actions.append((self.propose, 1))
        if user.invitations:
            actions.append((self.answer_invitation, 6))
        return actions

    def caseload(self, user):
        self.call(user, "caseload", "GET", "/coordination/")

    def overview(self, user):
        self.call(user, "person overview", "GET", f"/coordination/personnes/{self.person_for(user)}/")

    def notebook(self, user):
        response = self.call(user, "notebook p1", "GET", f"/liaison/personnes/{self.person_for(user)}/")
        self.collect_receipts(user, response)

    def feed(self, user):
        self.collect_receipts(user, self.call(user, "my feed", "GET", "/liaison/"))

    def agenda(self, user):
        self.call(user, "agenda life-line", "GET", f"/agenda/personnes/{self.person_for(user)}/")

    def agenda_week(self, user):
        today = datetime.date.today().isoformat()
        self.call(user, "agenda week", "GET", f"/agenda/personnes/{self.person_for(user)}/?vue=semaine&date={today}")

    def ppa(self, user):
        self.call(user, "PPA", "GET", f"/ppa/personnes/{self.person_for(user)}/")

    def api_persons(self, user):
        self.call(user, "API persons list", "GET", PERSON_PAGES_API)

    def notifications(self, user):
        self.call(user, "notification centre", "GET", "/notifications/")

    def dashboard(self, user):
        self.call(user, "dashboard", "GET", "/pro/")

    def collect_receipts(self, user: User, response) -> None:
        if response is None or response.status != 200:
            return
        token = harness.csrf_from(response.text)
        if token:
            for action, _pk in ACK_ACTION.findall(response.text):
                user.receipts[action] = token

    def post_transmission(self, user):
        """The composer (HTMX GET), a pause to write, then the HTMX post of the form."""
        person_id = self.person_for(user)
        path = f"/liaison/personnes/{person_id}/"
        composer = self.call(
            user, "transmission: composer", "GET", path + "?formulaire=1", headers={"HX-Request": "true"}
        )
        if composer is None:
            return
        html = composer.text
        token = harness.csrf_from(html)
        categories = OPTION.findall(CATEGORY_SELECT.search(html).group(1)) if CATEGORY_SELECT.search(html) else []
        allowed = [int(a or b) for a, b in ADDRESSEE.findall(html)]
        fields = [
            ("csrfmiddlewaretoken", token or ""),
            ("category", user.rng.choice([c for c in categories if c] or ["autre"])),
            ("kind", "general"),
            ("observed_at", ""),
            ("text", " ".join(user.rng.sample(PHRASES, 2))),
            ("target", ""),
            ("data", ""),
            ("actions", ""),
            ("results", ""),
            ("scope", "shared"),
            ("remarkable_event", ""),
        ]
        if allowed and user.rng.random() < 0.33:
            ours = [pk for pk in allowed if pk in self.load_user_ids]
            for pk in user.rng.sample(ours or allowed, min(2, len(ours or allowed))):
                fields.append(("addressees", str(pk)))
            fields.append(("requests_receipt", "on"))
        self.pause(user, 0.5)
        body, content_type = multipart(fields)
        response = self.call(
            user,
            "transmission: post",
            "POST",
            path,
            body=body,
            content_type=content_type,
            headers={"HX-Request": "true", "Referer": f"http://{harness.HOST}:{self.args.port}{path}"},
        )
        self.follow(user, "transmission: post", response)

    def give_receipt(self, user):
        action, token = user.receipts.popitem()
        self.call(
            user,
            "receipt",
            "POST",
            action,
            {"csrfmiddlewaretoken": token, "next": "/liaison/"},
            headers={"HX-Request": "true"},
        )

    def propose(self, user):
        """An appointment proposed to a person with an account, on a slot of the proposer's own."""
        person_id = user.rng.choice(user.proposal_targets)
        path = f"/agenda/personne/{person_id}/proposer/"
        form = self.call(user, "proposal: form", "GET", path)
        if form is None:
            return
        self.pause(user, 0.5)
        # The proposer's own slots, one after the other; an earlier run on the same base
        # may hold some of them (load.py writes into the base): then, as a user would, the
        # next one (at most three tries).
        for _try in range(3):
            user.slots += 1
            day = datetime.date.today() + datetime.timedelta(days=3 + user.slots // 8 + 7 * (user.user_id % 50))
            start = datetime.datetime.combine(day, datetime.time(9 + user.slots % 8, 0))
            fields = {
                "csrfmiddlewaretoken": harness.csrf_from(form.text) or "",
                "title": "Rendez-vous de suivi",
                "starts_at": start.strftime("%Y-%m-%d %H:%M"),
                "ends_at": (start + datetime.timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M"),
                "answer_deadline": (start - datetime.timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
                "motive": "",
            }
            response = self.call(user, "proposal: post", "POST", path, fields, refusal=SLOT_TAKEN)
            if response is not REFUSED:
                break
        if response is not REFUSED:
            self.follow(user, "proposal: post", response)

    def invite(self, user):
        """An event in a person's agenda with colleagues invited (load users first); they answer it later."""
        person_id = self.person_for(user)
        path = f"/agenda/personnes/{person_id}/nouveau/"
        form = self.call(user, "event: form", "GET", path)
        if form is None:
            return
        colleagues = [int(pk) for pk in PARTICIPANT.findall(form.text)]
        ours = [pk for pk in colleagues if pk in self.by_professional and pk != user.professional_id]
        invited = user.rng.sample(ours, min(2, len(ours))) if ours else colleagues[:1]
        user.slots += 1
        day = datetime.date.today() + datetime.timedelta(days=2 + user.slots // 8)
        start = datetime.datetime.combine(day, datetime.time(9 + user.slots % 8, 30))
        fields = {
            "csrfmiddlewaretoken": harness.csrf_from(form.text) or "",
            "title": "Réunion de coordination",
            "event_type": "reunion",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + datetime.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
            "visibility": "shared",
            "repeat": "",
            "repeat_until": "",
            "place_kind": "",
            "place_address": "",
            "place_url": "",
            "participants": [str(pk) for pk in invited],
            "motive": "",
        }
        self.pause(user, 0.5)
        created = self.call(user, "event: create", "POST", path, fields)
        if created is not None and created.status == 302 and "/agenda/evenements/" in created.location:
            for pk in invited:
                if pk in self.by_professional:
                    self.by_professional[pk].invitations.append(created.location)
        self.follow(user, "event: create", created)

    def answer_invitation(self, user):
        """The invited professional opens the event (as from the notification) and answers."""
        path = user.invitations.popleft()
        page = self.call(user, "agenda event", "GET", path)
        if page is None:
            return
        fields = {
            "csrfmiddlewaretoken": harness.csrf_from(page.text) or "",
            "response": user.rng.choice(["accepted", "accepted", "declined", "tentative"]),
            "comment": "",
        }
        self.pause(user, 0.3)
        self.follow(
            user, "invitation: answer", self.call(user, "invitation: answer", "POST", path + "repondre/", fields)
        )

    # --- Persons

    def person_actions(self, user: User):
        actions = [
            (self.portal_home, 30),
            (self.portal_notebook, 12),
            (self.portal_agenda, 20),
            (self.portal_circle, 5),
            (self.notifications, 8),
        ]
        if user.proposals:
            actions.append((self.answer_proposal, 15))
        return actions

    def portal_home(self, user):
        self.call(user, "portal home", "GET", "/mon-espace/")

    def portal_notebook(self, user):
        self.call(user, "portal notebook", "GET", "/mon-espace/cahier-de-liaison/")

    def portal_circle(self, user):
        self.call(user, "portal circle", "GET", "/mon-espace/cercle/")

    def portal_agenda(self, user):
        response = self.call(user, "portal agenda", "GET", "/mon-espace/agenda/")
        if response is not None:
            token = harness.csrf_from(response.text)
            for action, _pk in PROPOSAL_ACTION.findall(response.text):
                user.proposals[action] = token

    def answer_proposal(self, user):
        action, token = user.proposals.popitem()
        fields = {"csrfmiddlewaretoken": token, "comment": "", "accept": "1" if user.rng.random() < 0.7 else "0"}
        self.follow(user, "proposal: answer", self.call(user, "proposal: answer", "POST", action, fields))

    # --- The loop

    def run_user(self, user: User) -> None:
        # Stagger the first actions over one think time.
        if self.args.think > 0:
            self.stop.wait(user.rng.uniform(0, self.args.think))
        while not self.stop.is_set() and time.perf_counter() < self.deadline:
            actions = self.pro_actions(user) if user.kind == "pro" else self.person_actions(user)
            action = user.rng.choices([a for a, _ in actions], [w for _, w in actions])[0]
            try:
                action(user)
            except Exception as exc:  # noqa: BLE001 — a bug of this script must not stop the others
                self.recorder.add(
                    Sample(action.__name__, time.perf_counter(), 0.0, f"client bug {exc.__class__.__name__}"), str(exc)
                )
            self.pause(user)


def multipart(fields: list[tuple[str, str]]) -> tuple[bytes, str]:
    boundary = "----portal-bench-" + uuid.uuid4().hex
    lines = []
    for name, value in fields:
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", value]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode("utf-8"), f"multipart/form-data; boundary={boundary}"


# --- Set-up (before the measured window) ----------------------------------------------------------


def emails(spec: dict, count: int, skip: set[str]) -> list[str]:
    """`count` addresses from the pattern, from index `first` on (at most `count` of the spec)."""
    first = spec.get("first", 1)
    candidates = (spec["pattern"].format(index) for index in range(first, first + spec.get("count", count)))
    return [email for email in candidates if email not in skip][:count]


def prepare(user: User, personas: dict) -> None:
    secret = personas.get("totp_secret") if user.kind == "pro" else None
    user.user_id, user.professional_id = harness.sign_in(user.client, user.email, personas["password"], secret)
    page = PERSON_PAGES_API
    while page:
        response = user.client.get(page)
        if response.status != 200:
            raise harness.SignInError(f"{user.email}: {page} answered {response.status}")
        data = response.json()
        user.persons += [item["id"] for item in data["results"]]
        page = data.get("next") or None
        if page:
            page = page.split(f"{harness.HOST}:{user.client.port}", 1)[-1]
            page = page[page.index("/api/") :] if "/api/" in page else page
    if user.kind == "person":
        user.person_id = user.persons[0] if user.persons else None
    elif user.persons:
        detail = user.client.get(f"{PERSON_PAGES_API}{user.persons[0]}/").json()
        user.levels = {category: level for category, level in (detail.get("my_levels") or {}).items()}


def main() -> int:
    args = parse_args()
    harness.stop_on_signals()
    personas, personas_file = harness.load_personas(args.personas, args.database_url)
    load_spec = personas.get("load") or {}
    if "professionals" not in load_spec or "persons" not in load_spec:
        print(f"{personas_file}: no 'load' section (professionals, persons): see bench/README.md", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    n_persons = min(args.persons, args.users)
    reader = personas["personas"].get("professional")
    pro_emails = ([reader] if reader else []) + emails(load_spec["professionals"], args.users - n_persons, {reader})
    pro_emails = pro_emails[: args.users - n_persons]
    person_emails = emails(load_spec["persons"], n_persons, set())
    env = harness.server_env(args.database_url, args.cache_url, query_count=not args.no_query_count)
    run_dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    server = harness.Server(
        env=env,
        port=args.port,
        worker_class=args.worker_class,
        workers=args.workers,
        threads=args.threads,
        timeout=args.timeout,
        log_path=run_dir / "gunicorn.log",
    )
    machine = harness.machine_description(args.database_url)
    started_at = datetime.datetime.now().astimezone()
    print(f"load.py — {started_at:%Y-%m-%d %H:%M %Z}, commit {machine['commit']}")
    print(
        f"machine: {machine['cpus']} × {machine['cpu']}, {machine['ram_gib']} GiB RAM; PostgreSQL "
        f"{machine.get('postgresql')}, database {harness.database_name(args.database_url)} "
        f"({machine.get('database_size', '?')})"
    )
    print(
        f"server: {server.describe()} (timeout {args.timeout} s), DEBUG=0; users: {len(pro_emails)} professionals "
        f"+ {len(person_emails)} persons; think time {'none' if args.think <= 0 else f'{args.think:g} s mean'}; "
        f"{args.duration} s measured"
    )
    users = [
        User(
            "pro", email, harness.Http(args.port, source=None, timeout=args.client_timeout), random.Random(rng.random())
        )
        for email in pro_emails
    ] + [
        User("person", email, harness.Http(args.port, timeout=args.client_timeout), random.Random(rng.random()))
        for email in person_emails
    ]
    for index, user in enumerate(users):
        user.client.source = f"127.0.0.{10 + index % 200}"
    recorder = Recorder()
    try:
        harness.collectstatic(env)
        server.start()
        print(f"gunicorn pid {server.process.pid}, log {server.log_path}")
        began = time.perf_counter()
        with ThreadPoolExecutor(args.sign_in_parallel) as pool:
            for done, _ in enumerate(pool.map(lambda u: prepare(u, personas), users), start=1):
                if done % 50 == 0:
                    print(f"  {done} / {len(users)} signed in ({time.perf_counter() - began:.0f} s)", flush=True)
        print(f"sign-ins and discovery: {time.perf_counter() - began:.0f} s")
        account_persons = {user.person_id for user in users if user.kind == "person" and user.person_id}
        for user in users:
            if user.kind == "pro":
                user.proposal_targets = [p for p in user.persons if p in account_persons]
        pros = [u for u in users if u.kind == "pro"]
        print(
            f"professionals who may write in the notebook: {sum(u.levels.get('liaison') == 'write' for u in pros)}"
            f" / {len(pros)}; who may propose to a load person: "
            f"{sum(bool(u.proposal_targets) and u.levels.get('agenda') == 'write' for u in pros)}; "
            f"who see the heavy person: {sum(personas['heavy_person'] in u.persons for u in pros)}"
        )
        simulation = Simulation(args, personas, recorder, users)
        cpu_before, load_before, client_before = harness.cpu_times(), harness.load_average(), os.times()
        simulation.window_start = time.perf_counter()
        simulation.deadline = simulation.window_start + args.duration
        threads = [threading.Thread(target=simulation.run_user, args=(u,), daemon=True) for u in users]
        for thread in threads:
            thread.start()
        try:
            while any(t.is_alive() for t in threads):
                time.sleep(min(30.0, max(0.5, simulation.deadline - time.perf_counter())))
                elapsed = time.perf_counter() - simulation.window_start
                if elapsed < args.duration + 1:
                    with recorder.lock:
                        count = len(recorder.samples)
                        errors = sum(1 for s in recorder.samples if s.error)
                    print(
                        f"  {elapsed:4.0f} s: {count} requests, {errors} errors, load {harness.load_average()}",
                        flush=True,
                    )
                if elapsed > args.duration + args.client_timeout + 5:
                    break
        finally:
            simulation.stop.set()
            for thread in threads:
                thread.join(timeout=args.client_timeout + 5)
        cpu_after, load_after, client_after = harness.cpu_times(), harness.load_average(), os.times()
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except harness.SignInError as error:
        print(f"set-up failed: {error}", file=sys.stderr)
        return 2
    finally:
        server.stop()
        for user in users:
            user.client.close()

    log_text = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
    worker_timeouts = log_text.count("WORKER TIMEOUT")
    tracebacks = log_text.count("Traceback")
    summary = report(recorder, args.duration)
    steal, busy = harness.steal_share(cpu_before, cpu_after), harness.busy_share(cpu_before, cpu_after)
    client_cpu = (client_after.user + client_after.system) - (client_before.user + client_before.system)
    window = max(1e-9, client_after.elapsed - client_before.elapsed)
    print(
        f"machine during the window: load average {load_before} → {load_after}, CPU steal {steal:.1%}, "
        f"CPU busy {busy:.1%}; this load generator used {client_cpu:.1f} s of CPU ({client_cpu / window:.1%} "
        f"of one core); gunicorn log: {worker_timeouts} worker timeouts, {tracebacks} tracebacks "
        f"({server.log_path})"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "started_at": started_at.isoformat(),
                    "machine": machine,
                    "server": server.describe(),
                    "args": vars(args),
                    "steal": steal,
                    "busy": busy,
                    "client_cpu_s": client_cpu,
                    "loads": [load_before, load_after],
                    "summary": summary,
                    "worker_timeouts": worker_timeouts,
                    "tracebacks": tracebacks,
                },
                indent=2,
                default=str,
            ),
            encoding="utf-8",
        )
    ok = summary["all"]["errors"] == 0 and summary["all"]["p95_ms"] < args.p95_ms
    return 0 if ok else 1


def report(recorder: Recorder, duration: float) -> dict:
    by_label: dict[str, list[Sample]] = collections.defaultdict(list)
    for sample in recorder.samples:
        by_label[sample.label].append(sample)
    summary = {}
    header = (
        f"{'request':34} {'count':>6} {'errors':>6}"
        + "".join(f" {name:>8}" for name in ("p50 ms", "p95 ms", "p99 ms", "max ms"))
        + f" {'req/s':>7}"
    )
    print()
    print(header)
    print("-" * len(header))
    rows = sorted(by_label.items(), key=lambda item: -len(item[1]))
    rows.append(("all", recorder.samples))
    for label, samples in rows:
        times = [s.ms for s in samples]
        row = {
            "count": len(samples),
            "errors": sum(1 for s in samples if s.error),
            "p50_ms": harness.median(times),
            "p95_ms": harness.percentile(times, 0.95),
            "p99_ms": harness.percentile(times, 0.99),
            "max_ms": max(times) if times else float("nan"),
            "rps": len(samples) / duration,
        }
        summary[label] = row
        if label == "all":
            print("-" * len(header))
        print(
            f"{label:34} {row['count']:6d} {row['errors']:6d} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} "
            f"{row['p99_ms']:8.1f} {row['max_ms']:8.1f} {row['rps']:7.2f}"
        )
    errors = collections.Counter(f"{s.label}: {s.error}" for s in recorder.samples if s.error)
    if errors:
        print("\nerrors:")
        for kind, count in errors.most_common(15):
            print(f"  {count:6d}  {kind}  e.g. {recorder.error_examples.get(kind, '')}")
    summary["errors_by_kind"] = dict(errors)
    print()
    return summary


if __name__ == "__main__":
    sys.exit(main())
