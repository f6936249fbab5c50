"""Trigram indexes for the list's search box, on PostgreSQL only.

The search is ``search_text LIKE '%term%' OR phone_digits LIKE '%digits%'``: no B-tree
can serve a pattern with a leading wildcard, pg_trgm's GIN indexes can. SQLite has no
such index (there the search is a scan of the customer table, see
``selectors.customer_page`` and bench/customers_list.py), so the statements run only
when the database is PostgreSQL; they cannot be declared on the model for both.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customers_search_text_trgm "
    "ON customers_customer USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customers_phone_digits_trgm "
    "ON customers_customer USING gin (phone_digits gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS customers_search_text_trgm",
    "DROP INDEX IF EXISTS customers_phone_digits_trgm",
]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_search_columns"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD)),
    ]
