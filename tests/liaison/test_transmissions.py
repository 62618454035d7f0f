"""Transmissions: nothing is lost, files are safe, receipts and reminders, feeds."""

from __future__ import annotations

import datetime
import io

import lxml.html
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from liaison import selectors, services
from liaison.models import Addressee, Attachment, ReadMark, Transmission
from liaison.tasks import remind_missing_receipts
from notifications.models import Notification, NotificationPreference
from tests.conftest import login
from tests.liaison.conftest import jpeg_with_gps, pdf_file
from tests.uploads_corpus import HOSTILE_PDFS

pytestmark = pytest.mark.django_db


def _post(actor, person, text="Observation.", **extra):
    return services.transmission_create(actor=actor, person=person, category="observations", text=text, **extra)


# --- Nothing is lost ----------------------------------------------------------------------------


def test_it_lets_the_author_edit_during_the_grace_period_and_keeps_the_previous_text(person, nurse):
    transmission = _post(nurse, person, "Tension 13/8.")
    response = login(nurse).post(reverse("liaison:edit", args=[transmission.pk]), {"text": "Tension 12/8."})
    assert response.status_code == 302
    transmission.refresh_from_db()
    assert transmission.text == "Tension 12/8." and transmission.edited_at is not None
    assert transmission.revisions.get().snapshot["text"] == "Tension 13/8."
    page = login(nurse).get(reverse("liaison:transmission", args=[transmission.pk])).content.decode()
    assert "Tension 13/8." in page and "Versions précédentes" in page


def test_it_refuses_an_edit_after_the_grace_period_with_a_clear_message(person, nurse, settings):
    transmission = _post(nurse, person, "Tension 13/8.")
    later = transmission.created_at + datetime.timedelta(minutes=settings.LIAISON_GRACE_MINUTES, seconds=1)
    with time_machine.travel(later):
        with pytest.raises(services.GracePeriodOver) as error:
            services.transmission_edit(actor=nurse, transmission=transmission, text="Changé")
        assert "Ajoutez une correction" in error.value.messages[0]
        response = login(nurse).post(reverse("liaison:edit", args=[transmission.pk]), {"text": "Changé"}, follow=True)
    assert "Le délai de modification (10 minutes) est passé" in response.content.decode()
    transmission.refresh_from_db()
    assert transmission.text == "Tension 13/8." and not transmission.revisions.exists()


def test_it_refuses_an_edit_by_someone_else_than_the_author(person, nurse, referent):
    transmission = _post(nurse, person)
    from coordination.access import AccessDenied

    with pytest.raises(AccessDenied):
        services.transmission_edit(actor=referent, transmission=transmission, text="Autre")


def test_it_keeps_a_withdrawn_transmission_readable_and_marked(person, nurse, referent):
    transmission = _post(nurse, person, "Erreur de dossier.")
    services.transmission_withdraw(actor=nurse, transmission=transmission)
    page = login(referent).get(reverse("liaison:notebook", args=[person.pk])).content.decode()
    assert "Erreur de dossier." in page and "Retirée par son auteur" in page
    assert Transmission.objects.filter(pk=transmission.pk).exists()


def test_it_links_a_correction_and_its_original_both_ways(person, nurse, referent, settings):
    original = _post(nurse, person, "Poids 62 kg.")
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)):
        response = login(referent).post(reverse("liaison:correct", args=[original.pk]), {"text": "Poids 52 kg."})
    correction = Transmission.objects.get(corrects=original)
    assert response["Location"] == reverse("liaison:transmission", args=[correction.pk])
    assert correction.scope == original.scope and correction.author == referent
    original_page = login(nurse).get(reverse("liaison:transmission", args=[original.pk])).content.decode()
    assert "Corrigée" in original_page and reverse("liaison:transmission", args=[correction.pk]) in original_page
    correction_page = login(nurse).get(reverse("liaison:transmission", args=[correction.pk])).content.decode()
    assert reverse("liaison:transmission", args=[original.pk]) in correction_page
    assert Transmission.objects.get(pk=original.pk).text == "Poids 62 kg."


# --- Attachments ----------------------------------------------------------------------------------


def test_it_strips_exif_and_gps_from_a_stored_photo_and_makes_a_thumbnail(person, nurse):
    transmission = _post(nurse, person, files=[jpeg_with_gps()])
    attachment = transmission.attachments.get()
    with attachment.file.open("rb") as stored:
        image = Image.open(io.BytesIO(stored.read()))
        assert not image.getexif()
        assert image.size == (64, 48)
    assert attachment.thumbnail and attachment.content_type == "image/jpeg"
    assert len(attachment.sha256) == 64


