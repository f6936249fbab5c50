"""``manage.py audit_grants --role APP_ROLE [--apply]``: the PostgreSQL privileges of the
application's own role, least privilege on the audit log.

The owner (the role that runs ``migrate``) owns every table. The application runs as
another role that may use every other table freely, but on the audit log may only read,
insert, and update the columns that completing a pending entry writes. Not owning the
table, it cannot TRUNCATE, ALTER or drop it, nor disable its triggers; without DELETE it
cannot remove a row even with the triggers gone.
"""

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from crmadmin.audit import chain
from crmadmin.audit.models import AuditEntry, ChainVerification

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_$]{0,62}$")


def grant_statements(role: str) -> list[str]:
    quote = connection.ops.quote_name
    app = quote(role)
    audit = quote(AuditEntry._meta.db_table)
    completion = [
        AuditEntry._meta.get_field(name).column
        for name in (*chain.COMPLETED_FIELDS, "completion_seq", "completion_hash")
    ]
    verifications = quote(ChainVerification._meta.db_table)
    return [
        f"GRANT USAGE ON SCHEMA public TO {app}",
        # Every table: read and write (sessions, the register, django-axes...).
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
        # Tables the owner creates later (new migrations) get the same.
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}",
        # The audit log: read, append, complete. Nothing else.
        f"REVOKE ALL ON {audit} FROM {app}",
        f"GRANT SELECT, INSERT ON {audit} TO {app}",
        f"GRANT UPDATE ({', '.join(quote(c) for c in completion)}) ON {audit} TO {app}",
        f"REVOKE ALL ON {verifications} FROM {app}",
        f"GRANT SELECT, INSERT ON {verifications} TO {app}",
        # The migrations' record is the owner's.
        f"REVOKE INSERT, UPDATE, DELETE ON {quote('django_migrations')} FROM {app}",
    ]


class Command(BaseCommand):
    help = (
        "Print (or with --apply, run as the tables' owner) the PostgreSQL GRANTs of the "
        "application's role: least privilege on the audit log. Run again after migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="the role the application runs as")
        parser.add_argument("--apply", action="store_true", help="run the statements now")

    def handle(self, *args, role: str, apply: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("database privileges apply to PostgreSQL only")
        if not ROLE_NAME.match(role):
            raise CommandError(f"{role!r} is not a plain PostgreSQL role name")
        statements = grant_statements(role)
        if not apply:
            self.stdout.write(";\n".join(statements) + ";")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(f"applied {len(statements)} statements for role {role}")
