"""`make prod-smoke`: the production layout, run for real on this machine, checked over HTTP.

Starts, each by pid in its own process group and in its own working directory (as on
separate hosts): a Redis, moto's S3 server, two gunicorn web processes (web1, web2), one
Celery worker and one beat; a throwaway PostgreSQL database; an SMTP sink (aiosmtpd, in
this process) standing for the mail and MSSanté relays. Then:

1. a professional signs in on web 1 with password and TOTP;
2. uploads a document on web 1; it lands in the bucket, not on a disk;
3. downloads it from web 2 (same session: sessions are in the database);
4. sends it by MSSanté from web 2: the worker reads it from the bucket, the sink gets it;
5. a notification reaches the person by e-mail through the worker;
6. a batch of deliveries: the worker is killed (SIGKILL) in the middle, started again,
   and every delivery must end sent, none lost, none sent twice (copies of one delivery
   re-sent after a lost worker carry the same Message-ID and count once).

Stops everything it started, by pid, and drops the database. Exits 1 on any failure.
Environment: PROD_SMOKE_PG (default postgres://postgres@127.0.0.1:5432/postgres),
PROD_SMOKE_DB_PREFIX (default prod_smoke), PROD_SMOKE_BATCH (20), PROD_SMOKE_KEEP=1 keeps
the working directory for inspection.
"""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import requests

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))

from tests.uploads_corpus import CLEAN_PDF  # noqa: E402

BUCKET = "portal-prod-smoke"
S3_KEY, S3_SECRET, S3_REGION = "smoke", "smoke-secret", "eu-west-3"
STARTED = time.monotonic()
BATCH_STATUS = "SELECT status, count(*) FROM notifications_delivery WHERE id = ANY(%s) GROUP BY status"
# Notifications to the person, queued at commit to the broker like any page's would be.
NOTIFY = """
import json
from django.db import transaction
from common.notify import notify
from coordination.models import Person
from notifications.models import Delivery
person = Person.objects.get(pk={person})
with transaction.atomic():
    for _ in range({count}):
        notify("documents.reviewed", person=person, recipients=[person.user])
ids = Delivery.objects.filter(user=person.user, channel="email").order_by("-pk").values_list("pk", flat=True)
print(json.dumps({{"ids": list(ids[:{count}])}}))
"""


def say(message: str) -> None:
    print(f"prod-smoke [{time.monotonic() - STARTED:6.1f} s] {message}", flush=True)


