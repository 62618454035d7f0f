"""ICS export (feeds, single event) and import of external calendars."""

from __future__ import annotations

import http.server
import threading
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from agenda import services
from agenda.models import AgendaFeed, ExternalBusyTime, FeedOwnerKind
from coordination.models import AccessLog
from tests.agenda.conftest import PARIS, paris
from tests.conftest import login


def _soon(days=3, hour=10):
    day = timezone.localdate() + timedelta(days=days)
    return paris(day.year, day.month, day.day, hour, 0)


def _events(content: bytes):
    return [c for c in Calendar.from_ical(content).walk("VEVENT")]


def _feed_url(token: str) -> str:
    return reverse("agenda:feed", args=[token])


def test_it_exports_a_valid_feed_with_minimal_detail(person, referent, make_event, client):
    event = make_event(
        person,
        title="Consultation cardiologie",
        start=_soon(),
        motive="Suivi insuffisance cardiaque",
        places=[{"kind": "address", "address": "3 rue de la Paix, Paris", "label": "Cabinet"}],
    )
    series = make_event(person, title="Atelier mémoire", start=_soon(4, 14), rrule="FREQ=WEEKLY;COUNT=5")
    services.occurrence_cancel(actor=referent, event=series, recurrence_id=_soon(11, 14))
    _feed, token = services.agenda_feed_create(actor=referent, kind=FeedOwnerKind.PERSON, person=person)

    response = client.get(_feed_url(token))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    by_uid = {str(v["UID"]): v for v in calendar.walk("VEVENT")}
    exported = by_uid[event.uid]
    for prop in ("UID", "DTSTAMP", "SEQUENCE", "DTSTART", "DTEND", "STATUS"):
        assert prop in exported
    assert exported.decoded("DTSTART") == _soon()
    assert exported["DTSTART"].params["TZID"] == "Europe/Paris"
    assert str(exported["SUMMARY"]) == "Rendez-vous"
    assert "Cabinet" in str(exported["LOCATION"])
    text = response.content.decode()
    assert "cardiologie" not in text and "insuffisance" not in text
    recurring = by_uid[series.uid]
    assert recurring["RRULE"]["FREQ"] == ["WEEKLY"]
    assert "EXDATE" in recurring
    # The read went through the gate and was logged.
    assert AccessLog.objects.filter(user=referent, person=person, category="agenda", path=_feed_url(token)).exists()


def test_it_includes_titles_only_when_asked_and_never_the_motive(person, referent, make_event, client):
    make_event(person, title="Atelier cuisine", start=_soon(), motive="Trouble de la déglutition")
    _feed, token = services.agenda_feed_create(
        actor=referent, kind=FeedOwnerKind.PERSON, person=person, include_titles=True
    )
    content = client.get(_feed_url(token)).content.decode()
    assert "Atelier cuisine" in content
    assert "déglutition" not in content


def test_it_increases_sequence_on_change_and_marks_cancellations(person, referent, make_event):
    event = make_event(person, start=_soon())
    client = login(referent)
    first = _events(client.get(reverse("agenda:event_ics", args=[event.pk])).content)[0]
    services.event_update(actor=referent, event=event, starts_at=_soon(hour=11), ends_at=_soon(hour=12))
    second = _events(client.get(reverse("agenda:event_ics", args=[event.pk])).content)[0]
    assert int(second["SEQUENCE"]) > int(first["SEQUENCE"])
    assert str(second["UID"]) == str(first["UID"]) == event.uid
    services.event_cancel(actor=referent, event=event)
    third = _events(client.get(reverse("agenda:event_ics", args=[event.pk])).content)[0]
    assert str(third["STATUS"]) == "CANCELLED"
    assert int(third["SEQUENCE"]) > int(second["SEQUENCE"])


def test_it_exports_a_changed_occurrence_with_its_recurrence_id(person, referent, make_event):
    series = make_event(person, start=_soon(2, 9), rrule="FREQ=DAILY;COUNT=3")
    services.occurrence_override(
        actor=referent, event=series, recurrence_id=_soon(3, 9), starts_at=_soon(3, 15), ends_at=_soon(3, 16)
    )
    vevents = _events(login(referent).get(reverse("agenda:event_ics", args=[series.pk])).content)
    override = next(v for v in vevents if "RECURRENCE-ID" in v)
    assert str(override["UID"]) == series.uid
    assert override.decoded("RECURRENCE-ID") == _soon(3, 9)


def test_it_answers_404_to_a_revoked_or_regenerated_token(person, referent, client):
    feed, token = services.agenda_feed_create(actor=referent, kind=FeedOwnerKind.PERSON, person=person)
    assert client.get(_feed_url(token)).status_code == 200
    _new, new_token = services.agenda_feed_regenerate(actor=referent, feed=feed)
    assert client.get(_feed_url(token)).status_code == 404
    assert client.get(_feed_url(new_token)).status_code == 200
    services.agenda_feed_revoke(actor=referent, feed=AgendaFeed.objects.get(revoked_at__isnull=True))
    assert client.get(_feed_url(new_token)).status_code == 404
    assert client.get(_feed_url("nimportequoi")).status_code == 404


