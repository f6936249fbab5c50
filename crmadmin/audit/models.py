"""The audit log: one entry per call to the CRM, written before the call leaves.

An entry is created ``pending`` and committed before the HTTP request is sent, then
completed exactly once with the outcome. A finished entry is never changed and no
entry is ever deleted: the model refuses, and database triggers (migration 0002)
refuse raw SQL too.
"""

import uuid

from django.conf import settings
from django.db import models
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


class AuditEntryQuerySet(models.QuerySet):
    def delete(self):
        raise AuditEntryImmutable("audit entries are never deleted")

    delete.queryset_only = True

    def update(self, **kwargs):
        # Bulk updates only ever touch entries that are still pending: that is how the
        # recorder completes an entry, and a finished one stays as it is.
        return super(AuditEntryQuerySet, self.filter(outcome=Outcome.PENDING)).update(**kwargs)

    def pending(self):
        return self.filter(outcome=Outcome.PENDING)

    def finished(self):
        return self.exclude(outcome=Outcome.PENDING)


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

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        default_permissions = ("view",)
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
        ]

    def __str__(self) -> str:
        target = f"{self.record_kind} {self.code}".strip()
        if self.new_code:
            target += f" → {self.new_code}"
        return f"{self.operation} {target} ({self.outcome})"

    def save(self, *args, **kwargs):
        if not self._state.adding and self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("outcome", flat=True).first()
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
