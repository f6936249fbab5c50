"""The audit log's hash chain: every kind of tampering is found by ``audit_verify``, on
SQLite and PostgreSQL, and honest writing (pending entries completed later, local events,
concurrent writers) always verifies."""

import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from crmadmin.audit import chain, recorder, triggers
from crmadmin.audit.models import (
    AuditEntry,
    AuditEntryImmutable,
    ChainVerification,
    FailureKind,
    Outcome,
)

BODY = {"vbot_id": "VBOT-TEST", "project_code": "PRJ-TEST", "status_no": "VIP"}
TABLE = AuditEntry._meta.db_table


def write_some_entries() -> list[AuditEntry]:
    """Five entries written the way the application writes them, links interleaved: two
    calls in flight at once, one left pending, one created finished (a local event)."""
    first = recorder.begin(
        operation="status.create", record_kind="status", code="A", request_body=BODY
    )
    second = recorder.begin(
        operation="status.update", record_kind="status", code="B", request_body=BODY
    )
    recorder.complete(second, outcome=Outcome.SUCCEEDED, http_status=200, upstream_data="B")
    recorder.complete(
        first,
        outcome=Outcome.REJECTED,
        failure_kind=FailureKind.REJECTED,
        upstream_message="Mã đã tồn tại",
        upstream_data={"nested": [1, 2.5, "ắ"]},
    )
    pending = recorder.begin(
        operation="status.delete", record_kind="status", code="C", request_body=BODY
    )
    local = AuditEntry.objects.create(
        operation="auth.sign_in",
        record_kind="local",
        started_at=timezone.now(),
        outcome=Outcome.SUCCEEDED,
    )
    last = recorder.begin(
        operation="customer.create", record_kind="customer", code="KH1", request_body=BODY
    )
    recorder.complete(last, outcome=Outcome.FAILED, failure_kind=FailureKind.TIMEOUT)
    return [first, second, pending, local, last]


def raw(sql: str, params=()) -> None:
    """SQL as someone with the table's owner rights would run it, triggers disabled."""
    triggers.drop_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    triggers.create_triggers(connection)


def verify(**anchors) -> chain.Result:
    return chain.verify(anchors=anchors.get("anchors"))


@pytest.mark.django_db
def test_honest_writing_verifies_every_link():
    entries = write_some_entries()
    result = verify()
    assert result.ok, result.message
    # Each entry one link, plus one per completion (the local event was born finished).
    assert result.links == 5 + 4
    assert result.verified_seq == chain.head()[0] == 9
    assert result.verified_entry_id == entries[-1].pk
    stored = AuditEntry.everything.order_by("chain_seq")
    assert [e.chain_seq for e in stored] == [1, 2, 5, 6, 8]
    assert [e.completion_seq for e in stored] == [4, 3, None, 7, 9]


@pytest.mark.django_db
def test_completing_a_pending_entry_later_keeps_the_chain_verifiable():
    entries = write_some_entries()
    assert verify().ok
    recorder.complete(entries[2], outcome=Outcome.SUCCEEDED, upstream_data=True)
    assert verify().ok
    # A second completion is refused and leaves no gap behind.
    with pytest.raises(AuditEntryImmutable):
        recorder.complete(entries[2], outcome=Outcome.FAILED)
    result = verify()
    assert result.ok, result.message
    assert result.verified_seq == 10


@pytest.mark.django_db
def test_a_deleted_entry_is_found():
    entries = write_some_entries()
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [entries[1].pk])  # noqa: S608
    result = verify()
    assert not result.ok
    assert result.message.startswith("link 2 is missing")
    assert "deleted" in result.message
    assert result.verified_seq == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("upstream_message", "success"),  # a rejection rewritten
        ("outcome", "succeeded"),
        ("code", "OTHER"),
        ("actor_ip", "10.9.9.9"),
        ("request_body", json.dumps({**BODY, "status_no": "FAKE"})),
    ],
)
def test_an_entry_changed_behind_disabled_triggers_is_found(column, value):
    entries = write_some_entries()
    raw(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [value, entries[0].pk])  # noqa: S608
    result = verify()
    assert not result.ok
    assert "does not match its hash" in result.message
    assert f"entry {entries[0].pk}" in result.message


