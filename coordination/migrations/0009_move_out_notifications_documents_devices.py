"""Notifications, documents and sign-in devices leave the kernel for their own apps
(`notifications`, `documents`, `portal`). State only: the tables, their rows and the
foreign keys stay; each app's 0002 then gives its tables its own name. The content
types follow, so permissions and admin history keep pointing at the right models."""

from django.db import migrations

MOVED = {
    "notifications": ("notification", "notificationpreference", "delivery"),
    "documents": ("document", "dmpshare", "mssantesending"),
    "portal": ("knowndevice",),
}


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for app_label, models in MOVED.items():
        for model in models:
            if not ContentType.objects.filter(app_label=app_label, model=model).exists():
                ContentType.objects.filter(app_label="coordination", model=model).update(app_label=app_label)


def back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for app_label, models in MOVED.items():
        ContentType.objects.filter(app_label=app_label, model__in=models).update(app_label="coordination")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("coordination", "0008_audit_types_registered"),
        ("documents", "0001_initial"),
        ("notifications", "0001_initial"),
        ("portal", "0003_knowndevice"),
        ("ppa", "0007_alter_planversion_document"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="dmpshare",
                    name="cancelled_by",
                ),
                migrations.RemoveField(
                    model_name="dmpshare",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="dmpshare",
                    name="document",
                ),
                migrations.RemoveField(
                    model_name="document",
                    name="author",
                ),
                migrations.RemoveField(
                    model_name="document",
                    name="author_structure",
                ),
                migrations.RemoveField(
                    model_name="document",
                    name="person",
                ),
                migrations.RemoveField(
                    model_name="document",
                    name="replaces",
                ),
                migrations.RemoveField(
                    model_name="document",
                    name="reviewed_by",
                ),
                migrations.RemoveField(
                    model_name="document",
                    name="validated_by",
                ),
                migrations.RemoveField(
                    model_name="document",
                    name="withdrawn_by",
                ),
                migrations.RemoveField(
                    model_name="mssantesending",
                    name="document",
                ),
                migrations.RemoveField(
                    model_name="knowndevice",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="mssantesending",
                    name="sent_by",
                ),
                migrations.RemoveField(
                    model_name="notification",
                    name="actor",
                ),
                migrations.RemoveField(
                    model_name="notification",
                    name="person",
                ),
                migrations.RemoveField(
                    model_name="notification",
                    name="recipient",
                ),
                migrations.RemoveField(
                    model_name="notificationpreference",
                    name="user",
                ),
                migrations.DeleteModel(
                    name="Delivery",
                ),
                migrations.DeleteModel(
                    name="DmpShare",
                ),
                migrations.DeleteModel(
                    name="Document",
                ),
                migrations.DeleteModel(
                    name="KnownDevice",
                ),
                migrations.DeleteModel(
                    name="MssanteSending",
                ),
                migrations.DeleteModel(
                    name="Notification",
                ),
                migrations.DeleteModel(
                    name="NotificationPreference",
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, back),
    ]
