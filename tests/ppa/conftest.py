from __future__ import annotations

from datetime import date, time

import pytest

from ppa import services
from ppa.models import SignOffRole
from reference.models import SerafinCode


@pytest.fixture
def need_code(db):
    return SerafinCode.objects.get(kind="need", code="1.1.1")


@pytest.fixture
def service_code(db):
    return SerafinCode.objects.filter(kind="service", depth__gte=3).order_by("code").first()


@pytest.fixture
def plan(person, referent):
    return services.plan_create(actor=referent, person=person)


@pytest.fixture
def draft(plan):
    return plan.versions.get()


@pytest.fixture
def filled(draft, referent, nurse, need_code, service_code):
    """A draft with one need, one objective and one weekly action by the nurse."""
    need = services.need_add(actor=referent, version=draft, serafin=need_code, description="Troubles de mémoire")
    objective = services.objective_add(
        actor=referent,
        version=draft,
        title="Garder ses repères",
        needs=[need],
        indicator="Se repère seule dans la résidence",
        target_on=date(2027, 6, 1),
    )
    services.action_add(
        actor=referent,
        version=draft,
        title="Atelier mémoire",
        objectives=[objective],
        professional=nurse.professional,
        serafin=service_code,
        weekdays="MO,TH",
        starts_at_time=time(10, 0),
        duration_minutes=60,
        starts_on=date(2026, 1, 5),
    )
    return draft


def validate(version, referent, person_user):
    services.plan_submit(actor=referent, version=version)
    services.plan_sign(actor=person_user, version=version, role=SignOffRole.PERSON)
    services.plan_sign(actor=referent, version=version, role=SignOffRole.REFERENT)
    version.refresh_from_db()
    return version


@pytest.fixture
def validated(filled, referent, person_user):
    return validate(filled, referent, person_user)


@pytest.fixture(autouse=True)
def _serafin_codes(serafin_codes):
    """Every PPA test may use the SERAFIN-PH codes."""
