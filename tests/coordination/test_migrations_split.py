"""An existing database survives the second wave's split without losing a row.

The database is taken back to the last state before the split (coordination 0007, ppa
0005, agenda 0004: notifications, documents, sign-in devices and SERAFIN-PH inside
`coordination` and `ppa`, the matrix in `Grant` and guardian), filled through the
historical models, then migrated forward: every row must be found again through the new
apps' models, the matrix must be the guardian rows with its history, the content types
must have followed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("coordination", "0007_documents"),
    ("ppa", "0005_version_document"),
    ("agenda", "0004_participant_period"),
    ("portal", "0002_portal_invitation"),
    ("liaison", "0004_transmission_entered_index"),
    ("notifications", None),
    ("documents", None),
    ("reference", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.fixture
def migrated_back(transactional_db):
    """The database at the last state before the split; forward to the latest again
    afterwards, even when the test fails (the next tests need the current schema)."""
    try:
        yield _migrate(BEFORE)
    finally:
        call_command("migrate", verbosity=0)


def test_it_moves_notifications_documents_devices_serafin_and_the_matrix_without_loss(migrated_back):
    old = migrated_back
    from reference.loading import load_serafin_ph

    # A transactional test earlier in the run may have emptied the tables the data migrations fill.
    load_serafin_ph(old.get_model("ppa", "SerafinCode"))
    now = timezone.now()
    User = old.get_model("portal", "User")
    Structure = old.get_model("coordination", "Structure")
    Professional = old.get_model("coordination", "Professional")
    Person = old.get_model("coordination", "Person")
    CircleMember = old.get_model("coordination", "CircleMember")
    Grant = old.get_model("coordination", "Grant")
    UserPermission = old.get_model("coordination", "PersonUserObjectPermission")
    Permission = old.get_model("auth", "Permission")
    ContentType = old.get_model("contenttypes", "ContentType")
    person_type, _ = ContentType.objects.get_or_create(app_label="coordination", model="person")
    for codename in ("read_liaison", "write_liaison", "read_record"):
        Permission.objects.get_or_create(content_type=person_type, codename=codename, defaults={"name": codename})
    document_type, _ = ContentType.objects.get_or_create(app_label="coordination", model="document")

    nurse = User.objects.create(email="nurse@exemple.fr", password="!")
    jeanne_user = User.objects.create(email="jeanne@exemple.fr", password="!")
    structure = Structure.objects.create(name="EHPAD", finess="750000001", kind="ehpad", created_at=now)
    professional = Professional.objects.create(user=nurse, profession="infirmier")
    person = Person.objects.create(
        birth_name="MARTIN",
        birth_first_names="Jeanne",
        birth_date="1938-04-12",
        sex="F",
        created_at=now,
        user=jeanne_user,
    )
    member = CircleMember.objects.create(
        person=person,
        kind="professional",
        user=nurse,
        professional=professional,
        structure=structure,
        role="infirmier",
        origin="team",
        started_at=now,
    )
    Grant.objects.create(member=member, category="liaison", level=2, updated_at=now - timedelta(days=3))
    Grant.objects.create(member=member, category="record", level=1, updated_at=now - timedelta(days=3))
    for codename in ("read_liaison", "write_liaison", "read_record"):
        UserPermission.objects.create(
            user=nurse, content_object=person, permission=Permission.objects.get(codename=codename)
        )
    notification = old.get_model("coordination", "Notification").objects.create(
        recipient=nurse, event_type="liaison.alert", person=person, url="/", created_at=now, frequency="immediate"
    )
    old.get_model("coordination", "Delivery").objects.create(
        user=nurse, channel="email", notification=notification, status="sent", created_at=now
    )
    old.get_model("coordination", "NotificationPreference").objects.create(
        user=nurse, event_type="liaison.alert", frequency="daily"
    )
    document = old.get_model("coordination", "Document").objects.create(
        person=person,
        doc_type="compte_rendu",
        title="Compte rendu",
        author=nurse,
        source="professional",
        file="documents/2026/11/cr.pdf",
        original_name="cr.pdf",
        content_type="application/pdf",
        size=10,
        sha256="a" * 64,
        status="validated",
        created_at=now,
    )
    old.get_model("coordination", "DmpShare").objects.create(
        document=document, idempotency_key="document-1-publish", send_after=now, created_at=now
    )
    old.get_model("coordination", "MssanteSending").objects.create(
        document=document, recipient_address="x@y.mssante.fr", sent_by=nurse, created_at=now
    )
    old.get_model("coordination", "KnownDevice").objects.create(user=nurse, fingerprint="f" * 64, label="Firefox")
    need = old.get_model("ppa", "SerafinCode").objects.get(kind="need", code="1.1.1")
    service = old.get_model("ppa", "SerafinCode").objects.filter(kind="service").first()
    old.get_model("agenda", "Event").objects.create(
        person=person,
        created_by=nurse,
        title="Atelier",
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        serafin_service=service,
    )

    call_command("migrate", verbosity=0)

    from django.contrib.contenttypes.models import ContentType as NewContentType

    from coordination import matrix
    from coordination.models import GrantChange
    from coordination.models import Person as NewPerson
    from documents.models import DmpShare, Document, MssanteSending
    from notifications.models import Delivery, Notification, NotificationPreference
    from portal.models import KnownDevice
    from reference.models import SerafinCode

    assert Notification.objects.get().event_type == "liaison.alert"
    assert Delivery.objects.get().notification_id == notification.pk
    assert NotificationPreference.objects.get().frequency == "daily"
    moved = Document.objects.get()
    assert (moved.pk, moved.file.name, moved.sha256) == (document.pk, "documents/2026/11/cr.pdf", "a" * 64)
    assert DmpShare.objects.get().document_id == moved.pk
    assert MssanteSending.objects.get().recipient_address == "x@y.mssante.fr"
    assert KnownDevice.objects.get().label == "Firefox"
    assert SerafinCode.objects.get(kind="need", code="1.1.1").pk == need.pk
    from agenda.models import Event

    assert Event.objects.get().serafin_service_id == service.pk
    # The matrix: the guardian rows, its history from the old grants.
    jeanne = NewPerson.objects.get()
    assert matrix.levels_of(jeanne, nurse.pk)["liaison"] == 2 and matrix.levels_of(jeanne, nurse.pk)["record"] == 1
    history = {
        (c.category, c.old_level, c.new_level) for c in GrantChange.objects.filter(person=jeanne, user_id=nurse.pk)
    }
    assert history == {("liaison", 0, 2), ("record", 0, 1)}
    # The content types followed their models (no stale coordination.document left behind).
    assert NewContentType.objects.get(pk=document_type.pk).app_label == "documents"
    assert not NewContentType.objects.filter(app_label="coordination", model="document").exists()
    # Tables carry their app's name now.
    tables = connection.introspection.table_names()
    assert "documents_document" in tables and "coordination_document" not in tables
    assert "notifications_delivery" in tables and "reference_serafincode" in tables
