"""Meeting booking between professionals, end to end through the services and pages."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from agenda import slots
from agenda.audit_types import AgendaAudit
from agenda.booking import services as booking
from agenda.booking.tasks import release_expired_holds
from agenda.models import AvailabilityWindow, Event, EventStatus, Participant, Response
from common.timezone import PARIS
from coordination import services
from coordination.models import AuditEvent, CircleRole, TeamRole
from notifications.models import Notification
from tests.conftest import _pro, login, need_service


@pytest.fixture
def colleagues(person, person_user, referent, other_structure, admin_user):
    """Two professionals of another structure, in the same person's circle as the referent."""
    pros = []
    for email, first in (("psy@exemple.fr", "Paula"), ("ergo@exemple.fr", "Eric")):
        pro = _pro(email, "psychologue", first, "Autre")
        services.team_member_add(actor=admin_user, structure=other_structure, professional=pro, role=TeamRole.CARE)
        services.circle_member_add(actor=person_user, person=person, role=CircleRole.THERAPIST, professional=pro)
        pros.append(pro)
    return pros


def soon(days: int = 3, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return slots.local(day, dt.time(hour))


def hold(organiser, invitees, start=None, **kwargs) -> Event:
    start = start or soon()
    return booking.meeting_hold(
        actor=organiser,
        invitees=invitees,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        motive="Point sur le retour à domicile",
        **kwargs,
    )


def answer(user, event, response, **kwargs):
    return booking.meeting_respond(actor=user, event=event, response=response, **kwargs)


def test_it_confirms_the_meeting_for_everyone_once_all_required_accept(referent, colleagues):
    a, b = colleagues
    event = hold(referent, [a, b])
    assert event.status == EventStatus.PROPOSED and event.hold_expires_at > timezone.now()
    invited = Notification.objects.filter(event_type="agenda.meeting_slot_chosen", recipient__in=[a.user, b.user])
    assert invited.count() == 2
    answer(a.user, event, "accepted")
    event.refresh_from_db()
    assert event.status == EventStatus.PROPOSED
    answer(b.user, event, "accepted")
    event.refresh_from_db()
    assert event.status == EventStatus.CONFIRMED and event.hold_expires_at is None
    confirmed_for = set(
        Notification.objects.filter(event_type="agenda.meeting_confirmed").values_list("recipient", flat=True)
    )
    assert confirmed_for == {referent.pk, a.user_id, b.user_id}
    assert AuditEvent.objects.filter(event_type=AgendaAudit.EVENT_ANSWERED).count() == 2


def test_it_lets_the_organiser_take_a_counter_proposal_and_asks_everyone_again(referent, colleagues):
    a, b = colleagues
    event = hold(referent, [a, b])
    answer(a.user, event, "accepted")
    other = soon(4, 14)
    answer(
        b.user,
        event,
        "counter",
        counter_starts_at=other,
        counter_ends_at=other + dt.timedelta(hours=1),
        comment="Je suis en visite ce matin-là.",
    )
    counter = Participant.objects.get(event=event, professional=b)
    assert counter.response == Response.TENTATIVE and counter.counter_starts_at == other
    booking.meeting_accept_counter(actor=referent, event=event, participant=counter)
    event.refresh_from_db()
    assert event.starts_at == other and event.sequence == 1 and event.status == EventStatus.PROPOSED
    assert Participant.objects.get(event=event, professional=a).response == Response.NEEDS_ACTION
    # She proposed the slot: she is not asked to accept it again (#16, item 8).
    assert Participant.objects.get(event=event, professional=b).response == Response.ACCEPTED
    answer(a.user, event, "accepted")
    event.refresh_from_db()
    assert event.status == EventStatus.CONFIRMED


def test_it_keeps_the_meeting_open_when_someone_declines_and_frees_their_time(referent, colleagues):
    a, b = colleagues
    event = hold(referent, [a, b])
    answer(a.user, event, "declined", comment="Absente")
    event.refresh_from_db()
    assert event.status == EventStatus.PROPOSED
    assert Notification.objects.filter(event_type="agenda.appointment_changed", recipient=referent).exists()
    # The decliner is not busy any more; the others still are (held).
    busy = slots.load_busy([a.pk, b.pk], event.starts_at, event.ends_at)
    assert busy[a.pk] == [] and busy[b.pk] == [(event.starts_at, event.ends_at)]


def test_it_refuses_a_second_hold_on_a_participant_already_held(referent, nurse, colleagues):
    a, _b = colleagues
    hold(referent, [a])
    with pytest.raises(ValidationError) as error:
        hold(nurse, [a])
    assert "n'est plus libre" in str(error.value)


def test_it_releases_an_expired_hold_and_the_slot_becomes_free(referent, colleagues):
    a, b = colleagues
    event = hold(referent, [a, b])
    Event.objects.filter(pk=event.pk).update(hold_expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(ValidationError, match="délai de réservation"):
        answer(a.user, event, "accepted")
    assert release_expired_holds() == 1
    assert release_expired_holds() == 0
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert Notification.objects.filter(event_type="agenda.appointment_cancelled", recipient=a.user).exists()
    hold(referent, [a, b])  # the same slot can be held again


def test_it_notifies_everyone_when_the_organiser_cancels(referent, colleagues):
    a, b = colleagues
    event = hold(referent, [a, b])
    booking.meeting_cancel(actor=referent, event=event)
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED and event.sequence == 1
    assert set(
        Notification.objects.filter(event_type="agenda.appointment_cancelled").values_list("recipient", flat=True)
    ) == {a.user_id, b.user_id}


def test_it_refuses_invitees_who_share_nothing_with_the_organiser(referent, other_pro):
    with pytest.raises(ValidationError) as error:
        hold(referent, [other_pro.professional])
    assert "collègues" in str(error.value.message_dict["invitees"])


def test_it_needs_agenda_write_on_the_person_to_include_them(referent, colleagues, person, external_pro):
    a, _b = colleagues
    event = hold(referent, [a], person=person)
    assert event.person == person and event.visibility == "shared"
    assert Participant.objects.filter(event=event, kind="person").exists()
    with pytest.raises(ValidationError) as error:
        hold(external_pro, [a], start=soon(5), person=person)
    assert "person" in error.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_it_lets_the_database_settle_two_organisers_racing_for_one_slot(person, referent, nurse, colleagues):
    need_service(connection.vendor == "postgresql", "PostgreSQL (two real concurrent transactions)")
    a, _b = colleagues
    start = soon(6)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def organise(user):
        try:
            barrier.wait()
            hold(user, [a], start=start)
            outcomes.append("held")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=organise, args=(u,)) for u in (referent, nurse)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["held", "refused"]
    assert Participant.objects.filter(professional=a, event__status=EventStatus.PROPOSED).count() == 1


def test_it_books_through_the_pages(referent, colleagues):
    a, b = colleagues
    start_day = timezone.localdate() + dt.timedelta(days=2)
    for pro in (referent.professional, a, b):
        structure = pro.structures.first()
        for day in range(7):
            AvailabilityWindow.objects.create(
                professional=pro,
                structure=structure,
                weekday=day,
                start_time=dt.time(9),
                end_time=dt.time(12),
                valid_from=start_day,
            )
    client = login(referent)
    params = {
        "invitees": [a.pk, b.pk],
        "motive": "Synthèse",
        "duration": 60,
        "window_start": start_day.isoformat(),
        "window_end": (start_day + dt.timedelta(days=6)).isoformat(),
        "minimum_notice": 24,
        "buffer": 0,
        "opens": "08:00",
        "closes": "19:00",
        "step": 30,
    }
    page = client.get(reverse("agenda:booking_search"), params)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Créneaux proposés" in html and "Choisir" in html
    slot = page.context["picks"][0][0]
    response = client.post(
        reverse("agenda:booking_pick"),
        {
            "invitees": [a.pk, b.pk],
            "motive": "Synthèse",
            "starts_at": slot.start.astimezone(PARIS).strftime("%Y-%m-%d %H:%M"),
            "ends_at": slot.end.astimezone(PARIS).strftime("%Y-%m-%d %H:%M"),
        },
    )
    event = Event.objects.get()
    assert response.status_code == 302 and response.url == reverse("agenda:booking_meeting", args=[event.pk])
    assert event.starts_at == slot.start
    for user in (a.user, b.user):
        answered = login(user).post(reverse("agenda:booking_meeting", args=[event.pk]), {"response": "accepted"})
        assert answered.status_code == 302
    listing = client.get(reverse("agenda:booking_requests")).content.decode()
    assert "Confirmé" in listing
    # Nobody else sees the meeting.
    assert login(b.user).get(reverse("agenda:booking_meeting", args=[event.pk])).status_code == 200


def test_it_says_clearly_on_the_page_when_no_slot_is_found(referent, colleagues):
    a, _b = colleagues
    day = timezone.localdate() + dt.timedelta(days=2)
    page = login(referent).get(
        reverse("agenda:booking_search"),
        {
            "invitees": [a.pk],
            "motive": "Synthèse",
            "duration": 60,
            "window_start": day.isoformat(),
            "window_end": day.isoformat(),
            "minimum_notice": 0,
            "buffer": 0,
            "opens": "08:00",
            "closes": "19:00",
            "step": 30,
        },
    )
    assert page.status_code == 200
    assert "Aucun créneau commun n&#x27;a été trouvé" in page.content.decode()


def test_it_rejects_a_counter_without_a_valid_slot_and_names_the_field(referent, colleagues):
    a, _b = colleagues
    event = hold(referent, [a])
    page = login(a.user).post(reverse("agenda:booking_meeting", args=[event.pk]), {"response": "counter"})
    assert page.status_code == 400
    assert "Indiquez un début et une fin valides" in page.content.decode()
    assert Participant.objects.get(event=event, professional=a).response == Response.NEEDS_ACTION