def test_it_refuses_a_file_renamed_jpg_that_is_not_an_image(person, nurse):
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 this is not a picture at all", content_type="image/jpeg")
    response = login(nurse).post(
        reverse("liaison:notebook", args=[person.pk]),
        {"category": "autre", "kind": "general", "text": "Photo", "scope": "shared", "files": [fake]},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Type de fichier refusé" in body
    # The message is tied to the file field, not only shown at the top of the form.
    assert (
        'id="id_files_errors"' in body
        and 'aria-invalid="true"' in body.split('id="id_files"')[0][-400:] + body.split('id="id_files"')[1][:400]
    )
    assert not Transmission.objects.exists() and not Attachment.objects.exists()


def test_it_refuses_a_too_large_file_with_the_limit_in_the_message(person, nurse, settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    big = io.BytesIO()
    Image.effect_noise((1200, 1200), 90).convert("RGB").save(big, format="PNG")
    upload = SimpleUploadedFile("grande.png", big.getvalue(), content_type="image/png")
    with pytest.raises(ValidationError) as error:
        _post(nurse, person, files=[upload])
    assert "1 Mo au maximum" in str(error.value)
    assert not Transmission.objects.exists()


def test_it_refuses_a_pdf_with_active_content(person, nurse):
    evil = SimpleUploadedFile("cr.pdf", HOSTILE_PDFS["escaped-names"])
    with pytest.raises(ValidationError, match="contenu actif"):
        _post(nurse, person, files=[evil])
    _post(nurse, person, files=[pdf_file()])
    assert Attachment.objects.get().content_type == "application/pdf"


def test_it_serves_a_file_only_to_those_who_may_read_the_transmission(person, nurse, stranger, other_pro, referent):
    transmission = _post(nurse, person, files=[jpeg_with_gps()], scope="internal")
    attachment = transmission.attachments.get()
    url = reverse("liaison:attachment", args=[attachment.pk])
    response = login(referent).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    for outsider in (stranger, other_pro):
        assert login(outsider).get(url).status_code == 404
        assert login(outsider).get(reverse("liaison:thumbnail", args=[attachment.pk])).status_code == 404
    assert not settings_media_url_serves(attachment)


def settings_media_url_serves(attachment) -> bool:
    from django.test import Client

    return Client().get(f"/media/{attachment.file.name}").status_code == 200


# --- Alerts, receipts, reminders, remarkable events -------------------------------------------------


def test_it_alerts_the_addressee_who_acknowledges_and_the_author_sees_it(person, nurse, referent):
    transmission = _post(nurse, person, "Douleur au genou.", addressees=[referent], requests_receipt=True)
    assert Notification.objects.filter(recipient=referent, event_type="liaison.alert").exists()
    response = login(referent).post(reverse("liaison:acknowledge", args=[transmission.pk]))
    assert response.status_code == 302
    addressee = Addressee.objects.get(transmission=transmission, user=referent)
    assert addressee.acknowledged_at is not None
    page = login(nurse).get(reverse("liaison:transmission", args=[transmission.pk])).content.decode()
    assert "accusé de réception le" in page


def test_it_refreshes_the_receipt_counter_when_acknowledging_with_htmx(person, nurse, referent):
    """#16 item 8: the counter said "0 sur 1" until a reload."""
    transmission = _post(nurse, person, "Douleur au genou.", addressees=[referent], requests_receipt=True)
    client = login(referent)
    page = client.get(reverse("liaison:transmission", args=[transmission.pk])).content.decode()
    assert "accusés de réception : 0 sur 1" in page
    response = client.post(reverse("liaison:acknowledge", args=[transmission.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    parts = [e for e in lxml.html.fragments_fromstring(response.content.decode()) if not isinstance(e, str)]
    receipts = [e for e in parts if e.get("id") == f"destinataires-{transmission.pk}"]
    assert receipts and receipts[0].get("hx-swap-oob") == "true"
    assert "accusés de réception : 1 sur 1" in receipts[0].xpath("./summary")[0].text_content()
    assert "accusé de réception le" in receipts[0].text_content()
    # The page itself carries the id the swap replaces.
    page = lxml.html.fromstring(client.get(reverse("liaison:transmission", args=[transmission.pk])).content.decode())
    assert page.xpath(f"//details[@id='destinataires-{transmission.pk}']")


def test_it_refuses_an_addressee_who_cannot_read_the_transmission(person, nurse, carer, external_pro):
    with pytest.raises(ValidationError) as error:
        _post(nurse, person, addressees=[external_pro])
    assert "addressees" in error.value.message_dict
    assert not Transmission.objects.exists()


def test_it_reminds_once_when_a_requested_receipt_is_missing(person, nurse, referent, settings):
    transmission = _post(nurse, person, "Merci de confirmer.", addressees=[referent], requests_receipt=True)
    assert remind_missing_receipts() == 0  # too early
    with time_machine.travel(
        timezone.now() + datetime.timedelta(hours=settings.LIAISON_RECEIPT_REMINDER_HOURS, minutes=1)
    ):
        assert remind_missing_receipts() == 1
        assert remind_missing_receipts() == 0
    assert Notification.objects.filter(recipient=nurse, event_type="liaison.receipt_missing").count() == 1
    assert Notification.objects.filter(recipient=referent, event_type="liaison.alert").count() == 2
    assert Addressee.objects.get(transmission=transmission).reminded_at is not None


def test_it_notifies_the_circle_of_a_remarkable_event(person, nurse, referent, person_user):
    NotificationPreference.objects.create(
        user=referent, event_type="liaison.remarkable_event", frequency="immediate", in_app=True, email=True
    )
    _post(nurse, person, "Chute dans la chambre, relevée sans blessure.", remarkable_event="chute")
    recipients = set(
        Notification.objects.filter(event_type="liaison.remarkable_event").values_list("recipient", flat=True)
    )
    assert referent.pk in recipients and person_user.pk in recipients and nurse.pk not in recipients


# --- Feeds ---------------------------------------------------------------------------------------------


def _bulk(person, author, count: int, *, start=None) -> None:
    start = start or timezone.now() - datetime.timedelta(days=30)
    Transmission.objects.bulk_create(
        [
            Transmission(
                person=person,
                author=author,
                observed_at=start + datetime.timedelta(minutes=i),
                category="observations",
                text=f"Observation {i}",
                search_document=f"Observation {i}",
            )
            for i in range(count)
        ]
    )


def test_it_keeps_the_notebook_query_count_flat_from_10_to_500_transmissions(
    person, nurse, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _bulk(person, nurse, 10)
    client = login(nurse)
    client.get(reverse("liaison:notebook", args=[person.pk]))
    with CaptureQueriesContext(connection) as ten:
        client.get(reverse("liaison:notebook", args=[person.pk]))
    _bulk(person, nurse, 490, start=timezone.now() - datetime.timedelta(days=20))
    with django_assert_max_num_queries(len(ten.captured_queries)):
        response = client.get(reverse("liaison:notebook", args=[person.pk]))
    assert len(response.context["page"].items) == selectors.PAGE_SIZE


def test_it_pages_the_notebook_with_a_cursor_returning_each_transmission_once(person, nurse):
    _bulk(person, nurse, 60)
    client = login(nurse)
    seen, cursor = [], None
    while True:
        response = client.get(reverse("liaison:notebook", args=[person.pk]), {"apres": cursor} if cursor else {})
        seen += [t.pk for t in response.context["page"].items]
        cursor = response.context["page"].next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 60


def test_it_puts_unread_transmissions_first_in_my_feed(person, nurse, referent):
    _bulk(person, referent, 5)
    older_unread = Transmission.objects.order_by("observed_at").first()
    services.mark_read(actor=nurse, transmissions=Transmission.objects.exclude(pk=older_unread.pk))
    response = login(nurse).get(reverse("liaison:feed"))
    items = response.context["page"].items
    assert items[0].pk == older_unread.pk and items[0].is_read is False
    assert response.context["unread"] == 1
    login(nurse).post(reverse("liaison:feed_mark_read"))
    after = login(nurse).get(reverse("liaison:feed"))
    assert after.context["unread"] == 0
    assert all(item.is_read for item in after.context["page"].items)
    assert ReadMark.objects.filter(user=nurse).count() == 4  # "all read" writes no row per transmission


def test_it_counts_only_recent_transmissions_as_unread_and_caps_the_count(person, nurse, referent, settings):
    _bulk(person, referent, 3)
    Transmission.objects.update(created_at=timezone.now() - datetime.timedelta(days=settings.LIAISON_UNREAD_DAYS + 1))
    _bulk(person, referent, selectors.UNREAD_COUNT_CAP + 5)
    response = login(nurse).get(reverse("liaison:feed"))
    assert response.context["unread"] == selectors.UNREAD_COUNT_CAP
    assert f"{selectors.UNREAD_COUNT_CAP - 1}+ non lues" in response.content.decode()


def test_it_stores_no_file_when_a_later_file_of_the_same_transmission_is_refused(person, nurse, settings):
    fake = SimpleUploadedFile("b.jpg", b"not an image", content_type="image/jpeg")
    with pytest.raises(ValidationError):
        _post(nurse, person, files=[jpeg_with_gps(), fake])
    stored = (
        [p for p in settings.PRIVATE_MEDIA_ROOT.rglob("*") if p.is_file()]
        if settings.PRIVATE_MEDIA_ROOT.exists()
        else []
    )
    assert stored == [] and not Transmission.objects.exists()


def test_it_keeps_an_internal_correction_with_the_original_team(person, nurse, referent):
    original = _post(nurse, person, "Note d'équipe.", scope="internal")
    correction = services.transmission_correct(
        actor=referent, original=original, text="Note corrigée.", author_structure=None
    )
    assert correction.scope == "internal" and correction.author_structure == original.author_structure


def test_it_logs_the_reads_of_the_feed_page(person, nurse, referent):
    from coordination.models import AccessLog

    _post(referent, person, "Pour le fil.")
    login(nurse).get(reverse("liaison:feed"))
    assert AccessLog.objects.filter(user=nurse, person=person, category="liaison", action="read").exists()


def test_it_answers_an_htmx_acknowledgement_of_a_transmission_not_addressed_to_me_with_an_error(
    person, nurse, referent
):
    transmission = _post(nurse, person, "Pour information.")
    response = login(referent).post(reverse("liaison:acknowledge", args=[transmission.pk]), HTTP_HX_REQUEST="true")
    assert "ne vous est pas adressée" in response.content.decode()
    assert "Accusé de réception envoyé" not in response.content.decode()


def test_it_edits_the_donnees_of_a_targeted_transmission_without_text(person, nurse):
    transmission = services.transmission_create(
        actor=nurse, person=person, category="symptomes", kind="targeted", target="douleur", data="Douleur 6/10."
    )
    page = login(nurse).get(reverse("liaison:edit", args=[transmission.pk])).content.decode()
    assert "Douleur 6/10." in page
    login(nurse).post(reverse("liaison:edit", args=[transmission.pk]), {"text": "Douleur 4/10."})
    transmission.refresh_from_db()
    assert transmission.data == "Douleur 4/10." and transmission.text == ""


def test_it_answers_an_htmx_post_with_the_fragment_to_swap(person, nurse):
    client = login(nurse)
    url = reverse("liaison:notebook", args=[person.pk])
    ok = client.post(
        url, {"category": "autre", "kind": "general", "text": "Par HTMX.", "scope": "shared"}, HTTP_HX_REQUEST="true"
    )
    assert ok.status_code == 200 and "<html" not in ok.content.decode()
    assert "Transmission enregistrée." in ok.content.decode() and "Par HTMX." in ok.content.decode()
    wrong = client.post(
        url, {"category": "autre", "kind": "general", "text": "", "scope": "shared"}, HTTP_HX_REQUEST="true"
    )
    assert wrong.status_code == 400 and "Écrivez la transmission." in wrong.content.decode()
    assert "<html" not in wrong.content.decode()


def test_it_writes_an_audit_row_for_each_write(person, nurse, referent):
    from coordination.models import AuditEvent

    transmission = _post(nurse, person, "Texte.", addressees=[referent], requests_receipt=True)
    services.transmission_edit(actor=nurse, transmission=transmission, text="Texte corrigé.")
    services.acknowledge(actor=referent, transmission=transmission)
    services.transmission_withdraw(actor=nurse, transmission=transmission)
    events = list(
        AuditEvent.objects.filter(
            person=person,
            event_type__in=[
                "transmission_created",
                "transmission_edited",
                "receipt_given",
                "transmission_withdrawn",
            ],
        )
        .order_by("at", "pk")
        .values_list("event_type", "actor")
    )
    assert events == [
        ("transmission_created", nurse.pk),
        ("transmission_edited", nurse.pk),
        ("receipt_given", referent.pk),
        ("transmission_withdrawn", nurse.pk),
    ]


def test_it_shows_photos_inline_and_downloads_pdfs(person, nurse):
    transmission = _post(nurse, person, files=[jpeg_with_gps(), pdf_file()])
    photo, pdf = (
        transmission.attachments.order_by("content_type")[1],
        transmission.attachments.order_by("content_type")[0],
    )
    client = login(nurse)
    assert client.get(reverse("liaison:attachment", args=[photo.pk]))["Content-Disposition"].startswith("inline")
    response = client.get(reverse("liaison:attachment", args=[pdf.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="compte-rendu.pdf"'
