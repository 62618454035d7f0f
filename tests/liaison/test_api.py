"""The liaison API (/api/liaison/): the same gate, visibility and services as the pages."""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from PIL import Image

from coordination import services as circle
from coordination.models import AccessLog, CircleMember, Level, TeamRole
from liaison import selectors, services
from liaison.models import (
    Addressee,
    Attachment,
    ReadMark,
    Transmission,
    TransmissionRevision,
    TransmissionStatus,
)
from tests.conftest import _pro, login
from tests.liaison.conftest import jpeg_with_gps, pdf_file

pytestmark = pytest.mark.django_db

# session, user, professional profile, TOTP authenticator (MFA rule), the gate, its
# access-log row, the page of transmissions, then attachments, addressees with their
# user and corrections: the same whatever the number of transmissions.
NOTEBOOK_QUERIES = 10

ITEM_KEYS = {
    "id",
    "person",
    "author",
    "author_structure",
    "observed_at",
    "created_at",
    "category",
    "kind",
    "target",
    "text",
    "data",
    "actions",
    "results",
    "scope",
    "is_important",
    "remarkable_event",
    "status",
    "edited_at",
    "corrects",
    "corrected_by",
    "attachments",
    "addressees",
    "requests_receipt",
    "is_read",
}


def notebook_url(person) -> str:
    return reverse("liaison_api:notebook", args=[person.pk])


def url(name: str, transmission) -> str:
    return reverse(f"liaison_api:{name}", args=[transmission.pk])


FEED_URL = reverse("liaison_api:feed")
READ_URL = reverse("liaison_api:mark_read")


@pytest.fixture
def ssiad(person, other_structure, admin_user):
    """A nurse of a second structure that accompanies the person."""
    pro = _pro("ssiad@exemple.fr", "infirmier", "Sacha", "Ssiad")
    circle.team_member_add(actor=admin_user, structure=other_structure, professional=pro, role=TeamRole.NURSE)
    circle.accompaniment_start(actor=admin_user, person=person, structure=other_structure)
    return pro.user


def _post(actor, person, text: str = "Repas pris en entier.", **extra) -> Transmission:
    return services.transmission_create(actor=actor, person=person, category="observations", text=text, **extra)


def _grant(person_user, person, user, level: int) -> None:
    circle.grants_set(
        actor=person_user, member=CircleMember.objects.active().get(person=person, user=user), levels={"liaison": level}
    )


def _json(client, method: str, path: str, data=None):
    return getattr(client, method)(path, data or {}, content_type="application/json")


def _bulk(person, author, structure, count: int, *, start: datetime.datetime | None = None) -> list[Transmission]:
    """Transmissions written straight to the table (the service is too slow for hundreds), each
    with an addressee and an attachment row so that the prefetches have something to do."""
    start = start or timezone.now() - datetime.timedelta(days=1)
    transmissions = Transmission.objects.bulk_create(
        [
            # Every third one shares its minute with the previous: the keyset needs the id tie-break.
            Transmission(
                person=person,
                author=author,
                author_structure=structure,
                category="observations",
                observed_at=start - datetime.timedelta(minutes=i - i % 3),
                text=f"Observation numéro {i}.",
                search_document=f"Observations et avis Observation numéro {i}.",
            )
            for i in range(count)
        ]
    )
    Addressee.objects.bulk_create([Addressee(transmission=t, user=author) for t in transmissions])
    Attachment.objects.bulk_create(
        [
            Attachment(
                transmission=t,
                file=f"liaison/{t.pk}.pdf",
                original_name="cr.pdf",
                content_type="application/pdf",
                size=10,
                sha256="0" * 64,
                uploaded_by=author,
            )
            for t in transmissions
        ]
    )
    return transmissions


def _all_pages(client, path: str, **params) -> list[int]:
    ids: list[int] = []
    cursor = None
    for _ in range(100):
        body = client.get(path, {**params, **({"after": cursor} if cursor else {})}).json()
        ids += [item["id"] for item in body["results"]]
        cursor = body["next"]
        if cursor is None:
            return ids
    pytest.fail("the pagination does not end")


