from __future__ import annotations

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from coordination import access, matrix, rules, services
from coordination.models import (
    AuditEvent,
    CarerLink,
    Category,
    CircleMember,
    Consent,
    GrantChange,
    JoinRequest,
    JoinRequestStatus,
    MemberOrigin,
    Person,
    PersonUserObjectPermission,
    Professional,
    Structure,
    TeamMembership,
    TeamRole,
)
from documents.models import Document
from liaison.models import Addressee, ReadMark, Transmission, TransmissionRevision
from notifications.models import Notification
from tests.factories import current_totp

pytestmark = pytest.mark.django_db

DEMO_USERS = [
    "admin@demo.portail.fr",
    "referente@demo.portail.fr",
    "infirmier@demo.portail.fr",
    "aide-soignante@demo.portail.fr",
    "kine@demo.portail.fr",
    "jeanne.martin@demo.portail.fr",
    "claire.martin@demo.portail.fr",
    "tuteur@demo.portail.fr",
    "secretariat-ssiad@demo.portail.fr",
    "direction-mas@demo.portail.fr",
]


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """The demo documents' files go to a folder of the test, not to var/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


def _counts() -> dict[str, int]:
    User = get_user_model()
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Person,
            Structure,
            Professional,
            TeamMembership,
            CircleMember,
            GrantChange,
            PersonUserObjectPermission,
            CarerLink,
            JoinRequest,
            Consent,
            AuditEvent,
            EmailAddress,
            Authenticator,
            Transmission,
            TransmissionRevision,
            Addressee,
            ReadMark,
            Notification,
            Document,
        )
    }


def _run(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def _user(email: str):
    return get_user_model().objects.get(email=email)


def test_it_seeds_the_demo_twice_without_adding_anything():
    first = _run("seed_demo")
    counts = _counts()
    second = _run("seed_demo")

    assert _counts() == counts
    # Six professionals, and the service account of the EHPAD's connected software (FHIR API);
    # three more structures of the admission directory (one with its director).
    assert counts["Person"] == 3 and counts["Structure"] == 5 and counts["Professional"] == 7
    assert "client_id: dui-ehpad-demo" in first and "client_secret: demo-dui-secret-2026" in second
    for email in DEMO_USERS:
        assert email in first and email in second
        assert EmailAddress.objects.get(email=email).verified
    assert "demo-portail-2026" in second
    assert "otpauth://totp/" in second


def test_it_prints_links_to_the_site_url(settings):
    """#16 item 9: the login link said port 8000 even when the portal listened elsewhere."""
    settings.SITE_URL = "http://127.0.0.1:8123"
    out = _run("seed_demo")
    assert "http://127.0.0.1:8123/accounts/login/" in out
    assert ":8000" not in out


def test_it_gives_jeanne_a_lively_notebook():
    _run("seed_demo")
    jeanne = Person.objects.get(birth_name="MARTIN")
    notebook = Transmission.objects.filter(person=jeanne)
    assert 15 <= notebook.count() <= 20
    assert notebook.filter(kind="targeted").count() >= 3 and notebook.filter(scope="internal").count() == 1
    assert notebook.filter(is_important=True).count() == 2
    assert notebook.filter(remarkable_event="chute").count() == 1
    assert notebook.filter(corrects__isnull=False).count() == 1
    assert notebook.filter(revisions__isnull=False).count() == 1
    assert notebook.filter(author__email="claire.martin@demo.portail.fr").count() == 1
    receipts = Addressee.objects.filter(transmission__person=jeanne, transmission__requests_receipt=True)
    assert receipts.filter(acknowledged_at__isnull=False, user__email="referente@demo.portail.fr").count() == 1
    assert receipts.filter(acknowledged_at__isnull=True).count() == 1
    assert Transmission.objects.exclude(person=jeanne).count() >= 4
    assert all(t.created_at > t.observed_at for t in Transmission.objects.all())  # written after the fact


def test_it_gives_the_demo_accounts_their_logins():
    _run("seed_demo")
    admin = _user("admin@demo.portail.fr")
    assert admin.is_superuser and admin.is_staff
    for email in DEMO_USERS:
        assert _user(email).check_password("demo-portail-2026")
    referente = _user("referente@demo.portail.fr")
    secret = decrypt(Authenticator.objects.get(user=referente, type="totp").data["secret"])
    assert secret == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert current_totp(secret) in _run("seed_demo")


