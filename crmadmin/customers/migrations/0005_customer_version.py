"""The customer's version, raised by every register change (stale forms are refused).

On SQLite, adding a column with a default rebuilds the table, which drops the triggers
that keep the search index (migration 0004) in step: they are created again after.
"""

from importlib import import_module

from django.db import migrations, models

search_index = import_module("crmadmin.customers.migrations.0004_sqlite_search_index")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_sqlite_search_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="version",
            field=models.PositiveIntegerField(default=1, verbose_name="version"),
        ),
        migrations.RunPython(
            search_index._on_sqlite(search_index.FORWARD), migrations.RunPython.noop
        ),
    ]
