"""Database triggers: a finished audit entry cannot be updated and no entry can be deleted."""

from django.db import migrations

from crmadmin.audit import triggers


def create_triggers(apps, schema_editor):
    triggers.create_triggers(schema_editor.connection)


def drop_triggers(apps, schema_editor):
    triggers.drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
