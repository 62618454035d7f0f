"""#16 item 6: a targeted (DAR) transmission showed as an empty line on the portal home."""

from __future__ import annotations

import lxml.html
from django.urls import reverse

from liaison import services as liaison_services
from liaison.models import Scope, TransmissionKind
from tests.conftest import login


def test_it_shows_the_data_actions_and_results_of_a_targeted_transmission(person, person_user, nurse):
    liaison_services.transmission_create(
        actor=nurse,
        person=person,
        category="symptomes",
        kind=TransmissionKind.TARGETED,
        target="Douleur au genou",
        data="Se plaint du genou droit au lever.",
        actions="Poche de glace, antalgique prescrit.",
        results="Soulagée une heure après.",
        scope=Scope.SHARED,
    )
    page = login(person_user).get(reverse("portal_home"))
    tree = lxml.html.fromstring(page.content.decode())
    items = tree.xpath("//section[@aria-labelledby='derniers-messages']//li")
    assert len(items) == 1
    line = " ".join(items[0].text_content().split())
    assert "Douleur au genou" in line
    assert "Données : Se plaint du genou droit au lever." in line
    assert "Actions : Poche de glace, antalgique prescrit." in line
    assert "Résultats : Soulagée une heure après." in line
