"""The instruments shipped with the portal: the Zarit caregiver-burden scale, the
referral form for a coordination service and a satisfaction questionnaire (sources in
`evaluation/instruments.py`). Each is a questionnaire with its first version, published."""

from django.db import migrations


def load(apps, schema_editor):
    from evaluation.instruments import load_shipped

    load_shipped(apps.get_model("evaluation", "Questionnaire"), apps.get_model("evaluation", "QuestionnaireVersion"))


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
