"""``manage.py reconcile``: the "Needs attention" items for operators and cron."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from crmadmin.audit.models import AuditEntry
from crmadmin.reconcile import selectors, services


class Command(BaseCommand):
    help = (
        "List the divergences between the register and the CRM (--list), resolve one "
        "(--entry N), or resolve every unambiguous one without asking (--all)."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--list", action="store_true", help="list the open items")
        action.add_argument("--entry", type=int, metavar="N", help="probe/repair audit entry N")
        action.add_argument(
            "--all",
            action="store_true",
            help="probe every unknown outcome and re-apply every register failure",
        )
        parser.add_argument(
            "--user", default="", help="username recorded as the actor (default: none)"
        )

    def handle(self, *args, **options):
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"no user {options['user']!r}")
        if options["list"]:
            return self._list()
        if options["entry"] is not None:
            return self._one(options["entry"], actor)
        summary = services.resolve_unambiguous(actor=actor)
        self.stdout.write(
            f"resolved {summary['resolved']}, waiting for a decision {summary['waiting']}, "
            f"left for people {summary['left']}, failed {summary['failed']}"
        )
        if summary["failed"]:
            raise CommandError(f"{summary['failed']} probe(s) failed; see the audit log")

    def _list(self):
        items = selectors.open_items()
        for item in items:
            entry = item.entry
            target = entry.code + (f" -> {entry.new_code}" if entry.new_code else "")
            waiting = " (waits for a decision)" if item.pending_step else ""
            self.stdout.write(
                f"{entry.pk}\t{entry.started_at:%Y-%m-%d %H:%M:%S}\t{item.category}\t"
                f"{entry.operation}\t{target}{waiting}"
            )
        counts = {}
        for item in items:
            counts[item.category] = counts.get(item.category, 0) + 1
        parts = ", ".join(f"{category} {count}" for category, count in sorted(counts.items()))
        self.stdout.write(f"{len(items)} open item(s){': ' + parts if parts else ''}")

    def _one(self, entry_id: int, actor):
        entry = AuditEntry.objects.filter(pk=entry_id).first()
        if entry is None:
            raise CommandError(f"no audit entry {entry_id}")
        try:
            resolution = services.probe(entry=entry, actor=actor)
        except services.CannotResolve as refusal:
            raise CommandError(refusal.user_message) from None
        state = "resolved" if resolution.closes else "still open"
        self.stdout.write(f"entry {entry_id}: {state}: {resolution.finding}")
