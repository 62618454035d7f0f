"""Shared fixtures: the personas every app's tests use (STYLE.md, "Tests").

- `person`: Mme Jeanne Martin, accompanied by `structure` (EHPAD), with a portal account;
- `carer`: her daughter (aidant), no right until granted;
- `legal_rep`: her guardian (tuteur), decides with/for her;
- `referent`: referent of `structure` (team default: write everywhere);
- `nurse`: nurse of `structure` (team default rights);
- `external_pro`: a liberal physiotherapist added to the circle, no right yet;
- `other_pro`: a professional of `other_structure`, not in the circle;
- `stranger`: an account with no link to anyone.
Professionals have TOTP enabled so the MFA rule lets them through.
"""

from __future__ import annotations

import os

import pytest
from django.test import Client

from coordination import services
from coordination.models import CircleRole, TeamRole
from tests.factories import ProfessionalFactory, StructureFactory, UserFactory, activate_totp

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_configure(config):
    # Tasks run in-process in tests, even when a broker is configured; tests that
    # need the real worker use the `celery_worker` fixture, which switches this off.
    from portal.celery import app

    app.conf.task_always_eager = True


def need_service(available: bool, what: str) -> None:
    """Skip when a service is missing, except in CI (REQUIRE_SERVICES=1) where it fails."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available")


@pytest.fixture
def admin_user(db):
    user = UserFactory(email="admin@exemple.fr", is_staff=True, is_superuser=True)
    activate_totp(user)
    return user


@pytest.fixture
def structure(db):
    return StructureFactory(name="EHPAD Les Tilleuls", finess="750000001", kind="ehpad")


@pytest.fixture
def other_structure(db):
    return StructureFactory(name="SSIAD du Canal", finess="750000002", kind="ssiad")


def _pro(email: str, profession: str, first: str, last: str):
    professional = ProfessionalFactory(
        user=UserFactory(email=email, first_name=first, last_name=last), profession=profession
    )
    activate_totp(professional.user)
    return professional


@pytest.fixture
def referent(structure, admin_user):
    pro = _pro("referent@exemple.fr", "coordinateur", "Rémi", "Référent")
    services.team_member_add(
        actor=admin_user, structure=structure, professional=pro, role=TeamRole.REFERENT, is_structure_admin=True
    )
    return pro.user


@pytest.fixture
def nurse(structure, admin_user):
    pro = _pro("infirmiere@exemple.fr", "infirmier", "Inès", "Infirmière")
    services.team_member_add(actor=admin_user, structure=structure, professional=pro, role=TeamRole.NURSE)
    return pro.user


@pytest.fixture
def other_pro(other_structure, admin_user):
    pro = _pro("autre@exemple.fr", "aide_soignant", "Octave", "Ailleurs")
    services.team_member_add(actor=admin_user, structure=other_structure, professional=pro, role=TeamRole.CARE)
    return pro.user


@pytest.fixture
def person_user(db):
    return UserFactory(email="jeanne.martin@exemple.fr", first_name="Jeanne", last_name="Martin")


@pytest.fixture
def person(structure, referent, nurse, person_user, admin_user):
    return services.person_create(
        actor=admin_user,
        structure=structure,
        user=person_user,
        birth_name="MARTIN",
        birth_first_names="Jeanne Marie",
        first_name="Jeanne",
        birth_date="1938-04-12",
        sex="F",
        birth_place_insee="75056",
    )


@pytest.fixture
def carer(person, admin_user):
    user = UserFactory(email="fille@exemple.fr", first_name="Claire", last_name="Martin")
    services.carer_link_create(actor=admin_user, person=person, user=user, relationship="aidant")
    return user


@pytest.fixture
def legal_rep(person, admin_user):
    user = UserFactory(email="tuteur@exemple.fr", first_name="Louis", last_name="Tuteur")
    services.carer_link_create(actor=admin_user, person=person, user=user, relationship="tuteur")
    return user


@pytest.fixture
def external_pro(person, person_user):
    pro = _pro("kine@exemple.fr", "kinesitherapeute", "Karim", "Kiné")
    services.circle_member_add(actor=person_user, person=person, role=CircleRole.THERAPIST, professional=pro)
    return pro.user


@pytest.fixture
def stranger(db):
    return UserFactory(email="inconnu@exemple.fr", first_name="Ivan", last_name="Connu")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the `celery_worker` process (a test module may override it)."""
    return {}


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port; `.messages` holds what it received."""
    import email
    import socket

    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(
                {
                    "to": envelope.rcpt_tos,
                    "from": envelope.mail_from,
                    "message": email.message_from_bytes(envelope.content),
                }
            )
            return "250 Message accepted for delivery"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    handler.url = f"smtp://127.0.0.1:{port}"
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def celery_worker(transactional_db, settings, worker_env):
    """A real Celery worker process on the configured broker, using the test database.

    Needs PostgreSQL (the worker is another process: it cannot see an in-memory
    SQLite database) and CELERY_BROKER_URL. Tests using it run in transactional mode
    so that what they write is committed and visible to the worker.
    """
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.db import connection

    from portal.celery import app

    need_service(bool(settings.CELERY_BROKER_URL), "CELERY_BROKER_URL (Redis)")
    need_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": settings.CELERY_BROKER_URL,
        "EMAIL_URL": os.environ.get("EMAIL_URL", ""),
        **worker_env,
    }
    queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "-l",
            "warning",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
    )
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the Celery worker exited with code {process.returncode}")
            if app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=1):
                break
        else:
            pytest.fail("the Celery worker did not start within 60 s")
        yield process
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = previous
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def serafin_codes(db):
    """The SERAFIN-PH codes come from a data migration; a transactional test elsewhere in
    the run (browser, worker) empties every table after itself, so reload them then."""
    from reference.models import SerafinCode

    if not SerafinCode.objects.exists():
        from reference.loading import load_serafin_ph

        load_serafin_ph(SerafinCode)
