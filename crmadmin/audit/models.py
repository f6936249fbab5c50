"""The audit log: one entry per call to the CRM, written before the call leaves, and the
local events (sign-ins, user and role changes, exports) beside them.

An entry is created ``pending`` and committed before the HTTP request is sent, then
completed exactly once with the outcome. A finished entry is never changed and no
entry is ever deleted: the model refuses, and database triggers (migration 0002)
refuse raw SQL too.

Tamper evidence: a hash chain over every entry
----------------------------------------------
Whoever can write the table (the application's own database role, a DBA) could still
delete rows behind disabled triggers, rewrite them, insert forged ones or truncate the
table. The chain makes each of these *detectable* (``manage.py audit_verify``):

- The log is a sequence of *links*, numbered 1, 2, 3... with no gap. An entry makes
  one link when it is created (``chain_seq``/``chain_hash``: everything known at the
  start) and one more when it is completed (``completion_seq``/``completion_hash``:
  the outcome columns, bound to the entry by its ``chain_hash``). An entry created
  already finished (a local event) makes both at once. So completing a pending entry
  appends to the chain instead of rewriting a link, and an entry whose process died
  simply has no completion link yet.
- Each link's hash is HMAC-SHA256, keyed with ``AUDIT_CHAIN_KEY``, over the previous
  link's hash, its own number and its content (``audit.chain``). A deleted entry leaves
  a gap in the numbers; a changed one no longer matches its hash; a forged one cannot
  be given a valid hash without the key. A truncated table (or a chain cut back to an
  earlier point and rebuilt) is caught by anchors: the head (number, hash) is copied
  to the application log and an optional append-only file (``AUDIT_ANCHOR_FILE``)
  every ``AUDIT_ANCHOR_EVERY`` links and at every verification (which also keeps it
  in ``ChainVerification``), and must still be found in the chain later.
- Concurrent writers: a link's number and predecessor are those of the last link in
  the table, read under the writers' lock: SQLite's own write lock (this project's
  transactions begin IMMEDIATE), or on PostgreSQL an advisory lock every writer takes
  before reading the last link. The lock is held until the writer's transaction
  commits, so links are made one at a time, in order, each on the committed previous
  one; it is held for one insert or one completion (with the register's change when
  that shares the completion's transaction), never across a call to the CRM. A
  rolled-back transaction takes its links with it, leaving no gap.
- Columns added later (a job link, say) are covered by the content automatically:
  the content is "name=value" for every column except the id and the chain's own, and
  leaves out empty values (NULL, "", {}, []), so rows written before the column existed
  keep their hashes. A column that is written when an entry is *completed* must be
  added to ``recorder.COMPLETED_FIELDS`` so that it is hashed with the completion.
- Verifying is a walk of hashes, not of parsed rows (the target: a million entries, two
  million links, in 30 s). A value's canonical text is the one the database itself
  writes back: text as stored, integers in decimal, timestamps in UTC with microseconds,
  and a JSON value as the database returns it: on SQLite the text Django stored, on
  PostgreSQL jsonb's own output (``column::text``: keys by length then bytes, ", " and
  ": "), which the writer reproduces in Python (``chain.jsonb_text``, pinned against
  PostgreSQL by the tests). So ``audit_verify`` has the database write each row's
  content as one string, and computes one HMAC per link with the key's blocks hashed
  once; a long chain is walked in two stretches by two processes, the second starting
  on the stored hash of the link before it, which the first checks. Nothing is stored
  for speed: a changed column still changes the content its link hashes.
- PostgreSQL links made before that (until December 2026) hashed a JSON value with
  sorted keys and no spaces. They keep verifying: a link whose content does not match
  is tried once more in that older form. Either form needs the key, so a forger gains
  nothing; an honest older link costs a JSON parse, as every link used to.
- A text value is escaped in its line (a backslash doubled, a line break as ``\\n``:
  ``chain.escape``), so that each line is one column's. Links made before that hashed
  values as they were, and text could be moved from one column into a later empty one
  without changing the content. Migration audit 0005 marks the first link of the
  escaped form with an ``audit.chain_format`` event in a chain that had links already;
  the verifier reads the links before it unescaped (``chain.format_boundary``). The
  event is a link like any other, so it can be neither removed nor moved unnoticed.
"""

import uuid

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    PENDING = "pending", _("pending")
    SUCCEEDED = "succeeded", _("succeeded")
    REJECTED = "rejected", _("rejected")
    FAILED = "failed", _("failed")


class FailureKind(models.TextChoices):
    REJECTED = "rejected", _("rejected by the CRM")
    UNAUTHORIZED = "unauthorized", _("unauthorized")
    HTTP_ERROR = "http_error", _("HTTP error")
    TIMEOUT = "timeout", _("timeout")
    CONNECTION = "connection", _("connection failure")
    MALFORMED = "malformed", _("malformed answer")
    INTERNAL = "internal", _("internal error")


def new_request_id() -> str:
    return uuid.uuid4().hex


class AuditEntryImmutable(Exception):
    """An attempt to change a finished audit entry or to delete any entry."""


# Local events (not CRM calls) carry this record kind; ``AuditEntry.objects`` leaves them
# out, so every screen and count of CRM calls stays one of CRM calls.
LOCAL = "local"


class AuditEntryQuerySet(models.QuerySet):
    def delete(self):
        raise AuditEntryImmutable("audit entries are never deleted")

    delete.queryset_only = True

    def update(self, **kwargs):
        # Bulk updates only ever touch entries that are still pending: that is how the
        # recorder completes an entry, and a finished one stays as it is.
        return super(AuditEntryQuerySet, self.filter(outcome=Outcome.PENDING)).update(**kwargs)


