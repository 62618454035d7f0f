"""The offer directory: kept by the structure's administrators, searched by everyone."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from admission import services
from admission.models import Offer
from reference.models import SerafinCode
from tests.conftest import login
from tests.factories import StructureFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def _offer(structure, admin_user, *, services_=(), **fields):
    values = {"department": "75", "postcode": "75011", "city": "Paris", "serves_older": True, **fields}
    return services.offer_save(actor=admin_user, structure=structure, services=services_, **values)


@pytest.fixture
def service_code(db):
    return SerafinCode.objects.filter(kind="service", depth=2).order_by("code").first()


def test_it_lets_the_structure_administrator_keep_the_offer_through_the_page(structure, referent, service_code):
    client = login(referent)
    url = reverse("admission:offer_edit", args=[structure.pk])
    data = {
        "department": "75",
        "postcode": "75011",
        "city": "Paris",
        "serves_older": "on",
        "age_min": "60",
        "services": [service_code.pk],
        "capacity": "80",
        "places_available": "3",
        "waiting_list_length": "12",
        "how_to_apply": "Dossier unique d'admission en EHPAD.",
        "contact_email": "accueil@tilleuls.fr",
        "accepts_requests": "on",
        "is_published": "on",
    }
    response = client.post(url, {**data, "places_available": "90"})
    assert response.status_code == 400 and "Places disponibles : pas plus que la capacité." in _text(response)
    assert not Offer.objects.exists()
    response = client.post(url, {**data, "age_max": "20"})
    assert response.status_code == 400 and "Âge maximum : il doit être au moins l'âge minimum." in _text(response)
    response = client.post(url, data)
    assert response.status_code == 302
    offer = Offer.objects.get(structure=structure)
    assert offer.places_available == 3 and offer.availability_updated_on == timezone.localdate()
    assert list(offer.services.all()) == [service_code]
    page = client.get(reverse("admission:offer_detail", args=[structure.pk]))
    assert "3 ; 12 personnes en liste d'attente" in _text(page) and service_code.label in _text(page)


def test_it_keeps_the_offer_page_to_the_structures_administrators(structure, nurse, other_pro, stranger):
    url = reverse("admission:offer_edit", args=[structure.pk])
    for user in (nurse, other_pro, stranger):
        assert login(user).post(url, {"department": "75", "postcode": "75011", "city": "X"}).status_code == 404
    assert not Offer.objects.exists()


def test_it_searches_the_offer_with_filters_in_relevance_order(admin_user, person_user, service_code):
    other_code = SerafinCode.objects.filter(kind="service", depth=2).exclude(pk=service_code.pk).first()
    near_full = _offer(StructureFactory(name="EHPAD Plein"), admin_user, places_available=0, services_=[service_code])
    near = _offer(StructureFactory(name="EHPAD Voisin"), admin_user, places_available=2, postcode="75012")
    exact = _offer(StructureFactory(name="EHPAD Ici"), admin_user, places_available=1, services_=[service_code])
    ime = _offer(
        StructureFactory(name="IME Les Pins", kind="ime"),
        admin_user,
        serves_older=False,
        serves_disability=True,
        age_min=6,
        age_max=20,
        places_available=4,
        services_=[other_code],
    )
    _offer(StructureFactory(name="EHPAD Lyon"), admin_user, department="69", postcode="69003", city="Lyon")
    _offer(StructureFactory(name="EHPAD Caché"), admin_user, is_published=False)
    client = login(person_user)
    url = reverse("admission:offer_search")

    def names(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return [o.structure.name for o in response.context["page"].object_list]

    # The postcode first, then places available, in its department only.
    ranked = names(postcode="75011")
    assert ranked[:2] == ["EHPAD Ici", "IME Les Pins"] and ranked[-1] == "EHPAD Voisin"
    assert "EHPAD Lyon" not in ranked and "EHPAD Caché" not in ranked
    assert names(department="69") == ["EHPAD Lyon"]
    assert names(kind="ime") == ["IME Les Pins"]
    assert names(public="handicap") == ["IME Les Pins"]
    assert "IME Les Pins" in names(age="10")
    assert "IME Les Pins" not in names(age="45")
    assert set(names(service=service_code.pk)) == {near_full.structure.name, exact.structure.name}
    assert "EHPAD Plein" not in names(with_places="on")
    assert names(q="pins") == ["IME Les Pins"]
    assert near.structure.name in names()
    response = client.get(url, {"postcode": "7501"})
    assert response.status_code == 400 and "Code postal invalide : 5 chiffres." in _text(response)
    # HTMX swaps the results only.
    response = client.get(url, {"kind": "ime"}, headers={"HX-Request": "true"})
    assert "<html" not in response.content.decode() and "IME Les Pins" in _text(response)
    assert ime.structure.name in names(public="handicap", with_places="on")


def test_it_paginates_the_search_in_a_bounded_number_of_queries(
    admin_user, person_user, service_code, django_assert_max_num_queries
):
    for n in range(45):
        _offer(StructureFactory(name=f"EHPAD {n:02d}"), admin_user, places_available=n % 3, services_=[service_code])
    client = login(person_user)
    url = reverse("admission:offer_search")
    client.get(url)
    with django_assert_max_num_queries(12):
        first = client.get(url, {"department": "75", "service": service_code.pk})
    with django_assert_max_num_queries(12):
        third = client.get(url, {"department": "75", "service": service_code.pk, "page": 3})
    assert first.context["page"].paginator.count == 45
    assert len(first.context["page"].object_list) == 20 and len(third.context["page"].object_list) == 5
    assert "Page 1 sur 3" in _text(first)


def test_it_asks_to_sign_in_before_searching(client):
    response = client.get(reverse("admission:offer_search"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
