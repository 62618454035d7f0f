"""The person's own agenda from the portal (seed 000 §1.2.4): she or her legal
representative adds her own appointments; circle members who may read her agenda see
them as hers; only her side changes them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from agenda.models import Event, EventStatus
from coordination import services
from coordination.models import Category, CircleMember, Level
from tests.conftest import login

URL = reverse("portal_own_appointment_create")


def _day(days: int = 5) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def _data(title="Dentiste", **extra):
    return {
        "rdv-title": title,
        "rdv-on": _day().isoformat(),
        "rdv-starts": "09:30",
        "rdv-ends": "10:15",
        "rdv-place": "Cabinet du Dr Blanc",
        **extra,
    }


def test_the_person_adds_her_own_appointment_and_the_circle_sees_it(person, person_user, nurse):
    client = login(person_user)
    assert "Ajouter un de mes rendez-vous" in client.get(reverse("portal_agenda")).content.decode()
    response = client.post(URL, _data())
    assert response.status_code == 302
    event = Event.objects.get(title="Dentiste")
    assert event.person == person and event.visibility == "shared" and event.created_by == person_user
    page = client.get(response.url).content.decode()
    assert "Dentiste" in page and "Cabinet du Dr Blanc" in page and "ajouté par vous" in page
    # The nurse reads the person's agenda (default rights): the appointment is there.
    pro_page = login(nurse).get(reverse("agenda:person", args=[person.pk]) + f"?vue=semaine&date={_day().isoformat()}")
    assert "Dentiste" in pro_page.content.decode()


def test_only_her_side_changes_it(person, person_user, nurse, legal_rep):
    login(legal_rep).post(URL, _data("Coiffeur"))
    event = Event.objects.get(title="Coiffeur")
    # The nurse may write in the agenda, but not in the person's own appointments.
    refused = login(nurse).post(reverse("agenda:cancel", args=[event.pk]))
    assert refused.status_code == 403
    event.refresh_from_db()
    assert event.status != EventStatus.CANCELLED
    done = login(person_user).post(reverse("portal_own_appointment_cancel", args=[event.pk]))
    assert done.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED


def test_it_names_the_field_and_adds_nothing_when_the_times_are_wrong(person, person_user):
    response = login(person_user).post(URL, _data(**{"rdv-ends": "08:00"}))
    assert response.status_code == 400
    assert "L&#x27;heure de fin doit être après l&#x27;heure de début." in response.content.decode()
    assert not Event.objects.filter(title="Dentiste").exists()


@pytest.mark.parametrize("who", ["carer", "stranger"])
def test_it_refuses_a_carer_and_a_stranger(request, person, person_user, who):
    user = request.getfixturevalue(who)
    if who == "carer":
        member = CircleMember.objects.active().get(person=person, user=user)
        levels = {c: Level.NONE for c in Category.values} | {"agenda": Level.WRITE}
        services.grants_set(actor=person_user, member=member, levels=levels)
    response = login(user).post(URL, _data())
    assert response.status_code == (403 if who == "carer" else 404)
    assert not Event.objects.exists()


def _proposal(referent, person) -> Event:
    from agenda import slots
    from agenda.booking import services as booking

    start = slots.local(_day(6), dt.time(14))
    return booking.appointment_propose(
        actor=referent,
        person=person,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=45),
        title="Bilan d'ergothérapie",
        answer_deadline=timezone.now() + dt.timedelta(days=2),
    )


def test_the_person_asks_for_another_date_with_a_message(person, person_user, referent):
    from notifications.models import Notification

    event = _proposal(referent, person)
    client = login(person_user)
    assert "Demander une autre date" in client.get(reverse("portal_agenda")).content.decode()
    url = reverse("portal_proposal_answer", args=[event.pk])
    # Without saying when, nothing changes and she is told what to write.
    page = client.post(url, {"accept": "autre", "comment": ""}, follow=True).content.decode()
    assert "Dites quand vous seriez disponible" in page
    event.refresh_from_db()
    assert event.status == EventStatus.PROPOSED
    client.post(url, {"accept": "autre", "comment": "Plutôt le jeudi matin, ma fille peut venir."})
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED  # the slot is freed
    assert Notification.objects.filter(event_type="agenda.appointment_new_date_asked", recipient=referent).exists()
    listing = login(referent).get(reverse("agenda:booking_requests")).content.decode()
    assert "Plutôt le jeudi matin, ma fille peut venir." in listing


def _item(page: str, title: str) -> str:
    """The agenda entry (`<li>`) whose title is `title`."""
    for chunk in page.split("<li")[1:]:
        if f">{title}</a>" in chunk:
            return chunk.split("</li>")[0]
    raise AssertionError(f"{title!r} not on the page")


def test_the_professionals_agenda_marks_the_persons_own_appointments_as_hers(
    person, person_user, nurse, referent, django_assert_max_num_queries
):
    from agenda import services as agenda_services

    login(person_user).post(URL, _data("Dentiste"))
    start = timezone.make_aware(dt.datetime.combine(_day(), dt.time(15)))
    agenda_services.event_create(
        actor=nurse, person=person, title="Toilette", starts_at=start, ends_at=start + dt.timedelta(minutes=30)
    )
    proposal = _proposal(referent, person)
    login(person_user).post(reverse("portal_proposal_answer", args=[proposal.pk]), {"accept": "1", "comment": ""})
    proposal.refresh_from_db()
    assert proposal.status == EventStatus.CONFIRMED

    week = reverse("agenda:person", args=[person.pk]) + f"?vue=mois&date={_day().isoformat()}"
    client = login(nurse)
    client.get(week)
    with django_assert_max_num_queries(16):
        page = client.get(week).content.decode()
    dentist = _item(page, "Dentiste")
    assert "badge--person" in dentist and "Ajouté par la personne" in dentist
    # The sign is decoration; the words say it.
    assert '<span aria-hidden="true">' in dentist
    assert "par la personne" not in _item(page, "Toilette")
    accepted = _item(page, "Bilan d&#x27;ergothérapie")
    assert "Accepté par la personne" in accepted
    # On the referent's own agenda too: the proposal she accepted is marked.
    mine = login(referent).get(reverse("agenda:mine") + f"?vue=mois&date={_day(6).isoformat()}").content.decode()
    assert "Accepté par la personne" in _item(mine, "Bilan d&#x27;ergothérapie")
