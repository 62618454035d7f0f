"""Slot search: pure functions (agenda.slots) and the loader over real rows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from agenda import slots
from agenda.models import (
    AvailabilityException,
    AvailabilityWindow,
    Event,
    EventStatus,
    ExceptionKind,
    ExternalBusyTime,
    ExternalCalendar,
    Participant,
    Response,
)
from tests.factories import ProfessionalFactory, StructureFactory

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=PARIS)  # Monday 2 March 2026, 07:00


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def weekdays(start: str, end: str) -> list[slots.Window]:
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    return [slots.Window(d, dt.time(h1, m1), dt.time(h2, m2)) for d in range(5)]


def criteria(**kwargs) -> slots.Criteria:
    values = {
        "duration": dt.timedelta(hours=1),
        "window_start": at(2, 0),
        "window_end": at(7, 0),
        "minimum_notice": dt.timedelta(0),
        "step": dt.timedelta(minutes=30),
        "limit": 50,
    }
    values.update(kwargs)
    return slots.Criteria(**values)


def local_starts(result: slots.SearchResult) -> list[str]:
    return [s.start.astimezone(PARIS).strftime("%a %H:%M") for s in result.slots]


def test_it_keeps_only_times_when_every_required_professional_is_available():
    a = slots.Calendar(windows=weekdays("09:00", "12:00"))
    b = slots.Calendar(windows=weekdays("10:30", "16:00"))
    result = slots.search({1: a, 2: b}, criteria(window_end=at(3, 0)), now=NOW)
    assert local_starts(result) == ["Mon 10:30", "Mon 11:00"]


def test_it_removes_busy_times_with_their_buffers():
    calendar = slots.Calendar(windows=weekdays("09:00", "13:00"), busy=[(at(2, 10), at(2, 11))])
    plain = slots.search({1: calendar}, criteria(window_end=at(3, 0)), now=NOW)
    assert "Mon 09:00" in local_starts(plain) and "Mon 11:00" in local_starts(plain)
    buffered = slots.search(
        {1: calendar},
        criteria(window_end=at(3, 0), buffer_before=dt.timedelta(minutes=15), buffer_after=dt.timedelta(minutes=15)),
        now=NOW,
    )
    starts = local_starts(buffered)
    # 09:00–10:00 would end right when the busy time starts: the 15 minutes before it are missing.
    assert starts[:3] == ["Mon 11:15", "Mon 11:30", "Mon 12:00"]


def test_it_honours_the_minimum_notice():
    calendar = slots.Calendar(windows=weekdays("09:00", "17:00"))
    result = slots.search({1: calendar}, criteria(minimum_notice=dt.timedelta(hours=24)), now=at(2, 9))
    assert result.slots[0].start == at(3, 9)


def test_it_removes_absences_and_adds_extra_windows():
    calendar = slots.Calendar(
        windows=[slots.Window(0, dt.time(9), dt.time(12))],
        absences=[(at(2, 0), at(3, 0))],
        extra=[(at(4, 14), at(4, 15, 30))],
    )
    result = slots.search({1: calendar}, criteria(), now=NOW)
    assert local_starts(result) == ["Wed 14:00", "Wed 14:30"]


def test_it_keeps_local_hours_on_the_daylight_saving_day():
    # Sunday 29 March 2026: clocks go from 02:00 to 03:00 in Paris.
    sunday = slots.Window(6, dt.time(9), dt.time(11))
    result = slots.search(
        {1: slots.Calendar(windows=[sunday])},
        criteria(window_start=at(28, 0), window_end=at(30, 0), weekdays=(6,)),
        now=at(27, 0),
    )
    assert [s.start.astimezone(PARIS).strftime("%d %H:%M") for s in result.slots] == [
        "29 09:00",
        "29 09:30",
        "29 10:00",
    ]
    assert result.slots[0].start.utcoffset() is not None
    assert result.slots[0].start == dt.datetime(2026, 3, 29, 7, 0, tzinfo=dt.UTC)


def test_it_ranks_slots_next_to_an_existing_commitment_first_within_a_day():
    calendar = slots.Calendar(windows=weekdays("09:00", "17:00"), busy=[(at(2, 14), at(2, 15))])
    result = slots.search({1: calendar}, criteria(window_end=at(3, 0)), now=NOW)
    assert local_starts(result)[:2] == ["Mon 13:00", "Mon 15:00"]
    assert result.slots[0].adjacent and not result.slots[2].adjacent
    assert all(s.start.astimezone(PARIS).day == 2 for s in result.slots)


def test_it_answers_clearly_when_no_slot_is_found():
    a = slots.Calendar(windows=weekdays("09:00", "10:00"))
    b = slots.Calendar(windows=weekdays("14:00", "18:00"))
    result = slots.search({1: a, 2: b}, criteria(), now=NOW)
    assert not result.found
    assert result.message.startswith("Aucun créneau commun n'a été trouvé entre le 02/03/2026 et le 07/03/2026")


def test_it_expands_a_weekly_busy_event_at_the_same_local_hour_across_dst():
    occurrences = slots.expand(
        at(23, 10), at(23, 11), "FREQ=WEEKLY;COUNT=3", "Europe/Paris", [], at(1, 0), at(30, 0, month=4)
    )
    assert [o[0].astimezone(PARIS).strftime("%d/%m %H:%M") for o in occurrences] == [
        "23/03 10:00",
        "30/03 10:00",
        "06/04 10:00",
    ]


@pytest.fixture
def two_pros(db):
    structure = StructureFactory()
    pros = [ProfessionalFactory(), ProfessionalFactory()]
    for pro in pros:
        for day in range(5):
            AvailabilityWindow.objects.create(
                professional=pro,
                structure=structure,
                weekday=day,
                start_time=dt.time(9),
                end_time=dt.time(12),
                valid_from=dt.date(2026, 1, 1),
            )
    return pros


def _busy(pro, start, end, *, rrule="", status=EventStatus.CONFIRMED, response=Response.ACCEPTED, hold=None):
    event = Event.objects.create(
        created_by=pro.user,
        title="Privé",
        starts_at=start,
        ends_at=end,
        rrule=rrule,
        status=status,
        hold_expires_at=hold,
        series_ends_at=None if rrule else end,
    )
    Participant.objects.create(event=event, kind="professional", professional=pro, user=pro.user, response=response)
    return event


def test_it_loads_recurring_busy_events_exceptions_and_imported_busy_times(two_pros, django_assert_max_num_queries):
    a, b = two_pros
    _busy(a, at(2, 9), at(2, 10), rrule="FREQ=DAILY;COUNT=10")  # every morning 9–10
    _busy(b, at(2, 11), at(2, 12), response=Response.DECLINED)  # declined: not busy
    _busy(b, at(3, 11), at(3, 12), status=EventStatus.CANCELLED)  # cancelled: not busy
    _busy(b, at(4, 11), at(4, 12), status=EventStatus.PROPOSED, hold=at(10, 0))  # held: busy
    _busy(b, at(5, 11), at(5, 12), status=EventStatus.PROPOSED, hold=at(1, 0))  # hold expired: free
    feed = ExternalCalendar.objects.create(professional=b, name="Cabinet", kind="url")
    ExternalBusyTime.objects.create(
        calendar=feed, professional=b, external_uid="x", starts_at=at(2, 10), ends_at=at(2, 10, 30)
    )
    AvailabilityException.objects.create(
        professional=a, kind=ExceptionKind.ABSENCE, starts_at=at(6, 0), ends_at=at(7, 0)
    )
    with django_assert_max_num_queries(6):
        result = slots.find_slots([a.pk, b.pk], criteria(), now=NOW)
    assert local_starts(result) == [
        "Mon 10:30",
        "Mon 11:00",
        "Tue 10:00",
        "Tue 10:30",
        "Tue 11:00",
        "Wed 10:00",
        "Thu 10:00",
        "Thu 10:30",
        "Thu 11:00",
    ]


def test_it_answers_no_slot_when_nobody_declared_availability(db):
    pro = ProfessionalFactory()
    result = slots.find_slots([pro.pk], criteria(), now=NOW)
    assert not result.found and "Aucun créneau commun" in result.message


@pytest.mark.parametrize(
    "simple, general",
    [
        ("FREQ=WEEKLY;COUNT=10", "FREQ=WEEKLY;BYDAY=MO;COUNT=10"),
        ("FREQ=DAILY;INTERVAL=2;UNTIL=20260415T120000Z", "FREQ=DAILY;INTERVAL=2;BYHOUR=10;UNTIL=20260415T120000Z"),
        ("FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY=MO"),
    ],
)
def test_it_expands_plain_rules_as_dateutil_does(simple, general):
    # Monday 16 March 2026 10:00, across the change to summer time on 29 March.
    args = (at(16, 10), at(16, 11))
    window = (at(20, 0), at(30, 0, month=4))
    exdates = ["2026-03-30T10:00:00+02:00"]
    fast = slots.expand(*args, simple, "Europe/Paris", exdates, *window)
    assert fast == slots.expand(*args, general, "Europe/Paris", exdates, *window)
    assert all(o[0].astimezone(PARIS).hour == 10 for o in fast) and fast


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;COUNT=10",
        "FREQ=DAILY;INTERVAL=2;UNTIL=20260415T120000Z",
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;UNTIL=20260531T215959Z",
        "FREQ=MONTHLY;BYMONTHDAY=16;COUNT=4",
    ],
)
def test_it_finds_the_same_busy_occurrences_as_the_agenda(rule):
    from agenda import recurrence

    # Monday 16 March 2026 10:00, across the change to summer time on 29 March.
    event = Event(
        pk=1,
        starts_at=at(16, 10),
        ends_at=at(16, 11),
        rrule=rule,
        time_zone="Europe/Paris",
        exdates=["2026-03-30T10:00:00+02:00"],
    )
    window = (at(20, 0), at(30, 0, month=5))
    agenda_spans = [
        (o.starts_at.astimezone(dt.UTC), o.ends_at.astimezone(dt.UTC)) for o in recurrence.expand([event], *window)
    ]
    busy = slots.expand(event.starts_at, event.ends_at, rule, "Europe/Paris", event.exdates, *window)
    assert busy == agenda_spans and busy


def test_it_loads_single_busy_events_at_their_exact_times(two_pros):
    a, b = two_pros
    _busy(a, at(2, 9, 15), at(2, 10, 40))
    _busy(a, at(3, 23, 30), at(4, 0, 45))
    busy = slots.load_busy([a.pk, b.pk], at(1, 0), at(10, 0), now=NOW)
    assert busy == {a.pk: [(at(2, 9, 15), at(2, 10, 40)), (at(3, 23, 30), at(4, 0, 45))], b.pk: []}


def test_it_follows_a_moved_event_and_a_series_cut_short(two_pros):
    """Participants carry a copy of their event's period (the busy lookup reads it):
    moving an event or ending a series moves the busy time with it."""
    a, _b = two_pros
    event = _busy(a, at(2, 9), at(2, 10))
    series = _busy(a, at(2, 11), at(2, 12), rrule="FREQ=DAILY")  # endless: every day 11–12
    event.starts_at, event.ends_at, event.series_ends_at = at(5, 9), at(5, 10), at(5, 10)
    event.save()
    series.rrule, series.series_ends_at = "FREQ=DAILY;COUNT=2", at(3, 12)
    series.save(update_fields=["rrule", "series_ends_at"])
    assert busy_spans(slots.load_busy([a.pk], at(1, 0), at(10, 0), now=NOW)[a.pk]) == [
        "02/03 11:00–12:00",
        "03/03 11:00–12:00",
        "05/03 09:00–10:00",
    ]
    # The copy itself, as the index reads it.
    participant = Participant.objects.get(event=event)
    assert (participant.event_starts_at, participant.event_series_ends_at) == (at(5, 9), at(5, 10))


def busy_spans(spans) -> list[str]:
    return [f"{s.astimezone(PARIS):%d/%m %H:%M}–{e.astimezone(PARIS):%H:%M}" for s, e in spans]
