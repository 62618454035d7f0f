"""Invitations to the user portal: e-mailed, single use, expiring, never stored in clear."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from coordination import access
from coordination.models import AuditEvent, CarerLink, Category, CircleMember
from portal.invitations import hash_token
from portal.models import PortalInvitation, User
from tests.conftest import login
from tests.factories import PersonFactory

PASSWORD = "Un-mot-de-passe-solide-42"


def _invite(referent, person, django_capture_on_commit_callbacks, **data) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        response = login(referent).post(reverse("portal_invitation_create", args=[person.pk]), data)
    assert response.status_code == 302, response.content.decode()
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    return urlparse(link).path


@pytest.fixture
def unlinked_person(structure, admin_user):
    from coordination import services

    return services.person_create(
        actor=admin_user,
        structure=structure,
        birth_name="DURAND",
        birth_first_names="Paul",
        first_name="Paul",
        birth_date="1940-01-01",
        sex="M",
        birth_place_insee="75056",
    )


def test_it_invites_a_carer_whose_link_works_once(person, referent, client, django_capture_on_commit_callbacks):
    path = _invite(
        referent, person, django_capture_on_commit_callbacks, email="Fils@Exemple.fr", relationship="famille"
    )
    assert mail.outbox[-1].to == ["fils@exemple.fr"]
    token = path.rstrip("/").rsplit("/", 1)[-1]
    invitation = PortalInvitation.objects.get()
    assert invitation.token_hash == hash_token(token) and token not in invitation.token_hash
    assert client.get(path).status_code == 200
    response = client.post(
        path, {"first_name": "Hugo", "last_name": "Martin", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    user = User.objects.get(email="fils@exemple.fr")
    assert user.check_password(PASSWORD)
    assert CarerLink.objects.filter(person=person, user=user, ended_on__isnull=True).exists()
    assert CircleMember.objects.active().filter(person=person, user=user).exists()
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.CARER_LINKED, data__user=user.pk).exists()
    # A carer starts with nothing but their own space.
    assert access.check(user, person, Category.LIAISON) is None
    again = client.get(path)
    assert again.status_code == 404 and "ne fonctionne pas" in again.content.decode()
    assert client.post(path, {"password1": PASSWORD, "password2": PASSWORD}).status_code == 404
    assert client.login(email="fils@exemple.fr", password=PASSWORD)


def test_it_invites_the_person_who_then_sees_their_own_space(
    unlinked_person, referent, client, django_capture_on_commit_callbacks
):
    path = _invite(
        referent, unlinked_person, django_capture_on_commit_callbacks, email="paul@exemple.fr", relationship=""
    )
    client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
    unlinked_person.refresh_from_db()
    user = unlinked_person.user
    assert user.email == "paul@exemple.fr"
    page = login(user).get(reverse("portal_record"))
    assert page.status_code == 200 and "1940" in page.content.decode()


def test_it_refuses_an_expired_or_wrong_link(person, referent, client, django_capture_on_commit_callbacks):
    path = _invite(referent, person, django_capture_on_commit_callbacks, email="fils@exemple.fr", relationship="aidant")
    PortalInvitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.post(path, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 404 and "expiré" in response.content.decode()
    assert not User.objects.filter(email="fils@exemple.fr").exists()
    assert client.get(reverse("portal_invitation_accept", args=["pas-un-vrai-lien"])).status_code == 404


def test_it_names_the_password_field_when_it_is_too_weak(person, referent, client, django_capture_on_commit_callbacks):
    path = _invite(referent, person, django_capture_on_commit_callbacks, email="fils@exemple.fr", relationship="aidant")
    response = client.post(path, {"password1": "court", "password2": "court"})
    assert response.status_code == 400
    assert "trop court" in response.content.decode()
    assert PortalInvitation.objects.get().used_at is None


def test_it_refuses_invitations_from_anyone_but_a_structure_professional_with_circle_write(
    person, person_user, carer, other_pro, external_pro
):
    url = reverse("portal_invitation_create", args=[person.pk])
    data = {"email": "x@exemple.fr", "relationship": "aidant"}
    assert login(other_pro).post(url, data).status_code == 404
    assert login(external_pro).post(url, data).status_code == 403
    assert login(carer).post(url, data).status_code == 404
    assert login(person_user).post(url, data).status_code == 404
    assert login(other_pro).get(reverse("portal_invitation_create", args=[PersonFactory().pk])).status_code == 404
    assert not PortalInvitation.objects.exists()


def test_it_refuses_to_invite_a_person_who_already_has_an_account(person, referent):
    response = login(referent).post(
        reverse("portal_invitation_create", args=[person.pk]), {"email": "jeanne@exemple.fr", "relationship": ""}
    )
    assert response.status_code == 400
    assert "déjà un compte" in response.content.decode()
