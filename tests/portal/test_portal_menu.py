"""#16 item 5: the portal's menu offers only what the user may open, in words for their
role; the professional's circle offers no "Fin de prise en charge" on a carer's row."""

from __future__ import annotations

import lxml.html
from django.urls import reverse

from tests.conftest import login


def _menu(client) -> dict[str, str]:
    page = client.get(reverse("portal_home"))
    assert page.status_code == 200
    tree = lxml.html.fromstring(page.content.decode())
    links = tree.xpath("//nav[@aria-label='Navigation principale']//a")
    return {" ".join(a.text_content().split()): a.get("href") for a in links}


def test_it_offers_a_carer_only_the_pages_she_may_open(person, carer):
    client = login(carer)
    menu = _menu(client)
    assert "Mon cercle et mes droits" not in menu and "Qui a vu mes données" not in menu
    for label, href in menu.items():
        assert client.get(href).status_code == 200, f"{label} ({href})"
    # What she may not open is not offered.
    assert client.get(reverse("portal_circle")).status_code == 403
    assert reverse("portal_circle") not in menu.values()
    assert reverse("portal_access_log") not in menu.values()


def test_it_words_the_menu_for_whom_it_is(person, person_user, legal_rep):
    mine = _menu(login(person_user))
    assert {"Mon dossier", "Mon agenda", "Mon cercle et mes droits", "Qui a vu mes données"} <= set(mine)
    guardian = _menu(login(legal_rep))
    assert {"Le dossier de Jeanne", "Le cercle de Jeanne", "Qui a vu ses données"} <= set(guardian)
    assert not {"Mon dossier", "Mon cercle et mes droits"} & set(guardian)
    for href in guardian.values():
        assert login(legal_rep).get(href).status_code == 200, href


def test_it_titles_the_circle_page_for_a_guardian(person, legal_rep):
    page = login(legal_rep).get(reverse("portal_circle")).content.decode()
    assert "<h1>Le cercle de Jeanne</h1>" in page


def test_it_offers_no_end_of_care_on_a_carer_or_guardian_row(person, referent, carer, legal_rep, nurse):
    page = login(referent).get(reverse("coordination:circle", args=[person.pk]))
    tree = lxml.html.fromstring(page.content.decode())
    rows = {" ".join(tr.xpath("./th")[0].text_content().split()): tr for tr in tree.xpath("//table//tbody/tr")}

    def ends(user) -> bool:
        row = next(tr for name, tr in rows.items() if name.startswith(user.get_full_name()))
        return bool(row.xpath(".//button[contains(., 'Fin de prise en charge')]"))

    assert ends(nurse)
    assert not ends(carer) and not ends(legal_rep)
