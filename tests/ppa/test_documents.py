"""The projet personnalisé as documents: the PDF of each validated version, filed once and
chained version after version; the MDPH liaison sheet filed and sent by MSSanté."""

from __future__ import annotations

import re

import pytest
from django.core.files.storage import default_storage

from coordination.models import CircleRole, IdentityStatus, Level
from coordination.services import circle_member_add, grants_set
from documents.models import Document, DocumentSource, DocumentStatus, DocumentType, MssanteSending, MssanteStatus
from portal.env import email_config
from ppa import documents, services, tasks
from ppa.models import SignOffRole
from tests.conftest import login
from tests.factories import StructureFactory, valid_ins
from tests.pdf_reader import read_pdf
from tests.ppa.conftest import validate


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Files in a private folder of this test."""
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
    """Run on_commit callbacks at once (tests run inside a transaction)."""
    monkeypatch.setattr("django.db.transaction.on_commit", lambda func, **kw: func())


def _pdf(document: Document):
    with default_storage.open(document.file.name, "rb") as handle:
        return read_pdf(handle.read())


def _text(document: Document) -> str:
    """The text of the filed PDF, whitespace collapsed (a wrapped line reads as one)."""
    return _pdf(document).text


def _amend_and_validate(version, referent, person_user, reason="Nouvelle orientation vers un accueil de jour"):
    amendment = services.plan_amend(actor=referent, plan=version.plan, reason=reason)
    return validate(amendment, referent, person_user)


def test_it_files_the_pdf_of_a_validated_version_once(filled, referent, person_user, need_code, service_code):
    version = validate(filled, referent, person_user)
    [document] = Document.objects.all()
    assert version.document == document
    assert (document.doc_type, document.source, document.status) == (
        DocumentType.CARE_PLAN,
        DocumentSource.GENERATED,
        DocumentStatus.VALIDATED,
    )
    assert document.title == "Projet personnalisé — version 1" and document.version == 1
    assert document.validated_by == referent and document.is_pdf
    text = _text(document)
    for expected in (
        "Projet personnalisé d'accompagnement de Jeanne MARTIN",
        "Version 1, validée le",
        "Nom de naissance : MARTIN",
        "Prénoms : Jeanne Marie",
        "Date de naissance : 12/04/1938",
        # The needs, objectives and actions tables: heading row, then each row cell by cell.
        "Code Besoin Précisions",
        f"{need_code.code} {need_code.label} Troubles de mémoire",
        "Objectif État Échéance Indicateur de réussite",
        "Garder ses repères Non commencé 01/06/2027 Se repère seule dans la résidence",
        "Modalité Qui Prestation (SERAFIN-PH) Rythme Période",
        "Atelier mémoire",
        f"{service_code.code} — {' '.join(service_code.label.split())}",
        "lundi, jeudi, chaque semaine, à 10:00 (60 min) À partir du 05/01/2026",
        "La personne ou son représentant légal : ",
        "Le référent de la structure : ",
    ):
        assert expected in text, expected
    assert text.index("Besoins évalués") < text.index("Objectifs") < text.index("Modalités d'accompagnement")
    assert "INS" not in text  # identity not qualifiée
    # Idempotent: the task and the service run again file nothing more.
    assert tasks.file_plan_document(version.pk) == document.pk
    assert documents.plan_document_file(actor=referent, version=version) == document
    assert Document.objects.count() == 1


def test_it_prints_the_ins_only_when_the_identity_is_qualified(filled, referent, person_user, person):
    person.ins_matricule, person.identity_status = valid_ins(1), IdentityStatus.QUALIFIED
    person.save()
    version = validate(filled, referent, person_user)
    assert f"INS (identité qualifiée) : {person.ins_matricule}" in _text(version.document)


def test_it_files_an_amendment_as_a_new_version_of_the_document(validated, referent, person_user):
    first = validated.document
    amendment = _amend_and_validate(validated, referent, person_user)
    second = amendment.document
    first.refresh_from_db()
    assert Document.objects.count() == 2
    assert second.replaces == first and second.version == 2
    assert first.superseded_at is not None and second.superseded_at is None
    assert (second.source, second.status, second.doc_type) == (
        DocumentSource.GENERATED,
        DocumentStatus.VALIDATED,
        DocumentType.CARE_PLAN,
    )
    text = _text(second)
    assert "Version 2" in text and "Avenant à la version 1. Motif : Nouvelle orientation vers un accueil" in text
    # The person sees one current projet personnalisé in the record.
    page = login(referent).get(f"/coordination/documents/{second.pk}/").content.decode()
    assert "Projet personnalisé — version 2" in page


def test_it_breaks_a_long_plan_over_numbered_pages(filled, referent, person_user, need_code):
    for n in range(40):
        services.need_add(
            actor=referent,
            version=filled,
            serafin=need_code,
            description=f"Besoin numéro {n} : accompagnement à la toilette et à l'habillage, le matin.",
        )
    version = validate(filled, referent, person_user)
    pdf = _pdf(version.document)
    pages = pdf.pages
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Projet personnalisé de Jeanne MARTIN — version 1 — page {number} sur {len(pages)}" in page
    numbers = [int(n) for n in re.findall(r"Besoin numéro (\d+) :", pdf.body)]
    assert numbers == list(range(40))  # every need, once, in order, across the page break
    # The needs table goes on over the page break under its repeated heading row.
    assert "Code Besoin Précisions" in pages[1] and "Besoin numéro 39" in pages[-1] + pages[-2]


def test_it_prints_names_outside_cp1252_as_written(filled, referent, person_user, person):
    """The old writer's Helvetica (cp1252) printed these as "?"; the embedded font prints
    them, in the title, the identity, the tables, the footer and the metadata."""
    person.birth_name, person.birth_first_names, person.first_name = "NGUYỄN", "Łukasz Zoë", "Łukasz"
    person.save()
    need = filled.needs.first().serafin
    services.need_add(actor=referent, version=filled, serafin=need, description="Aime l’œuvre d’Ørsted — ≥ 2 h")
    version = validate(filled, referent, person_user)
    pdf = _pdf(version.document)
    for expected in (
        "Projet personnalisé d'accompagnement de Łukasz NGUYỄN",
        "Nom de naissance : NGUYỄN",
        "Prénoms : Łukasz Zoë",
        "Aime l’œuvre d’Ørsted — ≥ 2 h",
        "Projet personnalisé de Łukasz NGUYỄN — version 1 — page 1 sur",
    ):
        assert expected in pdf.text, expected
    assert pdf.title == "Projet personnalisé de Łukasz NGUYỄN — version 1"
    assert "?" not in pdf.text


def test_it_links_the_version_page_to_its_document(validated, referent, person_user):
    page = login(referent).get(f"/ppa/versions/{validated.pk}/").content.decode()
    assert f'href="/coordination/documents/{validated.document_id}/"' in page
    page = login(person_user).get(f"/ppa/versions/{validated.pk}/").content.decode()
    assert "Le projet en PDF, dans les documents" in page


def test_it_lets_a_professional_file_a_missing_pdf(filled, referent, person_user, monkeypatch):
    monkeypatch.setattr(tasks.file_plan_document, "delay", lambda version_id: None)  # the worker was down
    version = validate(filled, referent, person_user)
    assert version.document is None
    client = login(referent)
    assert "Déposer le PDF dans les documents" in client.get(f"/ppa/versions/{version.pk}/").content.decode()
    response = client.post(f"/ppa/versions/{version.pk}/document/")
    version.refresh_from_db()
    assert response.status_code == 302 and response.url == f"/coordination/documents/{version.document_id}/"
    client.post(f"/ppa/versions/{version.pk}/document/")
    assert Document.objects.count() == 1


def test_it_hides_the_filing_from_strangers_and_carers_without_the_right(
    filled, referent, person_user, stranger, carer, monkeypatch
):
    monkeypatch.setattr(tasks.file_plan_document, "delay", lambda version_id: None)
    version = validate(filled, referent, person_user)
    # The gate: a stranger learns nothing (404); a carer in the circle without the
    # `ppa` right is told so (403).
    for user, status in ((stranger, 404), (carer, 403)):
        client = login(user)
        assert client.post(f"/ppa/versions/{version.pk}/document/").status_code == status
        assert (
            client.post(
                f"/ppa/versions/{version.pk}/fiche-mdph/deposer/", {"change": "Accueil de jour", "reason": "Fatigue"}
            ).status_code
            == status
        )
    assert not Document.objects.exists()


def test_it_does_not_file_a_draft(filled, referent):
    with pytest.raises(Exception, match="Seule une version validée"):
        documents.plan_document_file(actor=referent, version=filled)


# --- MDPH liaison sheet -----------------------------------------------------------------------


def _mdph(person, person_user):
    mdph = StructureFactory(name="MDPH de Paris", kind="mdph", mssante_address="liaison@mdph75.mssante.fr")
    circle_member_add(actor=person_user, person=person, role=CircleRole.STRUCTURE, structure=mdph)
    return mdph


def test_it_offers_the_mdph_address_of_the_circle(validated, referent, person, person_user):
    _mdph(person, person_user)
    page = (
        login(referent)
        .post(f"/ppa/versions/{validated.pk}/fiche-mdph/", {"change": "Accueil de jour", "reason": "Fatigue"})
        .content.decode()
    )
    assert "Déposer et envoyer" in page and 'value="liaison@mdph75.mssante.fr"' in page


def test_it_files_and_sends_the_mdph_sheet(validated, referent, person, person_user, smtp_server, settings, tmp_path):
    settings.MSSANTE_EMAIL = email_config(smtp_server.url, tmp_path / "mssante")
    _mdph(person, person_user)
    response = login(referent).post(
        f"/ppa/versions/{validated.pk}/fiche-mdph/deposer/",
        {
            "change": "Passage à un accueil de jour trois jours par semaine",
            "reason": "Fatigue importante en fin de semaine",
            "send": "on",
            "recipient_address": "liaison@mdph75.mssante.fr",
        },
    )
    sheet = Document.objects.get(doc_type=DocumentType.MDPH_SHEET)
    assert response.status_code == 302 and response.url == f"/coordination/documents/{sheet.pk}/"
    assert (sheet.source, sheet.status) == (DocumentSource.GENERATED, DocumentStatus.VALIDATED)
    text = _text(sheet)
    assert "Fiche de liaison MDPH" in text and "Passage à un accueil de jour" in text
    assert "Pourquoi : Fatigue importante" in text and "Garder ses repères" in text
    assert "Nom de naissance : MARTIN" in text and "Projet personnalisé en vigueur (version 1, validée le" in text
    assert "Modalité Qui Prestation (SERAFIN-PH) Rythme Période Atelier mémoire" in text
    sending = MssanteSending.objects.get()
    assert sending.document == sheet and sending.status == MssanteStatus.SENT
    [received] = smtp_server.messages
    assert received["to"] == ["liaison@mdph75.mssante.fr"]
    message = received["message"]
    body = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Fatigue" not in body and "accueil de jour" not in body and "Fatigue" not in message["Subject"]
    [attachment] = [part for part in message.walk() if part.get_filename()]
    assert attachment.get_content_type() == "application/pdf"
    with default_storage.open(sheet.file.name, "rb") as handle:
        assert attachment.get_payload(decode=True) == handle.read()
    page = login(referent).get(response.url).content.decode()
    assert "liaison@mdph75.mssante.fr" in page and "Envoyé" in page


def test_it_files_the_sheet_without_sending_when_not_asked(validated, referent):
    response = login(referent).post(
        f"/ppa/versions/{validated.pk}/fiche-mdph/deposer/", {"change": "Accueil de jour", "reason": "Fatigue"}
    )
    assert response.status_code == 302
    assert Document.objects.filter(doc_type=DocumentType.MDPH_SHEET).count() == 1
    assert not MssanteSending.objects.exists()


def test_it_files_nothing_when_the_address_is_not_mssante(validated, referent):
    response = login(referent).post(
        f"/ppa/versions/{validated.pk}/fiche-mdph/deposer/",
        {"change": "Accueil de jour", "reason": "Fatigue", "send": "on", "recipient_address": "mdph@gmail.com"},
    )
    assert response.status_code == 400
    assert "Ce n&#x27;est pas une adresse MSSanté" in response.content.decode()
    assert not Document.objects.filter(doc_type=DocumentType.MDPH_SHEET).exists()


def test_it_needs_the_documents_right_to_file_the_sheet(validated, person, person_user, external_pro):
    member = person.circle.get(user=external_pro, ended_at__isnull=True)
    grants_set(actor=person_user, member=member, levels={"ppa": Level.WRITE})
    client = login(external_pro)
    page = client.post(f"/ppa/versions/{validated.pk}/fiche-mdph/", {"change": "x", "reason": "y"}).content.decode()
    assert "Déposer et envoyer" not in page and "le droit d'ajouter des documents" in page
    response = client.post(f"/ppa/versions/{validated.pk}/fiche-mdph/deposer/", {"change": "x", "reason": "y"})
    assert response.status_code == 403
    assert not Document.objects.filter(doc_type=DocumentType.MDPH_SHEET).exists()


def test_it_refuses_the_sheet_to_the_person_side(validated, person_user):
    response = login(person_user).post(
        f"/ppa/versions/{validated.pk}/fiche-mdph/deposer/", {"change": "x", "reason": "y"}
    )
    assert response.status_code in (403, 404)
    assert not Document.objects.filter(doc_type=DocumentType.MDPH_SHEET).exists()


def test_it_sets_the_signature_roles_in_the_pdf(validated):
    text = _text(validated.document)
    assert SignOffRole.PERSON.label in text and SignOffRole.REFERENT.label in text
