from django.db import migrations, models
from django.utils import timezone


def existing_rows_changed_at_creation(apps, schema_editor):
    apps.get_model("projects", "Photo").objects.update(updated_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0007_photo_listing_order_and_delivered_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="photo",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=timezone.now),
            preserve_default=False,
        ),
        migrations.RunPython(existing_rows_changed_at_creation, migrations.RunPython.noop),
    ]
