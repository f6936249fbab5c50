"""Bulk inserts and the SQLite search index (migration 0004).

On SQLite the list's search runs on an FTS5 trigram index kept in step by triggers, one
trigger call per inserted customer. For many rows at once (an import's adopt step) the
index is filled in one statement instead: measured on this project's 2-core machine,
100,000 customers took 9.6 s through the trigger and 2.7 s set-based, in batches of
5,000 (SQLite 3.46, FTS5 trigram, search text and phone keys of the benchmark's data).
PostgreSQL's trigram indexes follow the table by themselves: nothing to do there.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module

from django.db import transaction

_migration = import_module("crmadmin.customers.migrations.0004_sqlite_search_index")
INSERT_TRIGGER = "customers_customer_search_insert"
CREATE_INSERT_TRIGGER = next(
    statement
    for statement in _migration.FORWARD
    if statement.startswith(f"CREATE TRIGGER IF NOT EXISTS {INSERT_TRIGGER} ")
)


def _has_insert_trigger(cursor) -> bool:
    cursor.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = %s", [INSERT_TRIGGER]
    )
    return cursor.fetchone() is not None


@contextmanager
def customers_inserted_in_bulk(connection) -> Iterator[None]:
    """Customers inserted inside the block enter the search index at its end, in one
    statement. Runs in a savepoint of the caller's transaction, which holds SQLite's
    write lock (this project's transactions begin IMMEDIATE): no other writer can insert
    meanwhile, so the block's rows are those above the largest id before it
    (AUTOINCREMENT never reuses one). SQLite's schema changes are transactional: if the
    block fails, the savepoint's rollback brings the trigger back with everything else."""
    if connection.vendor != "sqlite":
        yield
        return
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if not _has_insert_trigger(cursor):  # FTS5 missing: no index to keep
            yield
            return
        cursor.execute("SELECT coalesce(max(id), 0) FROM customers_customer")
        (before,) = cursor.fetchone()
        cursor.execute(f"DROP TRIGGER {INSERT_TRIGGER}")
        yield
        cursor.execute(
            "INSERT INTO customers_customer_search(rowid, search_text, phone_digits) "
            "SELECT id, search_text, phone_digits FROM customers_customer WHERE id > %s",
            [before],
        )
        cursor.execute(CREATE_INSERT_TRIGGER)
