"""The transmission markup is written in Python (liaison.rendering, for speed): what a
person's record or an author holds is escaped on every page that shows it."""

from __future__ import annotations

import lxml.html
import pytest
from django.urls import reverse

from liaison import services
from liaison.models import Transmission
from tests.conftest import login

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _hostile_transmission(person, nurse, referent) -> Transmission:
    person.first_name = "Jeanne<b>"
    person.birth_name = 'Martin"><script>nom()</script>'
    person.save()
    nurse.first_name, nurse.last_name = "<i>Inès</i>", "Doe & <u>fils</u>"
    nurse.save()
    referent.first_name = "<em>Réf</em>"
    referent.save()
    return services.transmission_create(
        actor=nurse,
        person=person,
        category="observations",
        text=f"Première ligne {HOSTILE}\nDeuxième & dernière",
        addressees=[referent],
        requests_receipt=True,
    )


def _assert_no_markup_leaks(html: str, transmission: Transmission) -> None:
    tree = lxml.html.fromstring(html)
    article = tree.xpath(f"//article[@id='t{transmission.pk}']")[0]
    # Nothing typed became an element: the only elements are the markup's own.
    assert not article.xpath(".//script | .//img | .//b | .//i | .//u | .//em")
    text = article.text_content()
    assert HOSTILE in text
    assert "Deuxième & dernière" in text
    assert "<i>Inès</i> Doe & <u>fils</u>" in text
    assert "<em>Réf</em>" in text
    # The line break of the text is the markup's own <br>.
    assert article.xpath(".//div[@class='transmission__body']/p/br")


def test_it_escapes_what_the_person_and_the_author_wrote_on_the_notebook(person, nurse, referent):
    transmission = _hostile_transmission(person, nurse, referent)
    response = login(referent).get(reverse("liaison:notebook", args=[person.pk]))
    assert response.status_code == 200
    _assert_no_markup_leaks(response.content.decode(), transmission)


def test_it_escapes_them_on_my_feed_with_the_persons_name(person, nurse, referent):
    transmission = _hostile_transmission(person, nurse, referent)
    html = login(referent).get(reverse("liaison:feed")).content.decode()
    _assert_no_markup_leaks(html, transmission)
    title = lxml.html.fromstring(html).xpath(f"//*[@id='t{transmission.pk}-title']/a")[0]
    assert title.get("href") == reverse("liaison:notebook", args=[person.pk])
    assert "Jeanne<b>" in title.text_content() or "<script>nom()</script>" in title.text_content()


def test_it_escapes_them_on_the_detail_page_and_in_the_receipt_swap(person, nurse, referent):
    transmission = _hostile_transmission(person, nurse, referent)
    client = login(referent)
    html = client.get(reverse("liaison:transmission", args=[transmission.pk])).content.decode()
    _assert_no_markup_leaks(html, transmission)
    # The acknowledgement form posts back to the page it came from, escaped in its attribute.
    form = lxml.html.fromstring(html).xpath(f"//article[@id='t{transmission.pk}']//form")[0]
    assert form.get("action") == reverse("liaison:acknowledge", args=[transmission.pk])
    assert form.xpath(".//input[@name='csrfmiddlewaretoken']")
    response = client.post(reverse("liaison:acknowledge", args=[transmission.pk]), headers={"HX-Request": "true"})
    swapped = response.content.decode()
    assert "<em>" not in swapped and "&lt;em&gt;Réf&lt;/em&gt;" in swapped
