"""The only writers of the reference-code register.

Each service sends one call to the CRM through the upstream client, which records it in
the audit log; the register changes only in the client's ``on_success`` callback, inside
the transaction that completes the audit entry. A rejected or failed call raises an
``UpstreamError`` and leaves the register (and the record passed in) as it was.

A change of an existing code holds its write lock (``core.locks``) from the version check
(``core.versions``) to the register change, which is one targeted UPDATE of the row that
still has the code, never a save of a row loaded earlier.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crmadmin.audit.events import REGISTER_ADOPT, record_events, register_event
from crmadmin.codes import selectors
from crmadmin.codes.models import CodeRecord
from crmadmin.core.actors import actor_or_none
from crmadmin.core.locks import holder_name, record_lock
from crmadmin.core.text import fold
from crmadmin.core.versions import check_version
from crmadmin.kinds import RecordKind
from crmadmin.upstream import call, guarded


class CodeError(Exception):
    """A change the register refuses before anything is sent to the CRM."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


class CodeTaken(CodeError):
    pass


class CodeInUse(CodeError):
    def __init__(self, kind: RecordKind, usage: int):
        super().__init__(
            _("This %(kind)s cannot be deleted: %(usage)s %(advice)s")
            % {
                "kind": kind.label,
                "usage": kind.usage_label % {"count": usage},
                "advice": kind.in_use_advice,
            }
        )
        self.usage = usage


def _check_details(kind: RecordKind, details: dict[str, str]) -> None:
    unknown = set(details) - {detail.attr for detail in kind.details}
    if unknown:
        raise TypeError(f"{kind.slug} have no {', '.join(sorted(unknown))}")


def _refuse_taken(kind: RecordKind, code: str, exclude: CodeRecord | None = None) -> None:
    clash = selectors.code_taken(kind=kind, code=code, exclude=exclude)
    if clash is not None:
        raise CodeTaken(
            _("The code %(code)s is already taken by the %(kind)s “%(name)s”.")
            % {"code": clash.code, "kind": kind.label, "name": clash.name}
        )


def code_create(
    *,
    kind: RecordKind,
    actor: AbstractBaseUser | None,
    code: str,
    name: str,
    **details: str,
) -> CodeRecord:
    """Create a code in the CRM, then in the register; returns the new record."""
    _check_details(kind, details)
    code = code.strip()
    _refuse_taken(kind, code)
    user = actor_or_none(actor)

    def register(_result) -> CodeRecord:
        return kind.model.objects.create(
            code=code, name=name, created_by=user, updated_by=user, **details
        )

    result = call(
        kind.operation("create"),
        kind.upsert_body(code=code, name=name, details=details),
        actor=user,
        snapshot=None,
        on_success=guarded(register),
    )
    return result.value


def code_update(
    *,
    kind: RecordKind,
    actor: AbstractBaseUser | None,
    record: CodeRecord,
    name: str,
    version: int | None = None,
    **details: str,
) -> CodeRecord:
    """Change a code's name (and description / field type) in the CRM, then in the register.

    ``version`` is the one the form was opened at (default: ``record``'s); a record changed
    since is refused with ``StaleRecord`` before anything is sent.
    """
    _check_details(kind, details)
    user = actor_or_none(actor)
    with _locked(kind, [record.code], user, "update"):
        current = _current(kind, record, version)
        before = kind.snapshot(current)

        def register(_result) -> CodeRecord:
            return register_update(
                kind=kind, code=current.code, name=name, details=details, actor=user
            )

        result = call(
            kind.operation("update"),
            kind.upsert_body(code=current.code, name=name, details=details, before=before),
            actor=user,
            snapshot=before,
            on_success=guarded(register),
        )
    _refresh(record, result.value)
    return result.value


def code_rename(
    *,
    kind: RecordKind,
    actor: AbstractBaseUser | None,
    record: CodeRecord,
    new_code: str,
    version: int | None = None,
) -> CodeRecord:
    """Change a code in the CRM, then in the register; customers stay attached (by key)."""
    new_code = new_code.strip()
    user = actor_or_none(actor)
    with _locked(kind, [record.code, new_code], user, "rename"):
        current = _current(kind, record, version)
        _refuse_taken(kind, new_code, exclude=current)
        before = kind.snapshot(current)

        def register(_result) -> CodeRecord:
            return register_rename(kind=kind, old_code=current.code, new_code=new_code, actor=user)

        result = call(
            kind.operation("rename"),
            kind.rename_body(old_code=current.code, new_code=new_code),
            actor=user,
            snapshot=before,
            on_success=guarded(register),
        )
    _refresh(record, result.value)
    return result.value


def code_delete(
    *,
    kind: RecordKind,
    actor: AbstractBaseUser | None,
    record: CodeRecord,
    version: int | None = None,
) -> None:
    """Delete an unused code in the CRM, then from the register.

    A code in use is refused here, before anything is sent: the CRM would leave those
    customers pointing at a code it no longer knows.
    """
    user = actor_or_none(actor)
    with _locked(kind, [record.code], user, "delete"):
        current = _current(kind, record, version)
        usage = selectors.code_usage(kind=kind, record=current)
        if usage:
            raise CodeInUse(kind, usage)
        before = kind.snapshot(current)

        def register(_result) -> None:
            register_remove(kind=kind, code=current.code)

        call(
            kind.operation("delete"),
            kind.delete_body(code=current.code),
            actor=user,
            snapshot=before,
            on_success=guarded(register),
        )


# --- The register's side, also used by reconciliation (from an entry's wire body) ------


class RegisterConflict(Exception):
    """The register's row is not what the change expects (gone, or another code)."""


