from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from agenda.models import Event, EventStatus, ParticipantKind, Visibility
from ppa import services
from ppa.models import Action

from .conftest import validate

PARIS = ZoneInfo("Europe/Paris")


def test_it_makes_a_weekly_action_a_recurring_event(validated, referent, nurse, service_code, person):
    result = services.plan_events_generate(actor=referent, version=validated)
    assert result.created == 1
    action = validated.actions.get()
    event = Event.objects.get(pk=action.event_id)
    assert event.rrule == "FREQ=WEEKLY;BYDAY=MO,TH"
    assert event.starts_at == datetime(2026, 1, 5, 10, 0, tzinfo=PARIS)
    assert event.ends_at == datetime(2026, 1, 5, 11, 0, tzinfo=PARIS)
    assert event.source == "ppa" and str(action.key) in event.source_reference
    assert event.serafin_service == service_code
    assert event.person == person and event.visibility == Visibility.SHARED
    kinds = {(p.kind, p.user_id) for p in event.participants.all()}
    assert (ParticipantKind.PROFESSIONAL, nurse.pk) in kinds and (ParticipantKind.PERSON, person.user_id) in kinds
    assert services.plan_events_generate(actor=referent, version=validated).created == 0


def test_it_ends_the_rule_at_the_action_end(filled, referent, person_user):
    action = filled.actions.get()
    Action.objects.filter(pk=action.pk).update(ends_on="2026-03-31", interval_weeks=2)
    validated = validate(filled, referent, person_user)
    services.plan_events_generate(actor=referent, version=validated)
    event = Event.objects.get(pk=validated.actions.get().event_id)
    assert event.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;UNTIL=20260331T215959Z"
    assert event.series_ends_at is not None and event.series_ends_at.date().isoformat() <= "2026-03-31"


def test_it_changes_only_future_events_on_amendment(validated, referent, person_user, nurse):
    services.plan_events_generate(actor=referent, version=validated)
    old_event = Event.objects.get(pk=validated.actions.get().event_id)
    amendment = services.plan_amend(actor=referent, plan=validated.plan, reason="Atelier l'après-midi")
    action = amendment.actions.get()
    fields = {name: getattr(action, name) for name in services.ACTION_FIELDS if name != "objectives"}
    services.action_update(
        actor=referent,
        action=action,
        **{**fields, "starts_at_time": time(14, 0)},
        objectives=list(action.objectives.all()),
    )
    # A second, unchanged-from-now-on action keeps nothing from the past: it is new.
    amendment = validate(amendment, referent, person_user)
    result = services.plan_events_generate(actor=referent, version=amendment)
    assert (result.created, result.ended) == (1, 1)
    old_event.refresh_from_db()
    assert old_event.starts_at == datetime(2026, 1, 5, 10, 0, tzinfo=PARIS)  # the past stays
    assert "UNTIL=" in old_event.rrule and old_event.status != EventStatus.CANCELLED
    assert old_event.series_ends_at is not None and old_event.series_ends_at <= datetime.now(tz=PARIS)
    new_event = Event.objects.get(pk=amendment.actions.get().event_id)
    assert new_event.pk != old_event.pk
    assert new_event.starts_at.astimezone(PARIS).time() == time(14, 0)
    assert new_event.starts_at >= old_event.series_ends_at - (old_event.ends_at - old_event.starts_at)


def test_it_keeps_the_series_of_an_unchanged_action(validated, referent, person_user):
    services.plan_events_generate(actor=referent, version=validated)
    event_id = validated.actions.get().event_id
    amendment = services.plan_amend(actor=referent, plan=validated.plan, reason="Nouvelles attentes")
    services.expectations_update(actor=person_user, version=amendment, wishes="Voir ma petite-fille")
    amendment = validate(amendment, referent, person_user)
    result = services.plan_events_generate(actor=referent, version=amendment)
    assert (result.created, result.ended, result.kept) == (0, 0, 1)
    assert amendment.actions.get().event_id == event_id
    assert Event.objects.get(pk=event_id).rrule == "FREQ=WEEKLY;BYDAY=MO,TH"
