"""Resolving divergences: safe probes (ordinary audited calls), register repairs, restores.

Every call goes through the upstream client (audited write-ahead, under the record's
write lock, within the call budget); its register change happens in the same
transaction that completes its entry. Each step leaves a ``Resolution`` linked to the
divergent entry and to the call it made; audit entries are never changed.

A probe answered with a rejection code the meanings table does not know leaves the item
open with the CRM's answer and asks a person what it means (``interpret``).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from crmadmin.audit import recorder
from crmadmin.audit.models import AuditEntry, Outcome
from crmadmin.core.locks import holder_name, record_lock
from crmadmin.customers.services import MissingReferences, references_of
from crmadmin.reconcile import selectors
from crmadmin.reconcile.kinds import RecordKind, kind_of, without_tenant
from crmadmin.reconcile.models import Action, Resolution
from crmadmin.upstream import UpstreamError, UpstreamRejected, call, guarded
from crmadmin.upstream.rejections import Meaning, meaning_of

OK = "ok"
logger = logging.getLogger("crmadmin.reconcile")


class CannotResolve(Exception):
    """The step does not apply to this item (already closed, wrong case, missing rights)."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


@dataclass
class Answer:
    """A probe's answer: success (``OK``), a known meaning, or an unmapped rejection."""

    value: str | Meaning | None
    entry: AuditEntry
    error: UpstreamRejected | None = None


def _user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _send(
    operation: str,
    body: dict[str, Any],
    *,
    actor,
    on_success: Callable[[Any], Any] | None = None,
) -> Answer:
    """One audited call. Rejections come back as answers; other failures raise."""
    try:
        result = call(
            operation,
            without_tenant(body),
            actor=_user(actor),
            on_success=guarded(on_success) if on_success else None,
        )
    except UpstreamRejected as error:
        entry = AuditEntry.objects.get(request_id=error.request_id)
        return Answer(meaning_of(error), entry, error)
    return Answer(OK, result.entry)


def _resolve(
    item_entry: AuditEntry,
    *,
    action: str,
    actor,
    finding: str,
    closes: bool,
    probe: AuditEntry | None = None,
    offer: str = "",
    step: str = "",
) -> Resolution:
    user = _user(actor)
    selectors.forget_count()
    return Resolution.objects.create(
        entry=item_entry,
        probe=probe,
        action=action,
        finding=finding,
        closes=closes,
        offer=offer,
        step=step,
        actor=user,
        actor_username=user.get_username() if user else "",
    )


def _open_item(entry: AuditEntry) -> selectors.Item:
    item = selectors.item_for(entry)
    if item is None:
        raise CannotResolve(_("This item is already resolved."))
    return item


def _settled(item: selectors.Item, answer: Answer, actor, finding, *, action=Action.PROBE):
    """``answer`` settles the item: it is closed with ``finding``, linked to the call."""
    return _resolve(
        item.entry, action=action, actor=actor, probe=answer.entry, closes=True, finding=finding
    )


def _unmapped(item: selectors.Item, answer: Answer, step: str, actor) -> Resolution:
    error = answer.error
    finding = _(
        "The CRM answered with a code this dashboard does not know: %(message)s (error "
        "%(code)s). Choose what it means."
    ) % {"message": error.upstream_message or "—", "code": error.error_code}
    return _resolve(
        item.entry,
        action=Action.PROBE,
        actor=actor,
        finding=finding,
        closes=False,
        probe=answer.entry,
        offer="choose",
        step=step,
    )


def _upsert(kind: RecordKind, body: dict[str, Any], actor) -> Callable[[Any], Any]:
    return lambda _result: kind.upsert(body=without_tenant(body), actor=_user(actor))


# --- Steps: each takes the item and a probe's answer (or sends its probe) -------------


def _after_create_probe(item, answer: Answer, actor) -> Resolution:
    if answer.value == OK:
        return _settled(
            item,
            answer,
            actor,
            _(
                "The CRM has the record and now holds what was intended; it was added "
                "to the register."
            ),
        )
    if answer.value == Meaning.NOT_FOUND:
        return _resolve(
            item.entry,
            action=Action.PROBE,
            actor=actor,
            probe=answer.entry,
            closes=False,
            offer="resend",
            finding=_(
                "The CRM does not have the record: the create never happened. It can be sent again."
            ),
        )
    return _unmapped(item, answer, "create", actor)


