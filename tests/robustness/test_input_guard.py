"""What no view can take is refused before any view, in French: a NUL character anywhere a
text comes in (400 naming the field) and a body over the limits (413)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from agenda import services as agenda_services
from agenda.models import Event
from liaison.models import Attachment, Transmission
from tests.conftest import login
from tests.uploads_corpus import CLEAN_PDF


@pytest.fixture
def event(person, referent):
    start = timezone.now() + timedelta(days=2)
    return agenda_services.event_create(
        actor=referent, person=person, title="Consultation", starts_at=start, ends_at=start + timedelta(hours=1)
    )


def test_a_nul_in_a_json_field_is_refused_naming_the_field_and_changes_nothing(event, referent, serafin_codes):
    client = login(referent)
    # serviceType is looked up by code: on PostgreSQL the query itself failed with a 500.
    for body, field in (({"title": "Séance\x00"}, "title"), ({"serviceType": "1.1\x00"}, "serviceType")):
        response = client.patch(f"/api/agenda/events/{event.pk}/", body, content_type="application/json")
        assert response.status_code == 400
        assert list(response.json()) == [field] and "caractère interdit" in response.json()[field][0]
    event.refresh_from_db()
    assert event.title == "Consultation" and event.sequence == 0


def test_a_nul_in_a_nested_json_value_or_key_is_refused(person, nurse):
    response = login(nurse).post(
        reverse("liaison_api:notebook", args=[person.pk]),
        json.dumps({"category": "autre", "text": "Bien.", "addressees": ["\x00"]}),
        content_type="application/json",
    )
    assert response.status_code == 400 and list(response.json()) == ["addressees.0"]
    response = login(nurse).post(
        reverse("liaison_api:notebook", args=[person.pk]),
        json.dumps({"category": "autre", "te\x00xt": "Bien."}),
        content_type="application/json",
    )
    assert response.status_code == 400 and list(response.json()) == ["text"]
    assert not Transmission.objects.exists()


def test_a_nul_in_a_page_form_is_refused_naming_the_field(person, nurse):
    response = login(nurse).post(
        reverse("liaison:notebook", args=[person.pk]),
        {"category": "autre", "kind": "general", "text": "Chute\x00 ce matin", "scope": "shared"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Le champ « text » contient un caractère interdit" in page and '<html lang="fr"' in page
    assert not Transmission.objects.exists()


def test_a_nul_in_a_query_string_or_a_path_is_refused(person, referent, serafin_codes):
    client = login(referent)
    response = client.get("/api/liaison/feed/", {"q": "chute\x00"})
    assert response.status_code == 400 and list(response.json()) == ["q"]
    response = client.get(reverse("ppa:serafin"), {"q": "\x00"})
    assert response.status_code == 400 and "« q »" in response.content.decode()
    assert client.get("/ppa/serafin/%00/").status_code == 400


def test_a_nul_in_an_uploaded_file_name_never_reaches_the_database(person, nurse):
    # Django's multipart parser drops what follows a NUL in a file name; the guard checks
    # the names it gets anyway.
    upload = SimpleUploadedFile("cr\x00.html", CLEAN_PDF, content_type="application/pdf")
    response = login(nurse).post(
        reverse("liaison_api:notebook", args=[person.pk]), {"category": "autre", "text": "CR.", "files": [upload]}
    )
    assert response.status_code in (201, 400)
    assert all("\x00" not in name for name in Attachment.objects.values_list("original_name", flat=True))


def test_a_body_over_the_limit_answers_413_in_french(person, nurse, settings):
    client = login(nurse)
    text = "Observation. " * 250_000  # 3 MB
    response = client.post(
        reverse("liaison_api:notebook", args=[person.pk]),
        {"category": "autre", "text": text},
        content_type="application/json",
    )
    assert response.status_code == 413 and "Demande trop volumineuse" in response.json()["detail"]
    response = client.post(
        reverse("liaison:notebook", args=[person.pk]),
        {"category": "autre", "kind": "general", "text": text, "scope": "shared"},
    )
    assert response.status_code == 413 and "Demande trop volumineuse" in response.content.decode()
    assert not Transmission.objects.exists()


def test_files_over_the_request_limit_answer_413(person, nurse, settings):
    settings.UPLOAD_REQUEST_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("cr.pdf", CLEAN_PDF + b" " * (1024 * 1024), content_type="application/pdf")
    response = login(nurse).post(
        reverse("liaison_api:notebook", args=[person.pk]), {"category": "autre", "text": "CR.", "files": [big]}
    )
    assert response.status_code == 413 and "fichiers envoyés ensemble" in response.json()["detail"]


def test_too_many_fields_answer_in_french_on_a_page_and_in_the_api(person, nurse, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    fields = {f"champ{n}": "x" for n in range(10)}
    page = login(nurse).post(reverse("liaison:notebook", args=[person.pk]), fields)
    assert page.status_code == 400 and "trop de champs" in page.content.decode()
    api = login(nurse).post(reverse("liaison_api:notebook", args=[person.pk]), fields)
    assert api.status_code == 400 and "trop de champs" in api.json()["detail"]


def test_ordinary_requests_pass_untouched(event, referent):
    response = login(referent).patch(
        f"/api/agenda/events/{event.pk}/", {"title": "Séance déplacée"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert Event.objects.get(pk=event.pk).title == "Séance déplacée"