class CallManager(models.Manager.from_queryset(AuditEntryQuerySet)):
    """The CRM calls: every entry except the local events."""

    def get_queryset(self):
        return super().get_queryset().exclude(record_kind=LOCAL)


class AuditEntry(models.Model):
    # Who and from where. The user row is protected: people who acted are deactivated,
    # not deleted, and the username is kept as text as it was at the time.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
        verbose_name=_("actor"),
    )
    actor_username = models.CharField(_("username at the time"), max_length=150, blank=True)
    actor_ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    # What.
    operation = models.CharField(_("operation"), max_length=32)  # "customer.create", "auth.token"
    record_kind = models.CharField(_("record kind"), max_length=16, blank=True)
    code = models.CharField(_("code"), max_length=128, blank=True)
    new_code = models.CharField(_("new code"), max_length=128, blank=True)
    request_id = models.CharField(
        _("request id"), max_length=32, unique=True, default=new_request_id, editable=False
    )
    request_body = models.JSONField(_("request body"), default=dict, blank=True)
    snapshot_before = models.JSONField(_("record before"), null=True, blank=True)

    # When.
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration_ms = models.FloatField(_("duration (ms)"), null=True, blank=True)

    # What came back.
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING
    )
    failure_kind = models.CharField(
        _("failure kind"), max_length=16, choices=FailureKind.choices, blank=True
    )
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    upstream_status = models.SmallIntegerField(_("upstream status"), null=True, blank=True)
    upstream_error = models.CharField(_("upstream error code"), max_length=64, blank=True)
    upstream_message = models.TextField(_("upstream message"), blank=True)
    upstream_data = models.JSONField(_("upstream data"), null=True, blank=True)
    error_detail = models.TextField(_("error detail"), blank=True)

    # The background job that made this call (crmadmin/jobs/), if any. A string
    # reference: the jobs app sits above the audit log and imports it, never the reverse.
    job = models.ForeignKey(
        "jobs.Job",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
        verbose_name=_("job"),
    )

    # The hash chain (see the module's docstring): the link made when the entry was
    # created, and the one made when it was completed.
    chain_seq = models.BigIntegerField(_("chain link"), null=True, unique=True, editable=False)
    chain_hash = models.CharField(_("chain hash"), max_length=64, blank=True, editable=False)
    completion_seq = models.BigIntegerField(
        _("completion link"), null=True, unique=True, editable=False
    )
    completion_hash = models.CharField(
        _("completion hash"), max_length=64, blank=True, editable=False
    )

    # CRM calls (what every screen of calls reads) and everything, local events included.
    objects = CallManager()
    everything = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        default_permissions = ("view",)
        base_manager_name = "everything"
        permissions = [("export_auditentry", "Can export the audit log")]
        # Every list is "newest first" by (started_at, id), optionally narrowed by one
        # column; each index below serves one such filter and the keyset ordering, so a
        # page reads about 50 index entries whatever the table's size.
        indexes = [
            models.Index(fields=["-started_at", "-id"], name="audit_newest"),
            models.Index(fields=["actor", "-started_at", "-id"], name="audit_actor_newest"),
            models.Index(fields=["operation", "-started_at", "-id"], name="audit_op_newest"),
            models.Index(fields=["outcome", "-started_at", "-id"], name="audit_outcome_newest"),
            models.Index(fields=["record_kind", "-started_at", "-id"], name="audit_kind_newest"),
            # A record's history and the code filter: old code or new code of a rename.
            models.Index(fields=["code", "-started_at", "-id"], name="audit_code_newest"),
            models.Index(fields=["new_code", "-started_at", "-id"], name="audit_newcode_newest"),
            models.Index(fields=["job", "-started_at", "-id"], name="audit_job_newest"),
        ]

    def __str__(self) -> str:
        target = f"{self.record_kind} {self.code}".strip()
        if self.new_code:
            target += f" → {self.new_code}"
        return f"{self.operation} {target} ({self.outcome})"

    def save(self, *args, **kwargs):
        if self._state.adding and self.chain_seq is None:
            # Created through the ORM (a local event, a test's fixture): linked into the
            # chain in the transaction of its insert.
            from crmadmin.audit import chain

            using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
            with transaction.atomic(using=using):
                chain.link_new_entry(self, connections[using])
                super().save(*args, **kwargs)
            return
        if not self._state.adding and self.pk is not None:
            stored = (
                type(self).everything.filter(pk=self.pk).values_list("outcome", flat=True).first()
            )
            if stored is not None and stored != Outcome.PENDING:
                raise AuditEntryImmutable(
                    f"audit entry {self.request_id} is finished and cannot be changed"
                )
        super().save(*args, **kwargs)

    save.alters_data = True

    def delete(self, *args, **kwargs):
        raise AuditEntryImmutable("audit entries are never deleted")

    delete.alters_data = True

    @property
    def is_pending(self) -> bool:
        return self.outcome == Outcome.PENDING


class ChainVerification(models.Model):
    """One run of ``audit_verify``: the dashboard shows the latest."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    links = models.BigIntegerField(default=0)  # links checked
    verified_seq = models.BigIntegerField(default=0)  # the last link found good
    verified_entry_id = models.BigIntegerField(null=True)
    verified_hash = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["-finished_at", "-id"]

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'broken'} up to {self.verified_seq} at {self.finished_at}"
