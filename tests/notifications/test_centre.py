"""The notification centre says what happened: the person, who wrote, the kind, the
first words, the date — behind sign-in and the gate — grouped by type and person; the
e-mails and SMS still say nothing of it."""

from __future__ import annotations

import html

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import strip_tags

from coordination import services as coordination_services
from coordination.models import CircleMember
from liaison import services as liaison_services
from notifications.channels import LocmemSMSBackend
from notifications.models import Notification, NotificationPreference
from tests.conftest import login

pytestmark = pytest.mark.django_db

PAIN = "Douleur thoracique depuis ce matin, tension à 16"


@pytest.fixture(autouse=True)
def _deliveries_inline(monkeypatch):
    monkeypatch.setattr("notifications.services.transaction.on_commit", lambda func, **kw: func())


@pytest.fixture(autouse=True)
def _no_earlier_notifications(person, nurse, referent):
    # The personas' set-up notifies them (circle changes): start each test from none.
    Notification.objects.all().delete()


def _text(response) -> str:
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def _alert(person, nurse, referent, text=PAIN, **fields):
    return liaison_services.transmission_create(
        actor=nurse,
        person=person,
        category="symptomes",
        text=text,
        addressees=[referent],
        requests_receipt=True,
        **fields,
    )


def test_it_names_the_person_the_author_the_kind_and_the_first_words(person, nurse, referent):
    _alert(person, nurse, referent)
    text = _text(login(referent).get(reverse("notifications:list")))
    assert "Alerte qui vous est adressée pour Jeanne MARTIN" in text
    assert "Demande d'accusé de réception" in text
    assert f"Inès Infirmière : « {PAIN} »" in text
    notification = Notification.objects.get(recipient=referent, event_type="liaison.alert")
    assert notification.created_at.astimezone().strftime("%d/%m/%Y") in text


def test_it_groups_notifications_of_one_kind_about_one_person(person, nurse, referent):
    for index in range(3):
        liaison_services.transmission_create(
            actor=nurse, person=person, category="observations", text=f"Repas pris en entier {index}"
        )
    client = login(referent)
    text = _text(client.get(reverse("notifications:list")))
    assert "3 nouvelles transmissions pour Jeanne MARTIN" in text
    assert "Dernière : Inès Infirmière : « Repas pris en entier 2 »" in text
    assert "Notifications 1 non lue" in text  # the badge counts groups
    # The group's page lists each one.
    response = client.get(reverse("notifications:group", args=["liaison.transmission_shared", person.pk]))
    assert response.status_code == 200
    text = _text(response)
    assert all(f"Repas pris en entier {index}" in text for index in range(3))


def test_it_marks_a_group_read_from_the_list_with_an_htmx_swap(person, nurse, referent):
    for _ in range(2):
        _alert(person, nurse, referent)
    client = login(referent)
    url = reverse("notifications:group_mark_read", args=["liaison.alert", person.pk])
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    # The group is swapped back read (no button), the badge out of band: one group left
    # unread (the same transmissions, shared in the notebook).
    assert body.lstrip().startswith('<li class="notification">')
    assert "Marquer comme lu" not in body
    assert 'id="notification-badge"' in body and 'hx-swap-oob="true"' in body
    assert '<span class="badge badge--warning">1</span>' in body
    assert not Notification.objects.filter(recipient=referent, event_type="liaison.alert", read_at__isnull=True)
    # Without HTMX: back to the list.
    assert client.post(url).status_code == 302


def test_it_marks_one_read_from_the_group_page_and_by_opening_it(person, nurse, referent):
    first, second = _alert(person, nurse, referent), _alert(person, nurse, referent, text="Chute sans gravité")
    client = login(referent)
    one = Notification.objects.get(recipient=referent, event_type="liaison.alert", subject_id=first.pk)
    response = client.post(reverse("notifications:mark_read", args=[one.pk]), HTTP_HX_REQUEST="true")
    body = html.unescape(response.content.decode())
    assert PAIN in body and "Marquer comme lue" not in body
    other = Notification.objects.get(recipient=referent, event_type="liaison.alert", subject_id=second.pk)
    response = client.get(reverse("notifications:open", args=[other.pk]))
    assert response.status_code == 302 and response["Location"] == other.url and f"t{second.pk}" in other.url
    assert not Notification.objects.filter(recipient=referent, event_type="liaison.alert", read_at__isnull=True)


def test_a_user_who_lost_access_no_longer_sees_the_text_nor_the_name(person, nurse, referent, person_user):
    _alert(person, nurse, referent)
    member = CircleMember.objects.get(person=person, user=referent, ended_at__isnull=True)
    coordination_services.grants_set(actor=person_user, member=member, levels={"liaison": 0})
    client = login(referent)
    for response in (
        client.get(reverse("notifications:list")),
        client.get(reverse("notifications:group", args=["liaison.alert", person.pk])),
    ):
        text = _text(response)
        assert PAIN not in text and "Jeanne" not in text and "MARTIN" not in text
        assert "Une transmission vous est adressée dans le cahier de liaison." in text


def test_it_answers_404_for_a_group_that_is_not_mine(person, nurse, referent, stranger):
    _alert(person, nurse, referent)
    client = login(stranger)
    assert client.get(reverse("notifications:group", args=["liaison.alert", person.pk])).status_code == 404
    assert client.post(reverse("notifications:group_mark_read", args=["liaison.alert", person.pk])).status_code == 404
    assert login(referent).get(reverse("notifications:group", args=["inconnu.type", person.pk])).status_code == 404
    assert client.get(reverse("notifications:list")).status_code == 200
    assert login(referent).get(reverse("notifications:list"), follow=False).status_code == 200


def test_the_list_needs_sign_in(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_emails_and_sms_say_nothing_about_health(person, nurse, referent, settings):
    settings.SMS_BACKEND = "notifications.channels.LocmemSMSBackend"
    LocmemSMSBackend.outbox.clear()
    referent.phone = "+33612345678"
    referent.save(update_fields=["phone"])
    NotificationPreference.objects.create(
        user=referent, event_type="liaison.alert", frequency="immediate", in_app=True, email=True, sms=True
    )
    mail.outbox.clear()
    _alert(person, nurse, referent, remarkable_event="chute")
    sent = [m for m in mail.outbox if referent.email in m.to]
    assert sent and LocmemSMSBackend.outbox
    bodies = [m.subject + m.body + "".join(str(a[0]) for a in getattr(m, "alternatives", [])) for m in sent]
    bodies += [text for _to, text in LocmemSMSBackend.outbox]
    for body in bodies:
        for detail in ("Douleur", "thoracique", "tension", "Jeanne", "MARTIN", "Chute", "Inès"):
            assert detail not in body
