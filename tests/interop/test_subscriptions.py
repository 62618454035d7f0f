"""Notifications to the structure's software ("alerte dans le DUI"): a Subscription
(rest-hook) delivers one notification per event through the notifications' outbox
(claimed once, retried with backoff on a failing endpoint, never twice), carries only
references, and stops when the subscription is stopped. The endpoint is a real local
HTTP server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from fhir.resources import construct_fhir_element

from coordination import services
from coordination.models import CircleMember, Level
from interop.models import Subscription, SubscriptionDelivery
from liaison import services as liaison
from notifications.models import Delivery, DeliveryStatus, Notification
from notifications.tasks import deliver
from tests.interop.test_resources import subscription_body

pytestmark = pytest.mark.django_db


class HookServer:
    """A local endpoint that records what it receives and answers the statuses queued."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", 0))
                server.requests.append({"headers": dict(self.headers), "body": json.loads(self.rfile.read(length))})
                status = server.statuses.pop(0) if server.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/notifications"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hook():
    server = HookServer()
    yield server
    server.close()


@pytest.fixture
def subscription(api, person, hook) -> dict:
    response = api.post("Subscription", subscription_body(person.pk, hook.url))
    assert response.status_code == 201, response.content
    return response.json()


def write_shared(nurse, person, text="Chute dans la salle de bains ce matin."):
    """A shared transmission (event liaison.transmission_shared); sendings kept for the test to run."""
    with mock.patch("notifications.tasks.deliver.delay"):
        return liaison.transmission_create(actor=nurse, person=person, category="observations", text=text)


def hook_deliveries(dui):
    return Delivery.objects.filter(user=dui.user, channel="rest_hook").order_by("pk")


