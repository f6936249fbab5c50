from django.core.management.base import BaseCommand

from crmadmin.imports import operator
from crmadmin.imports.mapping import CUSTOMERS


class Command(BaseCommand):
    help = (
        "Import customers from a CSV or XLSX file: adopt (add to the register only, no CRM "
        "call) or sync (one audited CRM call per new or changed row). Prints progress and "
        "a summary; --dry-run only checks."
    )

    def add_arguments(self, parser):
        operator.add_arguments(parser)

    def handle(self, *args, **options):
        operator.run(self, CUSTOMERS, options)