@pytest.mark.django_db
def test_a_pending_entry_rewritten_as_finished_is_found():
    entries = write_some_entries()
    raw(
        f"UPDATE {TABLE} SET outcome = 'succeeded', finished_at = started_at WHERE id = %s",  # noqa: S608
        [entries[2].pk],
    )
    result = verify()
    assert not result.ok
    assert (
        f"entry {entries[2].pk} is finished but its completion is not in the chain"
        in result.message
    )


@pytest.mark.django_db
def test_a_forged_entry_inserted_behind_the_chain_is_found():
    write_some_entries()
    forged = AuditEntry(
        operation="status.delete", record_kind="status", code="VIP", started_at=timezone.now()
    )
    AuditEntry.objects.bulk_create([forged])  # no link: as a raw INSERT would
    result = verify()
    assert not result.ok
    assert f"entry {forged.pk} is outside the chain" in result.message


@pytest.mark.django_db
def test_a_forged_entry_given_links_without_the_key_is_found(settings):
    write_some_entries()
    real_key = settings.AUDIT_CHAIN_KEY
    settings.AUDIT_CHAIN_KEY = "a key the forger guessed"
    forged = AuditEntry.objects.create(
        operation="status.delete",
        record_kind="status",
        code="VIP",
        started_at=timezone.now(),
        outcome="succeeded",
    )
    settings.AUDIT_CHAIN_KEY = real_key
    result = verify()
    assert not result.ok
    assert f"link 10 (entry {forged.pk}) does not match its hash" in result.message


@pytest.mark.django_db
def test_a_truncated_table_is_found_by_the_last_verification():
    write_some_entries()
    assert chain.verify_and_record().ok
    raw(f"DELETE FROM {TABLE}")  # noqa: S608 (TRUNCATE on PostgreSQL: test_privileges)
    recorder.begin(operation="status.create", record_kind="status", code="NEW", request_body=BODY)
    result = verify()
    assert not result.ok
    assert "an anchor records link 9 but the chain ends at link 1" in result.message


@pytest.mark.django_db
def test_entries_deleted_at_the_end_are_found_by_an_anchor_file(tmp_path):
    entries = write_some_entries()
    seq, made = chain.head()
    raw(f"DELETE FROM {TABLE} WHERE id >= %s", [entries[3].pk])  # noqa: S608
    assert verify().ok  # a shorter chain, consistent in itself...
    result = verify(anchors={seq: made})
    assert not result.ok  # ...but the anchor copied earlier is not in it
    assert "an anchor records link 9 but the chain ends at link 5" in result.message


@pytest.mark.django_db
def test_an_anchor_that_differs_from_its_link_is_found():
    write_some_entries()
    result = verify(anchors={4: "f" * 64})
    assert not result.ok
    assert result.message.startswith("link 4 ")
    assert "differs from its anchor" in result.message


@pytest.mark.django_db
def test_the_head_is_anchored_to_the_log_and_the_file_periodically(settings, tmp_path, caplog):
    settings.AUDIT_ANCHOR_EVERY = 4
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")
    with caplog.at_level("INFO", logger="crmadmin.audit.chain"), django_capture_on_commit():
        write_some_entries()
    anchors = chain.read_anchors(settings.AUDIT_ANCHOR_FILE)
    assert sorted(anchors) == [4, 8]
    assert f"audit chain anchor seq=8 hash={anchors[8]}" in caplog.text
    assert verify(anchors=anchors).ok


