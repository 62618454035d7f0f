"""Structures with an offer, and their admission staff."""

from __future__ import annotations

import pytest

from admission import services as admission_services
from coordination import services
from coordination.models import TeamRole
from tests.conftest import _pro
from tests.factories import StructureFactory


def offer(structure, actor, **fields):
    values = {"department": "75", "postcode": "75011", "city": "Paris", "serves_older": True, **fields}
    return admission_services.offer_save(actor=actor, structure=structure, services=[], **values)


@pytest.fixture
def other_admin(other_structure, admin_user):
    """The SSIAD's référent, who answers its admission requests."""
    pro = _pro("ssiad.referente@exemple.fr", "coordinateur", "Solène", "Ssiad")
    services.team_member_add(
        actor=admin_user, structure=other_structure, professional=pro, role=TeamRole.REFERENT, is_structure_admin=True
    )
    return pro.user


@pytest.fixture
def third_structure(admin_user):
    structure = StructureFactory(name="EHPAD Les Roses", finess="750000003", kind="ehpad")
    offer(structure, admin_user, postcode="75012")
    return structure


@pytest.fixture
def third_admin(third_structure, admin_user):
    pro = _pro("roses@exemple.fr", "directeur", "Rose", "Directrice")
    services.team_member_add(actor=admin_user, structure=third_structure, professional=pro, role=TeamRole.DIRECTION)
    return pro.user


@pytest.fixture
def offers(structure, other_structure, third_structure, admin_user):
    offer(structure, admin_user)
    offer(other_structure, admin_user, postcode="75010")
    return [structure, other_structure, third_structure]
