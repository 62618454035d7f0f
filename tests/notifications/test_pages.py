"""The notification centre and the preferences page."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from common.notify import notify
from notifications.models import Notification, NotificationPreference
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_delivery(monkeypatch):
    monkeypatch.setattr("notifications.services.transaction.on_commit", lambda func, **kw: None)


def _text(response) -> str:
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def _alerts(person, referent, nurse, count: int) -> None:
    for _ in range(count):
        notify("liaison.alert", person=person, actor=referent, recipients=[nurse])


def test_it_lists_my_notifications_unread_first_with_a_badge_in_the_navigation(person, nurse, referent):
    Notification.objects.all().delete()
    _alerts(person, referent, nurse, 3)
    client = login(nurse)
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 200
    text = _text(response)
    # Grouped: one line for three alerts about the same person; the badge counts groups.
    assert "3 alertes qui vous sont adressées pour Jeanne MARTIN" in text
    assert text.count("Une transmission vous est adressée dans le cahier de liaison.") == 1
    assert "Notifications 1 non lue" in text


def test_it_marks_one_and_all_as_read(person, nurse, referent):
    Notification.objects.all().delete()
    _alerts(person, referent, nurse, 3)
    client = login(nurse)
    first = Notification.objects.filter(recipient=nurse).first()
    response = client.post(reverse("notifications:mark_read", args=[first.pk]), HTTP_HX_REQUEST="true")
    # The item is swapped back read, and the badge (out of band) still shows the group.
    assert response.status_code == 200
    body = response.content.decode()
    assert "Marquer comme lue" not in body and 'hx-swap-oob="true"' in body and ">1<" in body
    assert Notification.objects.filter(recipient=nurse, read_at__isnull=True).count() == 2
    client.post(reverse("notifications:mark_all_read"))
    assert not Notification.objects.filter(recipient=nurse, read_at__isnull=True).exists()


def test_it_opens_a_notification_marking_it_read_and_following_its_link(person, nurse, referent):
    Notification.objects.all().delete()
    _alerts(person, referent, nurse, 1)
    notification = Notification.objects.get(recipient=nurse)
    response = login(nurse).get(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("coordination:person", args=[person.pk])
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_it_answers_404_for_someone_elses_notification(person, nurse, referent, stranger):
    _alerts(person, referent, nurse, 1)
    notification = Notification.objects.filter(recipient=nurse).first()
    client = login(stranger)
    assert client.get(reverse("notifications:open", args=[notification.pk])).status_code == 404
    assert client.post(reverse("notifications:mark_read", args=[notification.pk])).status_code == 404


def test_it_runs_a_bounded_number_of_queries_whatever_the_number_of_notifications(
    person, nurse, referent, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import PersonFactory

    Notification.objects.all().delete()
    _alerts(person, referent, nurse, 2)
    client = login(nurse)
    client.get(reverse("notifications:list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("notifications:list"))
    _alerts(person, referent, nurse, 120)
    Notification.objects.bulk_create(
        Notification(recipient=nurse, event_type="liaison.alert", person=other, frequency="immediate")
        for other in PersonFactory.create_batch(40)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("notifications:list"))
    assert len(response.context["page"].object_list) == 30


def test_it_saves_preferences_and_keeps_security_notices_locked(nurse):
    client = login(nurse)
    response = client.get(reverse("notifications:preferences"))
    assert response.status_code == 200
    form_data = {}
    for _label, rows in response.context["blocks"]:
        for _kind, form in rows:
            prefix = form.prefix
            form_data[f"{prefix}-frequency"] = "weekly"
            form_data[f"{prefix}-email"] = "on"
    response = client.post(reverse("notifications:preferences"), form_data)
    assert response.status_code == 302
    saved = NotificationPreference.objects.get(user=nurse, event_type="liaison.transmission_shared")
    assert saved.frequency == "weekly" and saved.email and not saved.in_app
    assert not NotificationPreference.objects.filter(user=nurse, event_type__startswith="security.").exists()


def test_it_refuses_an_unknown_frequency_naming_the_field(nurse):
    client = login(nurse)
    response = client.post(reverse("notifications:preferences"), {"liaison-alert-frequency": "hourly"})
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in _text(response)
    assert not NotificationPreference.objects.filter(user=nurse).exists()


def test_it_shows_permanent_failures_in_the_admin_and_lets_an_administrator_resend(admin_user, nurse, monkeypatch):
    from django.core import mail

    from notifications.models import Delivery, DeliveryStatus

    monkeypatch.setattr("notifications.services.transaction.on_commit", lambda func, **kw: func())
    notification = Notification.objects.create(
        recipient=nurse, event_type="liaison.alert", frequency="immediate", url="/"
    )
    failed = Delivery.objects.create(
        user=nurse,
        channel="email",
        notification=notification,
        status=DeliveryStatus.FAILED,
        attempts=6,
        last_error="SMTP 550 boîte inconnue",
    )
    client = login(admin_user)
    response = client.get("/admin/notifications/delivery/?status__exact=failed")
    assert "SMTP 550 boîte inconnue" in _text(response)
    mail.outbox.clear()
    client.post("/admin/notifications/delivery/", {"action": "retry_now", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == "sent"
    assert [m for m in mail.outbox if nurse.email in m.to]