class Failed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)
    say(f"ok: {message}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(what: str, predicate, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise Failed(f"{what}: not within {timeout:.0f} s")


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits), as allauth checks it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((at or time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


# --- Processes -----------------------------------------------------------------------------------


class Processes:
    def __init__(self, root: Path):
        self.root = root
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], *, cwd: Path, env: dict) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S603
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.running[name] = process
        say(f"started {name} (pid {process.pid})")
        return process

    def alive(self, name: str) -> bool:
        return name in self.running and self.running[name].poll() is None

    def kill(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        process = self.running.pop(name, None)
        if process is None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        say(f"stopped {name} (pid {process.pid}, signal {signal.Signals(sig).name})")

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.kill(name)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.root / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


# --- SMTP sink -----------------------------------------------------------------------------------


class Sink:
    """An SMTP server (aiosmtpd) keeping every message; `delay` slows each one down."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[dict] = []
        self.delay = 0.0
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content)
        with self.lock:
            self.messages.append({"to": list(envelope.rcpt_tos), "message": message, "at": time.time()})
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[dict]:
        with self.lock:
            return [m for m in self.messages if address in m["to"]]


# --- HTTP ----------------------------------------------------------------------------------------


class PlainHTTPJar(requests.cookies.RequestsCookieJar):
    """The portal runs with production settings (Secure cookies) over plain HTTP here:
    keep its cookies sendable, as a TLS proxy in front would make them travel."""

    def set_cookie(self, cookie, *args, **kwargs):
        cookie.secure = False
        return super().set_cookie(cookie, *args, **kwargs)


def browser() -> requests.Session:
    session = requests.Session()
    session.cookies = PlainHTTPJar()
    return session


def describe(response) -> str:
    """Status, redirect and the page's error messages, for a failure message."""
    errors = re.findall(r'class="[^"]*(?:error|errorlist|alert)[^"]*"[^>]*>(.*?)<', response.text, flags=re.S)
    return f"{response.status_code} {response.headers.get('Location', '')} {[e.strip() for e in errors][:5]}"


def csrf(session: requests.Session) -> str:
    return next(cookie.value for cookie in session.cookies if cookie.name == "csrftoken")


def post(session: requests.Session, url: str, data: dict, files=None, referer: str | None = None):
    headers = {"Referer": referer or url}
    return session.post(
        url, data={**data, "csrfmiddlewaretoken": csrf(session)}, files=files, headers=headers, allow_redirects=False
    )


# --- The run -------------------------------------------------------------------------------------


class Smoke:
    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="portal-prod-smoke."))
        self.processes = Processes(self.root)
        self.pg_url = os.environ.get("PROD_SMOKE_PG", "postgres://postgres@127.0.0.1:5432/postgres")
        prefix = os.environ.get("PROD_SMOKE_DB_PREFIX", "prod_smoke")
        self.db_name = f"{prefix}_{int(time.time())}_{os.getpid()}"
        self.batch = int(os.environ.get("PROD_SMOKE_BATCH", "20"))
        self.sink: Sink | None = None
        self.dirs = {name: self.root / name for name in ("web1", "web2", "worker")}

    # Services ------------------------------------------------------------------------------------

    def admin_sql(self, sql: str) -> None:
        with psycopg.connect(self.pg_url, autocommit=True) as connection:
            connection.execute(sql)

    def db_url(self) -> str:
        parsed = urlparse(self.pg_url)
        return parsed._replace(path=f"/{self.db_name}").geturl()

    def sql(self, query: str, params=()) -> list[tuple]:
        with psycopg.connect(self.db_url()) as connection:
            return connection.execute(query, params).fetchall()

    def start_services(self) -> None:
        for folder in self.dirs.values():
            (folder / "var").mkdir(parents=True)
        self.admin_sql(f'CREATE DATABASE "{self.db_name}"')
        say(f"created database {self.db_name}")
        self.redis_port = free_port()
        self.processes.start(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            cwd=self.root,
            env=dict(os.environ),
        )
        self.s3_port = free_port()
        self.processes.start(
            "moto",
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)],
            cwd=self.root,
            env=dict(os.environ),
        )
        self.sink = Sink()
        self.sink.controller.start()
        say(f"SMTP sink on 127.0.0.1:{self.sink.port}")

        def redis_up():
            try:
                with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    return connection.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        wait_until("Redis answers PING", redis_up, 30)
        wait_until("moto answers", lambda: self._http_ok(f"http://127.0.0.1:{self.s3_port}/moto-api/"), 60)
        import boto3

        self.s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{self.s3_port}",
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
            region_name=S3_REGION,
        )
        self.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
        say(f"bucket {BUCKET} created")

    @staticmethod
    def _http_ok(url: str) -> bool:
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def env(self, host: str) -> dict:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")}
        redis = f"redis://127.0.0.1:{self.redis_port}"
        smtp = f"smtp://127.0.0.1:{self.sink.port}?timeout=10"
        return {
            **keep,
            "PYTHONPATH": str(REPO),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "0",
            "SECRET_KEY": "prod-smoke-secret-key-not-for-anything-else-0123456789abcdef",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": "http://127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "VAR_DIR": str(self.dirs[host] / "var"),
            "DATABASE_URL": self.db_url(),
            "CELERY_BROKER_URL": f"{redis}/0",
            "CACHE_URL": f"{redis}/1",
            "STORAGE_URL": f"s3+http://{S3_KEY}:{S3_SECRET}@127.0.0.1:{self.s3_port}/{BUCKET}?region={S3_REGION}",
            "EMAIL_URL": smtp,
            "MSSANTE_EMAIL_URL": smtp,
            "LOG_FORMAT": "json",
        }

    def manage(self, host: str, *args: str, timeout: float = 600) -> str:
        result = subprocess.run(  # noqa: S603
            [sys.executable, str(REPO / "manage.py"), *args],
            cwd=self.dirs[host],
            env=self.env(host),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise Failed(f"manage.py {' '.join(args[:1])} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        return result.stdout

    def shell(self, code: str) -> dict:
        out = self.manage("worker", "shell", "-c", code)
        return json.loads(out.strip().splitlines()[-1])

    def prepare(self) -> None:
        say("manage.py migrate")
        self.manage("web1", "migrate", "--noinput")
        say("manage.py seed_demo --force (documents go to the bucket)")
        self.manage("web1", "seed_demo", "--force")
        say("manage.py collectstatic (web1, copied to web2 as its own release would be)")
        self.manage("web1", "collectstatic", "--noinput", "-v", "0")
        shutil.copytree(self.dirs["web1"] / "var" / "static", self.dirs["web2"] / "var" / "static")
        self.info = self.shell(
            "import json; from allauth.mfa.models import Authenticator; from allauth.mfa.utils import decrypt; "
            "from portal.models import User; from coordination.models import Person; "
            "from portal.management.commands.seed_demo import DEMO_PASSWORD, DOMAIN; "
            "pro = User.objects.get(email=f'referente@{DOMAIN}'); "
            "person = Person.objects.get(user__email=f'jeanne.martin@{DOMAIN}'); "
            "secret = decrypt(Authenticator.objects.get(user=pro, type='totp').data['secret']); "
            "import common.outbox as outbox; "
            "print(json.dumps({'email': pro.email, 'password': DEMO_PASSWORD, 'secret': secret, "
            "'person': person.pk, 'person_email': person.user.email, "
            "'lease': getattr(outbox, 'LEASE_SECONDS', None)}))"
        )
        say(f"professional {self.info['email']}, person #{self.info['person']}, outbox lease {self.info['lease']}")

    def start_portal(self) -> None:
        self.web = {}
        for host in ("web1", "web2"):
            port = free_port()
            self.web[host] = f"http://127.0.0.1:{port}"
            self.processes.start(
                host,
                [
                    str(BIN / "gunicorn"),
                    "-c",
                    str(REPO / "gunicorn.conf.py"),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--pythonpath",
                    str(REPO),
                    "portal.wsgi:application",
                ],
                cwd=self.dirs[host],
                env=self.env(host),
            )
        self.start_worker()
        self.processes.start(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "portal",
                "beat",
                "-l",
                "INFO",
                "--schedule",
                str(self.dirs["worker"] / "var" / "celerybeat-schedule"),
            ],
            cwd=self.dirs["worker"],
            env=self.env("worker"),
        )
        for host, url in self.web.items():
            wait_until(f"{host} /readyz answers 200", lambda url=url: self._http_ok(f"{url}/readyz"), 120)
            say(f"{host} ready at {url}")

    def start_worker(self) -> None:
        self.processes.start(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "portal",
                "worker",
                "-l",
                "INFO",
                "--concurrency",
                "2",
                "--hostname",
                f"smoke-{int(time.time())}@%h",
            ],
            cwd=self.dirs["worker"],
            env=self.env("worker"),
        )

    # The checks over HTTP -------------------------------------------------------------------------

    def sign_in(self) -> requests.Session:
        session = browser()
        web1 = self.web["web1"]
        session.get(f"{web1}/accounts/login/")
        response = post(
            session, f"{web1}/accounts/login/", {"login": self.info["email"], "password": self.info["password"]}
        )
        check(
            response.status_code == 302 and "/accounts/2fa/authenticate/" in response.headers["Location"],
            f"web1: the password leads to the TOTP step ({describe(response)})",
        )
        session.get(f"{web1}/accounts/2fa/authenticate/")
        # A code with at least 5 s left in its period.
        if 30 - time.time() % 30 < 5:
            time.sleep(6)
        response = post(session, f"{web1}/accounts/2fa/authenticate/", {"code": totp(self.info["secret"])})
        check(response.status_code == 302, f"web1: TOTP code accepted ({response.status_code})")
        home = session.get(f"{web1}/pro/", allow_redirects=False)
        check(home.status_code == 200, "web1: the professional's dashboard answers 200 after sign-in")
        return session

    def documents(self, session: requests.Session) -> int:
        web1, web2 = self.web["web1"], self.web["web2"]
        person = self.info["person"]
        page = f"{web1}/coordination/personnes/{person}/documents/"
        check(session.get(page).status_code == 200, "web1: the person's documents page")
        title = f"Compte rendu prod-smoke {int(time.time())}"
        response = post(
            session,
            page,
            {"doc_type": "lettre_liaison", "title": title, "validate": "on"},
            files={"file": ("compte-rendu.pdf", CLEAN_PDF, "application/pdf")},
        )
        check(response.status_code == 302, f"web1: document uploaded ({describe(response)})")
        [(document_id, name, sha256)] = self.sql(
            "SELECT id, file, sha256 FROM documents_document WHERE title = %s", (title,)
        )
        stored = self.s3.get_object(Bucket=BUCKET, Key=name)["Body"].read()
        check(
            stored == CLEAN_PDF and hashlib.sha256(stored).hexdigest() == sha256,
            "the file is in the bucket, same SHA-256",
        )
        local = [
            p
            for d in self.dirs.values()
            for p in (d / "var").rglob("*")
            if p.is_file() and name.split("/")[-1] in p.name
        ]
        check(not local, "no copy of the file on any host's disk")
        download = session.get(f"{web2}/coordination/documents/{document_id}/telecharger/")
        check(
            download.status_code == 200 and download.content == CLEAN_PDF,
            "web2: the same session downloads the document, streamed from the bucket",
        )
        check(
            BUCKET not in str(download.headers) and "X-Amz" not in str(download.headers),
            "no bucket URL in the download's headers",
        )
        stranger = browser().get(f"{web2}/coordination/documents/{document_id}/telecharger/", allow_redirects=False)
        check(
            stranger.status_code == 302 and "/accounts/login/" in stranger.headers["Location"],
            "web2: anonymous download sent to the sign-in page",
        )
        # MSSanté, from web2; the worker (another directory) reads the file from the bucket.
        recipient = "dr.durand@medecin.mssante.fr"
        response = post(
            session,
            f"{web2}/coordination/documents/{document_id}/mssante/",
            {"recipient_address": recipient, "recipient_label": "Dr Durand"},
        )
        check(response.status_code == 302, "web2: MSSanté sending asked")
        request_id = response.headers.get("X-Request-ID", "")
        [message] = wait_until("the MSSanté message reaches the relay", lambda: self.sink.to(recipient), 90)
        parts = [p for p in message["message"].walk() if p.get_filename()]
        check(
            len(parts) == 1 and parts[0].get_payload(decode=True) == CLEAN_PDF,
            "the worker sent the document by MSSanté, attachment identical",
        )
        worker_log = (self.root / "worker.log").read_text(errors="replace")
        check(
            request_id and request_id in worker_log,
            f"the worker's JSON log names the request that queued the sending ({request_id})",
        )
        return document_id

    def notify_person(self) -> None:
        address = self.info["person_email"]
        before = len(self.sink.to(address))
        self.shell(NOTIFY.format(person=self.info["person"], count=1))
        wait_until("the person's notification e-mail", lambda: len(self.sink.to(address)) > before, 90)
        say(f"ok: a notification reached the person ({address}) through the worker")

    def kill_mid_batch(self) -> None:
        address = self.info["person_email"]
        self.sink.delay = 0.4
        start = time.time()
        created = self.shell(NOTIFY.format(person=self.info["person"], count=self.batch))["ids"]
        check(len(created) == self.batch, f"{self.batch} e-mail deliveries queued")
        wait_until(
            "the worker starts the batch",
            lambda: len([m for m in self.sink.to(address) if m["at"] >= start]) >= 3,
            90,
            0.1,
        )
        self.processes.kill("worker", signal.SIGKILL)
        received_at_kill = len([m for m in self.sink.to(address) if m["at"] >= start])
        say(f"worker killed (SIGKILL) after {received_at_kill} of {self.batch} messages")
        self.sink.delay = 0.0
        self.start_worker()

        def all_sent():
            rows = self.sql(BATCH_STATUS, (created,))
            return dict(rows).get("sent") == len(created) and dict(rows)

        timeout = (self.info["lease"] or 0) + 150
        try:
            wait_until(f"every delivery of the batch sent (lease {self.info['lease']} s)", all_sent, timeout, 2)
        except Failed:
            rows = self.sql(BATCH_STATUS, (created,))
            raise Failed(f"after the restart the batch is {dict(rows)}: some deliveries are stuck or lost") from None
        messages = [m for m in self.sink.to(address) if m["at"] >= start]
        ids = [m["message"]["Message-ID"] for m in messages]
        distinct = set(ids)
        check(
            len(distinct) == self.batch,
            f"{self.batch} distinct messages received ({len(messages)} copies in all; "
            f"{len(messages) - len(distinct)} re-sent copies share their Message-ID)",
        )

    def run(self) -> int:
        try:
            self.start_services()
            self.prepare()
            self.start_portal()
            session = self.sign_in()
            self.documents(session)
            self.notify_person()
            self.kill_mid_batch()
            say("OK")
            return 0
        except (Failed, subprocess.TimeoutExpired, requests.RequestException) as error:
            say(f"FAILED: {error}")
            if os.environ.get("PROD_SMOKE_HOLD"):
                say(f"holding {os.environ['PROD_SMOKE_HOLD']} s for inspection: {getattr(self, 'web', {})}")
                time.sleep(int(os.environ["PROD_SMOKE_HOLD"]))
            for name in ("web1", "web2", "worker", "beat"):
                tail = self.processes.log_tail(name, 25)
                if tail:
                    print(f"----- {name}.log (last lines)\n{tail}", file=sys.stderr)
            return 1
        finally:
            self.processes.stop_all()
            if self.sink:
                self.sink.controller.stop()
            try:
                self.admin_sql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
                say(f"dropped database {self.db_name}")
            except psycopg.Error as error:
                say(f"could not drop {self.db_name}: {error}")
            if os.environ.get("PROD_SMOKE_KEEP") == "1":
                say(f"kept {self.root}")
            else:
                shutil.rmtree(self.root, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(Smoke().run())
