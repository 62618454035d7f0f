"""The access matrix over FHIR: the one gate decides (stranger 404, member without the
right 403 with an OperationOutcome, another structure's software 404), every read is
logged under the software's name, and the OAuth side (tokens, scopes, revocation)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken

from coordination import services
from coordination.models import AccessLog, CircleMember, Level
from interop import services as interop_services
from tests.conftest import login
from tests.interop.conftest import Fhir, get_token

pytestmark = pytest.mark.django_db

PERSON_URLS = [
    "Patient/{id}",
    "CareTeam/{id}",
    "List/{id}",
    "DocumentReference?patient={id}",
    "Appointment?patient={id}",
    "CarePlan?patient={id}",
    "Goal?patient={id}",
    "ServiceRequest?patient={id}",
    "Consent?patient={id}",
    "RelatedPerson?patient={id}",
]


def call(api: Fhir, template: str, person_id: int):
    path = template.format(id=person_id)
    if "?" in path:
        resource, query = path.split("?")
        key, value = query.split("=")
        return api.get(resource, **{key: value})
    return api.get(path)


def outcome_of(response) -> str:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["diagnostics"]


@pytest.mark.parametrize("template", PERSON_URLS)
def test_another_structures_software_gets_404(other_api, person, template):
    response = call(other_api, template, person.pk)
    assert response.status_code == 404
    assert outcome_of(response)
    assert not AccessLog.objects.filter(person=person, path__startswith="/fhir/").exists()


@pytest.mark.parametrize("template", PERSON_URLS)
def test_a_stranger_signed_in_gets_404(stranger, person, template):
    response = call(Fhir(client=login(stranger)), template, person.pk)
    assert response.status_code == 404
    assert outcome_of(response)


def test_without_a_token_it_answers_401_with_an_outcome(person):
    response = Fhir().get(f"Patient/{person.pk}")
    assert response.status_code == 401
    assert "jeton" in outcome_of(response).lower()
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Fhir("pas-un-jeton").get(f"Patient/{person.pk}").status_code == 401


def test_a_member_without_the_right_gets_403_with_a_french_reason(api, dui, person, person_user):
    member = CircleMember.objects.get(person=person, user=dui.user, ended_at__isnull=True)
    services.grants_set(actor=person_user, member=member, levels={"ppa": Level.NONE})
    response = api.get("CarePlan", patient=person.pk)
    assert response.status_code == 403
    assert "projet personnalisé" in outcome_of(response)
    assert response.json()["issue"][0]["code"] == "forbidden"
    assert api.get(f"CareTeam/{person.pk}").status_code == 200  # the other rights are untouched


def test_an_opposition_takes_effect_at_the_next_request(api, dui, person, person_user):
    assert api.get(f"Patient/{person.pk}").status_code == 200
    member = CircleMember.objects.get(person=person, user=dui.user, ended_at__isnull=True)
    services.circle_member_end(actor=person_user, member=member, reason="opposition")
    assert api.get(f"Patient/{person.pk}").status_code == 404
    assert api.get("Patient").json().get("entry", []) == []


def test_reads_are_logged_as_the_structures_software(api, dui, person):
    api.get(f"CareTeam/{person.pk}")
    api.get("DocumentReference", patient=person.pk)
    api.get("Patient")
    logs = AccessLog.objects.filter(person=person, user=dui.user).order_by("at", "pk")
    assert [(log.category, log.action) for log in logs] == [
        ("circle", "read"),
        ("liaison", "read"),
        ("documents", "read"),
        ("record", "read"),
    ]
    assert all(log.path.startswith("/fhir/") for log in logs)
    assert str(dui.user) == "Logiciel de la structure EHPAD Les Tilleuls"


def test_the_software_reaches_only_the_persons_its_structure_accompanies(api, person, admin_user, other_structure):
    elsewhere = services.person_create(
        actor=admin_user,
        structure=other_structure,
        birth_name="DURAND",
        birth_first_names="Marcel",
        birth_date="1940-01-01",
        sex="M",
    )
    ids = [e["resource"]["id"] for e in api.get("Patient").json()["entry"]]
    assert ids == [str(person.pk)]
    assert api.get(f"Patient/{elsewhere.pk}").status_code == 404


def test_a_token_carries_only_the_scopes_given_to_the_software(dui, person):
    dui.scopes = "system/Patient.read"
    dui.save(update_fields=["scopes"])
    status, body = get_token(dui, scope="system/CareTeam.read")
    assert status == 400 and body["error"] == "invalid_scope"
    status, body = get_token(dui)
    assert status == 200 and body["scope"] == "system/Patient.read" and body["expires_in"] > 0
    api = Fhir(body["access_token"])
    assert api.get(f"Patient/{person.pk}").status_code == 200
    response = api.get(f"CareTeam/{person.pk}")
    assert response.status_code == 403 and "system/CareTeam.read" in outcome_of(response)


def test_a_wrong_secret_gets_no_token(dui):
    dui.secret = "mauvais-secret"
    status, body = get_token(dui)
    assert status == 401 and body["error"] == "invalid_client"


def test_an_expired_token_no_longer_works(api, dui, person):
    AccessToken.objects.filter(application=dui.application).update(expires=timezone.now() - dt.timedelta(seconds=1))
    assert api.get(f"Patient/{person.pk}").status_code == 401


def test_revoking_the_software_stops_its_tokens_and_its_access(api, dui, person, admin_user):
    assert api.get(f"Patient/{person.pk}").status_code == 200
    interop_services.connected_software_revoke(actor=admin_user, software=dui)
    assert api.get(f"Patient/{person.pk}").status_code == 401
    assert get_token(dui)[0] == 401
    assert not CircleMember.objects.filter(person=person, user=dui.user, ended_at__isnull=True).exists()


def test_revoking_from_the_admin(api, dui, person, admin_user):
    client = login(admin_user)
    response = client.post(
        "/admin/interop/connectedsoftware/", {"action": "revoke", "_selected_action": [dui.pk]}, follow=True
    )
    assert response.status_code == 200
    assert api.get(f"Patient/{person.pk}").status_code == 401


def test_connecting_a_software_in_the_admin_shows_its_secret_once(admin_user, structure, person):
    client = login(admin_user)
    response = client.post(
        "/admin/interop/connectedsoftware/add/",
        {"name": "Logiciel DUI", "structure": structure.pk, "team_role": "logiciel", "scopes": "system/Patient.read"},
        follow=True,
    )
    assert response.status_code == 200
    message = next(str(m) for m in response.context["messages"] if "secret" in str(m))
    from interop.models import ConnectedSoftware

    software = ConnectedSoftware.objects.get(name="Logiciel DUI")
    software.secret = message.split("secret : ")[1].split(" ")[0]
    assert software.application.client_secret != software.secret  # only a hash is kept
    status, body = get_token(software)
    assert status == 200
    assert Fhir(body["access_token"]).get(f"Patient/{person.pk}").status_code == 200


def test_a_portal_user_reads_through_the_same_gate_but_never_writes(nurse, person):
    client = Fhir(client=login(nurse))
    assert client.get(f"Patient/{person.pk}").status_code == 200
    assert client.get("CarePlan", patient=person.pk).status_code == 200
    response = client.put("Patient?identifier=urn:dui|1", {"resourceType": "Patient"})
    assert response.status_code == 403
    assert "logiciel connecté" in outcome_of(response)


def test_the_software_is_in_the_circle_but_never_offered_as_someone_to_address(dui, person, nurse, person_user):
    """The person sees the software in their circle (and can lower its rights or oppose
    it); professionals are never offered it as an addressee, an invitee or a delegate."""
    circle = login(person_user).get("/mon-espace/cercle/").content.decode()
    assert "Logiciel de la structure" in circle
    pages = [
        f"/liaison/personnes/{person.pk}/?nouvelle=1",
        "/agenda/reunions/nouvelle/",
        f"/agenda/personnes/{person.pk}/nouveau/",
    ]
    for url in pages:
        response = login(nurse).get(url)
        assert response.status_code == 200, url
        assert "Logiciel de la structure" not in response.content.decode(), url
