"""``manage.py audit_verify``: walk the audit log's hash chain and report the first broken link."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crmadmin.audit import chain


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain from its first link to its head, against the "
        "anchors of AUDIT_ANCHOR_FILE (or --anchors) and any --anchor SEQ:HASH copied "
        "from the application log. Exits with status 1 at the first broken link."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchors", help="a file of anchors (JSON lines), instead of AUDIT_ANCHOR_FILE"
        )
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="an anchor copied from the application log (repeatable)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes that walk a long chain at once (default: 2, or 1 on one core)",
        )

    def handle(self, *args, **options):
        anchors: dict[int, str] = {}
        path = options["anchors"] or settings.AUDIT_ANCHOR_FILE
        if path:
            try:
                anchors.update(chain.read_anchors(path))
            except FileNotFoundError:
                if options["anchors"]:
                    raise CommandError(f"no anchor file at {path}") from None
            except (OSError, ValueError) as exc:
                raise CommandError(str(exc)) from None
        for text in options["anchor"]:
            seq, _, digest = text.partition(":")
            if not (seq.isdigit() and len(digest) == 64):
                raise CommandError(f"--anchor {text!r} is not SEQ:HASH")
            anchors[int(seq)] = digest
        if options["workers"] is not None and options["workers"] < 1:
            raise CommandError("--workers must be 1 or more")
        record = chain.verify_and_record(anchors=anchors, workers=options["workers"])
        if record.ok:
            self.stdout.write(
                f"audit chain verified: {record.links} links, up to link {record.verified_seq}"
                f" (entry {record.verified_entry_id}), {len(anchors)} anchor(s) matched"
            )
            return
        self.stderr.write(
            f"audit chain BROKEN after link {record.verified_seq} "
            f"(entry {record.verified_entry_id}): {record.message}"
        )
        raise SystemExit(1)
