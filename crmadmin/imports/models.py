"""An import: the uploaded file, its mapping, its preview rows and what applying them did."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    MAPPING = "mapping", _("choosing columns")
    PREVIEWING = "previewing", _("checking the rows")
    PREVIEWED = "previewed", _("ready to import")
    APPLYING = "applying", _("importing")
    CANCELLED = "cancelled", _("cancelled")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class Mode(models.TextChoices):
    ADOPT = "adopt", _("Add to the register only")
    SYNC = "sync", _("Create or update in the CRM")


class RowClass(models.TextChoices):
    NEW = "new", _("new")
    UNCHANGED = "unchanged", _("unchanged")
    CHANGED = "changed", _("changed")
    ERROR = "error", _("error")


class Outcome(models.TextChoices):
    PENDING = "pending", _("to do")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    # Sent by a worker that died before the CRM's answer was recorded: never sent again.
    UNKNOWN = "unknown", _("outcome unknown")
    SKIPPED = "skipped", _("skipped")


class Import(models.Model):
    target = models.CharField(_("what"), max_length=16)  # "customers" or a code kind's slug
    file_name = models.CharField(_("file"), max_length=255)
    # Where the upload is kept, under settings.IMPORT_DIR.
    stored_name = models.CharField(max_length=64, editable=False)
    digest = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size"))
    file_format = models.CharField(_("format"), max_length=8)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    headers = models.JSONField(_("headers"), default=list)
    mapping = models.JSONField(_("columns"), default=list)
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.MAPPING)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode, blank=True)
    verify = models.BooleanField(_("verify with the CRM"), default=False)
    # Rows read by the preview, and rows handled by the run, for the progress bars.
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)  # {"new": n, "unchanged": n, ...}
    cancel_requested = models.BooleanField(default=False)
    # Sync and adopt-with-verify run as a job (one audited call per row): its latest job,
    # whose state and progress the import follows. Plain adopt makes no call and has none.
    crm_job = models.ForeignKey(
        "jobs.Job",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("job"),
    )
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.target})"


class ImportRow(models.Model):
    job = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(_("row"))  # as the spreadsheet shows it: 2 is the first
    code = models.CharField(_("code"), max_length=128, blank=True)
    row_class = models.CharField(max_length=10, choices=RowClass)
    cells = models.JSONField(default=list)  # the row as read, for the error download
    # The values to apply, resolved: {"name": ..., "phones": [...], "status": pk, ...}.
    values = models.JSONField(default=dict)
    changes = models.JSONField(default=list)  # [[label, before, after], ...]
    errors = models.JSONField(default=list)  # [[column, message], ...]
    outcome = models.CharField(max_length=8, choices=Outcome, default=Outcome.PENDING)
    message = models.TextField(blank=True)  # what applying it answered

    class Meta:
        ordering = ["job", "number"]
        indexes = [
            models.Index(fields=["job", "row_class", "number"], name="import_row_class"),
            models.Index(fields=["job", "outcome", "number"], name="import_row_outcome"),
        ]

    def __str__(self) -> str:
        return f"row {self.number} ({self.row_class})"


class RememberedMapping(models.Model):
    """The columns a user confirmed, for the next file with the same headers."""

    target = models.CharField(max_length=16)
    signature = models.CharField(max_length=64)
    mapping = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "signature"], name="one_mapping_per_headers")
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.signature[:8]}"