def _after_update_probe(item, answer: Answer, actor) -> Resolution:
    if answer.value == OK:
        finding = _("The CRM accepted the same update again; the register follows it.")
    elif answer.value == Meaning.NOT_FOUND:
        finding = _("The CRM does not know the record: it is now listed as an orphan.")
    else:
        return _unmapped(item, answer, "update", actor)
    return _settled(item, answer, actor, finding)


def _after_delete_probe(item, answer: Answer, actor) -> Resolution:
    if answer.value in (OK, Meaning.NOT_FOUND):
        if answer.value == Meaning.NOT_FOUND:
            item.kind.remove(code=item.entry.code)
        return _settled(
            item,
            answer,
            actor,
            _("The CRM no longer has the record; it was removed from the register."),
        )
    return _unmapped(item, answer, "delete", actor)


def _after_rename_probe(item, answer: Answer, actor, step: str) -> Resolution:
    """``step`` "rename-new": an update under the new code; "rename-old": under the old."""
    if step == "rename-new":
        if answer.value == OK:
            return _settled(
                item,
                answer,
                actor,
                _("The CRM knows the record by the new code; the register follows."),
            )
        if answer.value != Meaning.NOT_FOUND:
            return _unmapped(item, answer, step, actor)
        return _rename_probe_old(item, actor)
    if answer.value == OK:
        finding = _(
            "The CRM still knows the record by the old code: the change of code did "
            "not happen, and the register is right."
        )
    elif answer.value == Meaning.NOT_FOUND:
        finding = _("The CRM knows the record by neither code: it is now listed as an orphan.")
    else:
        return _unmapped(item, answer, step, actor)
    return _settled(item, answer, actor, finding)


def _rename_probe_old(item, actor) -> Resolution:
    entry, kind = item.entry, item.kind
    body = kind.body_of(entry.code)
    if body is None:
        raise CannotResolve(_("The register no longer has %(code)s.") % {"code": entry.code})
    answer = _send(kind.operation("update"), body, actor=actor)
    return _after_rename_probe(item, answer, actor, "rename-old")


def _probe_unknown(item, actor) -> Resolution:
    entry, kind = item.entry, item.kind
    body = without_tenant(entry.request_body)
    action = item.action
    if action == "create":
        answer = _send(
            kind.operation("update"), body, actor=actor, on_success=_upsert(kind, body, actor)
        )
        return _after_create_probe(item, answer, actor)
    if action == "update":
        answer = _send(
            kind.operation("update"), body, actor=actor, on_success=_upsert(kind, body, actor)
        )
        return _after_update_probe(item, answer, actor)
    if action == "delete":
        answer = _send(
            kind.operation("delete"),
            body,
            actor=actor,
            on_success=lambda _r: kind.remove(code=entry.code),
        )
        return _after_delete_probe(item, answer, actor)
    # A change of code: which code does the CRM know? Updates carrying the register's own
    # data (so they change nothing) under the new code, then under the old one.
    old, new = entry.code, entry.new_code
    with record_lock(kind.wire, [old, new], holder=holder_name(_user(actor)), operation="probe"):
        current = kind.body_of(old)
        if current is None:
            raise CannotResolve(_("The register no longer has %(code)s.") % {"code": old})
        under_new = {**current, kind.code_key: new}
        answer = _send(
            kind.operation("update"),
            under_new,
            actor=actor,
            on_success=lambda _r: kind.rename(old_code=old, new_code=new, actor=_user(actor)),
        )
        return _after_rename_probe(item, answer, actor, "rename-new")


def _reapply(item, actor) -> Resolution:
    """The CRM succeeded, the register did not follow: apply the entry's body, no call."""
    entry, kind = item.entry, item.kind
    body = without_tenant(entry.request_body)
    action = item.action
    if action in ("create", "update"):
        kind.upsert(body=body, actor=_user(actor))
    elif action == "rename":
        kind.rename(old_code=entry.code, new_code=entry.new_code, actor=_user(actor))
    else:
        kind.remove(code=entry.code)
    return _resolve(
        entry,
        action=Action.REAPPLY,
        actor=actor,
        closes=True,
        finding=_(
            "The register change was applied from the entry's request body; nothing "
            "was sent to the CRM."
        ),
    )


def probe(*, entry: AuditEntry, actor: AbstractBaseUser | None) -> Resolution:
    """The one safe step for an unknown outcome or a register failure."""
    item = _open_item(entry)
    if item.pending_step is not None:
        raise CannotResolve(_("This item waits for a decision; see below."))
    if item.category == selectors.UNKNOWN:
        return _probe_unknown(item, actor)
    if item.category == selectors.REGISTER:
        return _reapply(item, actor)
    raise CannotResolve(_("This item is resolved by one of the choices below."))


