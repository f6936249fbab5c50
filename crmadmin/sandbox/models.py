"""The sandbox's own data: what the emulated CRM holds, apart from the dashboard's register.

Customers point at their status, type and group (and custom-field values at their
field) by foreign key, as the real CRM presumably does internally: a change of code
or of a group's name then reaches every customer at once, while the wire still speaks
codes and the group's *name*.
"""

from django.db import models
from django.db.models import Q

# The columns hold what the CRM accepts (the contract's lengths; longer values are rejected
# with its error code 1005) and the reference-code kinds of the registry.
from crmadmin.kinds import (
    CODE_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    FIELD_TYPE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    reference_kinds,
)

# (value, label) of SandboxCode.kind: each reference-code kind by its wire name.
CODE_KIND_CHOICES = [(kind.name, kind.name.capitalize()) for kind in reference_kinds().values()]


class SandboxToken(models.Model):
    """An access or refresh token the sandbox issued; only its SHA-256 digest is kept."""

    class Kind(models.TextChoices):
        ACCESS = "access"
        REFRESH = "refresh"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} token until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class SandboxCode(models.Model):
    """A customer status, type, group or custom-field definition held by the sandbox."""

    kind = models.CharField(max_length=8, choices=CODE_KIND_CHOICES)
    code = models.CharField(max_length=CODE_MAX_LENGTH)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.TextField(blank=True)
    field_type = models.CharField(max_length=FIELD_TYPE_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="sandbox_code_unique"),
            # Customers name their group by name, so a group name must say which group.
            models.UniqueConstraint(
                fields=["name"], condition=Q(kind="group"), name="sandbox_group_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.code}"


class SandboxCustomer(models.Model):
    code = models.CharField(max_length=CODE_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    phones = models.JSONField(default=list)
    address = models.TextField(blank=True)
    email = models.CharField(max_length=EMAIL_MAX_LENGTH, blank=True)
    status = models.ForeignKey(SandboxCode, on_delete=models.PROTECT, related_name="+")
    type = models.ForeignKey(SandboxCode, on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(SandboxCode, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class SandboxFieldValue(models.Model):
    customer = models.ForeignKey(
        SandboxCustomer, on_delete=models.CASCADE, related_name="field_values"
    )
    field = models.ForeignKey(SandboxCode, on_delete=models.PROTECT, related_name="+")
    value = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "field"], name="sandbox_one_value_per_field"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field_id}={self.value}"
