"""notify(): recipients through the gate, preferences, deliveries, digests."""

from __future__ import annotations

import pytest
from django.core import mail

from common.notify import catalogue, notify
from coordination import services
from coordination.models import CircleMember, Level
from notifications.models import Delivery, Notification, NotificationPreference
from notifications.tasks import build_digests, deliver
from portal import accounts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def committed(monkeypatch):
    """The test runs inside a transaction that never commits: run the on_commit
    callbacks (the deliveries) at once, as the real commit would."""
    monkeypatch.setattr("notifications.services.transaction.on_commit", lambda func, using=None, robust=False: func())


def _prefer(user, event_type, frequency, *, in_app=True, email=True, sms=False):
    NotificationPreference.objects.update_or_create(
        user=user,
        event_type=event_type,
        defaults={"frequency": frequency, "in_app": in_app, "email": email, "sms": sms},
    )


def test_it_sends_an_immediate_notification_by_email_at_once(person, nurse, referent):
    mail.outbox.clear()
    _prefer(nurse, "liaison.transmission_shared", "immediate")
    notify("liaison.transmission_shared", person=person, actor=referent)
    assert Notification.objects.filter(recipient=nurse, event_type="liaison.transmission_shared").exists()
    [message] = [m for m in mail.outbox if nurse.email in m.to]
    assert "Une nouvelle transmission a été partagée" in message.body
    assert Delivery.objects.get(user=nurse).status == "sent"


def test_it_keeps_digest_items_for_the_digest_and_sends_one_message_grouping_them(person, nurse, referent):
    mail.outbox.clear()
    _prefer(nurse, "liaison.transmission_shared", "daily")
    _prefer(nurse, "documents.new", "daily")
    for _ in range(3):
        notify("liaison.transmission_shared", person=person, actor=referent)
    notify("documents.new", person=person, actor=referent)
    assert not [m for m in mail.outbox if nurse.email in m.to]
    build_digests("daily")
    [message] = [m for m in mail.outbox if nurse.email in m.to]
    assert "4 nouveauté(s) de la journée" in message.subject
    assert "Nouvelle transmission partagée : 3" in message.body and "Nouveau document : 1" in message.body
    mail.outbox.clear()
    build_digests("daily")  # nothing left: no second digest
    assert not [m for m in mail.outbox if nurse.email in m.to]


def test_it_keeps_weekly_items_out_of_the_daily_digest(person, nurse, referent):
    mail.outbox.clear()
    _prefer(nurse, "liaison.transmission_shared", "weekly")
    notify("liaison.transmission_shared", person=person, actor=referent)
    build_digests("daily")
    assert not [m for m in mail.outbox if nurse.email in m.to]
    build_digests("weekly")
    assert "de la semaine" in [m for m in mail.outbox if nurse.email in m.to][0].subject


def test_it_does_not_deliver_a_type_set_to_never(person, nurse, referent):
    mail.outbox.clear()
    _prefer(nurse, "liaison.transmission_shared", "never")
    notify("liaison.transmission_shared", person=person, actor=referent)
    assert not Notification.objects.filter(recipient=nurse).exists()
    assert not [m for m in mail.outbox if nurse.email in m.to]


def test_it_shows_in_app_only_when_the_channel_is_chosen(person, nurse, referent):
    mail.outbox.clear()
    _prefer(nurse, "liaison.remarkable_event", "immediate", in_app=False, email=True)
    notify("liaison.remarkable_event", person=person, actor=referent)
    assert not Notification.objects.filter(recipient=nurse, is_in_app=True).exists()
    assert [m for m in mail.outbox if nurse.email in m.to]


def test_it_sends_security_notices_even_when_set_to_never(
    person, person_user, legal_rep, referent, structure, admin_user
):
    mail.outbox.clear()
    from tests.conftest import _pro

    night = _pro("nuit@exemple.fr", "infirmier", "Noé", "Nuit")
    services.team_member_add(actor=admin_user, structure=structure, professional=night, role="infirmier")
    services.grants_set(
        actor=person_user, member=CircleMember.objects.active().get(user=night.user), levels={"record": Level.NONE}
    )
    for user in (person_user, legal_rep, referent):
        _prefer(user, "security.break_glass", "never", in_app=False, email=False)
    glass = services.break_glass_open(
        actor=night.user, person=person, reason="Chute nocturne, le SAMU demande les traitements en cours."
    )
    recipients = {n.recipient for n in Notification.objects.filter(event_type="security.break_glass")}
    assert recipients == {person_user, legal_rep, referent}
    assert {m.to[0] for m in mail.outbox} >= {person_user.email, legal_rep.email, referent.email}
    glass.refresh_from_db()
    assert glass.notified_at is not None
    assert not catalogue()["security.break_glass"].mutable


def test_it_never_tells_someone_without_the_right_to_the_underlying_data(
    person, person_user, nurse, carer, external_pro, other_pro, stranger, referent
):
    # The carer can read the notebook, the external professional cannot.
    services.grants_set(
        actor=person_user, member=CircleMember.objects.active().get(user=carer), levels={"liaison": Level.READ}
    )
    for user in (nurse, carer, external_pro, other_pro, stranger):
        _prefer(user, "liaison.alert", "immediate")
    notify("liaison.alert", person=person, actor=referent, recipients=[nurse, carer, external_pro, other_pro, stranger])
    assert set(Notification.objects.filter(event_type="liaison.alert").values_list("recipient__email", flat=True)) == {
        nurse.email,
        carer.email,
    }
    notify("liaison.transmission_shared", person=person, actor=referent)
    default = set(
        Notification.objects.filter(event_type="liaison.transmission_shared").values_list("recipient", flat=True)
    )
    assert carer.pk in default and nurse.pk in default and person_user.pk in default
    assert not default & {external_pro.pk, other_pro.pk, stranger.pk, referent.pk}


