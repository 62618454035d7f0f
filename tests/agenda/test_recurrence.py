"""Expansion of series in Europe/Paris, across the daylight-saving changes."""

from __future__ import annotations

from datetime import timedelta

from agenda import selectors, services
from agenda.models import Event
from tests.agenda.conftest import PARIS, paris


def _local_times(occurrences):
    return [
        (o.starts_at.astimezone(PARIS).date().isoformat(), o.starts_at.astimezone(PARIS).strftime("%H:%M"))
        for o in occurrences
    ]


def test_it_keeps_a_weekly_10_00_at_10_00_across_the_march_change(person, make_event):
    # Last Sunday of March 2026: the 29th (clocks go forward).
    event = make_event(person, start=paris(2026, 3, 19, 10, 0), rrule="FREQ=WEEKLY;COUNT=4")
    items = selectors.occurrences(Event.objects.filter(pk=event.pk), paris(2026, 3, 1), paris(2026, 5, 1))
    assert _local_times(items) == [
        ("2026-03-19", "10:00"),
        ("2026-03-26", "10:00"),
        ("2026-04-02", "10:00"),
        ("2026-04-09", "10:00"),
    ]
    # The UTC time moved by an hour: the wall clock did not.
    assert items[1].starts_at.utcoffset() == timedelta(hours=1)
    assert items[2].starts_at.utcoffset() == timedelta(hours=2)
    assert all(o.ends_at - o.starts_at == timedelta(hours=1) for o in items)


def test_it_keeps_a_weekly_10_00_at_10_00_across_the_october_change(person, make_event):
    # Last Sunday of October 2026: the 25th (clocks go back).
    event = make_event(person, start=paris(2026, 10, 20, 10, 0), rrule="FREQ=WEEKLY")
    items = selectors.occurrences(Event.objects.filter(pk=event.pk), paris(2026, 10, 19), paris(2026, 11, 2))
    assert _local_times(items) == [("2026-10-20", "10:00"), ("2026-10-27", "10:00")]
    assert items[0].starts_at.utcoffset() == timedelta(hours=2)
    assert items[1].starts_at.utcoffset() == timedelta(hours=1)


def test_it_keeps_series_end_for_period_queries(person, make_event):
    endless = make_event(person, start=paris(2026, 3, 2, 9, 0), rrule="FREQ=DAILY")
    counted = make_event(person, start=paris(2026, 3, 2, 9, 0), rrule="FREQ=DAILY;COUNT=3")
    single = make_event(person, start=paris(2026, 3, 2, 9, 0))
    assert endless.series_ends_at is None
    assert counted.series_ends_at == paris(2026, 3, 4, 10, 0)
    assert single.series_ends_at == single.ends_at
    # A series far in the past is not even loaded for a later period.
    later = selectors.person_events(single.created_by, person).filter(
        selectors.period_q(paris(2026, 6, 1), paris(2026, 7, 1))
    )
    assert set(later) == {endless}


def test_it_shows_a_changed_occurrence_once_and_skips_a_removed_one(person, make_event, referent):
    event = make_event(person, start=paris(2026, 3, 23, 10, 0), rrule="FREQ=WEEKLY;COUNT=4")
    services.occurrence_override(
        actor=referent,
        event=event,
        recurrence_id=paris(2026, 3, 30, 10, 0),
        starts_at=paris(2026, 3, 31, 14, 0),
        ends_at=paris(2026, 3, 31, 15, 0),
    )
    services.occurrence_cancel(actor=referent, event=event, recurrence_id=paris(2026, 4, 6, 10, 0))
    items = selectors.occurrences(selectors.person_events(referent, person), paris(2026, 3, 1), paris(2026, 5, 1))
    assert _local_times(items) == [("2026-03-23", "10:00"), ("2026-03-31", "14:00"), ("2026-04-13", "10:00")]
    event.refresh_from_db()
    assert event.sequence == 2


def test_it_refuses_an_occurrence_that_is_not_in_the_series(person, make_event, referent):
    import pytest
    from django.core.exceptions import ValidationError

    event = make_event(person, start=paris(2026, 3, 23, 10, 0), rrule="FREQ=WEEKLY;COUNT=4")
    with pytest.raises(ValidationError) as error:
        services.occurrence_cancel(actor=referent, event=event, recurrence_id=paris(2026, 3, 24, 10, 0))
    assert "n'existe pas" in str(error.value)
