"""#16 item 4: pages that read on a phone. The menu folds into a <details> (no JavaScript,
keyboard ready), the person's rights page is one compact row per member, each edited on
its own, and the professional's matrix stacks into one block per member."""

from __future__ import annotations

import lxml.html
from django.urls import reverse

from coordination.models import Category, CircleMember, Level
from tests.conftest import login


def _tree(response):
    assert response.status_code == 200
    return lxml.html.fromstring(response.content.decode())


def test_it_folds_the_menus_into_a_details(person, person_user, nurse):
    for user, url in ((person_user, reverse("portal_home")), (nurse, reverse("coordination:caseload"))):
        tree = _tree(login(user).get(url))
        menu = tree.xpath("//header//details[contains(@class, 'site-menu')]")
        assert len(menu) == 1, url
        assert menu[0].get("open") is None, "folded until asked for"
        assert menu[0].xpath("./summary")[0].text_content().strip() == "Menu"
        # Both menus, the main one and the account one, are inside it.
        assert menu[0].xpath(".//nav[@aria-label='Navigation principale']"), url
        assert menu[0].xpath(".//nav[@aria-label='Mon compte']//button[contains(., 'Se déconnecter')]"), url


def test_it_shows_one_compact_row_per_member(person, person_user, carer, nurse, referent):
    tree = _tree(login(person_user).get(reverse("portal_circle")))
    members = CircleMember.objects.active().filter(person=person)
    rows = tree.xpath("//ul[@class='member-list']/li/article")
    assert len(rows) == members.count()
    carer_row = next(r for r in rows if carer.get_full_name() in r.xpath("./h3")[0].text_content())
    assert carer_row.xpath("./p[@class='member-row__rights']")[0].text_content().strip() == "Ne voit rien."
    # The radios of a member are folded away until the person opens that member.
    for row in rows:
        assert not row.xpath(".//input[@type='radio'][not(ancestor::details)]")
    nurse_row = next(r for r in rows if nurse.get_full_name() in r.xpath("./h3")[0].text_content())
    assert "Voit" in nurse_row.xpath("./p[@class='member-row__rights']")[0].text_content()
    assert nurse_row.xpath(".//details/summary[contains(., 'Modifier')]")


def test_it_saves_one_member_and_returns_to_that_row(person, person_user, carer, nurse):
    client = login(person_user)
    member = CircleMember.objects.active().get(person=person, user=carer)
    nurse_before = {c: lvl for c, lvl in _levels(client, nurse).items()}
    data = {f"m{member.pk}-{c}": str(Level.NONE) for c in Category.values}
    data[f"m{member.pk}-agenda"] = str(Level.READ)
    response = client.post(reverse("portal_grants_update", args=[member.pk]), data)
    assert response.status_code == 302 and response.url.endswith(f"#membre-{member.pk}")
    page = _tree(client.get(response.url))
    row = page.xpath(f"//article[@aria-labelledby='membre-{member.pk}']")[0]
    assert row.xpath("./p[@class='member-row__rights']")[0].text_content().strip() == "Voit : agenda."
    assert _levels(client, nurse) == nurse_before


def _levels(client, user) -> dict[str, str]:
    """The checked radios of one member's row, as the page shows them."""
    tree = _tree(client.get(reverse("portal_circle")))
    row = next(
        r
        for r in tree.xpath("//article[@class='member-row']")
        if user.get_full_name() in r.xpath("./h3")[0].text_content()
    )
    return {i.get("name").split("-", 1)[1]: i.get("value") for i in row.xpath(".//input[@type='radio'][@checked]")}


def test_it_stacks_the_professionals_matrix_on_a_phone(person, referent):
    tree = _tree(login(referent).get(reverse("coordination:circle", args=[person.pk])))
    table = tree.xpath("//table[contains(@class, 'table--stack')]")
    assert len(table) == 1
    # Each cell says which column it is in, so a stacked row still reads alone.
    for row in table[0].xpath("./tbody/tr"):
        labels = [td.get("data-label") for td in row.xpath("./td[@data-label]")]
        assert labels == ["Rôle", *Category.labels]
