"""A trigram full-text index for the list's search box, on SQLite only.

SQLite has no index for ``LIKE '%term%'``; its FTS5 extension with the trigram
tokenizer (SQLite 3.34+) is the equivalent of PostgreSQL's pg_trgm (migration 0003): a
phrase query finds every row whose text contains the phrase, from the index. The table
is an "external content" index of ``customers_customer`` (it stores no copy of the
text) kept in step by triggers, so every writer, bulk inserts included, updates it.
"""

from django.db import migrations

FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS customers_customer_search USING fts5("
    "search_text, phone_digits, content='customers_customer', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS customers_customer_search_insert "
    "AFTER INSERT ON customers_customer BEGIN "
    "INSERT INTO customers_customer_search(rowid, search_text, phone_digits) "
    "VALUES (new.id, new.search_text, new.phone_digits); END",
    "CREATE TRIGGER IF NOT EXISTS customers_customer_search_delete "
    "AFTER DELETE ON customers_customer BEGIN "
    "INSERT INTO customers_customer_search(customers_customer_search, rowid, search_text, "
    "phone_digits) VALUES ('delete', old.id, old.search_text, old.phone_digits); END",
    "CREATE TRIGGER IF NOT EXISTS customers_customer_search_update "
    "AFTER UPDATE OF search_text, phone_digits ON customers_customer BEGIN "
    "INSERT INTO customers_customer_search(customers_customer_search, rowid, search_text, "
    "phone_digits) VALUES ('delete', old.id, old.search_text, old.phone_digits); "
    "INSERT INTO customers_customer_search(rowid, search_text, phone_digits) "
    "VALUES (new.id, new.search_text, new.phone_digits); END",
    "INSERT INTO customers_customer_search(customers_customer_search) VALUES ('rebuild')",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS customers_customer_search_insert",
    "DROP TRIGGER IF EXISTS customers_customer_search_delete",
    "DROP TRIGGER IF EXISTS customers_customer_search_update",
    "DROP TABLE IF EXISTS customers_customer_search",
]


def _on_sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_search_indexes"),
    ]

    operations = [
        migrations.RunPython(_on_sqlite(FORWARD), _on_sqlite(BACKWARD)),
    ]