def test_one_notification_per_event_with_references_only(subscription, dui, nurse, person, hook):
    mail.outbox.clear()
    write_shared(nurse, person)
    write_shared(nurse, person, text="Deuxième transmission.")
    deliveries = list(hook_deliveries(dui))
    assert len(deliveries) == 2
    for delivery in deliveries:
        assert deliver.run(delivery.pk) == "sent"
        assert deliver.run(delivery.pk) == "skipped"  # claimed once: never twice
    assert len(hook.requests) == 2
    body = hook.requests[0]["body"]
    construct_fhir_element("CommunicationRequest", body)
    assert body["basedOn"] == [{"reference": f"Subscription/{subscription['id']}"}]
    assert body["about"] == [{"reference": f"Patient/{person.pk}"}]
    assert body["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "liaison.transmission_shared"
    text = json.dumps(body, ensure_ascii=False)
    for detail in ("Chute", "salle de bains", "MARTIN", "Jeanne", "1938"):
        assert detail not in text
    assert hook.requests[0]["headers"]["Authorization"] == "Bearer secret-du-dui"
    assert hook.requests[0]["headers"]["Idempotency-Key"] == f"notification-{deliveries[0].pk}"
    # Told through its own channel only: nothing in the portal, no e-mail.
    assert not Notification.objects.filter(recipient=dui.user, is_in_app=True).exists()
    assert not [m for m in mail.outbox if dui.user.email in m.to]


def test_a_failing_endpoint_is_retried_with_backoff_then_delivered_once(subscription, dui, nurse, person, hook):
    hook.statuses = [503]
    write_shared(nurse, person)
    [delivery] = hook_deliveries(dui)
    assert deliver.run(delivery.pk) == "retry"  # recorded on the row; the sweeper retries it
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRY and delivery.attempts == 1
    assert delivery.next_attempt_at is not None and "503" in delivery.last_error
    assert Subscription.objects.get(pk=subscription["id"]).last_error == "HTTP 503"
    assert deliver.run(delivery.pk) == "sent"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert len(hook.requests) == 2
    assert hook.requests[0]["headers"]["Idempotency-Key"] == hook.requests[1]["headers"]["Idempotency-Key"]
    assert deliver.run(delivery.pk) == "skipped"
    assert len(hook.requests) == 2


def test_an_unreachable_endpoint_waits_in_the_outbox(subscription, dui, nurse, person, hook):
    hook.close()
    write_shared(nurse, person)
    [delivery] = hook_deliveries(dui)
    assert deliver.run(delivery.pk) == "retry"  # recorded on the row; the sweeper retries it
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRY and "injoignable" in delivery.last_error


def test_it_stops_when_the_subscription_is_stopped(api, subscription, dui, nurse, person, hook):
    write_shared(nurse, person)
    [queued] = hook_deliveries(dui)
    response = api.delete(f"Subscription/{subscription['id']}")
    assert response.status_code == 200 and response.json()["status"] == "off"
    write_shared(nurse, person, text="Après l'arrêt.")
    assert hook_deliveries(dui).count() == 1  # no new delivery
    assert deliver.run(queued.pk) == "failed"  # the one still queued does not leave
    queued.refresh_from_db()
    assert "abonnement arrêté" in queued.last_error
    assert hook.requests == []


def test_it_stops_when_the_person_withdraws_the_right(subscription, dui, nurse, person, person_user, hook):
    member = CircleMember.objects.get(person=person, user=dui.user, ended_at__isnull=True)
    services.grants_set(actor=person_user, member=member, levels={"liaison": Level.NONE})
    write_shared(nurse, person)
    assert not hook_deliveries(dui).exists()


def test_the_software_is_not_told_of_its_own_changes(api, dui, person, nurse, referent, hook):
    import datetime as dt

    from django.utils import timezone

    from agenda import services as agenda
    from tests.interop.test_writes import DUI_APPOINTMENTS, appointment_body

    response = api.post("Subscription", subscription_body(person.pk, hook.url, "agenda.appointment_changed"))
    assert response.status_code == 201, response.content
    with mock.patch("notifications.tasks.deliver.delay"):
        sent = api.put(
            f"Appointment?identifier={DUI_APPOINTMENTS}|RDV-1", appointment_body(person.pk, nurse.professional.pk)
        )
        assert sent.status_code == 201
        assert not hook_deliveries(dui).exists()
        start = timezone.now() + dt.timedelta(days=3)
        agenda.event_create(
            actor=referent,
            person=person,
            title="Soins",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            participants=[nurse.professional],
        )
    assert hook_deliveries(dui).count() == 1


@pytest.mark.parametrize(
    ("change", "element"),
    [
        ({"event-type": "inconnu.type"}, "Subscription.extension[2]"),
        ({"event-type": "security.new_device"}, "Subscription.extension[2]"),
        ({"endpoint": "http://dui.example.fr/hook"}, "Subscription.channel.endpoint"),
        ({"endpoint": "pas une url"}, "Subscription.channel.endpoint"),
        ({"type": "email"}, "Subscription.channel.type"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_element(api, person, change, element):
    body = subscription_body(person.pk, "https://dui.example.fr/hook", change.get("event-type", "liaison.alert"))
    if "endpoint" in change:
        body["channel"]["endpoint"] = change["endpoint"]
    if "type" in change:
        body["channel"]["type"] = change["type"]
    response = api.post("Subscription", body)
    assert response.status_code == 400
    assert response.json()["issue"][0]["diagnostics"].startswith(element)
    assert not Subscription.objects.exists()


def test_a_subscription_about_someone_out_of_reach_is_404(other_api, person):
    response = other_api.post("Subscription", subscription_body(person.pk, "https://dui.example.fr/hook"))
    assert response.status_code == 404
    assert not Subscription.objects.exists()


def test_a_software_sees_only_its_own_subscriptions(api, other_api, subscription):
    assert other_api.get(f"Subscription/{subscription['id']}").status_code == 404
    assert other_api.get("Subscription").json().get("entry", []) == []
    assert other_api.delete(f"Subscription/{subscription['id']}").status_code == 404
    assert [e["resource"]["id"] for e in api.get("Subscription").json()["entry"]] == [subscription["id"]]


@pytest.mark.services
def test_a_real_worker_delivers_the_notification_once(celery_worker, api, person, nurse, hook):
    response = api.post("Subscription", subscription_body(person.pk, hook.url))
    assert response.status_code == 201
    with transaction.atomic():
        liaison.transmission_create(actor=nurse, person=person, category="observations", text="Vu le médecin.")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not hook.requests:
        time.sleep(0.2)
    assert len(hook.requests) == 1, "the worker did not deliver within 20 s"
    delivery = SubscriptionDelivery.objects.get().delivery
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Delivery.objects.get(pk=delivery.pk).status != "sent":
        time.sleep(0.2)
    assert Delivery.objects.get(pk=delivery.pk).status == "sent"
    time.sleep(1)
    assert len(hook.requests) == 1
