"""The digests leave by batches over one connection to a real SMTP relay (aiosmtpd),
with every guarantee of the one-by-one sending: own Message-ID, marked sent at the
relay's acceptance, a refused address fails alone, a relay lost mid-batch loses and
doubles nothing, a lease that expires brings the row back."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from common.notify import Frequency
from notifications.models import Delivery, Notification
from notifications.tasks import build_digests, claim_batch, deliver, deliver_batch, resume_deliveries
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TYPES = ["liaison.transmission_shared", "documents.new"]


class Relay:
    """What the relay received, and how it misbehaves when told to."""

    def __init__(self):
        self.messages: list[dict] = []
        self.refused: set[str] = set()
        self.drop_at: int | None = None  # drop the connection instead of answering this DATA (1-based)
        self.datas = 0
        self.events: list[tuple[str, str]] = []  # ("accepted", Message-ID), in order

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 Mailbox unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.datas += 1
        if self.drop_at is not None and self.datas == self.drop_at:
            self.drop_at = None
            server.transport.abort()  # the relay goes away before answering
            return "421 going away"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append({"to": envelope.rcpt_tos, "peer": session.peer, "message": message})
        self.events.append(("accepted", message["Message-ID"]))
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [m["message"]["Message-ID"] for m in self.messages]

    def connections(self) -> set:
        return {m["peer"] for m in self.messages}


@pytest.fixture
def relay(settings):
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield handler
    finally:
        controller.stop()


def _users_with_pending_items(count: int) -> list:
    """`count` users; the i-th has i + 1 items of the first type and one of the second
    waiting for the daily digest."""
    users = [UserFactory(email=f"resume{i}@exemple.fr") for i in range(count)]
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            recipient=user,
            event_type=event_type,
            url="/notifications/",
            created_at=now - timedelta(hours=1),
            frequency=Frequency.DAILY,
            wants_email=True,
        )
        for i, user in enumerate(users)
        for event_type in [TYPES[0]] * (i + 1) + [TYPES[1]]
    )
    return users


def _digests_built(count: int, monkeypatch) -> list[Delivery]:
    """Build the digests without sending them (their ids are handed to us instead)."""
    users = _users_with_pending_items(count)
    monkeypatch.setattr("notifications.tasks.dispatch_digests", lambda deliveries: None)
    build_digests(Frequency.DAILY)
    return list(Delivery.objects.filter(user__in=users, digest=Frequency.DAILY).order_by("pk"))


def _statuses(deliveries) -> dict[str, int]:
    rows = Delivery.objects.filter(pk__in=[d.pk for d in deliveries])
    counts: dict[str, int] = {}
    for status in rows.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_the_daily_digests_leave_over_one_connection_each_with_its_own_message_id(
    relay, django_capture_on_commit_callbacks
):
    users = _users_with_pending_items(5)
    with django_capture_on_commit_callbacks(execute=True):
        assert build_digests(Frequency.DAILY) == 5  # dispatched by batch, sent at the commit
    assert len(relay.messages) == 5
    assert len(relay.connections()) == 1
    rows = {d.user.email: d for d in Delivery.objects.filter(user__in=users).select_related("user")}
    assert {d.status for d in rows.values()} == {"sent"}
    assert all(d.sent_at and d.attempts == 1 for d in rows.values())
    ids = relay.message_ids()
    assert len(set(ids)) == 5 and set(ids) == {d.message_id for d in rows.values()}
    for received in relay.messages:
        [to] = received["to"]
        assert received["message"]["Message-ID"] == rows[to].message_id
    # Each digest counts its own reader's items (read for the whole batch at once).
    by_reader = {m["to"][0]: m["message"] for m in relay.messages}
    third = by_reader["resume2@exemple.fr"]
    assert "4 nouveauté(s) de la journée" in third["Subject"]
    text = third.get_body(("plain",)).get_content()
    assert "Nouvelle transmission partagée : 3" in text and "Nouveau document : 1" in text


def test_each_digest_is_marked_sent_as_soon_as_the_relay_accepts_it_before_the_next_one(relay, monkeypatch):
    from common import outbox

    deliveries = _digests_built(4, monkeypatch)
    original = outbox.mark_sent

    def mark_sent(model, pk, **extra):
        relay.events.append(("marked", Delivery.objects.get(pk=pk).message_id))
        original(model, pk, **extra)

    monkeypatch.setattr(outbox, "mark_sent", mark_sent)
    deliver_batch([d.pk for d in deliveries])
    ids = [Delivery.objects.get(pk=d.pk).message_id for d in deliveries]
    # A worker killed at any point re-sends at most the one message accepted and not yet marked.
    assert relay.events == [(event, mid) for mid in ids for event in ("accepted", "marked")]


def test_a_refused_address_fails_only_its_own_digest(relay, monkeypatch):
    deliveries = _digests_built(4, monkeypatch)
    relay.refused = {"resume1@exemple.fr"}
    outcome = deliver_batch([d.pk for d in deliveries])
    assert outcome["sent"] == 3 and outcome["failed"] == 1
    refused = Delivery.objects.get(user__email="resume1@exemple.fr")
    assert refused.status == "failed" and "adresse refusée" in refused.last_error
    assert {m["to"][0] for m in relay.messages} == {"resume0@exemple.fr", "resume2@exemple.fr", "resume3@exemple.fr"}
    assert len(relay.connections()) == 1  # the batch went on over the same connection
    assert _statuses(deliveries) == {"sent": 3, "failed": 1}


def test_a_relay_lost_mid_batch_leaves_the_rest_waiting_and_a_second_run_sends_each_once(relay, monkeypatch):
    deliveries = _digests_built(6, monkeypatch)
    relay.drop_at = 3
    outcome = deliver_batch([d.pk for d in deliveries])
    assert outcome["sent"] == 2 and outcome["retry"] == 1 and outcome["given back"] == 3
    assert len(relay.messages) == 2
    rows = {d.pk: d for d in Delivery.objects.filter(pk__in=[d.pk for d in deliveries])}
    assert "sending" not in {d.status for d in rows.values()}
    in_flight = rows[deliveries[2].pk]
    assert in_flight.status == "retry" and in_flight.attempts == 1 and in_flight.last_error
    untried = [rows[d.pk] for d in deliveries[3:]]
    assert {d.status for d in untried} == {"retry"} and {d.attempts for d in untried} == {0}
    assert all("relais" in d.last_error for d in untried)
    first_ids = {pk: d.message_id for pk, d in rows.items()}

    outcome = deliver_batch([d.pk for d in deliveries])
    assert outcome["sent"] == 4 and outcome["skipped"] == 2  # the two already sent are not sent again
    assert _statuses(deliveries) == {"sent": 6}
    ids = relay.message_ids()
    assert sorted(ids) == sorted(first_ids.values())  # each message exactly once
    assert len(set(ids)) == 6
    # The message in flight when the relay went away kept its Message-ID.
    assert Delivery.objects.get(pk=in_flight.pk).message_id == first_ids[in_flight.pk]


def test_a_relay_out_of_reach_leaves_the_batch_waiting(relay, monkeypatch, settings):
    deliveries = _digests_built(3, monkeypatch)
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = probe.getsockname()[1]
    outcome = deliver_batch([d.pk for d in deliveries])
    assert outcome["given back"] == 3 and outcome["sent"] == 0
    assert _statuses(deliveries) == {"retry": 3}
    assert set(Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).values_list("attempts", flat=True)) == {0}


def test_a_batch_whose_worker_died_is_sent_again_after_the_lease_with_the_same_message_ids(
    relay, monkeypatch, settings
):
    settings.OUTBOX_LEASE_SECONDS = 60
    deliveries = _digests_built(3, monkeypatch)
    claimed = claim_batch([d.pk for d in deliveries])  # the worker dies right after its claim
    assert len(claimed) == 3 and len({d.message_id for d in claimed}) == 3
    # Within the lease: a duplicate task and the sweeper leave them alone.
    assert deliver_batch([d.pk for d in deliveries])["skipped"] == 3
    assert resume_deliveries() == 0
    assert relay.messages == []
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(claimed_at=timezone.now() - timedelta(seconds=61))
    assert resume_deliveries() == 3  # queued one by one to `deliver` (run here at once)
    assert _statuses(deliveries) == {"sent": 3}
    assert sorted(relay.message_ids()) == sorted(d.message_id for d in claimed)
    assert set(Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).values_list("attempts", flat=True)) == {2}


def test_a_batch_stops_before_its_lease_could_pass_to_another_run(relay, monkeypatch, settings):
    deliveries = _digests_built(3, monkeypatch)
    settings.OUTBOX_LEASE_SECONDS = 0  # the lease ends at once: nothing may be sent under it
    outcome = deliver_batch([d.pk for d in deliveries])
    assert outcome["given back"] == 3 and relay.messages == []
    assert _statuses(deliveries) == {"pending": 3}
    settings.OUTBOX_LEASE_SECONDS = 300
    assert deliver_batch([d.pk for d in deliveries])["sent"] == 3
    assert len(relay.messages) == 3


def test_the_one_by_one_sending_still_works_over_the_relay(relay, monkeypatch):
    [delivery, *_] = _digests_built(2, monkeypatch)
    assert deliver.run(delivery.pk) == "sent"
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    [received] = relay.messages
    assert received["message"]["Message-ID"] == delivery.message_id
    assert "2 nouveauté(s) de la journée" in received["message"]["Subject"]
    assert deliver.run(delivery.pk) == "skipped"
    assert len(relay.messages) == 1
