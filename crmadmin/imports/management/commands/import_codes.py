from django.core.management.base import BaseCommand

from crmadmin.imports import operator
from crmadmin.kinds import REFERENCE_KINDS as KINDS


class Command(BaseCommand):
    help = (
        "Import reference codes of one KIND (statuses, types, groups, fields) from a CSV or "
        "XLSX file, in adopt or sync mode. Import them before the customers that use them."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(KINDS))
        operator.add_arguments(parser)

    def handle(self, *args, **options):
        operator.run(self, options["kind"], options)
