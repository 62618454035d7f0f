"""The access matrix has one store: guardian's permission rows on `Person`.

`Grant` (one level per membership and category) was a second copy of what the
permission rows say. Its rows become the first entries of the matrix history
(`GrantChange`: who set which level, when), the permission rows are derived from them
once more so that both agreed at this point (the best level of the user's active
memberships, write implying read), and `Grant` goes.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def grants_to_history(apps, schema_editor):
    Grant = apps.get_model("coordination", "Grant")
    GrantChange = apps.get_model("coordination", "GrantChange")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    UserPermission = apps.get_model("coordination", "PersonUserObjectPermission")
    history = []
    best = {}
    for grant in Grant.objects.select_related("member").iterator(chunk_size=2000):
        member = grant.member
        if member.user_id is None:
            continue
        history.append(
            GrantChange(
                person_id=member.person_id,
                user_id=member.user_id,
                member_id=member.pk,
                category=grant.category,
                old_level=0,
                new_level=grant.level,
                changed_at=grant.updated_at,
                changed_by_id=grant.updated_by_id,
                reason="reprise de la matrice",
            )
        )
        if member.ended_at is None:
            key = (member.person_id, member.user_id, grant.category)
            best[key] = max(best.get(key, 0), grant.level)
        if len(history) >= 2000:
            GrantChange.objects.bulk_create(history)
            history = []
    GrantChange.objects.bulk_create(history)
    content_type = ContentType.objects.filter(app_label="coordination", model="person").first()
    if content_type is None:
        return  # an empty database: no permission rows yet, nothing to derive
    ids = dict(Permission.objects.filter(content_type=content_type).values_list("codename", "id"))
    wanted = set()
    for (person_id, user_id, category), level in best.items():
        if level >= 1:
            wanted.add((person_id, user_id, ids[f"read_{category}"]))
        if level >= 2:
            wanted.add((person_id, user_id, ids[f"write_{category}"]))
    existing = {
        (p, u, perm): pk
        for pk, p, u, perm in UserPermission.objects.values_list("pk", "content_object_id", "user_id", "permission_id")
    }
    stale = [pk for key, pk in existing.items() if key not in wanted]
    for start in range(0, len(stale), 2000):
        UserPermission.objects.filter(pk__in=stale[start : start + 2000]).delete()
    UserPermission.objects.bulk_create(
        [UserPermission(content_object_id=p, user_id=u, permission_id=perm) for p, u, perm in wanted - existing.keys()],
        batch_size=2000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('coordination', '0009_move_out_notifications_documents_devices'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AlterField(
            model_name='accesslog',
            name='category',
            field=models.CharField(choices=[('record', 'Synthèse du dossier'), ('agenda', 'Agenda'), ('liaison', 'Cahier de liaison'), ('ppa', 'Projet personnalisé'), ('documents', 'Documents'), ('circle', 'Cercle et droits'), ('access_log', 'Historique des accès')], max_length=20, verbose_name='catégorie'),
        ),
        migrations.CreateModel(
            name='GrantChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('category', models.CharField(choices=[('record', 'Synthèse du dossier'), ('agenda', 'Agenda'), ('liaison', 'Cahier de liaison'), ('ppa', 'Projet personnalisé'), ('documents', 'Documents'), ('circle', 'Cercle et droits')], max_length=20, verbose_name='catégorie')),
                ('old_level', models.PositiveSmallIntegerField(choices=[(0, 'Aucun accès'), (1, 'Lecture'), (2, 'Écriture')], verbose_name='ancien niveau')),
                ('new_level', models.PositiveSmallIntegerField(choices=[(0, 'Aucun accès'), (1, 'Lecture'), (2, 'Écriture')], verbose_name='nouveau niveau')),
                ('changed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='modifié le')),
                ('reason', models.CharField(blank=True, max_length=100, verbose_name='motif')),
                ('changed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='modifié par')),
                ('member', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='grant_changes', to='coordination.circlemember', verbose_name='adhésion concernée')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='coordination.person', verbose_name='personne')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='membre (compte)')),
            ],
            options={
                'verbose_name': "modification d'un droit",
                'verbose_name_plural': "historique de la matrice d'habilitation",
                'ordering': ['-changed_at', '-pk'],
            },
        ),
        migrations.RunPython(grants_to_history, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='Grant',
        ),
        migrations.AddIndex(
            model_name='grantchange',
            index=models.Index(fields=['person', 'user', '-changed_at'], name='coordinatio_person__fdea98_idx'),
        ),
    ]
