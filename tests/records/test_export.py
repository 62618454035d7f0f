"""The export of a person's whole record: asked for on its page, built in the background
with its progress shown, a ZIP holding a valid FHIR Bundle of what the requester may
read, a French summary, the files and a manifest; downloadable for a while, then gone."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from fhir.resources import construct_fhir_element

from coordination import services as kernel
from coordination.models import AccessLog, CircleMember, Level
from liaison import services as liaison
from notifications.models import Notification
from records import services, tasks
from records.models import ExportStatus, RecordExport
from tests.conftest import login
from tests.pdf_reader import read_pdf
from tests.records.helpers import ask_export, bundle_of, by_type, download, manifest, note_texts, sha256

pytestmark = pytest.mark.django_db


def test_the_person_gets_her_whole_record_as_a_valid_bundle_with_every_kind(record, person_user):
    client, export = ask_export(person_user, record)
    assert export.status == ExportStatus.READY and export.progress == 100
    page = client.get(reverse("records:export_detail", args=[record.pk, export.pk])).content.decode()
    assert "Télécharger l'export" in page
    archive = download(client, export)
    bundle = bundle_of(archive)
    construct_fhir_element("Bundle", bundle)  # the whole Bundle, every entry, against the R4 models
    assert bundle["type"] == "collection"
    found = by_type(bundle)
    for kind in (
        "Patient",
        "Organization",
        "RelatedPerson",
        "CareTeam",
        "Consent",
        "Appointment",
        "DocumentReference",
        "CarePlan",
        "Goal",
        "ServiceRequest",
        "AuditEvent",
    ):
        assert found.get(kind), kind
    # The circle's whole history: the physiotherapist's ended membership keeps its end.
    periods = [p["period"] for p in found["CareTeam"][0]["participant"]]
    assert any("end" in period for period in periods)
    # Consents with their history, and the projet personnalisé's sign-offs.
    consent_ids = {c["id"] for c in found["Consent"]}
    assert any(i.startswith("consentement-") for i in consent_ids)
    assert any(i.startswith("signature-") for i in consent_ids)
    # Notebook notes with the correction linked to its original; documents with their versions.
    notes = [d for d in found["DocumentReference"] if d["id"].startswith("cdl-")]
    assert any(r["code"] == "appends" for n in notes for r in n.get("relatesTo", []))
    documents = [d for d in found["DocumentReference"] if d["id"].startswith("doc-")]
    # The report and its new version, and the validated projet personnalisé's PDF.
    assert len(documents) == 3 and any(d.get("relatesTo") for d in documents)
    # The person does not see the team's internal notes, in her export neither.
    texts = note_texts(bundle)
    assert "Appétit faible." in texts and "Hydrater" not in texts
    # The files themselves are in the archive.
    names = archive.namelist()
    assert sum(n.startswith("fichiers/documents/") for n in names) == 3
    assert sum(n.startswith("fichiers/cahier-de-liaison/") for n in names) == 1
    assert export.resource_count == len(bundle["entry"]) and export.file_count == 4


def test_the_manifest_hashes_match_the_files_and_the_summary_is_in_french(record, person_user):
    client, export = ask_export(person_user, record)
    archive = download(client, export)
    listed = manifest(archive)
    assert set(listed) == set(archive.namelist()) - {"manifeste-sha256.txt"}
    for path, digest in listed.items():
        assert sha256(archive.read(path)) == digest, path
    text = read_pdf(archive.read("synthese.pdf")).text
    for heading in (
        "Synthèse du dossier de Jeanne MARTIN",
        "Identité",
        "Cercle de santé et d'accompagnement",
        "Projet personnalisé en vigueur",
        "Dernières transmissions",
        "Documents",
        "Qui a consulté le dossier",
    ):
        assert heading in text, heading
    assert "Appétit faible." in text and "Garder ses repères" in text
    # The stored archive is the one whose hash the page shows.
    with default_storage.open(RecordExport.objects.get(pk=export.pk).file.name, "rb") as stored:
        assert sha256(stored.read()) == export.sha256


def test_an_administrator_gets_only_what_the_matrix_gives_and_not_another_teams_notes(
    record, referent, person_user, ssiad_nurse
):
    liaison.transmission_create(
        actor=ssiad_nurse, person=record, category="consignes", text="Note interne du SSIAD.", scope="internal"
    )
    kernel.grants_set(
        actor=person_user,
        member=CircleMember.objects.active().get(person=record, user=referent),
        levels={"agenda": Level.NONE, "documents": Level.NONE},
    )
    client, export = ask_export(referent, record)
    archive = download(client, export)
    bundle = bundle_of(archive)
    found = by_type(bundle)
    texts = note_texts(bundle)
    assert "Appointment" not in found
    assert not [d for d in found["DocumentReference"] if d["id"].startswith("doc-")]
    assert not [n for n in archive.namelist() if n.startswith("fichiers/documents/")]
    assert "Note interne du SSIAD" not in texts
    assert "Hydrater" in texts  # the EHPAD's own internal note: the referent's team wrote it
    assert "agenda" not in export.categories and "documents" not in export.categories
    summary = read_pdf(archive.read("synthese.pdf")).text
    assert "Parties non incluses" in summary and "Agenda" in summary


def test_each_export_is_logged_and_the_person_sees_it(record, referent, person_user):
    ask_export(referent, record)
    export = RecordExport.objects.get(requested_by=referent)
    assert AccessLog.objects.filter(user=referent, person=record, path__contains=f"/exports/{export.pk}/").exists()
    page = html.unescape(login(person_user).get(reverse("portal_access_log")).content.decode())
    assert "Rémi Référent, référent" in page and "a exporté votre cahier de liaison" in page


def test_the_requester_is_told_when_the_export_is_ready(record, person_user):
    _client, export = ask_export(person_user, record)
    notification = Notification.objects.get(recipient=person_user, event_type="records.export_ready")
    assert str(export.pk) in notification.url


def test_the_job_reports_its_progress_and_the_page_polls_until_ready(record, person_user, monkeypatch):
    seen: list[int] = []
    original = services._Progress.item

    def spy(self):
        original(self)
        seen.append(RecordExport.objects.get(pk=self.export_id).progress)

    monkeypatch.setattr(services._Progress, "item", spy)
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, **kw: None)  # keep it queued
    client, export = ask_export(person_user, record)
    status_url = reverse("records:export_status", args=[record.pk, export.pk])
    fragment = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in fragment and "<progress" in fragment and "En attente" in fragment
    assert tasks.build_export(export.pk) == ExportStatus.READY
    assert tasks.build_export(export.pk) == "skipped"  # safe to run twice
    assert seen == sorted(seen) and any(0 < value < 100 for value in seen)
    fragment = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment and "Télécharger l'export" in fragment


def test_one_pending_export_at_a_time(record, person_user, monkeypatch):
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, **kw: None)
    ask_export(person_user, record)
    ask_export(person_user, record)
    assert RecordExport.objects.filter(requested_by=person_user).count() == 1


def test_the_link_expires_and_the_file_is_deleted(record, person_user, settings):
    client, export = ask_export(person_user, record)
    url = reverse("records:export_download", args=[record.pk, export.pk])
    name = export.file.name
    assert default_storage.exists(name)
    with time_machine.travel(timezone.now() + dt.timedelta(days=settings.RECORDS_EXPORT_DAYS, minutes=1)):
        client = login(person_user)  # a week later: a new session
        response = client.get(url)
        assert response.status_code == 410 and "n'est plus disponible" in response.content.decode()
        assert tasks.delete_expired_exports() == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED and not export.file and not default_storage.exists(name)
    page = client.get(reverse("records:export_detail", args=[record.pk, export.pk])).content.decode()
    assert "le délai de téléchargement est passé" in page


def test_a_legal_representative_exports_for_the_person(record, legal_rep):
    client, export = ask_export(legal_rep, record)
    assert export.status == ExportStatus.READY
    assert by_type(bundle_of(download(client, export)))["Patient"]


def test_strangers_and_others_get_404_and_a_plain_member_403(record, person_user, stranger, nurse, legal_rep):
    _client, export = ask_export(person_user, record)
    urls = [
        reverse("records:exports", args=[record.pk]),
        reverse("records:export_detail", args=[record.pk, export.pk]),
        reverse("records:export_status", args=[record.pk, export.pk]),
        reverse("records:export_download", args=[record.pk, export.pk]),
    ]
    for url in urls:
        assert login(stranger).get(url).status_code == 404, url
        assert login(nurse).get(url).status_code == 403, url
    assert login(stranger).post(urls[0]).status_code == 404
    # Someone else's export is not shown, even to another decider of the same person.
    for url in urls[1:]:
        assert login(legal_rep).get(url).status_code == 404, url
    assert login(person_user).get(reverse("records:exports", args=[999_999])).status_code == 404