def resend_create(*, entry: AuditEntry, actor: AbstractBaseUser | None) -> Resolution:
    """After a probe found the create never happened: send it again."""
    item = _open_item(entry)
    step = item.pending_step
    if item.action != "create" or step is None or step.offer != "resend":
        raise CannotResolve(_("There is nothing to send again for this item."))
    body = without_tenant(entry.request_body)
    answer = _send(
        item.kind.operation("create"), body, actor=actor, on_success=_upsert(item.kind, body, actor)
    )
    if answer.value == OK:
        finding = _("The create was sent again and the CRM made it; the register has the record.")
    else:
        finding = _("The CRM refused the create sent again; see that call's entry.")
    return _settled(item, answer, actor, finding, action=Action.RESEND)


def recreate(*, entry: AuditEntry, actor: AbstractBaseUser | None) -> Resolution:
    """An orphan: create it again in the CRM from the register's data."""
    item = _open_item(entry)
    if item.category != selectors.ORPHAN:
        raise CannotResolve(_("Only an orphan can be created again."))
    body = item.kind.body_of(entry.code)
    if body is None:
        raise CannotResolve(_("The register no longer has %(code)s.") % {"code": entry.code})
    answer = _send(
        item.kind.operation("create"), body, actor=actor, on_success=_upsert(item.kind, body, actor)
    )
    return _after_recreate(item, answer, actor)


def _after_recreate(item, answer: Answer, actor) -> Resolution:
    if answer.value == OK:
        finding = _("The record was created again in the CRM from the register's data.")
    elif answer.value == Meaning.DUPLICATE_CODE:
        finding = _("The CRM says the record exists after all: nothing to repair.")
    else:
        return _unmapped(item, answer, "recreate", actor)
    return _settled(item, answer, actor, finding, action=Action.RECREATE)


def remove_from_register(*, entry: AuditEntry, actor: AbstractBaseUser | None) -> Resolution:
    """An orphan: remove it from the register only, recorded as a register event."""
    item = _open_item(entry)
    if item.category != selectors.ORPHAN:
        raise CannotResolve(_("Only an orphan can be removed from the register only."))
    kind = item.kind
    snapshot = kind.body_of(entry.code)
    event = recorder.begin(
        operation=f"{kind.wire}.register_remove",
        record_kind=kind.wire,
        code=entry.code,
        request_body={"reason": "orphan", "entry": entry.request_id},
        snapshot_before=snapshot,
        actor=_user(actor),
    )
    try:
        kind.remove(code=entry.code)
    except Exception as exc:
        recorder.complete(
            event,
            outcome=Outcome.FAILED,
            failure_kind="internal",
            error_detail=f"{type(exc).__name__}: {exc}",
        )
        raise
    recorder.complete(
        event,
        outcome=Outcome.SUCCEEDED,
        upstream_message="removed from the register only; no CRM call",
    )
    return _resolve(
        entry,
        action=Action.REMOVE,
        actor=actor,
        probe=event,
        closes=True,
        finding=_("Removed from the register only; the CRM was not called."),
    )


def adopt(*, entry: AuditEntry, actor: AbstractBaseUser | None) -> Resolution:
    """A record only in the CRM: send an update with the create's values and, on success,
    add it to the register."""
    item = _open_item(entry)
    if item.category != selectors.UPSTREAM:
        raise CannotResolve(_("Only a record the CRM has and the register lacks can be adopted."))
    body = without_tenant(entry.request_body)
    if item.kind.wire == "customer":
        try:
            references_of(body)
        except MissingReferences as missing:
            raise CannotResolve(missing_message(missing)) from None
    answer = _send(
        item.kind.operation("update"), body, actor=actor, on_success=_upsert(item.kind, body, actor)
    )
    return _after_adopt(item, answer, actor)


def _after_adopt(item, answer: Answer, actor) -> Resolution:
    if answer.value == OK:
        finding = _("The CRM's record now holds these values and the register has it.")
    elif answer.value == Meaning.NOT_FOUND:
        finding = _("The CRM does not have the record after all: there is nothing to adopt.")
    else:
        return _unmapped(item, answer, "adopt", actor)
    return _settled(item, answer, actor, finding, action=Action.ADOPT)


# What a person may say an unmapped code means, per step.
CHOICES = {
    "create": (Meaning.NOT_FOUND,),
    "update": (Meaning.NOT_FOUND,),
    "delete": (Meaning.NOT_FOUND,),
    "rename-new": (Meaning.NOT_FOUND,),
    "rename-old": (Meaning.NOT_FOUND,),
    "recreate": (Meaning.DUPLICATE_CODE,),
    "adopt": (Meaning.NOT_FOUND,),
}