# --- Who may call -------------------------------------------------------------------------------


def test_it_answers_404_to_a_stranger_on_every_endpoint(person, nurse, referent, stranger):
    transmission = _post(nurse, person, addressees=[referent], files=[pdf_file()])
    client = login(stranger)
    assert client.get(notebook_url(person)).status_code == 404
    assert _json(client, "post", notebook_url(person), {"category": "autre", "text": "Essai"}).status_code == 404
    assert client.get(url("transmission", transmission)).status_code == 404
    assert _json(client, "patch", url("transmission", transmission), {"text": "Changé"}).status_code == 404
    assert client.post(url("withdraw", transmission)).status_code == 404
    assert _json(client, "post", url("corrections", transmission), {"text": "Faux"}).status_code == 404
    assert client.post(url("attachments", transmission), {"files": [pdf_file()]}).status_code == 404
    assert client.post(url("acknowledge", transmission)).status_code == 404
    response = client.get(url("transmission", transmission))
    assert response.json() == {"detail": "Introuvable."}
    # Not about one person: nothing to find, nothing to mark.
    assert client.get(FEED_URL).json() == {"results": [], "next": None, "unread": 0}
    assert _json(client, "post", READ_URL, {"transmissions": [transmission.pk]}).json() == {"marked": 0}
    transmission.refresh_from_db()
    assert transmission.text == "Repas pris en entier." and transmission.status == TransmissionStatus.ACTIVE
    assert Transmission.objects.count() == 1 and transmission.attachments.count() == 1
    assert not ReadMark.objects.filter(user=stranger).exists()


def test_it_refuses_a_carer_without_the_liaison_right_with_403(person, nurse, carer):
    transmission = _post(nurse, person)
    client = login(carer)
    response = client.get(notebook_url(person))
    assert response.status_code == 403
    assert "cahier de liaison" in response.json()["detail"]
    assert client.get(url("transmission", transmission)).status_code == 403
    assert _json(client, "post", notebook_url(person), {"category": "autre", "text": "Essai"}).status_code == 403
    assert client.get(FEED_URL).json()["results"] == []


def test_it_shows_a_carer_with_read_the_shared_transmissions_but_never_the_internal_ones(
    person, person_user, nurse, carer
):
    shared = _post(nurse, person, "Promenade au parc.")
    internal = _post(nurse, person, "Point d'équipe.", scope="internal")
    _grant(person_user, person, carer, Level.READ)
    client = login(carer)
    assert [item["id"] for item in client.get(notebook_url(person)).json()["results"]] == [shared.pk]
    assert [item["id"] for item in client.get(FEED_URL).json()["results"]] == [shared.pk]
    assert client.get(url("transmission", shared)).status_code == 200
    assert client.get(url("transmission", internal)).status_code == 404
    assert _json(client, "post", READ_URL, {"transmissions": [shared.pk, internal.pk]}).json() == {"marked": 1}
    # Read only: no writing.
    response = _json(client, "post", notebook_url(person), {"category": "autre", "text": "Essai"})
    assert response.status_code == 403
    assert Transmission.objects.count() == 2


def test_it_logs_the_read_of_the_notebook(person, nurse):
    login(nurse).get(notebook_url(person))
    assert AccessLog.objects.filter(user=nurse, person=person, category="liaison", action="read").exists()


# --- Reading --------------------------------------------------------------------------------------


