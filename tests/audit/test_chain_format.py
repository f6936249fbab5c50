"""Links escape line breaks and backslashes in their values: unescaped, text could be
moved from one column into a later empty one and the link would still match. A chain
begun before (its links unescaped) still verifies, its older links read in their form,
from the ``audit.chain_format`` event that migration audit 0005 writes."""

from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from crmadmin.audit import chain, recorder
from crmadmin.audit.models import AuditEntry, FailureKind, Outcome

from .test_chain import BODY, TABLE, raw, verify

migration = import_module("crmadmin.audit.migrations.0005_chain_format")


class _Editor:
    connection = connection


def rejected(message: str, detail: str = "") -> AuditEntry:
    entry = recorder.begin(
        operation="status.create", record_kind="status", code="A", request_body=BODY
    )
    recorder.complete(
        entry,
        outcome=Outcome.REJECTED,
        failure_kind=FailureKind.REJECTED,
        upstream_message=message,
        error_detail=detail,
    )
    return AuditEntry.everything.get(pk=entry.pk)


def test_escape_keeps_each_value_on_its_line():
    assert chain.escape("a\nb\\c") == "a\\nb\\\\c"
    assert chain.escape("a\\nb") != chain.escape("a\nb")


@pytest.mark.django_db
def test_text_moved_into_a_later_empty_column_is_found():
    entry = rejected("Refused\nerror_detail=the CRM was down")
    assert verify().ok
    raw(
        f"UPDATE {TABLE} SET upstream_message = %s, error_detail = %s WHERE id = %s",  # noqa: S608
        ["Refused", "the CRM was down", entry.pk],
    )
    result = verify()
    assert not result.ok
    assert f"(entry {entry.pk}) does not match its hash" in result.message


@pytest.mark.django_db
def test_a_line_break_rewritten_as_backslash_n_is_found():
    entry = rejected("first line\nsecond line", detail="C:\\temp")
    assert verify().ok
    raw(
        f"UPDATE {TABLE} SET upstream_message = %s WHERE id = %s",  # noqa: S608
        ["first line\\nsecond line", entry.pk],
    )
    assert not verify().ok


def write_in_the_older_form(monkeypatch) -> list[AuditEntry]:
    """Entries linked as the code before migration 0005 linked them: nothing escaped."""
    with monkeypatch.context() as older:
        older.setattr(chain, "escape", lambda text: text)
        return [rejected("old\nline", detail="back\\slash"), rejected("plain")]


@pytest.mark.django_db
def test_a_chain_begun_in_the_older_form_verifies_across_the_format_event(monkeypatch):
    old = write_in_the_older_form(monkeypatch)
    migration.mark_the_new_form(apps, _Editor())
    event = AuditEntry.everything.get(operation=chain.FORMAT_EVENT)
    assert chain.format_boundary(connection) == event.chain_seq == 5
    new = rejected("new\nline", detail="back\\slash")
    result = verify()
    assert result.ok, result.message
    assert result.links == 4 + 2 + 2

    # Each side still finds a change: an old link read in the older form...
    raw(f"UPDATE {TABLE} SET upstream_message = 'old' WHERE id = %s", [old[0].pk])  # noqa: S608
    assert f"(entry {old[0].pk}) does not match its hash" in verify().message
    raw(f"UPDATE {TABLE} SET upstream_message = %s WHERE id = %s", ["old\nline", old[0].pk])  # noqa: S608
    assert verify().ok
    # ... and a new one in the escaped form, which an unescaped reading would accept.
    raw(
        f"UPDATE {TABLE} SET upstream_message = %s WHERE id = %s",  # noqa: S608
        ["new\\nline", new.pk],
    )
    assert f"(entry {new.pk}) does not match its hash" in verify().message


@pytest.mark.django_db
def test_the_format_event_cannot_be_removed_or_its_boundary_moved(monkeypatch):
    write_in_the_older_form(monkeypatch)
    migration.mark_the_new_form(apps, _Editor())
    event = AuditEntry.everything.get(operation=chain.FORMAT_EVENT)
    raw(f"UPDATE {TABLE} SET operation = 'auth.sign_in' WHERE id = %s", [event.pk])  # noqa: S608
    assert not verify().ok  # every link read in the new form, and the event changed


@pytest.mark.django_db
def test_an_empty_chain_gets_no_format_event():
    migration.mark_the_new_form(apps, _Editor())
    assert not AuditEntry.everything.exists()
    assert chain.format_boundary(connection) == 0
    AuditEntry.objects.create(
        operation="auth.sign_in",
        record_kind="local",
        started_at=timezone.now(),
        outcome="succeeded",
    )
    assert verify().ok
