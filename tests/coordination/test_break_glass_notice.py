"""Break-the-glass with nobody to tell: the structure's administrators are told instead,
and the record says who was actually told — never "notified" when nobody was."""

from __future__ import annotations

import html

import pytest
from django.contrib.messages import get_messages

from coordination import services
from coordination.models import AuditEvent, BreakGlassAccess, BreakGlassNotice
from notifications.models import Notification
from tests.conftest import _pro, login
from tests.factories import StructureFactory

REASON = "Chute nocturne, le SAMU demande les traitements en cours."


@pytest.fixture
def foyer(admin_user):
    return StructureFactory(name="Foyer de vie Les Saules", finess="750000009", kind="fam")


@pytest.fixture
def night_nurse(foyer, admin_user):
    pro = _pro("nuit@exemple.fr", "infirmier", "Noé", "Nuit")
    services.team_member_add(actor=admin_user, structure=foyer, professional=pro, role="infirmier")
    return pro.user


@pytest.fixture
def lonely_person(foyer, night_nurse, admin_user):
    """No portal account, no legal representative, and a structure without a référent."""
    person = services.person_create(
        actor=admin_user,
        structure=foyer,
        birth_name="SEUL",
        birth_first_names="Paul",
        first_name="Paul",
        birth_date="1950-02-03",
        sex="M",
        birth_place_insee="75056",
    )
    return person


def _open(user, person):
    return login(user).post(f"/coordination/personnes/{person.pk}/urgence/", {"reason": REASON})


def test_the_structure_administrators_are_told_when_nobody_else_can_be(lonely_person, night_nurse, foyer, admin_user):
    director = _pro("direction@exemple.fr", "autre", "Diane", "Directrice")
    services.team_member_add(
        actor=admin_user, structure=foyer, professional=director, role="direction", is_structure_admin=True
    )
    response = _open(night_nurse, lonely_person)
    assert response.status_code == 302
    glass = BreakGlassAccess.objects.get(person=lonely_person)
    assert glass.notice == BreakGlassNotice.STRUCTURE_ADMINS
    assert list(glass.notified.all()) == [director.user] and glass.notified_at is not None
    assert Notification.objects.filter(recipient=director.user, event_type="security.break_glass").exists()
    event = AuditEvent.objects.get(event_type="break_glass", person=lonely_person)
    assert event.data["notice"] == "structure_admins" and event.data["notified"] == [director.user.pk]
    message = html.unescape(" ".join(str(m) for m in get_messages(response.wsgi_request)))
    assert "les administrateurs de la structure en sont informés" in message


def test_the_record_never_says_notified_when_nobody_was(lonely_person, night_nurse):
    response = _open(night_nurse, lonely_person)
    assert response.status_code == 302
    glass = BreakGlassAccess.objects.get(person=lonely_person)
    assert glass.notice == BreakGlassNotice.NOBODY
    assert glass.notified_at is None and not glass.notified.exists()
    assert not Notification.objects.filter(event_type="security.break_glass").exists()
    message = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "Personne n'a pu être prévenu" in message and "informée" not in message


def test_the_circle_is_told_first_and_the_record_names_them(person, person_user, referent, structure, admin_user):
    pro = _pro("nuit2@exemple.fr", "infirmier", "Nina", "Nuit")
    services.team_member_add(actor=admin_user, structure=structure, professional=pro, role="infirmier")
    response = _open(pro.user, person)
    assert response.status_code == 302
    glass = BreakGlassAccess.objects.get(person=person)
    assert glass.notice == BreakGlassNotice.CIRCLE
    # The referent is also the structure's administrator: told once, as référent.
    assert set(glass.notified.all()) == {person_user, referent}