def django_capture_on_commit():
    """Run on_commit callbacks inside the test's transaction, as a real commit would."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


@pytest.mark.django_db
def test_audit_verify_reports_and_records_its_result(tmp_path, capsys):
    entries = write_some_entries()
    call_command("audit_verify")
    assert "audit chain verified: 9 links, up to link 9" in capsys.readouterr().out
    good = ChainVerification.objects.get()
    assert (good.ok, good.verified_seq, good.verified_entry_id) == (True, 9, entries[-1].pk)

    raw(f"DELETE FROM {TABLE} WHERE id = %s", [entries[3].pk])  # noqa: S608
    anchor_file = tmp_path / "anchors.jsonl"
    anchor_file.write_text(json.dumps({"seq": 9, "hash": chain.head()[1]}) + "\n")
    with pytest.raises(SystemExit) as exited:
        call_command("audit_verify", anchors=str(anchor_file))
    assert exited.value.code == 1
    assert "audit chain BROKEN after link 5" in capsys.readouterr().err
    assert chain.latest_verification().ok is False


@pytest.mark.django_db
def test_audit_verify_refuses_a_mangled_anchor(tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "anchors.jsonl"
    bad.write_text("not json\n")
    with pytest.raises(CommandError, match="line 1"):
        call_command("audit_verify", anchors=str(bad))
    with pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("audit_verify", anchor=["12:short"])
    with pytest.raises(CommandError, match="--workers"):
        call_command("audit_verify", workers=0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's test database is one connection; PostgreSQL runs writers at once")
    barrier = threading.Barrier(6)
    errors = []

    def writer(index: int) -> None:
        from django.db import connection as own

        try:
            barrier.wait()
            for number in range(15):
                entry = recorder.begin(
                    operation="status.update",
                    record_kind="status",
                    code=f"W{index}-{number}",
                    request_body=BODY,
                )
                recorder.complete(entry, outcome=Outcome.SUCCEEDED)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = verify()
    assert result.ok, result.message
    assert result.links == 6 * 15 * 2


@pytest.mark.django_db
def test_the_dashboard_shows_how_far_the_chain_was_verified_and_the_last_result(
    client, manager_user
):
    from django.urls import reverse

    client.force_login(manager_user)
    page = client.get(reverse("audit:dashboard")).text
    assert 'data-chain="unverified"' in page
    assert "has not been verified yet" in page

    entries = write_some_entries()  # after the manager's sign-in: links 3 to 11
    call_command("audit_verify")
    page = client.get(reverse("audit:dashboard")).text
    assert 'data-chain="verified"' in page
    assert f"Chain verified up to entry {entries[-1].pk} (link 11) at " in page

    raw(f"UPDATE {TABLE} SET code = 'X' WHERE id = %s", [entries[4].pk])  # noqa: S608
    with pytest.raises(SystemExit):
        call_command("audit_verify")
    page = client.get(reverse("audit:dashboard")).text
    assert 'data-chain="broken"' in page
    assert "found the chain broken after link 9:" in page
    assert f"link 10 (entry {entries[4].pk}) does not match its hash" in page
    assert f"Chain verified up to entry {entries[-1].pk} (link 11)" in page  # the last good run


# --- Speed without blind spots: what the fast verifier relies on ------------------------

TRICKY_JSON = [
    {"b": 1, "a": 2, "aa": [1, 2.5, "ắ"], "ắ": None, "z": True, "é": False},
    {"😀": 1, "ab": 2, "abcd": 3, "é": 4, "": [{}, [], [[]]]},
    {1: "an int key", "1": "the same key as text: the last one stays"},
    'x\n"\\\t\x01\x1f\u2028 Nguyễn',
    [1.0, -0.0, 1e16, 1e15, 1.5e-7, 1e-5, 2.5e300, 5e-324, 0.1 + 0.2, 10**30, -5],
    {"customer_phones": ["0901234567", "0912345678"], "customer_name": "Trần Thị Bích"},
]


@pytest.mark.django_db
def test_the_writers_jsonb_text_is_postgresqls_own():
    """On PostgreSQL a link hashes a JSON column as jsonb writes it back (``::text``), so
    the verifier reads it without parsing; the writer makes that text in Python."""
    if connection.vendor != "postgresql":
        pytest.skip("jsonb is PostgreSQL's")
    from psycopg.types.json import Jsonb

    with connection.cursor() as cursor:
        for value in TRICKY_JSON:
            cursor.execute("SELECT %s::jsonb::text", [Jsonb(value)])
            assert chain.jsonb_text(value) == cursor.fetchone()[0], value


def test_the_verifiers_hmac_is_hmac_sha256():
    import hashlib
    import hmac

    for key in (b"", b"short", b"k" * 64, b"a key longer than one block of SHA-256 " * 3):
        for message in (b"", b"0" * 64 + b"\n1\ncode=VIP", "ắ".encode() * 500):
            expected = hmac.digest(key, message, hashlib.sha256).hex()
            assert chain._Mac(key).hexdigest(message) == expected


@pytest.mark.django_db
def test_entries_with_every_kind_of_value_verify(make_entry):
    make_entry(actor_ip="2001:db8::7", request_body=TRICKY_JSON[0], upstream_data=TRICKY_JSON[4])
    make_entry(actor_ip="10.0.0.7", snapshot_before=TRICKY_JSON[1], upstream_data=1.5e-7)
    make_entry(upstream_message="line one\nline two\n", upstream_data=TRICKY_JSON[3])
    make_entry(started_at=timezone.now().replace(microsecond=0), upstream_data=TRICKY_JSON[2])
    make_entry(outcome=Outcome.PENDING, request_body={}, snapshot_before=[])
    result = verify()
    assert result.ok, result.message
    assert result.links == 9


@pytest.mark.django_db
def test_links_written_before_jsonb_text_was_the_form_still_verify(monkeypatch):
    """PostgreSQL's links made before December 2026 hashed JSON with sorted keys and no
    spaces: those entries still verify, and a change to one is still found."""
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL's JSON form changed")
    with monkeypatch.context() as older:
        older.setattr(chain, "jsonb_text", chain._json)
        entries = write_some_entries()
    write_some_entries()  # and the current form after them
    result = verify()
    assert result.ok, result.message
    assert result.links == 18

    raw(f"UPDATE {TABLE} SET request_body = %s WHERE id = %s", [json.dumps(BODY), entries[1].pk])  # noqa: S608
    assert verify().ok  # the same JSON value, written again: nothing changed
    changed = json.dumps({**BODY, "status_no": "FAKE"})
    raw(f"UPDATE {TABLE} SET request_body = %s WHERE id = %s", [changed, entries[1].pk])  # noqa: S608
    result = verify()
    assert not result.ok
    assert f"link 2 (entry {entries[1].pk}) does not match its hash" in result.message


# --- A long chain is walked in stretches at once ----------------------------------------


@pytest.fixture
def stretches(monkeypatch):
    """Nine links count as a long chain: walked in stretches 1-4 and 5-9 (two workers)."""
    monkeypatch.setattr(chain, "SPLIT_FROM_LINKS", 2)


@pytest.mark.django_db
def test_stretches_verify_an_honest_chain_as_one_walk(stretches):
    entries = write_some_entries()
    whole, split = chain.verify(workers=1), chain.verify(workers=2)
    assert split == whole
    assert (split.ok, split.links, split.verified_seq) == (True, 9, 9)
    assert split.verified_entry_id == entries[-1].pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("workers", "deleted", "message"),
    [
        (2, 0, "link 1 is missing (the next one is 2"),  # the first link of all
        (2, 2, "link 5 is missing (the next one is 6"),  # the second stretch's first link
        # Links 6 and 7 (the local event): the end of stretch 4-6, the start of 7-9.
        (3, 3, "link 6 is missing (the next one is 8"),
    ],
)
def test_stretches_find_a_deleted_entry_at_their_edges(stretches, workers, deleted, message):
    entries = write_some_entries()
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [entries[deleted].pk])  # noqa: S608
    result = chain.verify(workers=workers)
    assert not result.ok
    assert result.message.startswith(message), result.message
    assert result == chain.verify(workers=1)


@pytest.mark.django_db
def test_stretches_find_a_change_and_a_wrong_anchor_in_the_second_stretch(stretches):
    entries = write_some_entries()
    assert not chain.verify(anchors={7: "f" * 64}, workers=2).ok
    raw(f"UPDATE {TABLE} SET code = 'X' WHERE id = %s", [entries[4].pk])  # noqa: S608
    result = chain.verify(workers=2)
    assert not result.ok
    assert f"link 8 (entry {entries[4].pk}) does not match its hash" in result.message
    assert (result.links, result.verified_seq) == (7, 7)
    assert result == chain.verify(workers=1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_stretches_are_walked_by_processes_of_their_own(stretches, monkeypatch):
    """Outside a transaction, in a process of one thread (``manage.py audit_verify``),
    the stretches are walked by forked processes, each on its own connection, and find
    what one walk finds. (The test suite's live servers are threads: set aside here.)"""
    from concurrent import futures

    monkeypatch.setattr(chain.threading, "active_count", lambda: 1)
    pools = []
    monkeypatch.setattr(
        chain,
        "ProcessPoolExecutor",
        lambda **kwargs: pools.append(kwargs) or futures.ProcessPoolExecutor(**kwargs),
    )
    entries = write_some_entries()
    assert chain.verify(workers=2) == chain.verify(workers=1)
    assert chain.verify(workers=2).ok
    raw(f"UPDATE {TABLE} SET outcome = 'succeeded' WHERE id = %s", [entries[4].pk])  # noqa: S608
    result = chain.verify(workers=2)
    assert not result.ok
    assert f"link 9 (entry {entries[4].pk}) does not match its hash" in result.message
    assert result == chain.verify(workers=1)
    assert [pool["max_workers"] for pool in pools] == [2, 2, 2]
