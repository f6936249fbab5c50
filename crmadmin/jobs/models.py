"""Jobs: long work that runs in a background worker, one audited CRM call per row.

A ``Job`` is created with its rows already frozen (``JobRow``: what each call is about),
so the set it touches never changes after the user confirmed it. Each row runs once:
``pending`` → ``in_flight`` (committed together with its pending audit entry, before the
request leaves) → ``done`` with an outcome. A row still ``in_flight`` when its worker
died is settled from its audit entry when the job resumes: the entry's outcome if the
call was answered, otherwise "outcome unknown"; it is never sent again.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    CANCELLING = "cancelling", _("cancelling")
    CANCELLED = "cancelled", _("cancelled")
    FINISHED = "finished", _("finished")
    FAILED = "failed", _("failed")


ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING, JobState.CANCELLING)


class RowState(models.TextChoices):
    PENDING = "pending", _("pending")
    IN_FLIGHT = "in_flight", _("in flight")
    DONE = "done", _("done")


class RowOutcome(models.TextChoices):
    NONE = "", _("not yet")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    UNKNOWN = "unknown", _("outcome unknown")
    NOT_SENT = "not_sent", _("not sent")


class Job(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="jobs",
        verbose_name=_("owner"),
    )
    kind = models.CharField(_("kind"), max_length=64)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    # What the user was shown and confirmed, e.g. "Set status to VIP on 120 customers".
    description = models.CharField(_("description"), max_length=500, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=JobState.choices, default=JobState.QUEUED
    )
    concurrency = models.PositiveSmallIntegerField(_("calls in flight"), default=4)
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="retries",
        verbose_name=_("retry of"),
    )

    total = models.PositiveIntegerField(_("rows"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    succeeded = models.PositiveIntegerField(_("succeeded"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    unknown = models.PositiveIntegerField(_("outcome unknown"), default=0)
    not_sent = models.PositiveIntegerField(_("not sent"), default=0)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The worker running the job: its lease and its latest sign of life.
    lease = models.CharField(max_length=32, blank=True, editable=False)
    # The id of the latest django.tasks task that was enqueued to run it.
    task_id = models.CharField(max_length=64, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        # Everyone sees their own jobs; who may read the whole audit log (Managers,
        # superusers) sees everyone's: a job is a view of audited calls.
        default_permissions = ()
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="job_owner_newest"),
            models.Index(fields=["state"], name="job_state"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if not self.is_active else 0
        return int(self.done * 100 / self.total)


class JobRow(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField()
    # What the row is about, as people read it (a customer's code), and the frozen data
    # its handler needs (e.g. the customer's id).
    key = models.CharField(_("record"), max_length=255)
    data = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=RowState.choices, default=RowState.PENDING)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=RowOutcome.choices, default=RowOutcome.NONE, blank=True
    )
    message = models.TextField(_("message"), blank=True)
    audit_entry = models.ForeignKey(
        "audit.AuditEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="job_rows",
        verbose_name=_("audit entry"),
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="job_row_position"),
        ]
        indexes = [models.Index(fields=["job", "state", "position"], name="job_row_state")]

    def __str__(self) -> str:
        return f"{self.key} ({self.outcome or self.state})"


class RateSlot(models.Model):
    """The next moment (seconds since the epoch) at which any worker may start a CRM
    call: one row, updated under a lock, so all workers on all hosts share one pace."""

    name = models.CharField(max_length=32, primary_key=True)
    next_at = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"{self.name} {self.next_at}"
