"""The customer register: local copies of the customers the CRM confirmed."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.core.models import Tracked
from crmadmin.core.text import fold
from crmadmin.customers.phones import national_digits

# Separates the parts of ``Customer.search_text``: fold() turns every run of white space
# into one space, so no folded search term contains a tab and none matches across parts.
SEARCH_TEXT_SEPARATOR = "\t"


def search_text_of(*, code: str, name: str, email: str) -> str:
    """What the list's search box is compared with: code, name and e-mail, folded."""
    return SEARCH_TEXT_SEPARATOR.join((fold(code), fold(name), fold(email)))


def phone_digits_of(numbers) -> str:
    """``Customer.phone_digits`` for these phone numbers."""
    return " ".join(national_digits(number) for number in numbers)


class Customer(Tracked):
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    # fold(name): lower-case and accent-free, so "nguyen van an" finds "Nguyễn Văn An".
    search_name = models.CharField(max_length=255, editable=False, db_index=True, default="")
    # search_text_of(code, name, email): the search box's one LIKE '%term%' reads one
    # column (migration 0003 gives it a trigram index on PostgreSQL).
    search_text = models.CharField(max_length=1024, editable=False, default="")
    # The national digits of every phone, space-separated ("912345678 283456789"), kept
    # by the services beside CustomerPhone: a phone search then reads the same rows as
    # the text search, one scan (or one trigram index) instead of a join.
    phone_digits = models.CharField(max_length=1024, editable=False, default="")
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

    class Meta:
        ordering = ["code"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [("rename_customer", "Can change the code of customer")]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        self.search_text = search_text_of(code=self.code, name=self.name, email=self.email)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "search_name",
                "search_text",
                "updated_at",
            }
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

    def save(self, *args, **kwargs):
        self.digits = national_digits(self.number)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "digits"}
        super().save(*args, **kwargs)


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
