"""My agenda in the user portal: shared events only, proposals answered, ICS links."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from agenda import services as agenda_services
from agenda import slots
from agenda.audit_types import AgendaAudit
from agenda.booking import services as booking
from agenda.models import AgendaFeed, Event, EventStatus, Participant, Visibility
from coordination import services
from coordination.models import AccessVia, AuditEvent, Category, CircleMember, Level
from portal.user_portal.spaces import SESSION_KEY
from tests.conftest import login

NO_RIGHTS = {c: Level.NONE for c in Category.values}


def _grant(person, person_user, user, **levels):
    member = CircleMember.objects.active().get(person=person, user=user)
    services.grants_set(actor=person_user, member=member, levels={**NO_RIGHTS, **levels})


def _in_space(user, person):
    client = login(user)
    session = client.session
    session[SESSION_KEY] = person.pk
    session.save()
    return client


def _at(days: int, hour: int = 10) -> dt.datetime:
    return slots.local(timezone.localdate() + dt.timedelta(days=days), dt.time(hour))


def propose(referent, person, *, days: int = 5, title: str = "Bilan d'ergothérapie") -> Event:
    start = _at(days, 14)
    return booking.appointment_propose(
        actor=referent,
        person=person,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=45),
        title=title,
        answer_deadline=timezone.now() + dt.timedelta(days=2),
    )


@pytest.fixture
def events(person, nurse):
    shared = agenda_services.event_create(
        actor=nurse,
        person=person,
        title="Kiné à domicile",
        starts_at=_at(3),
        ends_at=_at(3, 11),
        visibility=Visibility.SHARED,
    )
    past = agenda_services.event_create(
        actor=nurse,
        person=person,
        title="Visite du médecin",
        starts_at=_at(-3),
        ends_at=_at(-3, 11),
        visibility=Visibility.SHARED,
    )
    internal = agenda_services.event_create(
        actor=nurse,
        person=person,
        title="Réunion d'équipe secrète",
        starts_at=_at(4),
        ends_at=_at(4, 11),
        visibility=Visibility.INTERNAL,
    )
    return shared, past, internal


def test_it_refuses_the_agenda_to_a_stranger(person, stranger, events):
    client = _in_space(stranger, person)
    shared = events[0]
    assert client.get(reverse("portal_agenda")).status_code == 404
    assert client.get(reverse("portal_event_ics", args=[shared.pk])).status_code == 404
    assert client.post(reverse("portal_feed_create")).status_code == 404
    assert not AgendaFeed.objects.exists()


def test_it_shows_a_carer_without_the_right_nothing_of_the_agenda(person, carer, events, referent):
    propose(referent, person)
    client = login(carer)
    response = client.get(reverse("portal_agenda"))
    assert response.status_code == 403
    assert "Kiné" not in response.content.decode()
    home = client.get(reverse("portal_home")).content.decode()
    assert "Kiné" not in home and "ergothérapie" not in home
    assert client.get(reverse("portal_event_ics", args=[events[0].pk])).status_code == 403


def test_it_shows_shared_events_upcoming_first_and_never_internal_ones(person, person_user, events):
    page = login(person_user).get(reverse("portal_agenda")).content.decode()
    assert "Kiné à domicile" in page and "Visite du médecin" in page
    assert page.index("Kiné à domicile") < page.index("Visite du médecin")
    assert "secrète" not in page
    for view in ("semaine", "mois"):
        page = login(person_user).get(reverse("portal_agenda"), {"vue": view, "date": events[0].starts_at.date()})
        assert "Kiné à domicile" in page.content.decode()
        assert "secrète" not in page.content.decode()
    home = login(person_user).get(reverse("portal_home")).content.decode()
    assert "Kiné à domicile" in home and "secrète" not in home


def test_it_gives_one_event_as_ics_but_never_an_internal_one(person, person_user, events):
    client = login(person_user)
    response = client.get(reverse("portal_event_ics", args=[events[0].pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "Kiné à domicile" in response.content.decode()
    assert client.get(reverse("portal_event_ics", args=[events[2].pk])).status_code == 404


def test_it_lets_the_person_accept_a_proposal_shown_on_home_with_its_deadline(person, person_user, referent):
    event = propose(referent, person)
    client = login(person_user)
    home = client.get(reverse("portal_home")).content.decode()
    assert "Rendez-vous à confirmer" in home and "Bilan d&#x27;ergothérapie" in home
    assert "Répondre avant le" in home
    response = client.post(reverse("portal_proposal_answer", args=[event.pk]), {"accept": "1"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.CONFIRMED
    page = client.get(reverse("portal_agenda")).content.decode()
    assert "Rendez-vous accepté" in page
    assert "Aucun rendez-vous n'attend de réponse" in page


def test_it_records_the_legal_representative_declining_as_representative(person, legal_rep, referent):
    event = propose(referent, person)
    response = login(legal_rep).post(
        reverse("portal_proposal_answer", args=[event.pk]), {"accept": "0", "comment": "Elle sera à l'hôpital."}
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert Participant.objects.get(event=event, kind="person").comment == "Elle sera à l'hôpital."
    audit = AuditEvent.objects.get(event_type=AgendaAudit.EVENT_ANSWERED)
    assert audit.actor == legal_rep and audit.acting_as == AccessVia.REPRESENTATIVE


def test_it_lets_a_carer_with_agenda_write_answer_but_not_one_who_only_reads(person, person_user, carer, referent):
    event = propose(referent, person)
    _grant(person, person_user, carer, agenda=Level.READ)
    client = login(carer)
    page = client.get(reverse("portal_agenda")).content.decode()
    assert "ergothérapie" in page and "Accepter" not in page
    assert client.post(reverse("portal_proposal_answer", args=[event.pk]), {"accept": "1"}).status_code == 403
    event.refresh_from_db()
    assert event.status == EventStatus.PROPOSED
    _grant(person, person_user, carer, agenda=Level.WRITE)
    assert client.post(reverse("portal_proposal_answer", args=[event.pk]), {"accept": "1"}).status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.CONFIRMED


def test_it_says_clearly_when_the_deadline_has_passed(person, person_user, referent):
    event = propose(referent, person)
    Event.objects.filter(pk=event.pk).update(answer_deadline=timezone.now() - dt.timedelta(minutes=1))
    client = login(person_user)
    response = client.post(reverse("portal_proposal_answer", args=[event.pk]), {"accept": "1"})
    assert response.status_code == 302
    assert "Le délai de réponse est dépassé" in client.get(response.url).content.decode()
    event.refresh_from_db()
    assert event.status == EventStatus.PROPOSED


def test_it_makes_a_subscription_link_shown_once_and_revocation_gives_404(person, person_user, events):
    client = login(person_user)
    response = client.post(reverse("portal_feed_create"), {"include_titles": "on"})
    assert response.status_code == 302
    page = client.get(reverse("portal_agenda")).content.decode()
    assert "affichée une seule fois" in page
    url = page.split('href="webcal://', 1)[1].split('"', 1)[0]
    path = "/" + url.split("/", 1)[1]
    feed_response = client.get(path)
    assert feed_response.status_code == 200 and "Kiné à domicile" in feed_response.content.decode()
    assert "secrète" not in feed_response.content.decode()
    assert "affichée une seule fois" not in client.get(reverse("portal_agenda")).content.decode()
    feed = AgendaFeed.objects.get(owner=person_user)
    client.post(reverse("portal_feed_action", args=[feed.pk]), {"action": "revoke"})
    assert client.get(path).status_code == 404
    assert AuditEvent.objects.filter(event_type=AgendaAudit.AGENDA_FEED_REVOKED, actor=person_user).exists()


def test_it_regenerates_a_subscription_link(person, person_user):
    client = login(person_user)
    client.post(reverse("portal_feed_create"))
    old = client.get(reverse("portal_agenda")).content.decode().split('href="webcal://', 1)[1].split('"', 1)[0]
    feed = AgendaFeed.objects.get(owner=person_user)
    client.post(reverse("portal_feed_action", args=[feed.pk]), {"action": "regenerate"})
    new = client.get(reverse("portal_agenda")).content.decode().split('href="webcal://', 1)[1].split('"', 1)[0]
    assert new != old
    assert client.get("/" + old.split("/", 1)[1]).status_code == 404
    assert client.get("/" + new.split("/", 1)[1]).status_code == 200


def test_it_reads_the_agenda_in_a_bounded_number_of_queries(
    person, person_user, nurse, referent, django_assert_max_num_queries
):
    client = login(person_user)
    agenda_services.event_create(actor=nurse, person=person, title="Un", starts_at=_at(1), ends_at=_at(1, 11))
    propose(referent, person, days=6)
    client.get(reverse("portal_agenda"))
    with django_assert_max_num_queries(40) as small:
        client.get(reverse("portal_agenda"))
    limit = len(small.captured_queries)  # read now: the query log keeps only the last 9,000 queries
    for index in range(15):
        agenda_services.event_create(
            actor=nurse,
            person=person,
            title=f"E{index}",
            starts_at=_at(index % 10 + 1),
            ends_at=_at(index % 10 + 1, 11),
            places=[{"kind": "address", "label": "Ici"}],
        )
        propose(referent, person, days=7 + index, title=f"P{index}")
    agenda_services.agenda_feed_create(actor=person_user, kind="person", person=person)
    client.get(reverse("portal_agenda"))  # refreshes the session's last-seen time after the set-up
    with django_assert_max_num_queries(limit):
        response = client.get(reverse("portal_agenda"))
    assert "E14" in response.content.decode()
