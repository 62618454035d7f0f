"""Retention of an ended coordination (seed 003: archived or destroyed): archived when
the last accompaniment ends, each kind destroyed when its period is over (files
included, the destruction recorded without content), stopped by a legal hold; a dry run
lists and changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from agenda.models import Event
from coordination import access
from coordination import services as kernel
from coordination.models import (
    AccessLog,
    Accompaniment,
    AuditEvent,
    CircleMember,
    Consent,
    Level,
    Person,
    RecordDestruction,
)
from documents.models import Document
from liaison.models import Attachment, Transmission
from ppa.models import PlanVersion
from records import retention, tasks
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _end(person, admin_user, on: dt.date) -> None:
    for accompaniment in Accompaniment.objects.filter(person=person, ended_on__isnull=True):
        kernel.accompaniment_end(actor=admin_user, accompaniment=accompaniment, reason="fin", ended_on=on)


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _at(day: dt.date):
    return time_machine.travel(timezone.make_aware(dt.datetime.combine(day, dt.time(4))), tick=False)


@pytest.fixture
def ended(record, admin_user, carer, person_user):
    """The full record, its carer granted reads, its only accompaniment ended today."""
    kernel.grants_set(
        actor=person_user, member=CircleMember.objects.active().get(user=carer), levels={"record": Level.READ}
    )
    _end(record, admin_user, timezone.localdate())
    return record


def test_a_dry_run_lists_and_changes_nothing(ended):
    out = io.StringIO()
    call_command("retention", "--dry-run", stdout=out)
    assert f"[simulation] archiver : personne n° {ended.pk}" in out.getvalue()
    assert Person.objects.get(pk=ended.pk).archived_at is None
    with _at(timezone.localdate() + dt.timedelta(days=6 * 365)):
        out = io.StringIO()
        call_command("retention", "--dry-run", stdout=out)
        assert "détruire" in out.getvalue() and "Cahier de liaison" in out.getvalue()
    assert Transmission.objects.filter(person=ended).exists() and not RecordDestruction.objects.exists()


def test_an_ended_coordination_is_archived_read_only_and_out_of_the_lists(ended, person_user, carer):
    assert access.persons_visible_to(carer).filter(pk=ended.pk).exists()
    assert tasks.apply_retention() >= 1
    person = Person.objects.get(pk=ended.pk)
    assert person.archived_at is not None
    assert AuditEvent.objects.filter(person=person, event_type="record_archived").exists()
    assert not access.persons_visible_to(carer).filter(pk=ended.pk).exists()
    # The person still reads her record; no one may write in it any more.
    client = login(person_user)
    assert client.get(reverse("portal_record")).status_code == 200
    with pytest.raises(access.AccessDenied, match="archivé"):
        access.require(person_user, person, "documents", "write")
    response = client.post(reverse("portal_documents"), {"doc_type": "autre", "title": "Un papier"})
    assert response.status_code == 403 and Document.objects.filter(title="Un papier").count() == 0
    # Running twice archives once.
    retention.run()
    assert AuditEvent.objects.filter(person=person, event_type="record_archived").count() == 1


def test_each_kind_is_destroyed_when_its_period_is_over_files_included(ended, fhir_media, settings):
    retention.run()
    today = timezone.localdate()
    assert _files(fhir_media)
    with _at(today + dt.timedelta(days=settings.RECORDS_RETENTION_DAYS["agenda"] + 1)):
        retention.run()
    assert not Event.objects.filter(person=ended).exists()
    assert Transmission.objects.filter(person=ended).exists()  # not yet: five years
    with _at(today + dt.timedelta(days=5 * 365 + 1)):
        retention.run()
        retention.run()  # safe twice
    person = Person.objects.get(pk=ended.pk)
    for model, lookup in (
        (Transmission, {"person": person}),
        (Attachment, {"transmission__person": person}),
        (Document, {"person": person}),
        (PlanVersion, {"plan__person": person}),
        (Consent, {"person": person}),
    ):
        assert not model.objects.filter(**lookup).exists(), model
    assert not _files(fhir_media)
    assert person.destroyed_at is not None and "MARTIN" not in str(person) and person.user_id is None
    kinds = {d.kind: d for d in RecordDestruction.objects.filter(person=person)}
    assert {"agenda", "liaison", "documents", "ppa", "identity"} <= set(kinds)
    assert kinds["liaison"].items == 4 and kinds["liaison"].rule == "RECORDS_RETENTION_DAYS[liaison]=1825"
    assert AuditEvent.objects.filter(person=person, event_type="record_destroyed").count() == len(kinds)
    assert AccessLog.objects.filter(person=person).exists()  # the trace of who accessed stays


def test_a_legal_hold_set_by_an_administrator_stops_destruction(ended, referent, fhir_media):
    url = reverse("records:legal_hold", args=[ended.pk])
    client = login(referent)
    response = client.post(url, {"action": "hold", "reason": ""})
    assert response.status_code == 200 and "Donnez le motif du gel" in response.content.decode()
    assert not Person.objects.get(pk=ended.pk).legal_hold
    assert client.post(url, {"action": "hold", "reason": "Contentieux en cours"}).status_code == 302
    retention.run()
    with _at(timezone.localdate() + dt.timedelta(days=6 * 365)):
        steps = retention.run()
        assert [s.action for s in steps if s.person.pk == ended.pk] == ["hold"]
        assert Transmission.objects.filter(person=ended).exists() and _files(fhir_media)
        client = login(referent)
        assert client.post(url, {"action": "lift", "reason": ""}).status_code == 302
        retention.run()
        assert not Transmission.objects.filter(person=ended).exists()
        page = client.get(url).content.decode()
        assert "Cahier de liaison : 4 éléments détruits" in page


def test_the_retention_page_is_for_administrators_only(ended, nurse, stranger, person_user):
    url = reverse("records:legal_hold", args=[ended.pk])
    for user in (nurse, stranger, person_user):
        assert login(user).get(url).status_code == 404
        assert login(user).post(url, {"action": "hold", "reason": "Contentieux"}).status_code == 404
    assert not Person.objects.get(pk=ended.pk).legal_hold


def test_a_new_accompaniment_brings_an_archived_record_back(ended, admin_user, structure, nurse):
    retention.run()
    kernel.accompaniment_start(actor=admin_user, person=ended, structure=structure)
    person = Person.objects.get(pk=ended.pk)
    assert person.archived_at is None
    assert access.require(nurse, person, "liaison", "write")
