"""A saved change is never answered as an error: with the broker unreachable, or with no
broker and the e-mail relay down, the pages answer as saved, the outbox rows wait, and
the sweepers send each exactly once when the dependency is back (issue #25)."""

from __future__ import annotations

import datetime
import socket

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from coordination.models import Relationship
from documents.models import Document
from notifications.models import Delivery, DeliveryStatus, NotificationPreference
from notifications.tasks import resume_deliveries
from portal.models import InvitationEmail, PortalInvitation
from portal.tasks import resume_invitation_emails
from ppa import tasks as ppa_tasks
from ppa.models import VersionStatus
from tests.conftest import login
from tests.liaison.conftest import pdf_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("documents_media", "serafin_codes")]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def documents_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def broker_down():
    """CELERY_BROKER_URL pointing at a closed port: publishing fails (OperationalError)."""
    from portal.celery import app

    previous = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = f"redis://127.0.0.1:{_closed_port()}/0"
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.conf.task_always_eager, app.conf.broker_url = previous
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def relay_down(settings):
    """No broker (tasks in the web process) and the SMTP relay refusing connections."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _closed_port()
    settings.EMAIL_TIMEOUT = 2


def _wants_email(*users):
    for user in users:
        for event_type in ("liaison.alert", "documents.new", "ppa.validated"):
            NotificationPreference.objects.update_or_create(
                user=user, event_type=event_type, defaults={"frequency": "immediate", "email": True}
            )


def _post_alert(client, person, addressee):
    return client.post(
        reverse("liaison:notebook", args=[person.pk]),
        {
            "category": "observations",
            "kind": "general",
            "text": "Chute dans la chambre, pas de blessure visible.",
            "scope": "shared",
            "addressees": [addressee.pk],
            "is_important": "on",
        },
    )


def _upload(client, person):
    return client.post(
        reverse("documents:list", args=[person.pk]),
        {"doc_type": "compte_rendu", "title": "Compte rendu de visite", "file": pdf_file(), "validate": "on"},
    )


def _validate_plan(filled, referent, person_user):
    assert login(referent).post(f"/ppa/versions/{filled.pk}/soumettre/").status_code == 302
    assert login(person_user).post(f"/ppa/versions/{filled.pk}/signer/", {"role": "person"}).status_code == 302
    return login(referent).post(f"/ppa/versions/{filled.pk}/signer/", {"role": "referent"})


def _invite(client, person):
    return client.post(
        reverse("portal_invitation_create", args=[person.pk]),
        {"email": "fille.martin@exemple.fr", "relationship": Relationship.values[0]},
    )


def _post_all(django_capture_on_commit_callbacks, person, nurse, referent, person_user, filled):
    """The four pages, each posted by who would post it; returns their answers."""
    answers = {}
    with django_capture_on_commit_callbacks(execute=True):
        answers["alert"] = _post_alert(login(nurse), person, referent)
    with django_capture_on_commit_callbacks(execute=True):
        answers["upload"] = _upload(login(referent), person)
    with django_capture_on_commit_callbacks(execute=True):
        answers["ppa"] = _validate_plan(filled, referent, person_user)
    with django_capture_on_commit_callbacks(execute=True):
        answers["invite"] = _invite(login(referent), person)
    return answers


def _assert_saved(answers, person, filled):
    for name, response in answers.items():
        assert response.status_code == 302, (name, response.status_code)
    assert person.transmissions.filter(text__startswith="Chute").exists()
    assert Document.objects.filter(person=person, title="Compte rendu de visite").exists()
    filled.refresh_from_db()
    assert filled.status == VersionStatus.VALIDATED
    assert PortalInvitation.objects.filter(person=person, email="fille.martin@exemple.fr").exists()


def _sweep_later(minutes):
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=minutes), tick=False):
        return resume_deliveries() + resume_invitation_emails() + ppa_tasks.file_missing_plan_documents()


def test_with_the_broker_unreachable_every_page_answers_saved_and_the_sweeper_sends_each_once(
    broker_down, django_capture_on_commit_callbacks, person, nurse, referent, person_user, filled
):
    _wants_email(nurse, referent)
    mail.outbox.clear()
    answers = _post_all(django_capture_on_commit_callbacks, person, nurse, referent, person_user, filled)
    _assert_saved(answers, person, filled)
    # Nothing left: every sending waits in its outbox.
    assert mail.outbox == []
    deliveries = list(Delivery.objects.all())
    assert deliveries and {d.status for d in deliveries} == {DeliveryStatus.PENDING}
    assert InvitationEmail.objects.get().status == "pending"
    filled.refresh_from_db()
    assert filled.document_id is None  # the PDF is not filed yet

    # The broker is back (here: tasks in process): the sweepers send each exactly once.
    from portal.celery import app

    app.conf.task_always_eager = True
    _sweep_later(2)
    # Filing the PPA's PDF was itself news (a new document): its deliveries go at the next sweep.
    _sweep_later(4)
    deliveries = list(Delivery.objects.all())
    assert {d.status for d in deliveries} == {DeliveryStatus.SENT}
    assert InvitationEmail.objects.get().status == "sent" and InvitationEmail.objects.get().link == ""
    filled.refresh_from_db()
    assert filled.document_id is not None
    recipients = [address for message in mail.outbox for address in message.to]
    assert len(recipients) == len(deliveries) + 1  # one per delivery, and the invitation
    assert recipients.count("fille.martin@exemple.fr") == 1
    assert len({m.message()["Message-ID"] for m in mail.outbox}) == len(mail.outbox)
    # Sweeping again sends nothing more.
    assert _sweep_later(30) == 0
    assert len(mail.outbox) == len(deliveries) + 1


def test_with_no_broker_and_the_relay_down_every_page_answers_saved_and_the_error_is_retried(
    relay_down, settings, django_capture_on_commit_callbacks, person, nurse, referent, person_user, filled
):
    _wants_email(nurse, referent)
    answers = _post_all(django_capture_on_commit_callbacks, person, nurse, referent, person_user, filled)
    _assert_saved(answers, person, filled)
    deliveries = list(Delivery.objects.all())
    assert deliveries and {d.status for d in deliveries} == {DeliveryStatus.RETRY}
    assert all(d.last_error and d.attempts == 1 and d.next_attempt_at for d in deliveries)
    invitation_email = InvitationEmail.objects.get()
    assert invitation_email.status == "retry" and "Connection" in invitation_email.last_error
    # The relay is back: the next sweep after the backoff sends each once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    _sweep_later(2)
    _sweep_later(4)  # the deliveries of the PPA's PDF, filed at the first sweep
    deliveries = list(Delivery.objects.all())
    assert {d.status for d in deliveries} == {DeliveryStatus.SENT}
    assert InvitationEmail.objects.get().status == "sent"
    assert len(mail.outbox) == len(deliveries) + 1
    assert _sweep_later(30) == 0