def test_it_lists_the_notebook_newest_first_with_every_detail(person, nurse, referent, structure):
    older = _post(nurse, person, "Nuit calme.", observed_at=timezone.now() - datetime.timedelta(hours=2))
    alert = services.transmission_create(
        actor=nurse,
        person=person,
        category="symptomes",
        kind="targeted",
        target="douleur",
        data="Grimace au lever.",
        actions="Antalgique donné.",
        results="Soulagée.",
        is_important=True,
        remarkable_event="chute",
        addressees=[referent],
        requests_receipt=True,
        files=[pdf_file()],
    )
    body = login(nurse).get(notebook_url(person)).json()
    assert body["next"] is None
    assert [item["id"] for item in body["results"]] == [alert.pk, older.pk]
    item = body["results"][0]
    assert set(item) == ITEM_KEYS
    attachment = alert.attachments.get()
    assert item | {"observed_at": None, "created_at": None} == {
        "id": alert.pk,
        "person": person.pk,
        "author": {"id": nurse.pk, "name": "Inès Infirmière"},
        "author_structure": {"id": structure.pk, "name": "EHPAD Les Tilleuls"},
        "observed_at": None,
        "created_at": None,
        "category": "symptomes",
        "kind": "targeted",
        "target": "douleur",
        "text": "",
        "data": "Grimace au lever.",
        "actions": "Antalgique donné.",
        "results": "Soulagée.",
        "scope": "shared",
        "is_important": True,
        "remarkable_event": "chute",
        "status": "active",
        "edited_at": None,
        "corrects": None,
        "corrected_by": [],
        "attachments": [
            {
                "id": attachment.pk,
                "name": "compte-rendu.pdf",
                "content_type": "application/pdf",
                "size": attachment.size,
                "sha256": attachment.sha256,
                "url": reverse("liaison:attachment", args=[attachment.pk]),
                "thumbnail_url": None,
            }
        ],
        "addressees": [{"user": referent.pk, "name": "Rémi Référent", "acknowledged_at": None}],
        "requests_receipt": True,
        "is_read": True,  # the author has read what they wrote
    }


def test_it_filters_the_notebook_like_the_page(person, nurse, referent):
    fall = _post(nurse, person, "Chute dans la salle de bain.", observed_at=timezone.now() - datetime.timedelta(days=3))
    meal = services.transmission_create(actor=referent, person=person, category="alimentation", text="Appétit correct.")
    client = login(nurse)

    def ids(**params) -> list[int]:
        response = client.get(notebook_url(person), params)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["results"]]

    assert ids(q="chute") == [fall.pk]
    assert ids(category="alimentation") == [meal.pk]
    assert ids(author="référent") == [meal.pk]
    assert ids(since=timezone.localdate().isoformat()) == [meal.pk]
    assert ids(until=(timezone.localdate() - datetime.timedelta(days=1)).isoformat()) == [fall.pk]
    response = client.get(notebook_url(person), {"category": "inconnue", "since": "hier"})
    assert response.status_code == 400
    assert set(response.json()) == {"category", "since"}


def test_it_refuses_an_invalid_cursor_instead_of_starting_over(person, nurse):
    response = login(nurse).get(notebook_url(person), {"after": "n'importe quoi"})
    assert response.status_code == 400
    assert "Curseur invalide" in response.json()["after"][0]


def test_it_returns_every_transmission_exactly_once_across_notebook_pages(person, nurse, structure):
    written = _bulk(person, nurse, structure, 2 * selectors.PAGE_SIZE + 7)
    ids = _all_pages(login(nurse), notebook_url(person))
    assert len(ids) == len(written)
    assert set(ids) == {t.pk for t in written}


def test_it_returns_every_transmission_exactly_once_across_feed_pages_unread_first(person, nurse, referent, structure):
    written = _bulk(person, nurse, structure, 2 * selectors.PAGE_SIZE + 7)
    read = written[5:40:2]
    services.mark_read(actor=referent, transmissions=read)
    client = login(referent)
    assert client.get(FEED_URL).json()["unread"] == len(written) - len(read)
    ids = _all_pages(client, FEED_URL)
    assert len(ids) == len(written)
    assert set(ids) == {t.pk for t in written}
    unread_count = len(written) - len(read)
    assert set(ids[:unread_count]) == {t.pk for t in written} - {t.pk for t in read}


def test_it_reaches_the_read_transmissions_when_the_unread_ones_exactly_fill_a_page(person, nurse, referent, structure):
    written = _bulk(person, nurse, structure, selectors.PAGE_SIZE + 3)
    services.mark_read(actor=referent, transmissions=written[:3])
    ids = _all_pages(login(referent), FEED_URL)
    assert set(ids) == {t.pk for t in written}


