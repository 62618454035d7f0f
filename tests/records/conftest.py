"""Fixtures of the whole-record tests: the full record of the FHIR tests (tests/interop)."""

from __future__ import annotations

import pytest

from tests.interop.conftest import api, dui, fhir_media, on_commit_now, other_api, other_dui, record  # noqa: F401


@pytest.fixture
def ssiad_nurse(person, other_structure, admin_user):
    """A nurse of a second structure that accompanies the person (her team's internal notes)."""
    from coordination import services
    from coordination.models import TeamRole
    from tests.conftest import _pro

    pro = _pro("ssiad@exemple.fr", "infirmier", "Sacha", "Ssiad")
    services.team_member_add(actor=admin_user, structure=other_structure, professional=pro, role=TeamRole.NURSE)
    services.accompaniment_start(actor=admin_user, person=person, structure=other_structure)
    return pro.user
