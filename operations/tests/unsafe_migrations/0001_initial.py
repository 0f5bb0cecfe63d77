"""A migration history for the gate's test: a table, then a release that drops its column."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            "Probe",
            [("id", models.BigAutoField(primary_key=True)), ("note", models.TextField())],
        )
    ]
