"""Two new categories of the matrix, `evaluation` and `exchanges`; existing matrices get
their defaults: each active member gets, on each new category, the best default of
their active memberships (team role, the person, a legal representative), as the
services give a newcomer. Written as history too (`GrantChange`, "nouvelle catégorie")."""

from django.db import migrations, models


# Frozen here: what coordination.matrix gave on the day the categories were added.
NEW = ("evaluation", "exchanges")
R, W, N = 1, 2, 0
TEAM = {
    "referent": (W, W),
    "direction": (R, W),
    "medecin": (W, W),
    "infirmier": (W, W),
    "soignant": (R, W),
    "educateur": (W, W),
    "psychologue": (W, W),
    "social": (W, W),
    "secretaire": (N, W),
    "autre": (N, N),
}
SELF = (R, W)
REPRESENTATIVE = (R, W)


def grant_defaults(apps, schema_editor):
    CircleMember = apps.get_model("coordination", "CircleMember")
    TeamMembership = apps.get_model("coordination", "TeamMembership")
    GrantChange = apps.get_model("coordination", "GrantChange")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    UserPermission = apps.get_model("coordination", "PersonUserObjectPermission")
    content_type, _ = ContentType.objects.get_or_create(app_label="coordination", model="person")
    ids = {}
    for category in NEW:
        for action, label in (("read", "Lire"), ("write", "Écrire")):
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type,
                codename=f"{action}_{category}",
                defaults={"name": f"{label} : {'Évaluations' if category == 'evaluation' else 'Échanges'}"},
            )
            ids[(action, category)] = permission.pk
    roles = {
        (m.professional_id, m.structure_id): m.role
        for m in TeamMembership.objects.filter(ended_on__isnull=True).order_by("started_on")
    }
    best = {}
    members = {}
    for member in CircleMember.objects.filter(ended_at__isnull=True, user__isnull=False).select_related("carer_link"):
        if member.kind == "person":
            levels = SELF
        elif member.kind == "carer" and member.carer_link_id and member.carer_link.is_legal_representative:
            levels = REPRESENTATIVE
        elif member.origin == "team":
            levels = TEAM.get(roles.get((member.professional_id, member.structure_id)), (N, N))
        else:
            continue
        key = (member.person_id, member.user_id)
        best[key] = tuple(max(a, b) for a, b in zip(best.get(key, (N, N)), levels, strict=True))
        members.setdefault(key, member.pk)
    rows, history = [], []
    for (person_id, user_id), levels in best.items():
        for category, level in zip(NEW, levels, strict=True):
            if level >= R:
                rows.append(UserPermission(content_object_id=person_id, user_id=user_id, permission_id=ids[("read", category)]))
            if level >= W:
                rows.append(UserPermission(content_object_id=person_id, user_id=user_id, permission_id=ids[("write", category)]))
            if level:
                history.append(GrantChange(person_id=person_id, user_id=user_id, member_id=members[(person_id, user_id)],
                                           category=category, old_level=N, new_level=level, reason="nouvelle catégorie"))
    UserPermission.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    GrantChange.objects.bulk_create(history, batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('coordination', '0010_matrix_in_guardian_only'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='person',
            options={'ordering': ['birth_name', 'birth_first_names', 'pk'], 'permissions': [('read_record', 'Lire : Synthèse du dossier'), ('write_record', 'Écrire : Synthèse du dossier'), ('read_agenda', 'Lire : Agenda'), ('write_agenda', 'Écrire : Agenda'), ('read_liaison', 'Lire : Cahier de liaison'), ('write_liaison', 'Écrire : Cahier de liaison'), ('read_ppa', 'Lire : Projet personnalisé'), ('write_ppa', 'Écrire : Projet personnalisé'), ('read_documents', 'Lire : Documents'), ('write_documents', 'Écrire : Documents'), ('read_circle', 'Lire : Cercle et droits'), ('write_circle', 'Écrire : Cercle et droits'), ('read_evaluation', 'Lire : Évaluations'), ('write_evaluation', 'Écrire : Évaluations'), ('read_exchanges', 'Lire : Échanges'), ('write_exchanges', 'Écrire : Échanges')], 'verbose_name': 'personne accompagnée', 'verbose_name_plural': 'personnes accompagnées'},
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='category',
            field=models.CharField(choices=[('record', 'Synthèse du dossier'), ('agenda', 'Agenda'), ('liaison', 'Cahier de liaison'), ('ppa', 'Projet personnalisé'), ('documents', 'Documents'), ('circle', 'Cercle et droits'), ('evaluation', 'Évaluations'), ('exchanges', 'Échanges'), ('access_log', 'Historique des accès')], max_length=20, verbose_name='catégorie'),
        ),
        migrations.AlterField(
            model_name='delegationgrant',
            name='category',
            field=models.CharField(choices=[('record', 'Synthèse du dossier'), ('agenda', 'Agenda'), ('liaison', 'Cahier de liaison'), ('ppa', 'Projet personnalisé'), ('documents', 'Documents'), ('circle', 'Cercle et droits'), ('evaluation', 'Évaluations'), ('exchanges', 'Échanges')], max_length=20, verbose_name='catégorie'),
        ),
        migrations.AlterField(
            model_name='grantchange',
            name='category',
            field=models.CharField(choices=[('record', 'Synthèse du dossier'), ('agenda', 'Agenda'), ('liaison', 'Cahier de liaison'), ('ppa', 'Projet personnalisé'), ('documents', 'Documents'), ('circle', 'Cercle et droits'), ('evaluation', 'Évaluations'), ('exchanges', 'Échanges')], max_length=20, verbose_name='catégorie'),
        ),
        migrations.RunPython(grant_defaults, migrations.RunPython.noop),
]
