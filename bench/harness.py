"""What bench/throughput.py and bench/load.py share: the server, the HTTP client, sign-in.

These scripts measure the portal from outside, as a browser or a load balancer sees it.
They depend only on

- HTTP URLs (the pages, ``/accounts/login/``, ``/accounts/2fa/authenticate/``);
- management commands (``collectstatic``; ``migrate`` and ``seed_scale`` to prepare the
  database, see bench/README.md);
- settings read from the environment, and the bench-only site in ``bench/benchsite``
  (the portal's settings and URLs plus a bare view);

never on the apps' Python modules, which move. The only knowledge of the data is in a
personas file (``bench/personas/<database>.json``), written from seed_scale's output.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/9"  # not 0/1 (others), not 5/6 (CI)
BENCH_SECRET_KEY = "bench-only-secret-key-not-for-production-" + "0" * 24  # noqa: S105


# --- Statistics --------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (the same definition as the other bench scripts)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- TOTP (RFC 6238, as allauth checks it: SHA-1, 6 digits, 30 s) -----------------------------


def totp(secret: str, at: float | None = None, period: int = 30, digits: int = 6) -> str:
    counter = int((time.time() if at is None else at) // period)
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{value:0{digits}d}"


# --- A small HTTP client with its own cookie jar ------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_ms: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def json(self):
        return json.loads(self.body)


class Http:
    """One browser: a cookie jar and HTTP/1.1 to 127.0.0.1.

    The production settings mark the session and CSRF cookies Secure; over plain HTTP a
    standard cookie jar would never send them back, so this client keeps its own jar and
    sends every cookie it was given. `source` binds the client side to another loopback
    address (127.0.0.x): allauth rate-limits sign-ins per client address (30 a minute),
    and 200 users do not come from one address.
    """

    def __init__(self, port: int, source: str | None = None, timeout: float = 120.0):
        self.port = port
        self.source = source
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(
                HOST, self.port, timeout=self.timeout, source_address=(self.source, 0) if self.source else None
            )
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def _store_cookies(self, message) -> None:
        for raw in message.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                expired = morsel["max-age"] == "0" or "1970" in (morsel["expires"] or "")
                if expired or morsel.value in ("", '""'):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Response:
        all_headers = {"Host": f"{HOST}:{self.port}", "User-Agent": "portal-bench/1"}
        if self.cookies:
            all_headers["Cookie"] = self.cookie_header()
        all_headers.update(headers or {})
        for attempt in (1, 2):
            conn = self._connection()
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=all_headers)
                raw = conn.getresponse()
                data = raw.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had closed: retry once on a new one.
                self.close()
                if attempt == 2:
                    raise
                continue
            elapsed = (time.perf_counter() - started) * 1000
            self._store_cookies(raw.msg)
            if raw.will_close:
                self.close()
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data, elapsed)
        raise AssertionError("unreachable")

    def get(self, path: str, headers: dict | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, fields, headers: dict | None = None) -> Response:
        """A form POST (fields: dict or list of pairs) with the CSRF token it was given."""
        body = urllib.parse.urlencode(fields, doseq=True).encode()
        all_headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"http://{HOST}:{self.port}",
            "Referer": f"http://{HOST}:{self.port}{path}",
        }
        all_headers.update(headers or {})
        return self.request("POST", path, body=body, headers=all_headers)


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"|value="([^"]+)"\s+name="csrfmiddlewaretoken"')


def csrf_from(html: str) -> str | None:
    match = CSRF_INPUT.search(html)
    return (match.group(1) or match.group(2)) if match else None


class SignInError(RuntimeError):
    pass


def sign_in(client: Http, email: str, password: str, totp_secret: str | None = None) -> tuple[int, int | None]:
    """Sign in as a browser does: the login form, then the TOTP step if one is asked.
    Returns the account's id and its professional id (the bare view tells them).

    allauth refuses a TOTP code already used by the same account (for its 30 s period):
    when that happens (a rerun within the period), wait for the next code.
    """
    page = client.get("/accounts/login/")
    token = csrf_from(page.text)
    if page.status != 200 or not token:
        raise SignInError(f"{email}: GET /accounts/login/ answered {page.status} without a form")
    answer = client.post("/accounts/login/", {"csrfmiddlewaretoken": token, "login": email, "password": password})
    if answer.status == 429 or "too many" in answer.text.lower() or "trop de tentatives" in answer.text.lower():
        raise SignInError(f"{email}: sign-in rate-limited (429): use other source addresses or wait")
    if answer.status != 302:
        raise SignInError(f"{email}: the password was refused (status {answer.status})")
    target = answer.location
    if "/2fa/authenticate" in target:
        if not totp_secret:
            raise SignInError(f"{email}: a second factor is asked and no TOTP secret is known")
        for _attempt in range(3):
            step = client.get("/accounts/2fa/authenticate/")
            token = csrf_from(step.text)
            if step.status != 200 or not token:
                raise SignInError(f"{email}: GET /accounts/2fa/authenticate/ answered {step.status}")
            done = client.post("/accounts/2fa/authenticate/", {"csrfmiddlewaretoken": token, "code": totp(totp_secret)})
            if done.status == 302:
                break
            # Code already used in this period (or the clock moved on): next period.
            time.sleep(30 - time.time() % 30 + 0.5)
        else:
            raise SignInError(f"{email}: the TOTP code was refused three times")
    check = client.get("/bench/bare/")
    if check.status != 200:
        raise SignInError(f"{email}: signed in, but the bare view answered {check.status}")
    _ok, user_id, professional_id = check.text.split()
    return int(user_id), None if professional_id == "-" else int(professional_id)


# --- Personas ------------------------------------------------------------------------------------


def database_name(url: str) -> str:
    return urllib.parse.urlparse(url).path.lstrip("/") or "portal"


def load_personas(path: str | None, database_url: str) -> tuple[dict, Path]:
    """The personas file: who signs in and which persons the pages show (see README)."""
    file = Path(path) if path else BENCH_DIR / "personas" / f"{database_name(database_url)}.json"
    if not file.exists():
        raise SystemExit(
            f"No personas file {file}: write one from seed_scale's output (see bench/README.md, "
            "'Throughput against the bare view'), or pass --personas."
        )
    return json.loads(file.read_text(encoding="utf-8")), file


# --- The server ------------------------------------------------------------------------------------


def server_env(database_url: str, cache_url: str, query_count: bool, extra: dict | None = None) -> dict:
    """Production settings: DEBUG off, a secret key, the bench database and Redis cache."""
    env = dict(os.environ)
    for name in ("CELERY_BROKER_URL", "DEBUG", "TESTING", "DATABASE_CONN_MAX_AGE"):
        env.pop(name, None)  # production defaults: tasks in-process, persistent connections
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchsite.settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH_DIR), str(BASE_DIR), env.get("PYTHONPATH", "")])),
            "DEBUG": "0",
            "SECRET_KEY": env.get("BENCH_SECRET_KEY", BENCH_SECRET_KEY),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database_url,
            "CACHE_URL": cache_url,
            "VAR_DIR": env.get("BENCH_VAR_DIR", str(BASE_DIR / "var" / "bench")),
            "EMAIL_URL": env.get("BENCH_EMAIL_URL", "locmem://"),
            "BENCH_QUERY_COUNT": "1" if query_count else "0",
        }
    )
    env.update(extra or {})
    return env


def collectstatic(env: dict) -> None:
    """The production storage serves hashed files from a manifest: collect them once."""
    subprocess.run(  # noqa: S603
        [sys.executable, str(BASE_DIR / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        env=env,
        cwd=BASE_DIR,
        check=True,
    )


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) != 0


@dataclass
class Server:
    """gunicorn with the portal, started and stopped by pid (its own process group)."""

    env: dict
    port: int = DEFAULT_PORT
    worker_class: str = "sync"
    workers: int = 2
    threads: int = 1
    timeout: int = 60
    log_path: Path | None = None
    process: subprocess.Popen | None = field(default=None, init=False)

    def describe(self) -> str:
        threads = f", {self.threads} threads" if self.worker_class == "gthread" or self.threads > 1 else ""
        return f"gunicorn {self.worker_class}, {self.workers} workers{threads}"

    def start(self) -> None:
        if not port_free(self.port):
            raise SystemExit(f"Port {self.port} is already in use: pass --port.")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [
            str(gunicorn),
            "portal.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            "--worker-class",
            self.worker_class,
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--timeout",
            str(self.timeout),
            "--backlog",
            "2048",
            # Not the shared default socket (~/.gunicorn/gunicorn.ctl) of other gunicorns on the machine.
            "--no-control-socket",
            "--chdir",
            str(BASE_DIR),
        ]
        log = open(self.log_path or os.devnull, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603
            command, env=self.env, cwd=BASE_DIR, stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}: see {self.log_path}")
            try:
                if Http(self.port, timeout=5).get("/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer /healthz within 60 s: see {self.log_path}")

    def stop(self) -> None:
        """SIGTERM to the master (it stops its workers), then SIGKILL to its group if needed."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_on_signals() -> None:
    """Ctrl-C, SIGTERM and SIGHUP raise KeyboardInterrupt, so that `finally` stops the server
    (SIGINT too: a shell starting the script in the background would have it ignored)."""

    def interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


