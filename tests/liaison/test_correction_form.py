"""The transmission page offers "Ajouter une correction" only to who may write in the notebook."""

from __future__ import annotations

from django.urls import reverse

from liaison import services
from tests.conftest import login


def test_the_correction_form_is_offered_to_a_writer_not_to_a_reader(person, person_user, nurse, referent):
    transmission = services.transmission_create(actor=nurse, person=person, category="autre", text="Bonne nuit.")
    url = reverse("liaison:transmission", args=[transmission.pk])
    correct = reverse("liaison:correct", args=[transmission.pk])

    as_person = login(person_user).get(url)
    assert as_person.status_code == 200 and "Bonne nuit." in as_person.content.decode()
    # She reads her notebook but may not write in it: posting would be refused.
    assert correct not in as_person.content.decode()
    assert login(person_user).post(correct, {"text": "Non."}).status_code == 403

    as_referent = login(referent).get(url).content.decode()
    assert correct in as_referent and "Ajouter une correction" in as_referent
    response = login(referent).post(correct, {"text": "Précision : nuit calme."})
    assert response.status_code == 302
