"""Every URL pattern that names an object, walked with the ids of a real person's data: a
professional of another structure, another accompanied person and an anonymous visitor get
404, 403 or a redirect to sign in — never a page or answer that shows the person's name."""

from __future__ import annotations

import pytest
from django.test import Client

from coordination import services
from tests.factories import UserFactory
from tests.robustness.conftest import url_routes

NAMES = ("Jeanne", "MARTIN", "Martin")
REFUSED = {302, 400, 401, 403, 404, 405}
ROUTES = [
    (route, pattern)
    for route, pattern in url_routes()
    if "<" in route and not route.startswith(("admin/", "static/", "accounts/"))
]


@pytest.fixture
def other_person_user(other_structure, admin_user):
    user = UserFactory(email="paul.autre@exemple.fr", first_name="Paul", last_name="Autre")
    services.person_create(
        actor=admin_user,
        structure=other_structure,
        user=user,
        birth_name="AUTRE",
        birth_first_names="Paul",
        first_name="Paul",
        birth_date="1950-01-01",
        sex="M",
        birth_place_insee="75056",
    )
    return user


def _visitor(kind: str, request) -> Client:
    client = Client(raise_request_exception=False)
    if kind != "anonymous":
        client.force_login(request.getfixturevalue(kind))
    return client


@pytest.mark.parametrize("kind", ["other_pro", "other_person_user", "anonymous"])
def test_no_url_with_an_id_shows_the_person_to_an_outsider(world, kind, request):
    client = _visitor(kind, request)
    leaks = []
    for route, _pattern in ROUTES:
        path = world.fill(route)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode("utf-8", "replace")
            if response.status_code not in REFUSED:
                leaks.append(f"{method.upper()} {path} → {response.status_code}")
            elif any(name in text for name in NAMES):
                leaks.append(f"{method.upper()} {path} → {response.status_code} shows the name")
            elif response.status_code == 302 and kind == "anonymous" and "/accounts/login/" not in response["Location"]:
                leaks.append(f"{method.upper()} {path} → redirect to {response['Location']}")
    assert len(ROUTES) > 80
    assert not leaks, "\n".join(leaks)