def test_it_tells_the_person_and_legal_representative_of_a_join_request(person, person_user, legal_rep, other_pro):
    services.join_request_create(actor=other_pro, person=person, role="soignant", message="Passage le week-end.")
    recipients = set(Notification.objects.filter(event_type="circle.join_request").values_list("recipient", flat=True))
    assert recipients == {person_user.pk, legal_rep.pk}


def test_it_sends_an_sms_through_the_backend_without_personal_detail(person, nurse, referent):
    from notifications.channels import LocmemSMSBackend

    LocmemSMSBackend.outbox.clear()
    nurse.phone = "+33612345678"
    nurse.save()
    _prefer(nurse, "liaison.remarkable_event", "immediate", email=False, sms=True)
    notify("liaison.remarkable_event", person=person, actor=referent)
    [(to, text)] = LocmemSMSBackend.outbox
    assert to == "+33612345678"
    assert "évènement remarquable" in text and "MARTIN" not in text and "Jeanne" not in text


def test_it_runs_the_delivery_once_even_if_the_task_runs_twice(person, nurse, referent, settings):
    mail.outbox.clear()
    _prefer(nurse, "liaison.alert", "immediate")
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from portal.celery import app

    app.conf.task_always_eager = False  # keep the on_commit dispatch from sending: we run the task by hand
    try:
        from unittest import mock

        with mock.patch("notifications.tasks.deliver.delay"):
            notify("liaison.alert", person=person, actor=referent, recipients=[nurse])
    finally:
        app.conf.task_always_eager = True
    delivery = Delivery.objects.get(user=nurse)
    assert deliver.run(delivery.pk) == "sent"
    assert deliver.run(delivery.pk) == "skipped"
    assert len([m for m in mail.outbox if nurse.email in m.to]) == 1


def test_it_retries_a_transient_failure_and_records_a_permanent_one(person, nurse, referent):
    from unittest import mock

    from notifications.channels import PermanentError, TransientError

    _prefer(nurse, "liaison.alert", "immediate")
    with mock.patch("notifications.tasks.deliver.delay"):
        notify("liaison.alert", person=person, actor=referent, recipients=[nurse])
    delivery = Delivery.objects.get(user=nurse)
    with (
        mock.patch("notifications.channels.send_email", side_effect=TransientError("SMTP 451")),
        mock.patch.dict("notifications.tasks.SENDERS", {"email": mock.Mock(side_effect=TransientError("451"))}),
    ):
        # Recorded on the row, not raised: the sweeper brings the retry back when it is due.
        assert deliver.run(delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.status == "retry" and delivery.attempts == 1 and delivery.next_attempt_at is not None
    with mock.patch.dict("notifications.tasks.SENDERS", {"email": mock.Mock(side_effect=PermanentError("550"))}):
        assert deliver.run(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "550" in delivery.last_error


def test_it_tells_a_user_of_a_sign_in_from_a_new_device_but_not_the_first_one(nurse):
    accounts.device_signin_record(user=nurse, user_agent="Firefox/130 Linux")
    assert not Notification.objects.filter(recipient=nurse, event_type="security.new_device").exists()
    accounts.device_signin_record(user=nurse, user_agent="Firefox/130 Linux")
    accounts.device_signin_record(user=nurse, user_agent="Chrome/140 Android")
    assert Notification.objects.filter(recipient=nurse, event_type="security.new_device").count() == 1


@pytest.mark.parametrize("event_type", sorted(catalogue()))
def test_it_can_emit_configure_and_deliver_every_type_in_the_catalogue(
    event_type, person, nurse, referent, person_user
):
    Notification.objects.all().delete()  # the fixtures' own circle notices
    mail.outbox.clear()
    recipient = person_user if event_type.startswith("circle.") else nurse
    _prefer(recipient, event_type, "immediate")
    notify(
        event_type,
        person=None if event_type in ("security.new_device", "security.login_failures") else person,
        actor=referent,
        recipients=[recipient],
    )
    notification = Notification.objects.get(recipient=recipient, event_type=event_type)
    assert notification.frequency == "immediate"
    [message] = [m for m in mail.outbox if recipient.email in m.to]
    assert catalogue()[event_type].message in message.body
    assert "MARTIN" not in message.body and "Jeanne" not in message.body


def test_it_lists_only_the_new_items_in_a_digest_and_skips_inactive_accounts(
    person, nurse, carer, referent, person_user
):
    mail.outbox.clear()
    services.grants_set(
        actor=person_user, member=CircleMember.objects.active().get(user=carer), levels={"liaison": Level.READ}
    )
    _prefer(nurse, "liaison.transmission_shared", "daily")
    _prefer(carer, "liaison.transmission_shared", "daily")
    notify("liaison.transmission_shared", person=person, actor=referent)
    build_digests("daily")
    mail.outbox.clear()
    notify("liaison.transmission_shared", person=person, actor=referent)
    carer.is_active = False
    carer.save()
    build_digests("daily")
    [message] = [m for m in mail.outbox if nurse.email in m.to]
    assert "Nouvelle transmission partagée : 1" in message.body  # yesterday's item is not counted again
    assert not [m for m in mail.outbox if carer.email in m.to]
