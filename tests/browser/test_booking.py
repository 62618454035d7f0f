"""Booking a coordination meeting in a real browser.

The referent of the EHPAD books a meeting with two colleagues of the SSIAD who follow the
same person: criteria, proposed slots, pick; both colleagues accept on their answer page;
the meeting shows as confirmed on the three participants' pages and in their own agendas
(`/agenda/`). axe (no serious or critical violation) on the availability editor, the
search with its results, the meeting page with its answer form, the three agendas and
the list of meetings.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agenda.models import AvailabilityWindow, Event
from coordination import services
from coordination.models import CircleRole, TeamRole
from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import check_page
from tests.conftest import _pro

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ssiad_colleagues(person, person_user, other_structure, admin_user):
    pros = []
    for email, first, last in (("soins@exemple.fr", "Sabine", "Soins"), ("coord@exemple.fr", "Cyril", "Coord")):
        pro = _pro(email, "infirmier", first, last)
        services.team_member_add(actor=admin_user, structure=other_structure, professional=pro, role=TeamRole.NURSE)
        services.circle_member_add(actor=person_user, person=person, role=CircleRole.NURSE, professional=pro)
        pros.append(pro)
    return pros


def test_a_professional_books_a_meeting_with_two_colleagues_who_both_accept(
    page, live_server, screenshot, referent, ssiad_colleagues
):
    first_day = timezone.localdate() + dt.timedelta(days=2)
    for pro in (referent.professional, *ssiad_colleagues):
        for day in range(7):
            AvailabilityWindow.objects.create(
                professional=pro,
                structure=pro.structures.get(),
                weekday=day,
                start_time=dt.time(9),
                end_time=dt.time(12),
                valid_from=first_day,
            )

    sign_in_as(page, live_server, referent)
    visit(page, live_server, "/agenda/disponibilites/")
    check_page(page, screenshot, "booking-availability")

    visit(page, live_server, "/agenda/reunions/nouvelle/")
    for pro in ssiad_colleagues:
        page.get_by_label(pro.user.get_full_name(), exact=False).check()
    page.get_by_label("Motif").fill("Préparer le retour à domicile")
    page.get_by_label("Chercher à partir du").fill(first_day.isoformat())
    page.get_by_label("Jusqu'au").fill((first_day + dt.timedelta(days=6)).isoformat())
    page.get_by_role("button", name="Chercher les créneaux").click()
    expect(page.get_by_role("heading", name="Créneaux proposés")).to_be_visible()
    check_page(page, screenshot, "booking-slots")
    page.get_by_role("button", name="Choisir").first.click()
    expect(page.get_by_text("Créneau réservé : les invitations sont envoyées.")).to_be_visible()
    event = Event.objects.get()

    for pro in ssiad_colleagues:
        sign_in_as(page, live_server, pro.user)
        visit(page, live_server, f"/agenda/reunions/{event.pk}/")
        check_page(page, screenshot, f"booking-answer-{pro.pk}")
        page.get_by_label("J'accepte").check()
        page.get_by_role("button", name="Envoyer ma réponse").click()
        expect(page.get_by_text("Réponse enregistrée.")).to_be_visible()

    event.refresh_from_db()
    day = timezone.localtime(event.starts_at).date().isoformat()
    for user in (referent, *(p.user for p in ssiad_colleagues)):
        sign_in_as(page, live_server, user)
        visit(page, live_server, f"/agenda/reunions/{event.pk}/")
        expect(page.locator("#meeting-status")).to_have_text("Confirmé")
        visit(page, live_server, "/agenda/reunions/")
        expect(page.get_by_role("row").filter(has_text="Réunion de coordination")).to_contain_text("Confirmé")
        # The confirmed meeting is in each professional's own agenda, at its time, not as a proposal.
        visit(page, live_server, f"/agenda/?vue=semaine&date={day}")
        item = page.locator(".agenda-item").filter(has=page.get_by_role("link", name="Réunion de coordination"))
        expect(item).to_have_count(1)
        expect(item).to_contain_text(f"{timezone.localtime(event.starts_at):%H:%M}")
        expect(item).not_to_contain_text("Proposé")
        check_page(page, screenshot, f"booking-agenda-{user.pk}")
    visit(page, live_server, "/agenda/reunions/")
    check_page(page, screenshot, "booking-requests")
