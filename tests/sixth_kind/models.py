"""The sixth kind's model: a customer tag, with a description and the customers that wear it."""

from django.db import models

from crmadmin.codes.models import CodeRecord


class Tag(CodeRecord):
    description = models.TextField("description", blank=True)

    class Meta(CodeRecord.Meta):
        verbose_name = "customer tag"
        verbose_name_plural = "customer tags"
        permissions = [("rename_tag", "Can change the code of customer tag")]


class CustomerTag(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="uses")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.tag_id}"
