"""The menus' links (reversed once per URLconf, script prefix and language:
portal.context_processors.nav_urls) are the pages' addresses, and follow a script prefix."""

from __future__ import annotations

from django.urls import reverse, set_script_prefix

from portal.context_processors import NAV_URLS, nav_urls
from tests.conftest import login


def test_a_professional_sees_every_menu_link_and_where_they_are(nurse):
    html = login(nurse).get(reverse("liaison:feed")).content.decode()
    for name in NAV_URLS:
        assert f'href="{reverse(name)}"' in html or f'action="{reverse(name)}"' in html, name
    assert f'<a href="{reverse("liaison:feed")}" aria-current="page">Mon fil</a>' in html
    assert f'<a href="{reverse("pro_dashboard")}">Tableau de bord</a>' in html
    assert f'data-conversation-stream="{reverse("exchanges_live:conversation", args=[0])}"' in html


def test_the_links_follow_the_script_prefix(db):
    try:
        set_script_prefix("/portail/")
        prefixed = nav_urls()
        assert prefixed["liaison_feed"] == reverse("liaison:feed") and prefixed["liaison_feed"].startswith("/portail/")
    finally:
        set_script_prefix("/")
    assert nav_urls()["liaison_feed"] == reverse("liaison:feed") and not nav_urls()["liaison_feed"].startswith(
        "/portail/"
    )
