"""A date shown in a form comes back when the form is saved: `<input type="date">` only
takes ISO dates (2027-06-01); a browser drops "01/06/2027" and the date would be lost."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from ppa import services
from reference.models import SerafinCode
from tests.conftest import login


def test_editing_an_objective_through_its_page_keeps_its_target_date(person, referent, serafin_codes):
    version = services.plan_create(actor=referent, person=person).versions.get()
    need = services.need_add(
        actor=referent,
        version=version,
        serafin=SerafinCode.objects.get(kind="need", code="1.1.1"),
        description="Mémoire",
    )
    objective = services.objective_add(
        actor=referent, version=version, title="Repères", needs=[need], indicator="Seule", target_on=date(2027, 6, 1)
    )
    client = login(referent)
    url = reverse("ppa:objective_edit", args=[objective.pk])
    page = client.get(url).content.decode()
    assert 'name="target_on" value="2027-06-01"' in page

    # What the browser sends back: the values the page shows, the note changed.
    response = client.post(
        url,
        {
            "title": "Repères",
            "needs": [need.pk],
            "indicator": "Seule",
            "target_on": "2027-06-01",
            "status": objective.status,
            "status_note": "En bonne voie.",
        },
    )
    assert response.status_code == 302
    objective.refresh_from_db()
    assert objective.target_on == date(2027, 6, 1) and objective.status_note == "En bonne voie."
