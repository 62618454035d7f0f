"""A notification travels for real: Redis broker, a Celery worker process, an SMTP server."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from common.notify import notify
from notifications.models import Delivery, NotificationPreference


@pytest.fixture
def worker_env(smtp_server):
    return {"EMAIL_URL": smtp_server.url}


def _body(message) -> str:
    parts = [message] if not message.is_multipart() else list(message.walk())
    return "\n".join(
        p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8")
        for p in parts
        if p.get_content_maintype() == "text"
    )


@pytest.mark.services
def test_it_delivers_an_email_through_the_real_worker_within_seconds(
    celery_worker, smtp_server, person, nurse, referent
):
    NotificationPreference.objects.create(
        user=nurse, event_type="liaison.remarkable_event", frequency="immediate", in_app=True, email=True, sms=False
    )
    with transaction.atomic():
        notify("liaison.remarkable_event", person=person, actor=referent)

    deadline = time.monotonic() + 20
    received = []
    while time.monotonic() < deadline and not received:
        received = [m for m in smtp_server.messages if nurse.email in m["to"]]
        time.sleep(0.2)
    assert received, "no e-mail reached the SMTP server within 20 s"
    message = received[0]["message"]
    body = _body(message)
    assert "Un évènement remarquable a été signalé" in body
    assert "/coordination/personnes/" in body
    for detail in ("MARTIN", "Martin", "Jeanne", "1938"):
        assert detail not in body and detail not in message["Subject"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Delivery.objects.get(user=nurse).status != "sent":
        time.sleep(0.2)
    assert Delivery.objects.get(user=nurse).status == "sent"
    assert len([m for m in smtp_server.messages if nurse.email in m["to"]]) == 1
