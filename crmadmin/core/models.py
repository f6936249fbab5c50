"""Model pieces shared by the registers."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Tracked(models.Model):
    """When a register record was created and last changed, and by whom."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last change"), auto_now=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        abstract = True


class RecordLease(models.Model):
    """One record's write lock: held by one writer, until released or until it expires.

    A row per (kind, code); the unique constraint makes taking it atomic on every
    database, across processes and hosts. A writer that dies keeps its row, and the
    next writer takes it over once ``expires_at`` (the call budget) has passed.
    """

    kind = models.CharField(max_length=16)
    code = models.CharField(max_length=128)
    token = models.CharField(max_length=32, db_index=True)
    holder = models.CharField(max_length=150, blank=True)
    operation = models.CharField(max_length=32, blank=True)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="one_lease_per_record"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.code} ({self.holder or '-'})"