def test_it_stores_only_a_hash_and_shows_the_url_once(person, referent):
    client = login(referent)
    response = client.post(reverse("agenda:feeds"), {"kind": "person", "person": person.pk}, follow=True)
    text = response.content.decode()
    assert "webcal://" in text
    token = text.split("webcal://", 1)[1].split("/ics/", 1)[1].split("/", 1)[0]
    assert not AgendaFeed.objects.filter(token_hash=token).exists()
    assert AgendaFeed.objects.filter(token_hash=services.token_hash(token)).exists()
    assert "webcal://" not in client.get(reverse("agenda:feeds")).content.decode()


def test_it_stops_the_feed_when_the_owner_loses_the_right(person, nurse, person_user, client):
    from tests.agenda.conftest import grant

    _feed, token = services.agenda_feed_create(actor=nurse, kind=FeedOwnerKind.PERSON, person=person)
    assert client.get(_feed_url(token)).status_code == 200
    grant(person, nurse, person_user, record=1, agenda=0)
    assert client.get(_feed_url(token)).status_code == 404


RECURRING_WITH_EXCEPTION = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//Externe//FR
BEGIN:VEVENT
UID:serie-1@externe
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Paris:{d1}T090000
DTEND;TZID=Europe/Paris:{d1}T100000
RRULE:FREQ=DAILY;COUNT=3
SUMMARY:Cabinet privé
END:VEVENT
BEGIN:VEVENT
UID:serie-1@externe
DTSTAMP:20260101T000000Z
RECURRENCE-ID;TZID=Europe/Paris:{d2}T090000
DTSTART;TZID=Europe/Paris:{d2}T160000
DTEND;TZID=Europe/Paris:{d2}T170000
SUMMARY:Cabinet privé (déplacé)
END:VEVENT
BEGIN:VEVENT
UID:libre@externe
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Paris:{d1}T120000
DTEND;TZID=Europe/Paris:{d1}T130000
TRANSP:TRANSPARENT
SUMMARY:Pause
END:VEVENT
END:VCALENDAR
"""


def _recurring_ics() -> bytes:
    d1 = timezone.localdate() + timedelta(days=2)
    d2 = d1 + timedelta(days=1)
    return RECURRING_WITH_EXCEPTION.format(d1=f"{d1:%Y%m%d}", d2=f"{d2:%Y%m%d}").replace("\n", "\r\n").encode()


def _local_slots(professional):
    return [
        (b.starts_at.astimezone(PARIS).strftime("%d %H:%M"), b.ends_at.astimezone(PARIS).strftime("%H:%M"))
        for b in ExternalBusyTime.objects.filter(professional=professional).order_by("starts_at")
    ]


def test_it_imports_a_recurring_event_with_an_exception(referent):
    calendar = services.external_calendar_add(actor=referent, name="Cabinet", content=_recurring_ics())
    d1 = timezone.localdate() + timedelta(days=2)
    days = [f"{d1 + timedelta(days=i):%d}" for i in range(3)]
    assert _local_slots(referent.professional) == [
        (f"{days[0]} 09:00", "10:00"),
        (f"{days[1]} 16:00", "17:00"),
        (f"{days[2]} 09:00", "10:00"),
    ]
    calendar.refresh_from_db()
    assert calendar.last_synced_at is not None and calendar.last_error == ""
    assert set(ExternalBusyTime.objects.values_list("external_uid", flat=True)) == {"serie-1@externe"}


def test_it_keeps_the_last_good_import_when_the_file_is_malformed(referent):
    calendar = services.external_calendar_add(actor=referent, name="Cabinet", content=_recurring_ics())
    before = _local_slots(referent.professional)
    client = login(referent)
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(
        reverse("agenda:external_calendar", args=[calendar.pk]),
        {"file": SimpleUploadedFile("agenda.ics", b"ceci n'est pas un calendrier")},
    )
    calendar.refresh_from_db()
    assert calendar.last_error == "Le fichier n'est pas un calendrier ICS valide."
    assert _local_slots(referent.professional) == before
    page = client.get(reverse("agenda:external_calendars")).content.decode()
    assert "Le fichier n&#x27;est pas un calendrier ICS valide." in page
    assert "Dernière synchronisation réussie" in page


@pytest.fixture
def ics_server():
    """A local HTTP server serving whatever `.content` holds (or `.status`)."""

    class State:
        content = b""
        status = 200

    state = State()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(state.status)
            self.send_header("Content-Type", "text/calendar")
            self.end_headers()
            self.wfile.write(state.content)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/agenda.ics"
    try:
        yield state
    finally:
        server.shutdown()


def test_it_refreshes_a_url_calendar_and_forgets_removed_events(
    referent, ics_server, django_capture_on_commit_callbacks
):
    from agenda.tasks import refresh_external_calendars

    ics_server.content = _recurring_ics()
    with django_capture_on_commit_callbacks(execute=True):
        calendar = services.external_calendar_add(actor=referent, name="Cabinet", url=ics_server.url)
    assert len(_local_slots(referent.professional)) == 3
    # The series is removed upstream: it disappears at the next refresh.
    ics_server.content = _recurring_ics().split(b"BEGIN:VEVENT", 1)[0] + b"END:VCALENDAR\r\n"
    refresh_external_calendars()
    assert _local_slots(referent.professional) == []
    # Unreachable: the error is shown and nothing is lost.
    ics_server.content = _recurring_ics()
    refresh_external_calendars()
    ics_server.status = 500
    refresh_external_calendars()
    calendar.refresh_from_db()
    assert "erreur (500)" in calendar.last_error
    assert len(_local_slots(referent.professional)) == 3
