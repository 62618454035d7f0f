"""Fixtures of the FHIR API tests: the EHPAD's connected software (its DUI), another
structure's, a token obtained through the real OAuth token endpoint, and a small client."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from interop import services
from tests.uploads_corpus import pdf_with


@pytest.fixture
def fhir_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return tmp_path / "private"


@pytest.fixture
def on_commit_now(monkeypatch):
    """Run on_commit callbacks at once (tests run inside a transaction)."""
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, **kw: func())


@pytest.fixture
def dui(structure, admin_user, person):
    """The EHPAD's own software, connected after the person's admission."""
    software, secret = services.connected_software_create(actor=admin_user, structure=structure, name="DUI Tilleuls")
    software.secret = secret
    return software


@pytest.fixture
def other_dui(other_structure, admin_user):
    software, secret = services.connected_software_create(
        actor=admin_user, structure=other_structure, name="DUI du Canal"
    )
    software.secret = secret
    return software


def get_token(software, scope: str | None = None) -> tuple[int, dict]:
    """The client-credentials flow, through the token endpoint."""
    credentials = base64.b64encode(f"{software.application.client_id}:{software.secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    response = Client().post("/fhir/auth/token", data, HTTP_AUTHORIZATION=f"Basic {credentials}")
    return response.status_code, response.json()


class Fhir:
    """A FHIR client for the tests: a bearer token, JSON in and out."""

    def __init__(self, token: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params):
        return self.client.get(f"/fhir/{path}", params, **self.headers)

    def put(self, path: str, resource: dict):
        return self.client.put(
            f"/fhir/{path}", json.dumps(resource), content_type="application/fhir+json", **self.headers
        )

    def post(self, path: str, resource: dict):
        return self.client.post(
            f"/fhir/{path}", json.dumps(resource), content_type="application/fhir+json", **self.headers
        )

    def delete(self, path: str):
        return self.client.delete(f"/fhir/{path}", **self.headers)


@pytest.fixture
def api(dui) -> Fhir:
    status, body = get_token(dui)
    assert status == 200, body
    return Fhir(body["access_token"])


@pytest.fixture
def other_api(other_dui) -> Fhir:
    status, body = get_token(other_dui)
    assert status == 200, body
    return Fhir(body["access_token"])


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (24, 12), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


# A well-formed one-page PDF that passes the upload checks (tests/uploads_corpus.py).
PDF_BYTES = pdf_with()


@pytest.fixture
def record(
    person, person_user, referent, nurse, carer, legal_rep, external_pro, dui, serafin_codes, fhir_media, on_commit_now
):
    """A full record: notebook (shared, internal, a correction, a withdrawn one, a photo),
    documents (a replaced report), agenda (single and weekly events), availability, a
    validated projet personnalisé with its sign-offs, consents, and an ended membership."""
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from agenda import availability
    from agenda import services as agenda
    from coordination import services as kernel
    from coordination.models import CircleMember, CollectionMethod
    from documents import services as documents
    from liaison import services as liaison
    from ppa import services as ppa
    from ppa.models import SignOffRole
    from reference.models import SerafinCode

    now = timezone.now()
    shared = liaison.transmission_create(
        actor=nurse,
        person=person,
        category="observations",
        text="Bonne nuit, appétit conservé.",
        is_important=True,
        files=[SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")],
    )
    liaison.transmission_create(actor=nurse, person=person, category="consignes", text="Hydrater.", scope="internal")
    liaison.transmission_correct(actor=referent, original=shared, category="observations", text="Appétit faible.")
    withdrawn = liaison.transmission_create(actor=referent, person=person, category="autre", text="Erreur de personne.")
    liaison.transmission_withdraw(actor=referent, transmission=withdrawn)
    report = documents.document_create(
        actor=referent,
        person=person,
        doc_type="compte_rendu",
        title="Compte rendu",
        content=PDF_BYTES,
        filename="cr.pdf",
        validate=True,
    )
    documents.document_replace(
        actor=referent, document=report, content=PDF_BYTES + b"\n", filename="cr2.pdf", validate=True
    )
    agenda.event_create(
        actor=referent,
        person=person,
        title="Consultation cardiologie",
        starts_at=now + dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=2, hours=1),
        participants=[nurse.professional],
        serafin_service=SerafinCode.objects.filter(kind="service", depth__gte=3).first(),
    )
    agenda.event_create(
        actor=nurse,
        person=person,
        title="Atelier mémoire",
        starts_at=now + dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=1, hours=1),
        rrule="FREQ=WEEKLY;COUNT=5",
    )
    availability.availability_window_create(
        actor=nurse, structure=dui.structure, weekday=0, start_time=dt.time(9), end_time=dt.time(12)
    )
    plan = ppa.plan_create(actor=referent, person=person)
    draft = plan.versions.get()
    ppa.expectations_update(actor=person_user, version=draft, wishes="Rester au calme.")
    need = ppa.need_add(
        actor=referent, version=draft, serafin=SerafinCode.objects.get(kind="need", code="1.1.1"), description="Mémoire"
    )
    objective = ppa.objective_add(
        actor=referent, version=draft, title="Garder ses repères", needs=[need], target_on=dt.date(2027, 6, 1)
    )
    ppa.action_add(
        actor=referent,
        version=draft,
        title="Atelier mémoire",
        objectives=[objective],
        professional=nurse.professional,
        serafin=SerafinCode.objects.filter(kind="service", depth__gte=3).first(),
        weekdays="MO",
        starts_at_time=dt.time(10),
        duration_minutes=60,
        starts_on=dt.date(2026, 1, 5),
    )
    ppa.plan_submit(actor=referent, version=draft)
    ppa.plan_sign(actor=person_user, version=draft, role=SignOffRole.PERSON)
    ppa.plan_sign(actor=referent, version=draft, role=SignOffRole.REFERENT)
    kernel.consent_record(
        actor=person_user, person=person, kind="dmp_feeding", decision="granted", collected_via=CollectionMethod.PORTAL
    )
    kernel.consent_record(
        actor=person_user,
        person=person,
        kind="partner_sharing",
        decision="refused",
        collected_via=CollectionMethod.PORTAL,
        partner="education_nationale",
    )
    kernel.circle_member_end(
        actor=person_user, member=CircleMember.objects.get(person=person, user=external_pro), reason="end_of_care"
    )
    kernel.circle_member_add(actor=person_user, person=person, role="voisin", other_name="Mme Voisine")
    return person
