"""Links escape their values from here on (``audit.chain.escape``).

A chain that has links already gets one local event, ``audit.chain_format``, whose link is
the first in the new form: the verifier reads the links before it in the older form and
the rest in the new one (``chain.format_boundary``). An empty chain needs no event.

Run it with the dashboard and its workers stopped, as any migration of the audit log:
a process still running the older code after it would write links in the older form,
which the verifier would report as broken.
"""

from django.db import migrations


def mark_the_new_form(apps, schema_editor):
    """The event is written with the historical model, linked as every entry is (its
    columns as they are at this migration: see 0003)."""
    import uuid

    from django.utils import timezone

    from crmadmin.audit import chain

    entries = apps.get_model("audit", "AuditEntry")._base_manager
    connection = schema_editor.connection
    if not entries.using(connection.alias).exists():
        return
    now = timezone.now()
    entry = entries.model(
        operation=chain.FORMAT_EVENT,
        record_kind="local",
        request_id=uuid.uuid4().hex,
        request_body={"escaped": "line breaks and backslashes in values, from this link on"},
        started_at=now,
        finished_at=now,
        duration_ms=0.0,
        outcome="succeeded",
    )
    skip = {"id", *chain.CHAIN_FIELDS, *chain.COMPLETED_FIELDS}
    names = [f.attname for f in entries.model._meta.concrete_fields if f.attname not in skip]
    text = chain.content(names, [getattr(entry, name) for name in names], vendor=connection.vendor)
    completed = {name: getattr(entry, name) for name in chain.COMPLETED_FIELDS}
    links, _link = chain.make_links(connection, text, completed)
    for name, value in links.items():
        setattr(entry, name, value)
    entry.save(using=connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_auditentry_job"),
    ]

    operations = [
        migrations.RunPython(mark_the_new_form, migrations.RunPython.noop, elidable=False),
    ]
