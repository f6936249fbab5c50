"""The customer register: local copies of the customers the CRM confirmed."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.core.text import fold


class Customer(models.Model):
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    # fold(name): lower-case and accent-free, so "nguyen van an" finds "Nguyễn Văn An".
    search_name = models.CharField(max_length=255, editable=False, db_index=True, default="")
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    status = models.ForeignKey(
        Status, on_delete=models.PROTECT, related_name="customers", verbose_name=_("status")
    )
    type = models.ForeignKey(
        Type, on_delete=models.PROTECT, related_name="customers", verbose_name=_("type")
    )
    group = models.ForeignKey(
        Group, on_delete=models.PROTECT, related_name="customers", verbose_name=_("group")
    )
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
        ordering = ["code"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [("rename_customer", "Can change the code of customer")]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_name", "updated_at"}
        super().save(*args, **kwargs)


class CustomerPhone(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    position = models.PositiveSmallIntegerField(default=0)
    # As sent to the CRM: spaces, dots and dashes removed, a leading "+" kept.
    number = models.CharField(_("phone"), max_length=32)
    # Digits only, national form (leading 0 / 84 / +84 dropped), for search in any format.
    digits = models.CharField(max_length=32, db_index=True, editable=False)

    class Meta:
        ordering = ["customer", "position"]
        verbose_name = _("phone")
        verbose_name_plural = _("phones")

    def __str__(self) -> str:
        return self.number


class CustomerFieldValue(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="field_values")
    field = models.ForeignKey(Field, on_delete=models.PROTECT, related_name="values")
    value = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "field"], name="one_value_per_field"),
        ]
        verbose_name = _("custom field value")
        verbose_name_plural = _("custom field values")

    def __str__(self) -> str:
        return f"{self.field.code}={self.value}"