# --- The machine -------------------------------------------------------------------------------------


def cpu_times() -> list[int]:
    with open("/proc/stat", encoding="ascii") as stat:
        return [int(x) for x in stat.readline().split()[1:]]


def steal_share(before: list[int], after: list[int]) -> float:
    """Share of CPU time stolen by the hypervisor between two /proc/stat readings."""
    delta = [b - a for a, b in zip(before, after, strict=False)]
    total = sum(delta[:8])
    return delta[7] / total if total and len(delta) > 7 else 0.0


def busy_share(before: list[int], after: list[int]) -> float:
    delta = [b - a for a, b in zip(before, after, strict=False)]
    total = sum(delta[:8])
    idle = delta[3] + delta[4]
    return (total - idle) / total if total else 0.0


def load_average() -> str:
    with open("/proc/loadavg", encoding="ascii") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def machine_description(database_url: str) -> dict:
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="ascii") as info:
        mem_kb = int(info.readline().split()[1])
    description = {"cpus": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kb / 1024 / 1024, 1)}
    try:
        import psycopg

        with psycopg.connect(database_url, connect_timeout=5) as conn:
            description["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
            description["shared_buffers"] = conn.execute("SHOW shared_buffers").fetchone()[0]
            description["database_size"] = conn.execute(
                "SELECT pg_size_pretty(pg_database_size(current_database()))"
            ).fetchone()[0]
    except Exception as error:  # noqa: BLE001 — the figures are still worth printing
        description["postgresql"] = f"unknown ({error.__class__.__name__})"
    try:
        description["commit"] = subprocess.run(  # noqa: S603
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        description["commit"] = "?"
    return description
