"""Everything `make run` does before serving, in one process so a second run is quick."""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = (
        "Prepare this installation to serve: apply migrations, create the cache table, "
        "collect static files, create the superuser 'admin' once and "
        "seed demo data into the sandbox when the register is empty. Safe to repeat."
    )

    def handle(self, *args, **options) -> None:
        # One line instead of migrate's "Applying ... OK" per migration.
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        call_command("migrate", interactive=False, verbosity=0, stdout=self.stdout)
        self.stdout.write(
            f"Applied {len(pending)} migrations." if pending else "No migrations to apply."
        )
        call_command("createcachetable", stdout=self.stdout)
        call_command("collectstatic", interactive=False, verbosity=0, stdout=self.stdout)
        call_command("ensure_admin", stdout=self.stdout)
        call_command("seed_demo", stdout=self.stdout)
