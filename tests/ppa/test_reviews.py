from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from notifications.models import Notification
from ppa import services
from ppa.models import ReviewReminder
from tests.conftest import login

from .conftest import validate


def _sent(kind: str) -> list[str]:
    return list(Notification.objects.filter(event_type=kind).values_list("recipient__email", flat=True))


def test_it_sets_the_review_a_year_after_validation(filled, referent, person_user):
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))):
        version = validate(filled, referent, person_user)
    assert version.review_due_on == date(2027, 3, 10)


def test_it_follows_the_review_period_setting(filled, referent, person_user, settings):
    settings.PPA_REVIEW_MONTHS = 6
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))):
        version = validate(filled, referent, person_user)
    assert version.review_due_on == date(2026, 9, 10)


def test_it_reminds_at_60_30_and_7_days_exactly_once_each(validated):
    due = validated.review_due_on
    sent = []
    for days_before in range(90, -3, -1):
        today = due - timedelta(days=days_before)
        for _ in range(2):  # the beat may run twice a day
            if services.review_reminders_send(today=today):
                sent.append(days_before)
    assert sent == [60, 30, 7, -1]
    assert _sent("ppa.review_due") == ["referent@exemple.fr"] * 3
    assert _sent("ppa.review_overdue") == ["referent@exemple.fr"]


def test_it_sends_only_the_nearest_reminder_after_an_outage(validated):
    due = validated.review_due_on
    assert services.review_reminders_send(today=due - timedelta(days=20)) == 1
    assert services.review_reminders_send(today=due - timedelta(days=10)) == 0
    assert sorted(ReviewReminder.objects.filter(is_skipped=False).values_list("days_before", flat=True)) == [30]
    assert services.review_reminders_send(today=due - timedelta(days=7)) == 1


def test_it_does_not_remind_a_superseded_version(validated, referent, person_user):
    amendment = services.plan_amend(actor=referent, plan=validated.plan, reason="Révision")
    validate(amendment, referent, person_user)
    soon = validated.validated_at.date() + timedelta(days=30)
    validated.__class__.objects.filter(pk=validated.pk).update(review_due_on=soon)
    assert services.review_reminders_send(today=soon - timedelta(days=7)) == 0


def test_it_lists_overdue_reviews_per_structure(validated, referent, stranger, person, structure):
    validated.__class__.objects.filter(pk=validated.pk).update(
        review_due_on=validated.validated_at.date() - timedelta(days=1)
    )
    page = login(referent).get(f"/ppa/structures/{structure.pk}/revisions-en-retard/")
    assert page.status_code == 200
    assert person.display_name in page.content.decode()
    assert person.display_name in login(referent).get("/ppa/revisions-en-retard/").content.decode()
    assert login(stranger).get(f"/ppa/structures/{structure.pk}/revisions-en-retard/").status_code == 404
    assert person.display_name not in login(stranger).get("/ppa/revisions-en-retard/").content.decode()


def test_it_keeps_the_overdue_list_query_count_flat(validated, referent, structure, django_assert_max_num_queries):
    validated.__class__.objects.filter(pk=validated.pk).update(
        review_due_on=validated.validated_at.date() - timedelta(days=1)
    )
    client = login(referent)
    with django_assert_max_num_queries(15):
        assert client.get("/ppa/revisions-en-retard/").status_code == 200
