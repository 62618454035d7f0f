"""The API's new operations: notifications, consents, break-the-glass, ICS subscriptions.
Same services and gate as the pages; a stranger gets 404."""

from __future__ import annotations

import pytest
from django.test import Client

from agenda.models import AgendaFeed
from common.notify import notify
from coordination import services
from coordination.models import BreakGlassAccess, CircleMember, Consent, Level
from notifications.models import Notification, NotificationPreference
from tests.conftest import _pro, login


@pytest.fixture
def night_nurse(structure, person, person_user, admin_user):
    """A nurse of the accompanying structure whom the person removed from every right."""
    pro = _pro("nuit@exemple.fr", "infirmier", "Noé", "Nuit")
    services.team_member_add(actor=admin_user, structure=structure, professional=pro, role="infirmier")
    member = CircleMember.objects.active().get(person=person, user=pro.user)
    categories = ("record", "agenda", "liaison", "ppa", "documents", "circle")
    services.grants_set(actor=person_user, member=member, levels=dict.fromkeys(categories, Level.NONE))
    return pro.user


# --- Notifications ------------------------------------------------------------------------------


def test_notifications_list_mark_read_and_preferences(person, nurse, referent, stranger):
    notify("liaison.alert", person=person, actor=referent, recipients=[nurse])
    client = login(nurse)
    body = client.get("/api/notifications/").json()
    [item] = [n for n in body["results"] if n["event_type"] == "liaison.alert"]
    assert item["is_read"] is False and "Jeanne" not in item["message"]
    assert client.get("/api/notifications/", {"unread": "true", "block": "liaison"}).json()["count"] == 1
    # Someone else's notification does not exist for you.
    assert login(stranger).post(f"/api/notifications/{item['id']}/read/").status_code == 404
    assert login(referent).post(f"/api/notifications/{item['id']}/read/").status_code == 404
    read = client.post(f"/api/notifications/{item['id']}/read/")
    assert read.status_code == 200 and read.json()["is_read"] is True
    assert Notification.objects.get(pk=item["id"]).read_at is not None
    notify("liaison.alert", person=person, actor=referent, recipients=[nurse])
    assert client.post("/api/notifications/read-all/").json()["marked"] >= 1
    assert not Notification.objects.filter(recipient=nurse, read_at__isnull=True).exists()
    assert login(stranger).get("/api/notifications/").json()["count"] == 0


def test_preferences_are_set_per_type_and_security_notices_cannot_be_muted(nurse):
    client = login(nurse)
    rows = {row["event_type"]: row for row in client.get("/api/notifications/preferences/").json()}
    assert rows["security.break_glass"]["mutable"] is False
    choice = {"frequency": "daily", "in_app": True, "email": False, "sms": False}
    response = client.put("/api/notifications/preferences/liaison.alert/", choice, content_type="application/json")
    assert response.status_code == 200 and response.json()["frequency"] == "daily"
    assert NotificationPreference.objects.get(user=nurse, event_type="liaison.alert").frequency == "daily"
    muted = {"frequency": "never", "in_app": False, "email": False, "sms": False}
    response = client.put(
        "/api/notifications/preferences/security.break_glass/", muted, content_type="application/json"
    )
    assert response.status_code == 400 and "toujours envoyé" in response.json()["event_type"][0]
    assert (
        client.put("/api/notifications/preferences/inconnu/", choice, content_type="application/json").status_code
        == 404
    )


# --- Consents ------------------------------------------------------------------------------------


def test_consents_are_read_and_recorded_through_the_gate(person, person_user, referent, carer, stranger, other_pro):
    url = f"/api/coordination/persons/{person.pk}/consents/"
    decision = {"kind": "dmp_feeding", "decision": "refused", "collected_via": "portal", "note": "Je ne veux pas."}
    response = login(person_user).post(url, decision, content_type="application/json")
    assert response.status_code == 201 and response.json()["decision"] == "refused"
    oral = {"kind": "dmp_feeding", "decision": "granted", "collected_via": "oral"}
    assert login(referent).post(url, oral, content_type="application/json").status_code == 201
    # A professional does not record a portal decision.
    assert login(referent).post(url, decision, content_type="application/json").status_code == 400
    body = login(referent).get(url).json()
    assert body["dmp_feeding_allowed"] is True
    assert [c["decision"] for c in body["history"]] == ["granted", "refused"]
    assert len(body["current"]) == 1
    for outsider in (stranger, other_pro):
        assert login(outsider).get(url).status_code == 404
        assert login(outsider).post(url, oral, content_type="application/json").status_code == 404
    assert login(carer).get(url).status_code == 403  # in the circle, no right
    assert Consent.objects.count() == 2


# --- Break-the-glass -----------------------------------------------------------------------------


def test_break_the_glass_opens_with_a_reason_and_is_listed(
    person, person_user, referent, night_nurse, other_pro, stranger
):
    url = f"/api/coordination/persons/{person.pk}/break-glass/"
    client = login(night_nurse)
    assert client.post(url, {"reason": "urgence"}, content_type="application/json").status_code == 400
    response = client.post(
        url, {"reason": "Chute dans la nuit, besoin des traitements."}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["is_active"] is True
    assert [g["id"] for g in client.get("/api/coordination/break-glass/mine/").json()["results"]] == [
        response.json()["id"]
    ]
    # The person and the structure's administrator see it; the opener is told who may.
    assert len(login(person_user).get(url).json()) == 1
    assert len(login(referent).get(url).json()) == 1
    assert client.get(url).status_code == 403
    for outsider in (other_pro, stranger):
        assert (
            login(outsider)
            .post(url, {"reason": "Je veux voir ce dossier maintenant."}, content_type="application/json")
            .status_code
            == 404
        )
        assert login(outsider).get(url).status_code == 404
    assert BreakGlassAccess.objects.count() == 1


# --- ICS subscriptions ---------------------------------------------------------------------------


def test_calendar_subscriptions_are_created_rotated_and_revoked(person, nurse, stranger, other_pro):
    client = login(nurse)
    created = client.post(
        "/api/agenda/feeds/", {"kind": "person", "person": person.pk}, content_type="application/json"
    )
    assert created.status_code == 201
    feed = created.json()
    assert feed["url"].startswith("webcal://") and feed["person_name"] == person.display_name
    ics = Client().get(feed["url"].replace("webcal://testserver", ""))
    assert ics.status_code == 200
    rotated = client.post(f"/api/agenda/feeds/{feed['id']}/rotate/")
    assert rotated.status_code == 201 and rotated.json()["url"] != feed["url"]
    assert Client().get(feed["url"].replace("webcal://testserver", "")).status_code == 404
    listed = client.get("/api/agenda/feeds/").json()
    assert "url" not in listed[0] and len(listed) == 2
    assert login(stranger).post(f"/api/agenda/feeds/{rotated.json()['id']}/revoke/").status_code == 404
    revoked = client.post(f"/api/agenda/feeds/{rotated.json()['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert Client().get(rotated.json()["url"].replace("webcal://testserver", "")).status_code == 404
    # A stranger cannot subscribe to the person's agenda, nor learn that she exists.
    for outsider in (stranger, other_pro):
        response = login(outsider).post(
            "/api/agenda/feeds/", {"kind": "person", "person": person.pk}, content_type="application/json"
        )
        assert response.status_code == 404
    assert AgendaFeed.objects.filter(owner__in=[stranger, other_pro]).count() == 0
