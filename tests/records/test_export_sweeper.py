"""Every export reaches an end (issue #25): one whose hand-off was lost (broker down), whose
worker died mid-build, or whose build failed for a passing reason is built again by the
sweeper; one that cannot be built ends as failed, with its reason shown to the requester
and to administrators, who can ask for it again."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.storage import FileSystemStorage
from django.urls import reverse
from django.utils import timezone

from common import outbox
from notifications.models import Notification
from records import services, tasks
from records.models import ExportStatus, RecordExport
from tests.conftest import login
from tests.records.helpers import ask_export

pytestmark = pytest.mark.django_db


@pytest.fixture
def lost_hand_off(monkeypatch):
    """The request's after-commit hand-off never reaches a worker (broker down)."""
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, **kw: None)


@pytest.fixture
def storage_down(monkeypatch):
    """Writing the archive fails (disk full, bucket unreachable); `storage_down.up()` ends it."""

    class Switch:
        down = True

        def up(self):
            self.down = False

    switch = Switch()
    original = FileSystemStorage._save

    def save(storage, name, content):
        if switch.down:
            raise OSError(28, "No space left on device")
        return original(storage, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", save)
    return switch


def sweep_at(moment):
    with time_machine.travel(moment, tick=False):
        return tasks.resume_exports()


def ready_notifications(user) -> int:
    return Notification.objects.filter(recipient=user, event_type="records.export_ready").count()


def test_it_builds_an_export_whose_hand_off_was_lost_once_the_sweeper_runs(person, person_user, lost_hand_off):
    _client, export = ask_export(person_user, person)
    assert export.status == ExportStatus.QUEUED
    assert tasks.resume_exports() == 0  # just asked: its hand-off may still be on its way
    export.refresh_from_db()
    assert export.status == ExportStatus.QUEUED

    assert sweep_at(timezone.now() + dt.timedelta(minutes=2)) == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.READY and export.file
    assert ready_notifications(person_user) == 1
    assert sweep_at(timezone.now() + dt.timedelta(minutes=3)) == 0  # a ready export is never built again
    assert ready_notifications(person_user) == 1


def test_it_builds_again_an_export_whose_worker_died_once_its_lease_expired(
    person, person_user, lost_hand_off, settings
):
    _client, export = ask_export(person_user, person)
    assert services.claim(export.pk)  # a worker took it, then was killed mid-build
    export.refresh_from_db()
    assert export.status == ExportStatus.RUNNING

    assert sweep_at(timezone.now() + dt.timedelta(minutes=5)) == 0  # its lease still holds
    assert tasks.build_export(export.pk) == "skipped"  # and no second run takes it meanwhile

    later = timezone.now() + dt.timedelta(seconds=settings.RECORDS_EXPORT_LEASE_SECONDS + 60)
    assert sweep_at(later) == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.READY and export.attempts == 2
    assert ready_notifications(person_user) == 1


def test_it_ends_an_export_interrupted_too_often_as_failed_and_tells_the_requester(
    person, person_user, lost_hand_off, settings
):
    _client, export = ask_export(person_user, person)
    RecordExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, attempts=outbox.MAX_ATTEMPTS, claimed_at=timezone.now()
    )
    later = timezone.now() + dt.timedelta(seconds=settings.RECORDS_EXPORT_LEASE_SECONDS + 60)
    assert sweep_at(later) == 0
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert f"interrompu {outbox.MAX_ATTEMPTS} fois" in export.error
    assert Notification.objects.filter(recipient=person_user, event_type="records.export_failed").count() == 1
    page = login(person_user).get(reverse("records:export_detail", args=[person.pk, export.pk])).content.decode()
    assert f"interrompu {outbox.MAX_ATTEMPTS} fois" in page and "Demander à nouveau" in page


def test_it_retries_a_storage_failure_then_fails_with_its_reason_for_administrators(
    person, person_user, admin_user, on_commit_now, storage_down
):
    client, export = ask_export(person_user, person)
    export.refresh_from_db()
    assert export.status == ExportStatus.QUEUED and export.attempts == 1
    assert "nouvel essai prévu" in export.error
    page = client.get(reverse("records:export_detail", args=[person.pk, export.pk])).content.decode()
    assert "un nouvel essai est prévu automatiquement" in page
    assert not Notification.objects.filter(recipient=person_user, event_type="records.export_failed").exists()

    moment = timezone.now()
    for _ in range(outbox.MAX_ATTEMPTS):
        moment += dt.timedelta(hours=2)  # past any backoff
        sweep_at(moment)
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and export.attempts == outbox.MAX_ATTEMPTS
    assert "OSError" in export.error
    assert Notification.objects.filter(recipient=person_user, event_type="records.export_failed").count() == 1

    staff = login(admin_user)
    listing = staff.get("/admin/records/recordexport/?status__exact=failed").content.decode()
    assert f"{outbox.MAX_ATTEMPTS} essais, OSError" in listing
    storage_down.up()
    staff.post("/admin/records/recordexport/", {"action": "build_again", "_selected_action": [export.pk]})
    export.refresh_from_db()
    assert export.status == ExportStatus.READY and export.file and export.error == ""
    assert ready_notifications(person_user) == 1