def test_it_sets_up_rights_the_gate_honours():
    _run("seed_demo")
    jeanne = Person.objects.get(birth_name="MARTIN")
    marcel = Person.objects.get(birth_name="DURAND")
    lucas = Person.objects.get(birth_name="PETIT")
    referente = _user("referente@demo.portail.fr")
    nurse = _user("infirmier@demo.portail.fr")
    care = _user("aide-soignante@demo.portail.fr")
    physio = _user("kine@demo.portail.fr")
    claire = _user("claire.martin@demo.portail.fr")
    guardian = _user("tuteur@demo.portail.fr")

    assert jeanne.is_identity_qualified and jeanne.user == _user("jeanne.martin@demo.portail.fr")
    assert jeanne.accompaniments.count() == 1 and marcel.accompaniments.count() == 2

    assert access.check(referente, jeanne, Category.RECORD, "write") is not None
    assert access.check(referente, lucas, Category.RECORD) is None
    assert access.check(nurse, jeanne, Category.DOCUMENTS, "write") is not None  # granted by the guardian
    assert access.check(nurse, jeanne, Category.RECORD, "write") is None
    assert access.check(care, marcel, Category.LIAISON, "write") is not None
    assert access.check(care, jeanne, Category.RECORD) is None
    assert access.check(physio, jeanne, Category.RECORD) is None
    assert JoinRequest.objects.get(professional__user=physio).status == JoinRequestStatus.PENDING
    assert access.check(claire, jeanne, Category.AGENDA, "write") is not None
    assert access.check(claire, jeanne, Category.DOCUMENTS) is None
    assert rules.is_decider(guardian, jeanne) and not rules.is_decider(claire, jeanne)
    assert Consent.objects.filter(person=jeanne).count() == 1

    # Jeanne accepts the physiotherapist: in the circle, still without rights until she grants some.
    jeanne_user = jeanne.user
    join_request = JoinRequest.objects.get(professional__user=physio)
    services.join_request_answer(actor=jeanne_user, join_request=join_request, accept=True)
    assert access.check(physio, jeanne, Category.RECORD) is None
    services.grants_set(
        actor=jeanne_user,
        member=CircleMember.objects.active().get(person=jeanne, user=physio),
        levels={Category.RECORD: 1},
    )
    assert access.check(physio, jeanne, Category.RECORD) is not None
    assert access.check(physio, jeanne, Category.RECORD, "write") is None
    assert set(access.persons_visible_to(care)) == {marcel, lucas}


def test_it_refuses_seed_demo_outside_debug_without_force(settings):
    from django.core.management import CommandError

    settings.DEBUG = False
    settings.TESTING = False
    with pytest.raises(CommandError):
        _run("seed_demo")
    assert not Person.objects.exists()


def test_it_seeds_at_scale_with_the_shape_of_the_services():
    output = _run("seed_scale", "--structures", "3", "--professionals", "10", "--persons", "20", "--batch", "7")

    assert "elapsed" in output
    assert Structure.objects.filter(finess__startswith="S").count() == 3
    assert Professional.objects.filter(user__email__endswith="@scale.portail.test").count() == 10
    assert TeamMembership.objects.count() == 10
    assert TeamMembership.objects.filter(role=TeamRole.REFERENT, is_structure_admin=True).count() == 3
    assert Person.objects.count() == 20
    assert all(1 <= person.accompaniments.count() <= 2 for person in Person.objects.all())

    for professional in Professional.objects.select_related("user"):
        expected = set(
            Person.objects.filter(
                accompaniments__structure__team__professional=professional, accompaniments__ended_on__isnull=True
            )
        )
        assert set(access.persons_visible_to(professional.user, Category.RECORD)) == expected

    # The matrix is what the services leave: each user's best entry levels of their active memberships.
    for member in CircleMember.objects.active().filter(user__isnull=False).select_related("carer_link", "professional"):
        expected = {category: 0 for category in Category.values}
        for other in CircleMember.objects.active().filter(person_id=member.person_id, user_id=member.user_id):
            for category, level in matrix.entry_levels(other).items():
                expected[category] = max(expected[category], level)
        assert matrix.levels_of(member.person_id, member.user_id) == expected


def test_it_lets_services_work_on_scale_data():
    _run("seed_scale", "--structures", "2", "--professionals", "4", "--persons", "10")
    admin = get_user_model().objects.create_superuser(email="root@exemple.fr")
    structure = Structure.objects.first()
    accompanied = set(Person.objects.filter(accompaniments__structure=structure))
    user = get_user_model().objects.create_user(email="nouvelle@exemple.fr")
    professional = services.professional_create(actor=admin, user=user, profession="infirmier")

    services.team_member_add(actor=admin, structure=structure, professional=professional, role=TeamRole.NURSE)

    assert set(access.persons_visible_to(user)) == accompanied
    assert CircleMember.objects.filter(user=user, origin=MemberOrigin.TEAM).count() == len(accompanied)
    accompaniment = structure.accompaniments.first()
    services.accompaniment_end(actor=admin, accompaniment=accompaniment)
    assert accompaniment.person not in set(access.persons_visible_to(user))


def test_it_is_deterministic_and_appends():
    def draw() -> list[tuple]:
        fields = ("birth_name", "birth_first_names", "birth_date", "ins_matricule", "accompaniments__structure__finess")
        return list(Person.objects.order_by("pk", "accompaniments__structure__finess").values_list(*fields))

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        _run("seed_scale", "--structures", "2", "--professionals", "4", "--persons", "5")
        first = draw()
        raise Rollback
    assert not Person.objects.exists()
    _run("seed_scale", "--structures", "2", "--professionals", "4", "--persons", "5")
    assert draw() == first

    _run("seed_scale", "--structures", "2", "--professionals", "4", "--persons", "5")
    assert Person.objects.count() == 10
    assert Structure.objects.count() == 4
    assert draw()[: len(first)] == first


def test_it_gives_each_demo_person_a_validated_contract_and_documents():
    from documents.models import DocumentSource, DocumentStatus, DocumentType
    from tests.pdf_reader import read_pdf

    _run("seed_demo")
    for person in Person.objects.all():
        documents = Document.objects.filter(person=person)
        assert documents.filter(
            doc_type__in=[DocumentType.STAY_CONTRACT, DocumentType.DIPC], status=DocumentStatus.VALIDATED
        ).exists(), person
        assert documents.count() >= 2
        for document in documents:
            with document.file.open("rb") as stored:
                content = stored.read()
            assert content[:5] in (b"%PDF-", b"\x89PNG\r"), document
            if content.startswith(b"%PDF-") and document.source != DocumentSource.GENERATED:
                # A demo document shows its title (the plan's own PDF is tested in tests/ppa).
                assert document.title in read_pdf(content).text, document