def test_it_runs_as_many_queries_for_500_transmissions_as_for_10(
    person, nurse, referent, structure, django_assert_max_num_queries
):
    first = _bulk(person, nurse, structure, 10)
    services.transmission_correct(actor=nurse, original=first[0], text="Correction.")
    client = login(referent)
    client.get(notebook_url(person))  # warm up the session and the caches

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(notebook_url(person))
        assert response.status_code == 200
        return len(queries)

    with_ten = count()
    _bulk(person, nurse, structure, 490, start=timezone.now() - datetime.timedelta(days=30))
    with django_assert_max_num_queries(NOTEBOOK_QUERIES):
        response = client.get(notebook_url(person))
    assert len(response.json()["results"]) == selectors.PAGE_SIZE
    assert count() == with_ten


def test_it_runs_as_many_queries_for_a_feed_of_500_transmissions_as_for_10(person, nurse, referent, structure):
    first = _bulk(person, nurse, structure, 10)
    services.mark_read(actor=referent, transmissions=first[:4])
    client = login(referent)
    client.get(FEED_URL)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(FEED_URL)
        assert response.status_code == 200
        return len(queries)

    with_ten = count()
    more = _bulk(person, nurse, structure, 490, start=timezone.now() - datetime.timedelta(days=30))
    services.mark_read(actor=referent, transmissions=more[:480])  # a page that ends with read ones again
    assert count() == with_ten


def test_it_lists_my_feed_unread_first_and_marks_read_what_i_send(person, nurse, referent, ssiad):
    older = _post(nurse, person, "Nuit calme.", observed_at=timezone.now() - datetime.timedelta(hours=5))
    newer = _post(nurse, person, "Petit déjeuner pris.")
    theirs = _post(ssiad, person, "Passage du SSIAD, interne.", scope="internal")
    services.mark_read(actor=referent, transmissions=[newer])
    client = login(referent)
    body = client.get(FEED_URL).json()
    assert [(item["id"], item["is_read"]) for item in body["results"]] == [(older.pk, False), (newer.pk, True)]
    assert body["unread"] == 1
    assert AccessLog.objects.filter(user=referent, person=person, category="liaison", path=FEED_URL).exists()
    response = _json(client, "post", READ_URL, {"transmissions": [older.pk, theirs.pk, newer.pk]})
    assert response.json() == {"marked": 2}
    assert client.get(FEED_URL).json()["unread"] == 0
    assert not ReadMark.objects.filter(user=referent, transmission=theirs).exists()
    assert _json(client, "post", READ_URL, {"transmissions": []}).status_code == 400


# --- Writing --------------------------------------------------------------------------------------


