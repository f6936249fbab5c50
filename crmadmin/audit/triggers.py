"""Database triggers that keep the audit log append-only, whatever code touches the table.

UPDATE of an entry whose stored outcome is no longer ``pending`` is rejected, and so is
every DELETE. Both SQLite and PostgreSQL raise an integrity error
(``django.db.utils.IntegrityError``). Used by migration 0002 and by the test suite, which
must lift the DELETE trigger while Django flushes a SQLite database after a
transactional test (PostgreSQL flushes with TRUNCATE, which row triggers do not see).
"""

TABLE = "audit_auditentry"
UPDATE_TRIGGER = "audit_entry_refuse_update_finished"
DELETE_TRIGGER = "audit_entry_refuse_delete"
PG_FUNCTION = "audit_entry_refuse_change"

UPDATE_REFUSED = "audit entry is finished and cannot be changed"
DELETE_REFUSED = "audit entries cannot be deleted"

SQLITE_CREATE_UPDATE = f"""
CREATE TRIGGER IF NOT EXISTS {UPDATE_TRIGGER}
BEFORE UPDATE ON {TABLE}
FOR EACH ROW WHEN OLD.outcome <> 'pending'
BEGIN
    SELECT RAISE(ABORT, '{UPDATE_REFUSED}');
END
"""
SQLITE_CREATE_DELETE = f"""
CREATE TRIGGER IF NOT EXISTS {DELETE_TRIGGER}
BEFORE DELETE ON {TABLE}
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, '{DELETE_REFUSED}');
END
"""

POSTGRESQL_CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '{DELETE_REFUSED}' USING ERRCODE = 'restrict_violation';
    END IF;
    RAISE EXCEPTION '{UPDATE_REFUSED}' USING ERRCODE = 'restrict_violation';
END;
$$
"""
POSTGRESQL_CREATE_UPDATE = f"""
CREATE TRIGGER {UPDATE_TRIGGER}
BEFORE UPDATE ON {TABLE}
FOR EACH ROW WHEN (OLD.outcome <> 'pending')
EXECUTE FUNCTION {PG_FUNCTION}()
"""
POSTGRESQL_CREATE_DELETE = f"""
CREATE TRIGGER {DELETE_TRIGGER}
BEFORE DELETE ON {TABLE}
FOR EACH ROW
EXECUTE FUNCTION {PG_FUNCTION}()
"""


def create_triggers(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(SQLITE_CREATE_UPDATE)
            cursor.execute(SQLITE_CREATE_DELETE)
        elif connection.vendor == "postgresql":
            cursor.execute(POSTGRESQL_CREATE_FUNCTION)
            for name in (UPDATE_TRIGGER, DELETE_TRIGGER):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}")
            cursor.execute(POSTGRESQL_CREATE_UPDATE)
            cursor.execute(POSTGRESQL_CREATE_DELETE)
        else:
            raise NotImplementedError(
                f"no audit immutability triggers for database vendor {connection.vendor!r}"
            )


def drop_triggers(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in (UPDATE_TRIGGER, DELETE_TRIGGER):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif connection.vendor == "postgresql":
            for name in (UPDATE_TRIGGER, DELETE_TRIGGER):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")


def create_sqlite_delete_trigger(connection) -> None:
    """Restore the DELETE trigger (the test suite lifts it for a flush; SQLite only)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(SQLITE_CREATE_DELETE)


def drop_sqlite_delete_trigger(connection) -> None:
    """Lift the DELETE trigger so Django's test flush can empty a SQLite database."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS {DELETE_TRIGGER}")
