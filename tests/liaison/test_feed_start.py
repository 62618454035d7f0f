"""What a page of the feed reads first (`selectors.feed_start`, one query on PostgreSQL) is
`feed_scope` and `unread_since`: for a member, for a delegate, before and after "all read"."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone

from coordination import services as coordination_services
from coordination.models import Level
from liaison import selectors, services
from tests.conftest import _pro, login


def _same(user):
    scope, since = selectors.feed_start(user)
    expected = selectors.feed_scope(user)
    assert sorted(scope.person_ids) == sorted(expected.person_ids)
    assert sorted(scope.structure_ids) == sorted(expected.structure_ids)
    assert abs(since - selectors.unread_since(user)) < datetime.timedelta(seconds=5)
    return scope, since


def test_for_a_member_and_after_all_read(nurse, person, structure, stranger):
    scope, _since = _same(nurse)
    assert person.pk in scope.person_ids and structure.pk in scope.structure_ids
    services.mark_all_read(actor=nurse)
    _scope, since = _same(nurse)
    assert timezone.now() - since < datetime.timedelta(minutes=1)
    assert _same(stranger)[0].person_ids == ()


def test_for_a_delegate(person, nurse, person_user, admin_user):
    assistant = _pro("assistante@exemple.fr", "secretaire", "Anne", "Assistante")
    now = timezone.now()
    delegation = coordination_services.delegation_create(
        actor=nurse,
        person=person,
        delegate=assistant,
        levels={"liaison": Level.READ},
        starts_at=now - datetime.timedelta(minutes=1),
        ends_at=now + datetime.timedelta(days=7),
    )
    assert person.pk not in _same(assistant.user)[0].person_ids
    coordination_services.delegation_answer(actor=person_user, delegation=delegation, accept=True)
    assert _same(assistant.user)[0].person_ids == (person.pk,)
    services.transmission_create(actor=nurse, person=person, category="observations", text="Repas pris.")
    page = login(assistant.user).get(reverse("liaison:feed"))
    assert "Repas pris." in page.content.decode()
