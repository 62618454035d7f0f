"""The fault suite (`make faults`, issue #25): no sending lost, stuck or doubled, and no
saved change answered as an error, while the worker, the broker, the relay and the
database fail.

It starts its own Redis (broker), an SMTP sink (aiosmtpd, in this process) that records
the Message-ID of each message it accepts, the simulated DMP (documents.dmp.
FileRecordingClient, recording each idempotency key), a Celery worker and beat, and
gunicorn, on a throwaway PostgreSQL database; then:

1. queues a batch of e-mail deliveries (alerts to many professionals) and validates
   reports that are shared with the DMP (one share each; "deliveries" counts both);
2. SIGKILLs the worker (and its children) in the middle of the batch, twice, and sends
   its main process a SIGTERM once (a warm shutdown, as systemd's KillMode=mixed does;
   FAULTS_TERM=group: to its children too), starting it again each time;
3. stops the broker for OUTAGE seconds while alerting transmissions are posted over HTTP;
4. stops the SMTP sink for OUTAGE seconds while more are posted;
5. makes the DMP fail for OUTAGE seconds (longer, until a share validated meanwhile
   has met the failure);
6. terminates the database connections (pg_terminate_backend) and posts again;

then waits until every delivery has reached an end, and prints one line:

    faults: N deliveries, received N, duplicates 0, lost 0, stuck 0; M saves during outages, 0 answered as errors

The line ends with how many copies were re-sent after a lease expired (a worker killed
between the relay's acceptance and the row being marked sent): they carry their first
attempt's Message-ID (the DMP: idempotency key), so the reader's client folds them
("folded": one identifier received twice). "duplicates" counts what a reader would see
twice: a message received under an identifier no delivery holds (or none), and a
notification with two e-mail rows (the same alert under two Message-IDs).

A second line measures the re-send window: from the sink's acceptance to the row's
UPDATE to "sent" (the database's clock, by a trigger of the suite; median, p95, mean),
the time per message of one worker process, the folded copies that window predicts per
SIGKILL, those counted after each kill, and the e-mails each kill left "sending".

It stops what it started, by pid, and drops its database. Exit status 0 only when
nothing was lost, stuck, doubled under a new identity or answered as an error.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/faults.py [--batch 1250]

(DATABASE_URL names the server; the suite creates and drops its own database there.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
OUTAGE = int(os.environ.get("FAULTS_OUTAGE_SECONDS", "30"))
LEASE = int(os.environ.get("FAULTS_LEASE_SECONDS", "60"))
TERM_GROUP = os.environ.get("FAULTS_TERM", "main") == "group"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- The SMTP sink ----------------------------------------------------------------------------


class Sink:
    """aiosmtpd in this process; `ids` lists every accepted Message-ID (repeats kept)."""

    def __init__(self, port: int):
        self.port = port
        self.ids: list[str] = []
        self.times: list[float] = []  # when each was accepted (the 250 to DATA)
        self.lock = threading.Lock()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        text = envelope.content.decode("utf-8", "replace")
        match = re.search(r"^Message-ID:\s*(\S+)", text, re.MULTILINE | re.IGNORECASE)
        with self.lock:
            self.ids.append(match.group(1) if match else "")
            self.times.append(time.time())
        return "250 OK"

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# --- Processes ---------------------------------------------------------------------------------


class Processes:
    """What the suite started, stopped by pid (each in its own process group)."""

    def __init__(self, env: dict, logs: Path):
        self.env = env
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        out = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 — closed with the process
        process = subprocess.Popen(  # noqa: S603 — our own commands
            args, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True
        )
        self.running[name] = process
        return process

    def send(self, name: str, sig: int) -> None:
        process = self.running.get(name)
        if process is not None and process.poll() is None:
            os.killpg(process.pid, sig)

    def stop(self, name: str, sig: int = signal.SIGTERM, wait: float = 20, group: bool = True) -> None:
        """`sig` to the process and its children (`group`), or to the main process only
        (as systemd's KillMode=mixed does: deploy/portal-worker.service); whatever is
        left after `wait` seconds is killed."""
        process = self.running.pop(name, None)
        if process is None:
            return
        if process.poll() is None:
            if group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
            try:
                process.wait(wait)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(10)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


def manage(env: dict, *args: str, code: str | None = None) -> str:
    command = [PY, "manage.py", *args] if code is None else [PY, "manage.py", "shell", "-c", code]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"faults: manage.py {' '.join(args) or 'shell'} failed:\n{result.stderr[-3000:]}")
    return result.stdout


SEED = """
from django.test import Client
from coordination import services
from coordination.models import TeamRole
from tests.factories import ProfessionalFactory, StructureFactory, UserFactory, activate_totp
from notifications.models import NotificationPreference

admin = UserFactory(email="admin@faults.test", is_staff=True, is_superuser=True)
structure = StructureFactory(name="EHPAD des pannes", finess="750000099", kind="ehpad")
def pro(email, role):
    p = ProfessionalFactory(user=UserFactory(email=email))
    activate_totp(p.user)
    services.team_member_add(
        actor=admin, structure=structure, professional=p, role=role, is_structure_admin=role == TeamRole.REFERENT
    )
    NotificationPreference.objects.create(user=p.user, event_type="liaison.alert", frequency="immediate", email=True)
    return p.user
author = pro("auteur@faults.test", TeamRole.REFERENT)
readers = [pro(f"lecteur{n}@faults.test", TeamRole.NURSE) for n in range({readers})]
person = services.person_create(actor=admin, structure=structure, birth_name="PANNE", birth_first_names="Paul",
    first_name="Paul", birth_date="1940-01-01", sex="M", birth_place_insee="75056")
client = Client()
client.force_login(author)
print("SEED", person.pk, client.cookies["sessionid"].value, ",".join(str(u.pk) for u in readers))
"""

BATCH = """
from common.notify import notify
from django.db import transaction
from coordination.models import Person
from portal.models import User
person = Person.objects.get(pk={person})
author = User.objects.get(email="auteur@faults.test")
readers = list(User.objects.filter(email__startswith="lecteur"))
for _ in range({rounds}):
    with transaction.atomic():
        notify("liaison.alert", person=person, actor=author, recipients=readers)
from documents import services as documents
from tests.uploads_corpus import CLEAN_PDF
for n in range({documents}):
    documents.document_create(actor=author, person=person, doc_type="compte_rendu", title=f"Compte rendu {n}",
        content=CLEAN_PDF, filename="cr.pdf", validate=True)
print("BATCH")
"""

COUNT = """
from notifications.models import Delivery
from documents.models import DmpShare
from django.db.models import Count
import json
from django.db import connection
emails = Delivery.objects.filter(channel="email")
with connection.cursor() as cursor:
    cursor.execute("SELECT message_id, extract(epoch FROM max(at)) FROM faults_marked_sent GROUP BY message_id")
    marked = {m: float(at) for m, at in cursor.fetchall()}
rows = [(m, s, marked.get(m)) for m, s in emails.values_list("message_id", "status")]
rows += [("dmp:" + key, "sent" if status == "sent" else ("failed" if status in ("failed", "blocked", "cancelled")
    else status), None) for key, status in DmpShare.objects.values_list("idempotency_key", "status")]
# One notification, one e-mail row: a second row would be the same alert under a second Message-ID.
doubled = sum(n - 1 for n in emails.exclude(notification=None).values("notification").annotate(n=Count("pk"))
    .filter(n__gt=1).values_list("n", flat=True))
print("COUNT" + json.dumps({"rows": rows, "doubled_rows": doubled}))
"""


# When each e-mail row became "sent", by the database's clock at the UPDATE (the end of
# the re-send window, the UPDATE's round trip included): a table of the suite's own.
MARKED_SENT_TRIGGER = """
CREATE TABLE faults_marked_sent (message_id text, at timestamptz);
CREATE FUNCTION faults_marked_sent() RETURNS trigger AS $$
BEGIN
    INSERT INTO faults_marked_sent VALUES (NEW.message_id, clock_timestamp());
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER faults_marked_sent AFTER UPDATE ON notifications_delivery FOR EACH ROW
    WHEN (NEW.status = 'sent' AND OLD.status <> 'sent' AND NEW.channel = 'email')
    EXECUTE FUNCTION faults_marked_sent();
"""

# E-mails claimed since a moment (the worker's start) and still "sending".
SENDING = """
import datetime as dt
from notifications.models import Delivery
since = dt.datetime.fromtimestamp({since}, tz=dt.timezone.utc)
print("SENDING", Delivery.objects.filter(channel="email", status="sending", claimed_at__gte=since).count())
"""
# Reports validated while the DMP is down (their shares meet the outage).
DMP_DURING_OUTAGE = 5
SHARES_FAILED = """
from documents.models import DmpShare
print("FAILED", DmpShare.objects.exclude(last_error="").count())
"""


class Poster:
    """Posts alerting transmissions over HTTP, as the author, and counts the answers."""

    def __init__(self, base: str, person: int, session: str, reader: int):
        import requests

        self.http = requests.Session()
        self.http.trust_env = False
        self.http.cookies.set("sessionid", session)
        self.url = f"{base}/liaison/personnes/{person}/"
        self.reader = reader
        self.saves = 0
        self.errors: list[str] = []

    def post(self, text: str) -> None:
        page = self.http.get(self.url, timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text) or re.search(
            r'"X-CSRFToken": "([^"]+)"', page.text
        )
        data = {
            "csrfmiddlewaretoken": token.group(1) if token else "",
            "category": "observations",
            "kind": "general",
            "scope": "shared",
            "text": text,
            "addressees": [str(self.reader)],
        }
        response = self.http.post(self.url, data=data, headers={"Referer": self.url}, timeout=30, allow_redirects=False)
        self.saves += 1
        if response.status_code != 302:
            self.errors.append(f"{response.status_code} {text}")

    def during(self, seconds: float, label: str) -> None:
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
            self.post(f"{label} : chute {n}")
            time.sleep(1)


def window_line(
    rows: list, ids: list[str], times: list[float], kills: list[tuple[str, float]], concurrency: int
) -> str:  # noqa: E501
    """The re-send window: from the relay's acceptance (the sink's 250) to the row marked
    sent (the database's clock at the UPDATE, by a trigger), and how it meets the kills.

    A SIGKILL re-sends each of the `concurrency` messages in flight whose acceptance came
    and whose row was not yet marked: about concurrency x window / cycle per kill, the
    cycle being one process's time per message. Folded copies are attributed to the first
    kill after their first acceptance."""
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for message_id, at in zip(ids, times, strict=False):
        first.setdefault(message_id, at)
        last[message_id] = at
    windows = sorted(
        (sent_at - last[message_id]) * 1000 for message_id, _status, sent_at in rows if sent_at and message_id in last
    )
    if not windows:
        return "faults window: nothing sent"
    median = windows[len(windows) // 2]
    p95 = windows[min(len(windows) - 1, int(len(windows) * 0.95))]
    # The cycle in the batch's steady part: the e-mails accepted before the first kill.
    steady = [at for at in times if kills and at < kills[0][1]]
    cycle = concurrency * (steady[-1] - steady[0]) / (len(steady) - 1) * 1000 if len(steady) > 10 else 0.0
    mean = sum(windows) / len(windows)
    expected = concurrency * mean / cycle if cycle else 0.0
    seen: dict[str, int] = {}
    per_kill = {name: 0 for name, _ in kills}
    for message_id in ids:
        seen[message_id] = seen.get(message_id, 0) + 1
        if seen[message_id] == 2:
            after = [name for name, at in kills if at >= first[message_id]]
            if after:
                per_kill[after[0]] += 1
    kills_text = ", ".join(f"{name} {n}" for name, n in per_kill.items())
    return (
        f"faults window: acceptance to marked sent median {median:.1f} ms, p95 {p95:.1f} ms, mean {mean:.1f} ms; "
        f"cycle {cycle:.0f} ms per message and process; expected {expected:.3f} folded per SIGKILL; "
        f"folded per kill: {kills_text}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=1250, help="e-mail deliveries in the batch (multiple of 25)")
    args = parser.parse_args()
    readers = 25
    rounds = max(args.batch // readers, 4)
    documents = max(args.batch // 25, 10)  # validated reports, each a DMP share

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parsed = urlparse(server)
    dbname = f"faults_run_{os.getpid()}"
    database_url = parsed._replace(path=f"/{dbname}").geturl()
    redis_port, smtp_port, web_port = free_port(), free_port(), free_port()
    tmp = Path(tempfile.mkdtemp(prefix="faults-"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=5",
        # Plain HTTP on 127.0.0.1: the development settings (no TLS redirect, no secure
        # cookies); the 500 page would show a traceback, and any non-302 answer counts.
        "DEBUG": "1",
        "SITE_URL": f"http://127.0.0.1:{web_port}",
        "VAR_DIR": str(tmp / "var"),
        "OUTBOX_LEASE_SECONDS": str(LEASE),
        "DMP_CLIENT": "documents.dmp.FileRecordingClient",
        "DMP_SIM_DIR": str(tmp),
        "DMP_SEND_DELAY_MINUTES": "0",
        "DATABASE_CONN_MAX_AGE": "60",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("CACHE_URL", "CELERY_RESULT_BACKEND", "REQUIRE_SERVICES"):
        env.pop(name, None)
    admin_dsn = server
    processes = Processes(env, tmp)
    sink = Sink(smtp_port)
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{dbname}"')
    try:
        log(f"database {dbname}, redis :{redis_port}, smtp :{smtp_port}, web :{web_port}, logs {tmp}")
        redis_args = ["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"]
        processes.start("redis", redis_args)
        sink.start()
        manage(env, "migrate", "--noinput")
        with psycopg.connect(database_url, autocommit=True) as db:
            db.execute(MARKED_SENT_TRIGGER)
        seed = manage(env, code=SEED.replace("{readers}", str(readers)))
        _, person, session, reader_ids = next(line for line in seed.splitlines() if line.startswith("SEED")).split()
        celery = [PY, "-m", "celery", "-A", "portal"]
        worker = [*celery, "worker", "-c", "2", "--without-gossip", "--without-mingle", "-l", "warning"]
        processes.start("worker", worker)
        processes.start("beat", [*celery, "beat", "-s", str(tmp / "beat"), "-l", "warning"])
        gunicorn = [PY, "-m", "gunicorn", "portal.wsgi", "-b", f"127.0.0.1:{web_port}", "-w", "2"]
        processes.start("web", [*gunicorn, "--timeout", "60"])
        base = f"http://127.0.0.1:{web_port}"
        import requests

        for _ in range(120):
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(1)
        poster = Poster(base, int(person), session, int(reader_ids.split(",")[0]))
        poster.post("avant les pannes")
        if poster.errors:
            raise SystemExit(f"faults: the first post failed: {poster.errors}")
        poster.saves = 0

        log(f"batch: {rounds} alerts x {readers} readers")
        batch = BATCH.replace("{person}", person)
        manage(env, code=batch.replace("{rounds}", str(rounds)).replace("{documents}", str(documents)))
        total = rounds * readers

        def received_at_least(n: int, timeout: float = 600) -> None:
            deadline = time.monotonic() + timeout
            while len(sink.ids) < n and time.monotonic() < deadline:
                time.sleep(0.2)

        kills: list[tuple[str, float]] = []
        in_flight: list[tuple[str, int]] = []
        started_at = 0.0
        restarted_at = 0
        for number, (fraction, sig) in enumerate(
            ((0.25, signal.SIGKILL), (0.5, signal.SIGKILL), (0.75, signal.SIGTERM))
        ):
            # Mid-batch, and at least a few sent by the worker started after the last kill.
            received_at_least(min(max(int(total * fraction), restarted_at + 10), total))
            name = f"{signal.Signals(sig).name} {number + 1}" if sig == signal.SIGKILL else signal.Signals(sig).name
            if sig == signal.SIGTERM:
                # Warm shutdown: the worker's main process alone gets TERM (systemd's
                # KillMode=mixed, deploy/portal-worker.service); its running tasks finish.
                # FAULTS_TERM=group sends it to the children too (KillMode=control-group).
                name += " (group)" if TERM_GROUP else " (main process)"
            log(f"{name} worker at {len(sink.ids)} received")
            kills.append((name, time.time()))
            processes.stop("worker", sig, wait=60, group=sig != signal.SIGTERM or TERM_GROUP)
            # The e-mails the stopped worker had claimed and not finished (they wait for
            # their lease): a SIGKILL leaves its processes' ones; a warm shutdown none.
            sending = manage(env, code=SENDING.replace("{since}", str(started_at)))
            in_flight.append((name, int(sending.split("SENDING", 1)[1])))
            started_at = time.time()
            processes.start("worker", worker)
            restarted_at = len(sink.ids)

        log(f"broker stopped {OUTAGE} s while posting")
        processes.stop("redis", signal.SIGKILL)
        poster.during(OUTAGE, "broker arrêté")
        processes.start("redis", redis_args)
        time.sleep(2)

        log(f"SMTP sink stopped {OUTAGE} s while posting")
        sink.stop()
        poster.during(OUTAGE, "relais arrêté")
        sink.start()

        # The batch's shares have usually left by now: reports validated during the DMP's
        # outage make sure some meet it. It stays down OUTAGE seconds, and longer (at most
        # two more minutes) until one of them has failed an attempt (the sweeper sends
        # them at its next minute).
        log(f"DMP failing {OUTAGE} s, while reports are validated")
        (tmp / "down").touch()
        started = time.monotonic()
        manage(env, code=batch.replace("{rounds}", "0").replace("{documents}", str(DMP_DURING_OUTAGE)))
        failed = 0
        while time.monotonic() - started < OUTAGE or (not failed and time.monotonic() - started < OUTAGE + 120):
            failed = int(manage(env, code=SHARES_FAILED).split("FAILED", 1)[1])
            time.sleep(5)
        (tmp / "down").unlink()
        log(f"DMP back after {time.monotonic() - started:.0f} s; {failed} shares had met it")

        log("database connections terminated")
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [dbname],
            )
        for n in range(5):
            poster.post(f"après la coupure {n}")

        # Every row reaches an end: lease expiry + the sweeper (every minute) + backoff.
        deadline = time.monotonic() + LEASE + 600
        while True:
            state = json.loads(manage(env, code=COUNT).split("COUNT", 1)[1])
            rows = state["rows"]
            waiting = [r for r in rows if r[1] not in ("sent", "failed")]
            if not waiting or time.monotonic() > deadline:
                break
            log(f"{len(waiting)} deliveries not ended yet")
            time.sleep(15)
        time.sleep(3)
        with sink.lock:
            ids, times = list(sink.ids), list(sink.times)
        published = tmp / "published"
        ids += ["dmp:" + key for key in (published.read_text().split() if published.exists() else [])]
        counts: dict[str, int] = {}
        for message_id in ids:
            counts[message_id] = counts.get(message_id, 0) + 1
        # A row's identifier is given at its first claim: a row never claimed has none,
        # and nothing received without an identifier counts for it.
        expected = {r[0] for r in rows if r[0] and r[0] != "dmp:"}
        received = sum(1 for r in rows if r[0] in expected and counts.get(r[0]))
        # How the copies are counted (issue #25):
        # - folded: the same identifier received more than once. A row whose lease expired
        #   (its worker killed after the relay's acceptance, before the row was marked sent)
        #   is sent again with its first attempt's Message-ID (the DMP: idempotency key):
        #   the reader's mail client (the DMP) folds the copies. Counted apart, never hidden.
        # - duplicates: a copy the reader would see twice: received under an identifier no
        #   row holds (or none), or one notification with two e-mail rows (two identifiers).
        resent = sum(n - 1 for message_id, n in counts.items() if message_id in expected and n > 1)
        duplicates = sum(n for message_id, n in counts.items() if message_id not in expected)
        duplicates += state["doubled_rows"]
        stuck = len(waiting)
        lost = len(rows) - received - stuck
        print(
            f"faults: {len(rows)} deliveries, received {received}, duplicates {duplicates}, lost {lost}, "
            f"stuck {stuck}; {poster.saves} saves during outages, {len(poster.errors)} answered as errors; "
            f"{resent} re-sent with their first Message-ID (folded)"
        )
        left = ", ".join(f"{name} {n}" for name, n in in_flight)
        print(window_line(rows, ids, times, kills, concurrency=2) + f"; left sending by each kill: {left}")
        for error in poster.errors[:10]:
            log(f"answered as an error: {error}")
        return 0 if (duplicates, lost, stuck, len(poster.errors)) == (0, 0, 0, 0) else 1
    finally:
        processes.stop_all()
        sink.stop()
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
