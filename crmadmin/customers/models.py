"""The customer register: local copies of the customers the CRM confirmed."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.core.codes import CODE_MAX_LENGTH
from crmadmin.core.models import Tracked
from crmadmin.core.text import fold
from crmadmin.customers.phones import comparison_key

# Opens each part of ``Customer.search_text``. fold() turns every run of white space into
# one space, so no search word contains the tab and none matches across two parts; the
# space puts one before every word of the text, so " an" finds the word that begins with
# "an" ("Văn An"), wherever it stands.
SEARCH_TEXT_PART = "\t "


def search_text_of(
    *, code: str, name: str, email: str, address: str, folded_name: str | None = None
) -> str:
    r"""What the list's search box is compared with: code, name, e-mail and address,
    folded, each opened by :data:`SEARCH_TEXT_PART`:
    ``"\t kh0001\t nguyen van an\t an@example.vn\t 12 le loi"``. ``folded_name``:
    ``fold(name)`` when the caller has it already (it is ``search_name`` too)."""
    if folded_name is None:
        folded_name = fold(name)
    parts = (fold(code), folded_name, fold(email), fold(address))
    return "".join(SEARCH_TEXT_PART + part for part in parts)


def phone_digits_of(numbers) -> str:
    """``Customer.phone_digits`` for these phone numbers: their comparison keys."""
    return " ".join(comparison_key(number) for number in numbers)


class Customer(Tracked):
    code = models.CharField(_("code"), max_length=CODE_MAX_LENGTH, unique=True)
    name = models.CharField(_("name"), max_length=255)
    # fold(name): lower-case and accent-free, so "nguyen van an" finds "Nguyễn Văn An".
    search_name = models.CharField(max_length=255, editable=False, db_index=True, default="")
    # search_text_of(code, name, email, address): every word of the search box is looked
    # for in this one column (trigram indexes: migrations 0003 on PostgreSQL, 0004 SQLite).
    search_text = models.CharField(max_length=1024, editable=False, default="")
    # The comparison key of every phone, space-separated ("84912345678 842838221234"), kept
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
    # Raised by every register change: a form opened at an older version is refused (409).
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        ordering = ["code"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [("rename_customer", "Can change the code of customer")]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        self.search_text = search_text_of(
            code=self.code, name=self.name, email=self.email, address=self.address
        )
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
    # As sent to the CRM (phones.normalise): "0912345678", or "+14155552671" abroad.
    number = models.CharField(_("phone"), max_length=32)
    # phones.comparison_key: E.164's digits ("84912345678"), one key however it was typed.
    digits = models.CharField(max_length=32, db_index=True, editable=False)

    class Meta:
        ordering = ["customer", "position"]
        verbose_name = _("phone")
        verbose_name_plural = _("phones")

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        self.digits = comparison_key(self.number)
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
