"""The user portal's agenda, documents and PPA pages in a real browser.

Jeanne Martin's guardian signs in, sees on the home page an appointment proposed to
her with its deadline, and accepts it from the agenda page. The three pages pass axe
(no serious or critical violation) at desktop width and at 375px, under the strict CSP.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agenda import services as agenda_services
from agenda import slots
from agenda.booking import services as booking
from agenda.models import Event, EventStatus
from coordination import access
from coordination.models import Category, CircleMember
from documents.models import DocumentType
from ppa import services as ppa_services
from tests.browser.test_circle_pages import sign_in_as, visit
from tests.browser.test_login_mfa import check_page
from tests.coordination.documents_helpers import make_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portal_blocks(person, person_user, referent, nurse, legal_rep, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    day = timezone.localdate()
    start = slots.local(day + dt.timedelta(days=2), dt.time(10))
    agenda_services.event_create(
        actor=nurse,
        person=person,
        title="Kiné à domicile",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        places=[{"kind": "address", "label": "Chez Jeanne"}],
    )
    proposed_at = slots.local(day + dt.timedelta(days=6), dt.time(14))
    proposal = booking.appointment_propose(
        actor=referent,
        person=person,
        starts_at=proposed_at,
        ends_at=proposed_at + dt.timedelta(minutes=45),
        title="Bilan d'ergothérapie",
        answer_deadline=timezone.now() + dt.timedelta(days=3),
    )
    make_document(referent, person, doc_type=DocumentType.STAY_CONTRACT, validate=True, title="Contrat de séjour 2026")
    ppa_services.plan_create(actor=referent, person=person)
    return proposal


def test_the_guardian_accepts_a_proposed_appointment_from_the_agenda(
    page, live_server, screenshot, person, legal_rep, external_pro, portal_blocks
):
    sign_in_as(page, live_server, legal_rep)
    visit(page, live_server, "/mon-espace/")
    tile = page.get_by_role("region", name="Rendez-vous à confirmer")
    expect(tile.get_by_text("Bilan d'ergothérapie")).to_be_visible()
    expect(tile.get_by_text("Répondre avant le")).to_be_visible()
    tile.get_by_role("link", name="Répondre").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Agenda de {person.display_name}")
    page.get_by_label("Un mot pour le professionnel (facultatif)").fill("Nous serons là.")
    page.get_by_role("button", name="Accepter : Bilan d'ergothérapie").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Rendez-vous accepté : « Bilan d'ergothérapie ».")).to_be_visible()
    expect(page.get_by_text("Aucun rendez-vous n'attend de réponse.")).to_be_visible()
    assert Event.objects.get(pk=portal_blocks.pk).status == EventStatus.CONFIRMED

    for path, label in [
        ("/mon-espace/agenda/", "agenda"),
        ("/mon-espace/documents/", "documents"),
        ("/mon-espace/projet/", "projet"),
    ]:
        visit(page, live_server, path)
        check_page(page, screenshot, f"portail-{label}")
    expect(page.get_by_role("heading", name="Écrire mes attentes")).to_be_visible()

    # The guardian then lets a professional of the circle see the agenda, in plain words.
    assert access.check(external_pro, person, Category.AGENDA) is None
    visit(page, live_server, "/mon-espace/cercle/")
    member = CircleMember.objects.active().get(person=person, user=external_pro)
    article = page.get_by_role("article", name=re.compile(external_pro.get_full_name()))
    article.locator("summary").click()  # one compact row per member; its rights open on demand
    # Said to the guardian plainly ("Agenda"), not as if she were the person ("Mon agenda").
    article.get_by_role("group", name=re.compile("^Agenda")).get_by_role("radio", name="Voir", exact=True).check()
    article.get_by_role("button", name=f"Enregistrer les droits de {member.display_name}").click()
    page.wait_for_load_state()
    expect(page.get_by_text(f"Les droits de {member.display_name} sont changés.")).to_be_visible()
    assert access.check(external_pro, person, Category.AGENDA, "read") is not None


def test_the_person_reads_her_contract_and_makes_a_subscription_link(
    page, live_server, screenshot, person, person_user, portal_blocks
):
    sign_in_as(page, live_server, person_user)
    visit(page, live_server, "/mon-espace/documents/")
    expect(
        page.get_by_role("region", name="Le contrat").get_by_role("link", name="Contrat de séjour 2026")
    ).to_be_visible()
    visit(page, live_server, "/mon-espace/agenda/")
    expect(page.get_by_text("Kiné à domicile", exact=True)).to_be_visible()
    page.get_by_role("button", name="Créer une adresse d'abonnement").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Votre adresse (affichée une seule fois) :")).to_be_visible()
    check_page(page, screenshot, "portail-agenda-abonnement")
