"""seed_demo: availability for the demo professionals and a pending meeting request."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from agenda.models import AvailabilityWindow, Event, EventStatus, Participant, Response

pytestmark = pytest.mark.django_db


def test_it_seeds_availability_and_a_pending_meeting_request_once():
    call_command("seed_demo", stdout=StringIO())
    assert AvailabilityWindow.objects.filter(professional__user__email="referente@demo.portail.fr").count() == 7
    meeting = Event.objects.get(source="booking", answer_deadline__isnull=True)
    assert meeting.status == EventStatus.PROPOSED
    assert Participant.objects.filter(event=meeting, is_organiser=False, response=Response.NEEDS_ACTION).exists()
    windows = AvailabilityWindow.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert AvailabilityWindow.objects.count() == windows and Event.objects.filter(source="booking").count() == 2
    # (the meeting request, and the appointment proposed to Jeanne for the user portal)
    assert (
        Event.objects.filter(
            source="booking", answer_deadline__isnull=False, status=EventStatus.PROPOSED, person__first_name="Jeanne"
        ).count()
        == 1
    )
