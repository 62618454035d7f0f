"""The validated projet personnalisé feeds the DMP (seed 003) through the documents'
outbox: the same delay and cancellation as a report, refused when the person opposed
feeding or when the identity is not qualifiée."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coordination import services as kernel
from coordination.models import AuditEvent, CollectionMethod, IdentityStatus
from documents.models import DmpAction, DmpShare, DmpShareStatus
from tests.conftest import login
from tests.factories import valid_ins
from tests.ppa.conftest import validate


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _on_commit_now(monkeypatch):
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, **kw: func())


@pytest.fixture
def qualified(person):
    person.ins_matricule, person.ins_oid, person.identity_status = (
        valid_ins(3),
        "1.2.250.1.213.1.4.8",
        IdentityStatus.QUALIFIED,
    )
    person.save()
    return person


def _refusals(person) -> list[str]:
    return [e.data["reason"] for e in AuditEvent.objects.filter(person=person, event_type="plan_dmp_refused")]


def test_a_validated_plan_is_queued_for_the_dmp_with_the_delay(qualified, filled, referent, person_user, settings):
    version = validate(filled, referent, person_user)
    share = DmpShare.objects.get(document=version.document)
    assert share.action == DmpAction.PUBLISH and share.status == DmpShareStatus.SCHEDULED
    assert share.created_by == referent
    delay = (share.send_after - share.created_at).total_seconds() / 60
    assert abs(delay - settings.DMP_SEND_DELAY_MINUTES) < 1
    # Its author cancels it during the delay from the document's page, as for any document.
    response = login(referent).post(reverse("documents:dmp_share_cancel", args=[share.pk]))
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.status == DmpShareStatus.CANCELLED


def test_an_amendment_queues_its_own_version_once(qualified, filled, referent, person_user):
    from ppa import documents, services

    first = validate(filled, referent, person_user)
    amendment = services.plan_amend(actor=referent, plan=first.plan, reason="Nouvelle orientation vers un accueil")
    second = validate(amendment, referent, person_user)
    documents.plan_document_file(actor=referent, version=second)  # filed again: nothing doubles
    assert DmpShare.objects.filter(document=second.document, action=DmpAction.PUBLISH).count() == 1
    assert second.document.replaces_id == first.document_id


def test_it_is_refused_when_the_person_opposed(qualified, filled, referent, person_user):
    kernel.consent_record(
        actor=person_user,
        person=qualified,
        kind="dmp_feeding",
        decision="refused",
        collected_via=CollectionMethod.PORTAL,
    )
    version = validate(filled, referent, person_user)
    assert version.document is not None  # the plan is filed all the same
    assert not DmpShare.objects.exists()
    assert _refusals(qualified) == [
        "La personne s'est opposée à l'alimentation de son DMP : le document n'y est pas envoyé."
    ]


def test_it_is_refused_when_the_identity_is_not_qualified(person, filled, referent, person_user):
    person.ins_matricule, person.identity_status = valid_ins(4), IdentityStatus.VALIDATED
    person.save()
    validate(filled, referent, person_user)
    assert not DmpShare.objects.exists()
    assert "n'est pas qualifiée" in _refusals(person)[0]