def details_of(kind: RecordKind, body: Mapping[str, Any]) -> dict[str, str]:
    """The kind's details a create/update wire body carries (absent ones as "")."""
    return {detail.attr: str(body.get(detail.wire_key) or "") for detail in kind.details}


def register_upsert(
    *, kind: RecordKind, body: Mapping[str, Any], actor: AbstractBaseUser | None
) -> CodeRecord:
    """Make the register's record what a create/update body says (the CRM confirmed it)."""
    code = str(body[kind.key("no")]).strip()
    name = str(body.get(kind.key("name")) or "")
    details = details_of(kind, body)
    if kind.model.objects.filter(code=code).exists():
        return register_update(kind=kind, code=code, name=name, details=details, actor=actor)
    user = actor_or_none(actor)
    return kind.model.objects.create(
        code=code, name=name, created_by=user, updated_by=user, **details
    )


def register_update(
    *,
    kind: RecordKind,
    code: str,
    name: str,
    details: Mapping[str, str],
    actor: AbstractBaseUser | None,
) -> CodeRecord:
    """One UPDATE of the row that still has ``code`` (never a save of a row loaded earlier)."""
    updated = kind.model.objects.filter(code=code).update(
        name=name,
        search_text=fold(f"{code} {name}"),
        updated_by=actor_or_none(actor),
        updated_at=timezone.now(),
        version=F("version") + 1,
        **details,
    )
    if updated != 1:
        raise RegisterConflict(f"{kind.name} {code} is no longer in the register")
    return kind.model.objects.get(code=code)


def register_rename(
    *, kind: RecordKind, old_code: str, new_code: str, actor: AbstractBaseUser | None
) -> CodeRecord:
    current = kind.model.objects.filter(code=old_code).first()
    if current is None:
        raise RegisterConflict(f"{kind.name} {old_code} is no longer in the register")
    if old_code != new_code:
        updated = kind.model.objects.filter(pk=current.pk, code=old_code).update(
            code=new_code,
            search_text=fold(f"{new_code} {current.name}"),
            updated_by=actor_or_none(actor),
            updated_at=timezone.now(),
            version=F("version") + 1,
        )
        if updated != 1:
            raise RegisterConflict(f"{kind.name} {old_code} changed meanwhile")
    return kind.model.objects.get(pk=current.pk)


def register_remove(*, kind: RecordKind, code: str) -> bool:
    deleted, _ = kind.model.objects.filter(code=code).delete()
    return bool(deleted)


def _current(kind: RecordKind, record: CodeRecord, version: int | None) -> CodeRecord:
    return check_version(
        kind.model,
        pk=record.pk,
        code=record.code,
        version=record.version if version is None else version,
    )


def _refresh(record: CodeRecord, current: CodeRecord) -> None:
    """Callers keep their object: it now shows the register's row as changed."""
    for field in type(record)._meta.concrete_fields:
        setattr(record, field.attname, getattr(current, field.attname))


def _locked(kind: RecordKind, codes: list[str], actor, action: str):
    return record_lock(
        kind.name, codes, holder=holder_name(actor), operation=kind.operation(action)
    )


def codes_adopt(
    *,
    kind: RecordKind,
    actor: AbstractBaseUser | None,
    records: Sequence[Mapping[str, Any]],
) -> int:
    """Add (or bring up to date) codes the CRM already holds, with no CRM call.

    Each record is ``{"code", "name", <details>..., "event": {...}}``; each arrival is a
    ``register.adopt`` event in the audit log, with the register's previous state as its
    snapshot when the code was already known. Returns how many were written.
    """
    user = actor_or_none(actor)
    attrs = [detail.attr for detail in kind.details]
    with transaction.atomic():
        existing = kind.model.objects.in_bulk(
            [record["code"] for record in records], field_name="code"
        )
        events = []
        fresh = []
        for record in records:
            values = {attr: record[attr] for attr in ("name", *attrs) if attr in record}
            current = existing.get(record["code"])
            snapshot = None
            if current is None:
                new = kind.model(code=record["code"], created_by=user, updated_by=user, **values)
                new.search_text = fold(f"{new.code} {new.name}")  # save() is not called
                fresh.append(new)
            else:
                snapshot = kind.snapshot(current)
                for attr, value in values.items():
                    setattr(current, attr, value)
                current.updated_by = user
                current.save(update_fields=[*values, "updated_by"])
            events.append(
                register_event(
                    event=REGISTER_ADOPT,
                    actor=actor,
                    record_kind=kind.name,
                    code=record["code"],
                    details=dict(record.get("event", {})),
                    snapshot_before=snapshot,
                )
            )
        kind.model.objects.bulk_create(fresh)
        record_events(events)
    return len(records)


def code_adopt_verified(
    *, kind: RecordKind, actor: AbstractBaseUser | None, record: Mapping[str, Any]
) -> None:
    """Adopt one code after the CRM confirmed it holds it: an update with the file's
    values (one audited call), then :func:`codes_adopt` in the transaction that completes
    the audit entry. A rejection raises the ``UpstreamError``; the register stays as it was."""
    current = kind.model.objects.filter(code=record["code"]).first()
    before = kind.snapshot(current) if current is not None else None
    details = {d.attr: record[d.attr] for d in kind.details if d.attr in record}
    call(
        kind.operation("update"),
        kind.upsert_body(code=record["code"], name=record["name"], details=details, before=before),
        actor=actor_or_none(actor),
        snapshot=before,
        on_success=lambda _result: codes_adopt(kind=kind, actor=actor, records=[record]),
    )