def test_it_creates_a_transmission_from_json(person, nurse, referent):
    response = _json(
        login(nurse),
        "post",
        notebook_url(person),
        {
            "category": "symptomes",
            "text": "Toux sèche.",
            "is_important": True,
            "addressees": [referent.pk],
            "requests_receipt": True,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    transmission = Transmission.objects.get()
    assert body["id"] == transmission.pk and body["text"] == "Toux sèche." and body["is_important"]
    assert body["addressees"] == [{"user": referent.pk, "name": "Rémi Référent", "acknowledged_at": None}]
    assert transmission.author == nurse and transmission.requests_receipt


def test_it_refuses_addressees_who_cannot_read_the_notebook(person, nurse, external_pro, stranger):
    for user in (external_pro, stranger):
        response = _json(
            login(nurse),
            "post",
            notebook_url(person),
            {"category": "autre", "text": "Pour info.", "addressees": [user.pk]},
        )
        assert response.status_code == 400
        assert set(response.json()) == {"addressees"}
        assert str(user) not in response.content.decode()
    assert not Transmission.objects.exists()


def test_it_lets_a_carer_with_write_post_in_the_shared_notebook_without_alerts(person, person_user, nurse, carer):
    _grant(person_user, person, carer, Level.WRITE)
    client = login(carer)
    response = _json(
        client,
        "post",
        notebook_url(person),
        {"category": "vie_sociale", "text": "Visite de sa sœur.", "addressees": [nurse.pk]},
    )
    assert response.status_code == 400
    assert "Seul un professionnel" in response.json()["addressees"][0]
    response = _json(
        client,
        "post",
        notebook_url(person),
        {"category": "vie_sociale", "text": "Visite de sa sœur.", "scope": "internal"},
    )
    assert response.status_code == 400 and "scope" in response.json()
    response = _json(client, "post", notebook_url(person), {"category": "vie_sociale", "text": "Visite de sa sœur."})
    assert response.status_code == 201
    assert response.json()["scope"] == "shared" and response.json()["author_structure"] is None


def test_it_names_the_field_when_a_targeted_transmission_has_no_target(person, nurse):
    response = _json(
        login(nurse),
        "post",
        notebook_url(person),
        {"category": "symptomes", "kind": "targeted", "data": "Grimace au lever."},
    )
    assert response.status_code == 400
    assert response.json() == {"target": ["Indiquez la cible de la transmission ciblée (par exemple : douleur)."]}


def test_it_strips_the_gps_position_from_a_photo_and_serves_it_only_through_the_gate(person, nurse, stranger):
    response = login(nurse).post(
        notebook_url(person), {"category": "hygiene", "text": "Rougeur au talon.", "files": [jpeg_with_gps()]}
    )
    assert response.status_code == 201, response.content
    [attachment] = response.json()["attachments"]
    assert attachment["content_type"] == "image/jpeg" and attachment["thumbnail_url"]
    stored = Attachment.objects.get(pk=attachment["id"])
    with stored.file.open("rb") as handle, Image.open(handle) as image:
        assert dict(image.getexif()) == {}
    assert login(stranger).get(attachment["url"]).status_code == 404
    assert login(stranger).get(attachment["thumbnail_url"]).status_code == 404
    served = login(nurse).get(attachment["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(served.streaming_content))) as image:
        assert dict(image.getexif()) == {}


def test_it_refuses_a_text_file_named_like_a_photo_and_creates_nothing(person, nurse):
    fake = SimpleUploadedFile("photo.jpg", b"Ceci n'est pas une image.\n", content_type="image/jpeg")
    response = login(nurse).post(notebook_url(person), {"category": "hygiene", "text": "Photo.", "files": [fake]})
    assert response.status_code == 400
    assert "Type de fichier refusé" in response.json()["files"][0]
    assert not Transmission.objects.exists() and not Attachment.objects.exists()


def test_it_refuses_a_file_over_the_size_limit(person, nurse, settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile(
        "gros.pdf", b"%PDF-1.4\n" + b"0" * settings.UPLOAD_MAX_BYTES + b"\n%%EOF\n", content_type="application/pdf"
    )
    response = login(nurse).post(notebook_url(person), {"category": "resultats", "text": "Bilan.", "files": [big]})
    assert response.status_code == 400
    assert "1 Mo au maximum" in response.json()["files"][0]
    assert not Transmission.objects.exists()


def test_it_edits_during_the_grace_period_and_keeps_the_previous_version(person, nurse):
    transmission = _post(nurse, person, "Repas pris à moitié.")
    response = _json(login(nurse), "patch", url("transmission", transmission), {"text": "Repas pris en entier."})
    assert response.status_code == 200, response.content
    assert response.json()["text"] == "Repas pris en entier." and response.json()["edited_at"]
    revision = TransmissionRevision.objects.get(transmission=transmission)
    assert revision.snapshot["text"] == "Repas pris à moitié."


def test_it_answers_409_to_an_edit_after_the_grace_period(person, nurse, settings):
    transmission = _post(nurse, person, "Repas pris à moitié.")
    later = timezone.now() + datetime.timedelta(minutes=settings.LIAISON_GRACE_MINUTES + 1)
    with time_machine.travel(later, tick=False):
        client = login(nurse)
        response = _json(client, "patch", url("transmission", transmission), {"text": "Autre chose."})
        assert response.status_code == 409
        assert response.json() == {
            "detail": f"Le délai de modification ({settings.LIAISON_GRACE_MINUTES} minutes) "
            "est passé : la transmission ne peut plus changer. Ajoutez une "
            "correction."
        }
        assert client.post(url("withdraw", transmission)).status_code == 409
        assert client.post(url("attachments", transmission), {"files": [pdf_file()]}).status_code == 409
    transmission.refresh_from_db()
    assert transmission.text == "Repas pris à moitié." and not transmission.revisions.exists()
    assert not transmission.attachments.exists()


def test_it_refuses_an_edit_by_someone_else_than_the_author(person, nurse, referent):
    transmission = _post(nurse, person)
    response = _json(login(referent), "patch", url("transmission", transmission), {"text": "Changé."})
    assert response.status_code == 403
    assert response.json() == {"detail": "Seul l'auteur peut modifier ou retirer sa transmission."}
    response = _json(login(nurse), "patch", url("transmission", transmission), {})
    assert response.status_code == 400


def test_it_withdraws_a_transmission_that_stays_readable(person, nurse, referent):
    transmission = _post(nurse, person)
    response = login(nurse).post(url("withdraw", transmission))
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert login(referent).get(url("transmission", transmission)).json()["status"] == "withdrawn"
    assert login(nurse).post(url("withdraw", transmission)).status_code == 409


def test_it_links_a_correction_both_ways(person, nurse, referent, settings):
    original = _post(nurse, person, "Tension 12/8.")
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=settings.LIAISON_GRACE_MINUTES + 1)):
        response = _json(login(nurse), "post", url("corrections", original), {"text": "Tension 13/8."})
    assert response.status_code == 201, response.content
    correction = response.json()
    assert correction["corrects"] == original.pk
    assert correction["category"] == "observations" and correction["scope"] == "shared"
    assert login(referent).get(url("transmission", original)).json()["corrected_by"] == [correction["id"]]


def test_it_adds_attachments_during_the_grace_period(person, nurse, referent):
    transmission = _post(nurse, person)
    response = login(nurse).post(url("attachments", transmission), {"files": [pdf_file(), jpeg_with_gps()]})
    assert response.status_code == 201, response.content
    assert [a["content_type"] for a in response.json()] == ["application/pdf", "image/jpeg"]
    assert login(referent).post(url("attachments", transmission), {"files": [pdf_file()]}).status_code == 403
    assert transmission.attachments.count() == 2


def test_it_records_a_receipt_that_the_author_sees(person, nurse, referent):
    transmission = _post(nurse, person, "Chute ce matin.", addressees=[referent], requests_receipt=True)
    assert login(nurse).post(url("acknowledge", transmission)).status_code == 400  # not addressed to her
    response = login(referent).post(url("acknowledge", transmission))
    assert response.status_code == 200 and response.json()["is_read"]
    [addressee] = login(nurse).get(url("transmission", transmission)).json()["addressees"]
    assert addressee["user"] == referent.pk and addressee["acknowledged_at"] is not None


# --- Documentation --------------------------------------------------------------------------------


def test_it_keeps_the_openapi_schema_valid_and_documents_every_liaison_endpoint(tmp_path):
    GENERATOR_STATS.reset()
    path = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    schema = yaml.safe_load(path.read_text())
    operations = {
        (p, method) for p, item in schema["paths"].items() for method in item if p.startswith("/api/liaison/")
    }
    assert operations == {
        ("/api/liaison/persons/{id}/transmissions/", "get"),
        ("/api/liaison/persons/{id}/transmissions/", "post"),
        ("/api/liaison/feed/", "get"),
        ("/api/liaison/read/", "post"),
        ("/api/liaison/transmissions/{id}/", "get"),
        ("/api/liaison/transmissions/{id}/", "patch"),
        ("/api/liaison/transmissions/{id}/withdraw/", "post"),
        ("/api/liaison/transmissions/{id}/corrections/", "post"),
        ("/api/liaison/transmissions/{id}/attachments/", "post"),
        ("/api/liaison/transmissions/{id}/acknowledge/", "post"),
    }
    for p, method in operations:
        assert schema["paths"][p][method]["description"], (p, method)
