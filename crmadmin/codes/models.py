"""The register of reference codes: local copies of what the CRM confirmed.

Customers point at statuses, types and groups by foreign key, so a change of code
(``code_rename``) keeps every customer attached; only the wire carries codes.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crmadmin.core.codes import CODE_MAX_LENGTH
from crmadmin.core.models import Tracked
from crmadmin.core.text import fold


class CodeRecord(Tracked):
    code = models.CharField(_("code"), max_length=CODE_MAX_LENGTH, unique=True)
    name = models.CharField(_("name"), max_length=255)
    # fold(code + " " + name): lower-case, accent-free, indexed, so search is one LIKE.
    search_text = models.CharField(max_length=400, editable=False, db_index=True, default="")
    # Raised by every register change: a form opened at an older version is refused (409).
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    def save(self, *args, **kwargs):
        self.search_text = fold(f"{self.code} {self.name}")
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text", "updated_at"}
        super().save(*args, **kwargs)


class Status(CodeRecord):
    class Meta(CodeRecord.Meta):
        verbose_name = _("customer status")
        verbose_name_plural = _("customer statuses")
        permissions = [("rename_status", "Can change the code of customer status")]


class Type(CodeRecord):
    class Meta(CodeRecord.Meta):
        verbose_name = _("customer type")
        verbose_name_plural = _("customer types")
        permissions = [("rename_type", "Can change the code of customer type")]


class Group(CodeRecord):
    description = models.TextField(_("description"), blank=True)

    class Meta(CodeRecord.Meta):
        verbose_name = _("customer group")
        verbose_name_plural = _("customer groups")
        permissions = [("rename_group", "Can change the code of customer group")]


class Field(CodeRecord):
    """A custom-field definition; ``field_type`` says which widget the customer form uses."""

    field_type = models.CharField(_("field type"), max_length=64)
    description = models.TextField(_("description"), blank=True)

    class Meta(CodeRecord.Meta):
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        permissions = [("rename_field", "Can change the code of custom field")]