def interpret(*, entry: AuditEntry, meaning: str, actor: AbstractBaseUser | None) -> Resolution:
    """A person says what the CRM's unmapped answer to the last probe meant."""
    item = _open_item(entry)
    step = item.pending_step
    if step is None or step.offer != "choose":
        raise CannotResolve(_("No answer waits for a decision here."))
    try:
        chosen = Meaning(meaning)
    except ValueError:
        raise CannotResolve(_("Choose one of the meanings offered.")) from None
    if chosen not in CHOICES.get(step.step, ()):
        raise CannotResolve(_("Choose one of the meanings offered."))
    _resolve(
        entry,
        action=Action.INTERPRET,
        actor=actor,
        probe=step.probe,
        closes=False,
        step=chosen.value,
        finding=_("%(user)s said the answer means “%(meaning)s”.")
        % {"user": holder_name(_user(actor)) or "—", "meaning": chosen.value},
    )
    item = _open_item(entry)
    answer = Answer(chosen, step.probe)
    match step.step:
        case "create":
            return _after_create_probe(item, answer, actor)
        case "update":
            return _after_update_probe(item, answer, actor)
        case "delete":
            return _after_delete_probe(item, answer, actor)
        case "rename-new" | "rename-old":
            return _after_rename_probe(item, answer, actor, step.step)
        case "recreate":
            return _after_recreate(item, answer, actor)
        case "adopt":
            return _after_adopt(item, answer, actor)
    raise CannotResolve(_("No answer waits for a decision here."))


# --- Restore a deleted record -----------------------------------------------------------


def missing_message(missing: MissingReferences) -> str:
    labels = {
        "status": _("status"),
        "type": _("type"),
        "group": _("group"),
        "field": _("custom field"),
    }
    parts = [f"{labels.get(kind, kind)} {code}" for kind, code in missing.missing]
    return _("The register no longer has: %(missing)s. Create them again first.") % {
        "missing": ", ".join(parts)
    }


def restore_plan(entry: AuditEntry) -> tuple[RecordKind, dict[str, Any]]:
    """What a restore of the delete ``entry`` would send; CannotResolve when it cannot."""
    if not entry.operation.endswith(".delete") or entry.outcome != Outcome.SUCCEEDED:
        raise CannotResolve(_("Only a succeeded delete can be restored."))
    if not entry.snapshot_before:
        raise CannotResolve(_("The delete's entry holds no snapshot of the record."))
    kind = kind_of(entry.record_kind)
    body = kind.body_from_snapshot(entry.snapshot_before)
    if kind.exists(body[kind.code_key]):
        raise CannotResolve(
            _("The register already has a %(kind)s %(code)s.")
            % {"kind": kind.label, "code": body[kind.code_key]}
        )
    if kind.wire == "customer":
        try:
            references_of(body)
        except MissingReferences as missing:
            raise CannotResolve(missing_message(missing)) from None
    return kind, body


def restore(*, entry: AuditEntry, actor: AbstractBaseUser | None) -> Resolution:
    """Create the deleted record again from the delete's snapshot; linked to the delete."""
    kind, body = restore_plan(entry)
    try:
        result = call(
            kind.operation("create"),
            body,
            actor=_user(actor),
            on_success=guarded(_upsert(kind, body, actor)),
        )
    except UpstreamError as error:
        raise CannotResolve(error.user_message) from error
    return _resolve(
        entry,
        action=Action.RESTORE,
        actor=actor,
        probe=result.entry,
        closes=True,
        finding=_("Restored from the snapshot taken before the delete."),
    )


def resolve_unambiguous(*, actor: AbstractBaseUser | None) -> dict[str, int]:
    """What ``reconcile --all`` does: probe every unknown outcome and re-apply every register
    failure; leave orphans, records only upstream and choices to people."""
    summary = {"resolved": 0, "waiting": 0, "left": 0, "failed": 0}
    for item in selectors.open_items():
        if not item.unambiguous:
            summary["left"] += 1
            continue
        try:
            resolution = probe(entry=item.entry, actor=actor)
        except Exception:
            # The probe's own entry says what went wrong (and is listed if it is unknown).
            logger.exception("reconcile: probing entry %s failed", item.entry.pk)
            summary["failed"] += 1
            continue
        summary["resolved" if resolution.closes else "waiting"] += 1
    return summary
