"""The search reads the address too, and phones are compared by their E.164 digits.

Recomputes, for every customer, ``search_text`` (now code, name, e-mail and address, each
part opened by a tab and a space: see ``models.search_text_of``) and ``phone_digits``,
and every phone's ``digits`` (``phones.comparison_key``: "84912345678" where it was the
national "912345678"). The phone numbers themselves stay as the CRM received them.
The columns keep their names, so the trigram indexes of migrations 0003 (PostgreSQL)
and 0004 (SQLite, whose triggers follow these UPDATEs) stay in step.
"""

from django.db import migrations

from crmadmin.customers.models import phone_digits_of, search_text_of
from crmadmin.customers.phones import comparison_key

BATCH = 2000


def recompute(apps, schema_editor):
    customer_model = apps.get_model("customers", "Customer")
    phone_model = apps.get_model("customers", "CustomerPhone")
    ids = list(customer_model.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        numbers: dict[int, list] = {pk: [] for pk in chunk}
        changed_phones = []
        for phone in phone_model.objects.filter(customer_id__in=chunk).order_by(
            "customer_id", "position", "id"
        ):
            numbers[phone.customer_id].append(phone.number)
            key = comparison_key(phone.number)
            if phone.digits != key:
                phone.digits = key
                changed_phones.append(phone)
        phone_model.objects.bulk_update(changed_phones, ["digits"])
        customers = list(
            customer_model.objects.filter(pk__in=chunk).only("code", "name", "email", "address")
        )
        for customer in customers:
            customer.search_text = search_text_of(
                code=customer.code,
                name=customer.name,
                email=customer.email,
                address=customer.address,
            )
            customer.phone_digits = phone_digits_of(numbers[customer.pk])
        customer_model.objects.bulk_update(customers, ["search_text", "phone_digits"])


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_customer_version"),
    ]

    operations = [
        migrations.RunPython(recompute, migrations.RunPython.noop),
    ]
