"""Two sign-offs racing on one version: the database settles it (real threads, PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from coordination.models import AuditEvent
from ppa import services
from ppa.audit_types import PlanAudit
from ppa.models import SignOff, SignOffRole, VersionStatus
from tests.conftest import need_service


@pytest.mark.django_db(transaction=True)  # SERAFIN-PH codes: reloaded by the serafin_codes fixture
def test_it_validates_once_when_two_validations_race(filled, referent, person_user):
    need_service(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    services.plan_submit(actor=referent, version=filled)
    services.plan_sign(actor=person_user, version=filled, role=SignOffRole.PERSON)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def sign():
        try:
            barrier.wait()
            services.plan_sign(actor=referent, version=filled, role=SignOffRole.REFERENT)
            outcomes.append("won")
        except Exception as error:  # noqa: BLE001 - the loser's refusal is what we check
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["PlanFrozen", "won"]
    filled.refresh_from_db()
    assert filled.status == VersionStatus.VALIDATED
    assert SignOff.objects.filter(version=filled, role=SignOffRole.REFERENT).count() == 1
    assert AuditEvent.objects.filter(event_type=PlanAudit.PLAN_VALIDATED).count() == 1
