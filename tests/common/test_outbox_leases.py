"""Every sending reaches an end: leases, the same Message-ID on a re-send, a sent row never
sent again, a permanent refusal ends as failed with its reason (common.outbox)."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from common import outbox
from common.notify import notify
from notifications.models import Delivery, DeliveryStatus, Notification, NotificationPreference
from notifications.tasks import claim, deliver, resume_deliveries
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _later(minutes: float):
    return time_machine.travel(timezone.now() + datetime.timedelta(minutes=minutes), tick=False)


def _alert(person, referent, nurse) -> Delivery:
    NotificationPreference.objects.update_or_create(
        user=nurse, event_type="liaison.alert", defaults={"frequency": "immediate", "email": True}
    )
    with mock.patch("notifications.tasks.deliver.delay"):
        notify("liaison.alert", person=person, actor=referent, recipients=[nurse])
    return Delivery.objects.get(user=nurse)


def _mails_to(user):
    return [m for m in mail.outbox if user.email in m.to]


def test_a_row_whose_worker_died_is_sent_again_after_its_lease_with_the_same_message_id(person, referent, nurse):
    mail.outbox.clear()
    delivery = _alert(person, referent, nurse)
    # A worker claims the row, then dies before sending (SIGKILL): the row stays "sending".
    assert claim(delivery.pk)
    delivery.refresh_from_db()
    first_id = delivery.message_id
    assert delivery.status == DeliveryStatus.SENDING and first_id.startswith("<")
    # Within the lease nobody else takes it: the sweeper leaves it, a duplicate task skips.
    with _later(outbox.LEASE_SECONDS / 60 - 1):
        assert resume_deliveries() == 0
        assert deliver.run(delivery.pk) == "skipped"
    assert _mails_to(nurse) == []
    # Once the lease has expired, the sweeper sends it, with the first claim's Message-ID.
    with _later(outbox.LEASE_SECONDS / 60 + 1):
        assert resume_deliveries() == 1
    [message] = _mails_to(nurse)
    assert message.message()["Message-ID"] == first_id
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2 and delivery.message_id == first_id


def test_a_sent_row_is_never_sent_again(person, referent, nurse):
    mail.outbox.clear()
    delivery = _alert(person, referent, nurse)
    assert deliver.run(delivery.pk) == "sent"
    with _later(24 * 60):
        assert resume_deliveries() == 0
        assert deliver.run(delivery.pk) == "skipped"
    assert len(_mails_to(nurse)) == 1


def test_a_permanent_refusal_ends_as_failed_with_its_reason_shown_to_administrators(
    person, referent, nurse, admin_user
):
    import smtplib

    delivery = _alert(person, referent, nurse)
    refused = smtplib.SMTPRecipientsRefused({nurse.email: (550, b"No such user")})
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=refused):
        assert deliver.run(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and "adresse refusée" in delivery.last_error
    # Nothing brings it back by itself…
    with _later(24 * 60):
        assert resume_deliveries() == 0
    # …the person still has the alert in the portal…
    assert Notification.objects.filter(recipient=nurse, event_type="liaison.alert", is_in_app=True).exists()
    # …and the administrators see it, with its reason, under the "failed" filter.
    page = login(admin_user).get("/admin/notifications/delivery/?status__exact=failed").content.decode()
    assert "adresse refusée" in page and "Échec définitif" in page


def test_a_transient_failure_is_retried_by_the_sweeper_until_the_last_attempt(person, referent, nurse):
    from notifications.channels import TransientError

    delivery = _alert(person, referent, nurse)
    failing = mock.Mock(side_effect=TransientError("SMTP 451"))
    with mock.patch.dict("notifications.tasks.SENDERS", {"email": failing}):
        assert deliver.run(delivery.pk) == "retry"
        minutes = 0
        for _ in range(outbox.MAX_ATTEMPTS - 1):
            minutes += 61
            with _later(minutes):
                assert resume_deliveries() == 1
    delivery.refresh_from_db()
    assert failing.call_count == outbox.MAX_ATTEMPTS
    assert delivery.status == DeliveryStatus.FAILED and "abandon après 6 essais" in delivery.last_error


def test_a_row_that_kills_its_worker_every_time_ends_as_failed(person, referent, nurse):
    delivery = _alert(person, referent, nurse)
    minutes = 0
    for _ in range(outbox.MAX_ATTEMPTS):
        with _later(minutes):
            assert claim(delivery.pk)  # …and the worker dies
        minutes += outbox.LEASE_SECONDS / 60 + 1
    with _later(minutes):
        assert resume_deliveries() == 0
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and "interrompu" in delivery.last_error


def test_the_broker_gives_a_lost_message_back_no_later_than_the_lease_and_the_sweeper_runs_every_minute(settings):
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= outbox.lease_seconds()
    assert settings.CELERY_BEAT_SCHEDULE["notifications-resume"]["schedule"] <= 60
    assert settings.CELERY_BEAT_SCHEDULE["documents-dmp-outbox"]["schedule"] <= 60
    assert settings.CELERY_BEAT_SCHEDULE["documents-mssante-resume"]["schedule"] <= 60


def test_it_marks_an_email_sent_as_soon_as_the_relay_accepted_it_before_the_goodbye(person, referent, nurse):
    """A worker killed during the SMTP goodbye (QUIT) never sends the message again."""
    mail.outbox.clear()
    delivery = _alert(person, referent, nurse)
    seen_at_goodbye = []

    def goodbye(backend):
        seen_at_goodbye.append(Delivery.objects.get(pk=delivery.pk).status)
        raise SystemExit("worker stopped during QUIT")

    with (
        mock.patch("django.core.mail.backends.locmem.EmailBackend.close", goodbye, create=True),
        pytest.raises(SystemExit),
    ):
        deliver.run(delivery.pk)
    assert seen_at_goodbye == [DeliveryStatus.SENT]
    with _later(outbox.LEASE_SECONDS / 60 + 1):
        assert resume_deliveries() == 0  # nothing left to send again
    assert len(_mails_to(nurse)) == 1


def test_a_failed_goodbye_after_the_relay_accepted_changes_nothing(person, referent, nurse):
    mail.outbox.clear()
    delivery = _alert(person, referent, nurse)
    with mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.close", side_effect=OSError("connection reset"), create=True
    ):
        assert deliver.run(delivery.pk) == "sent"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.last_error == ""
    assert len(_mails_to(nurse)) == 1
