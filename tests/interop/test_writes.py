"""What the structure's software sends: conditional updates by identifier (idempotent),
identity checks as in the pages, appointments in the agendas (not editable in the
portal, cancelled by the software), documents through the same content checks as an
upload. Every refusal an OperationOutcome naming the element, changing nothing."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.utils import timezone

from agenda.models import Event, EventSource, EventStatus
from coordination import services
from coordination.models import Accompaniment, AuditEvent, IdentityStatus, Person
from documents.models import DmpShare, Document, DocumentStatus
from interop.fhir import codes
from tests.conftest import login
from tests.factories import valid_ins
from tests.interop.conftest import PDF_BYTES, png_bytes
from tests.uploads_corpus import pdf_with

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fhir_media", "on_commit_now")]

DUI_PATIENTS = "https://dui.tilleuls.example/patients"
DUI_APPOINTMENTS = "https://dui.tilleuls.example/rendez-vous"
DUI_DOCUMENTS = "https://dui.tilleuls.example/documents"


def patient_body(value: str = "P-100", *, ins: str | None = None, status: str = "PROV", phone: str = "") -> dict:
    identifiers = [{"system": DUI_PATIENTS, "value": value}]
    if ins:
        identifiers.insert(0, {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": ins})
    return {
        "resourceType": "Patient",
        "identifier": identifiers,
        "extension": [
            {
                "url": codes.EXT_IDENTITY_RELIABILITY,
                "extension": [
                    {"url": "identityStatus", "valueCoding": {"system": codes.IDENTITY_STATUS_SYSTEM, "code": status}}
                ],
            },
            {
                "url": codes.EXT_BIRTH_PLACE,
                "valueAddress": {"extension": [{"url": codes.EXT_INSEE_CODE, "valueCoding": {"code": "69123"}}]},
            },
        ],
        "name": [{"use": "official", "family": "BERNARD", "given": ["Paul", "Henri"]}],
        "gender": "male",
        "birthDate": "1941-02-03",
        "telecom": [{"system": "phone", "value": phone}] if phone else [],
    }


def outcome(response) -> str:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"][0]["diagnostics"]


# --- Patients ------------------------------------------------------------------------------------------


def test_a_patient_is_created_with_its_accompaniment_then_the_same_put_changes_nothing(api, dui, structure, nurse):
    response = api.put(f"Patient?identifier={DUI_PATIENTS}|P-100", patient_body())
    assert response.status_code == 201, response.content
    person = Person.objects.get(birth_name="BERNARD")
    assert response["Location"].endswith(f"/fhir/Patient/{person.pk}")
    assert Accompaniment.objects.filter(person=person, structure=structure, ended_on__isnull=True).exists()
    assert {"system": DUI_PATIENTS, "value": "P-100"} in [
        {k: i[k] for k in ("system", "value")} for i in response.json()["identifier"]
    ]
    # The structure's team entered the circle with its defaults, as for an admission in the pages.
    assert login(nurse).get(f"/coordination/personnes/{person.pk}/").status_code == 200
    audits = AuditEvent.objects.count()

    again = api.put(f"Patient?identifier={DUI_PATIENTS}|P-100", patient_body())
    assert again.status_code == 200
    assert again.json() == response.json()
    assert Person.objects.filter(birth_name="BERNARD").count() == 1
    assert AuditEvent.objects.count() == audits

    changed = api.put(f"Patient?identifier={DUI_PATIENTS}|P-100", patient_body(phone="0601020304"))
    assert changed.status_code == 200
    person.refresh_from_db()
    assert person.phone == "0601020304"
    assert AuditEvent.objects.filter(person=person, event_type="person_updated").count() == 1


def test_an_invalid_ins_key_is_refused_naming_the_element(api):
    ins = valid_ins(3)
    wrong = ins[:13] + f"{(int(ins[13:]) + 1) % 97:02d}"
    response = api.put(f"Patient?identifier={DUI_PATIENTS}|P-7", patient_body("P-7", ins=wrong, status="QUAL"))
    assert response.status_code == 400
    assert outcome(response).startswith("Patient.identifier[0].value : clé INS invalide")
    assert response.json()["issue"][0]["expression"] == ["Patient.identifier[0].value"]
    assert not Person.objects.filter(birth_name="BERNARD").exists()


def test_a_qualified_identity_without_ins_is_refused(api):
    response = api.put(f"Patient?identifier={DUI_PATIENTS}|P-8", patient_body("P-8", status="QUAL"))
    assert response.status_code == 400
    assert "Patient.extension[0]" in outcome(response) and "INS" in outcome(response)


@pytest.mark.parametrize(
    ("change", "element"),
    [
        ({"birthDate": "1941-02"}, "Patient.birthDate"),
        ({"gender": "F"}, "Patient.gender"),
        ({"name": [{"use": "official", "family": "", "given": ["Paul"]}]}, "Patient.name[0].family"),
        ({"name": []}, "Patient.name"),
    ],
)
def test_bad_identity_traits_are_refused_naming_the_element(api, change, element):
    response = api.put(f"Patient?identifier={DUI_PATIENTS}|P-9", {**patient_body("P-9"), **change})
    assert response.status_code == 400
    assert outcome(response).startswith(element)
    assert not Person.objects.filter(birth_name="BERNARD").exists()


def test_a_person_known_by_qualified_ins_is_admitted_by_the_structure(api, dui, admin_user, other_structure, structure):
    ins = valid_ins(11, sex="1")
    known = services.person_create(
        actor=admin_user,
        structure=other_structure,
        birth_name="BERNARD",
        birth_first_names="Paul Henri",
        birth_date="1941-02-03",
        sex="M",
        birth_place_insee="69123",
        ins_matricule=ins,
        ins_oid="1.2.250.1.213.1.4.8",
        identity_status=IdentityStatus.QUALIFIED,
    )
    assert api.get(f"Patient/{known.pk}").status_code == 404
    response = api.put(f"Patient?identifier={DUI_PATIENTS}|P-11", patient_body("P-11", ins=ins, status="QUAL"))
    assert response.status_code == 200, response.content
    assert response.json()["id"] == str(known.pk)
    assert Accompaniment.objects.filter(person=known, structure=structure, ended_on__isnull=True).exists()
    assert api.get(f"Patient/{known.pk}").status_code == 200


def test_conditional_update_needs_one_identifier_with_its_system(api):
    for path in ("Patient", "Patient?identifier=P-1", "Patient?identifier=a|b&family=X"):
        response = api.put(path, patient_body())
        assert response.status_code == 400
        assert outcome(response)


def test_a_body_that_is_not_json_is_refused(api):
    response = api.client.put(
        f"/fhir/Patient?identifier={DUI_PATIENTS}|P-1",
        b"<Patient/>",
        content_type="application/fhir+xml",
        **api.headers,
    )
    assert response.status_code == 400 and "JSON" in outcome(response)


# --- Appointments -------------------------------------------------------------------------------------


def appointment_body(
    person_id: int, nurse_pro_id: int, *, status: str = "booked", when: dt.datetime | None = None
) -> dict:
    when = when or (timezone.localtime() + dt.timedelta(days=1)).replace(hour=14, minute=0, second=0, microsecond=0)
    return {
        "resourceType": "Appointment",
        "identifier": [{"system": DUI_APPOINTMENTS, "value": "RDV-1"}],
        "status": status,
        "description": "Séance de kinésithérapie",
        "start": when.isoformat(),
        "end": (when + dt.timedelta(minutes=45)).isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{person_id}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{nurse_pro_id}"}, "status": "needs-action"},
        ],
    }


def test_an_appointment_shows_in_the_agendas_marked_as_from_the_software(api, person, nurse, referent):
    body = appointment_body(person.pk, nurse.professional.pk)
    response = api.put(f"Appointment?identifier={DUI_APPOINTMENTS}|RDV-1", body)
    assert response.status_code == 201, response.content
    event = Event.objects.get(source=EventSource.IMPORT)
    assert event.person == person and event.status == EventStatus.CONFIRMED
    day = timezone.localtime(event.starts_at).date().isoformat()
    person_page = login(referent).get(f"/agenda/personnes/{person.pk}/", {"vue": "semaine", "date": day})
    assert "Séance de kinésithérapie" in person_page.content.decode()
    own_page = login(nurse).get("/agenda/", {"date": day})
    assert "Séance de kinésithérapie" in own_page.content.decode()
    detail = login(referent).get(f"/agenda/evenements/{event.pk}/").content.decode()
    assert "Logiciel de la structure" in detail and "Modifier" not in detail
    edit = login(referent).post(f"/agenda/evenements/{event.pk}/annuler/")
    assert edit.status_code == 403
    event.refresh_from_db()
    assert event.status == EventStatus.CONFIRMED
    # Sent again unchanged: nothing changes (same revision).
    again = api.put(f"Appointment?identifier={DUI_APPOINTMENTS}|RDV-1", body)
    assert again.status_code == 200
    event.refresh_from_db()
    assert event.sequence == 0


def test_the_softwares_cancellation_cancels_the_appointment(api, person, nurse, referent):
    body = appointment_body(person.pk, nurse.professional.pk)
    api.put(f"Appointment?identifier={DUI_APPOINTMENTS}|RDV-1", body)
    response = api.put(f"Appointment?identifier={DUI_APPOINTMENTS}|RDV-1", {**body, "status": "cancelled"})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    event = Event.objects.get(source=EventSource.IMPORT)
    assert event.status == EventStatus.CANCELLED
    assert "Annulé" in login(referent).get(f"/agenda/evenements/{event.pk}/").content.decode()
    assert api.get("Appointment", patient=person.pk, status="cancelled").json()["entry"][0]["resource"]["id"] == str(
        event.pk
    )


def test_an_appointment_for_someone_out_of_reach_is_refused(api, other_api, person, nurse):
    response = other_api.put(f"Appointment?identifier={DUI_APPOINTMENTS}|RDV-1", appointment_body(person.pk, 0))
    assert response.status_code == 404
    assert not Event.objects.exists()


def test_an_appointment_with_an_unknown_professional_names_the_participant(api, person, other_pro):
    response = api.put(
        f"Appointment?identifier={DUI_APPOINTMENTS}|RDV-1", appointment_body(person.pk, other_pro.professional.pk)
    )
    assert response.status_code == 400
    assert outcome(response).startswith("Appointment.participant[1].actor")
    assert not Event.objects.exists()


def test_an_appointment_without_time_zone_is_refused(api, person, nurse):
    body = {**appointment_body(person.pk, nurse.professional.pk), "start": "2026-05-01T10:00:00"}
    response = api.put(f"Appointment?identifier={DUI_APPOINTMENTS}|RDV-1", body)
    assert response.status_code == 400 and outcome(response).startswith("Appointment.start")


# --- Documents -------------------------------------------------------------------------------------------


def document_body(
    person_id: int, content: bytes, *, content_type: str = "application/pdf", doc_type: str = "compte_rendu"
) -> dict:
    return {
        "resourceType": "DocumentReference",
        "identifier": [{"system": DUI_DOCUMENTS, "value": "DOC-1"}],
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [{"system": codes.local_system("type-document"), "code": doc_type}]},
        "subject": {"reference": f"Patient/{person_id}"},
        "description": "Compte rendu de consultation",
        "content": [
            {"attachment": {"contentType": content_type, "data": base64.b64encode(content).decode(), "title": "cr.pdf"}}
        ],
    }


def test_a_document_is_filed_validated_and_queued_for_the_dmp_once(api, person, referent):
    response = api.put(f"DocumentReference?identifier={DUI_DOCUMENTS}|DOC-1", document_body(person.pk, PDF_BYTES))
    assert response.status_code == 201, response.content
    document = Document.objects.get(title="Compte rendu de consultation")
    assert document.status == DocumentStatus.VALIDATED and document.content_type == "application/pdf"
    assert DmpShare.objects.filter(document=document).count() == 1
    assert response.json()["id"] == f"doc-{document.pk}"
    assert login(referent).get(f"/coordination/documents/{document.pk}/").status_code == 200
    again = api.put(f"DocumentReference?identifier={DUI_DOCUMENTS}|DOC-1", document_body(person.pk, PDF_BYTES))
    assert again.status_code == 200
    assert Document.objects.count() == 1 and DmpShare.objects.count() == 1
    new_version = api.put(
        f"DocumentReference?identifier={DUI_DOCUMENTS}|DOC-1", document_body(person.pk, PDF_BYTES + b"% v2\n")
    )
    assert new_version.status_code == 200
    latest = Document.objects.get(replaces=document)
    assert new_version.json()["id"] == f"doc-{latest.pk}"
    document.refresh_from_db()
    assert document.superseded_at is not None  # never rewritten: a new version


def test_a_document_with_active_content_gets_the_uploads_refusal(api, person):
    active = pdf_with(catalog=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
    response = api.put(f"DocumentReference?identifier={DUI_DOCUMENTS}|DOC-1", document_body(person.pk, active))
    assert response.status_code == 400
    message = outcome(response)
    assert message.startswith("DocumentReference.content[0].attachment.data : Ce PDF contient du contenu actif")
    assert not Document.objects.exists()


def test_a_document_is_judged_by_its_content_not_its_declared_type(api, person):
    executable = b"MZ\x90\x00 this is an executable, not a PDF" * 10
    response = api.put(f"DocumentReference?identifier={DUI_DOCUMENTS}|DOC-1", document_body(person.pk, executable))
    assert response.status_code == 400
    assert "Type de fichier refusé" in outcome(response)
    mislabelled = api.put(f"DocumentReference?identifier={DUI_DOCUMENTS}|DOC-1", document_body(person.pk, png_bytes()))
    assert mislabelled.status_code == 400
    assert outcome(mislabelled).startswith("DocumentReference.content[0].attachment.contentType")
    assert not Document.objects.exists()


def test_an_image_document_is_re_encoded_like_an_upload(api, person):
    raw = png_bytes()
    response = api.put(
        f"DocumentReference?identifier={DUI_DOCUMENTS}|DOC-1",
        document_body(person.pk, raw, content_type="image/png", doc_type="piece_administrative"),
    )
    assert response.status_code == 201, response.content
    document = Document.objects.get()
    assert document.content_type == "image/png"
    assert not DmpShare.objects.exists()  # an administrative paper is not fed to the DMP


def test_a_document_withdrawn_by_the_software_stays_marked_entered_in_error(api, person):
    api.put(f"DocumentReference?identifier={DUI_DOCUMENTS}|DOC-1", document_body(person.pk, PDF_BYTES))
    response = api.put(
        f"DocumentReference?identifier={DUI_DOCUMENTS}|DOC-1",
        {**document_body(person.pk, PDF_BYTES), "status": "entered-in-error"},
    )
    assert response.status_code == 200 and response.json()["status"] == "entered-in-error"
    assert Document.objects.get().status == DocumentStatus.WITHDRAWN


def test_a_person_the_structure_no_longer_accompanies_is_out_of_reach(api, admin_user, structure):
    created = api.put(f"Patient?identifier={DUI_PATIENTS}|P-100", patient_body())
    person = Person.objects.get(pk=created.json()["id"])
    services.accompaniment_end(
        actor=admin_user, accompaniment=Accompaniment.objects.get(person=person, structure=structure), reason="Départ"
    )
    for body in (patient_body(), patient_body(phone="0601020304")):
        response = api.put(f"Patient?identifier={DUI_PATIENTS}|P-100", body)
        assert response.status_code == 404
        assert outcome(response)
    person.refresh_from_db()
    assert person.phone == ""
