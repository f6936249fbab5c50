"""The only writers of the reference-code register.

Each service sends one call to the CRM through the upstream client, which records it in
the audit log; the register changes only in the client's ``on_success`` callback, inside
the transaction that completes the audit entry. A rejected or failed call raises an
``UpstreamError`` and leaves the register (and the record passed in) as it was.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from crmadmin.codes import selectors
from crmadmin.codes.kinds import CodeKind
from crmadmin.codes.models import CodeRecord
from crmadmin.upstream import call


class CodeError(Exception):
    """A change the register refuses before anything is sent to the CRM."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


class CodeTaken(CodeError):
    pass


class CodeInUse(CodeError):
    def __init__(self, kind: CodeKind, usage: int):
        super().__init__(
            _("This %(kind)s cannot be deleted: %(usage)s %(advice)s")
            % {
                "kind": kind.label,
                "usage": kind.usage_label % {"count": usage},
                "advice": kind.in_use_advice,
            }
        )
        self.usage = usage


def _actor_or_none(actor: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return actor if actor is not None and actor.is_authenticated else None


def _check_details(kind: CodeKind, details: dict[str, str]) -> None:
    unknown = set(details) - {detail.attr for detail in kind.details}
    if unknown:
        raise TypeError(f"{kind.slug} have no {', '.join(sorted(unknown))}")


def _refuse_taken(kind: CodeKind, code: str, exclude: CodeRecord | None = None) -> None:
    clash = selectors.code_taken(kind=kind, code=code, exclude=exclude)
    if clash is not None:
        raise CodeTaken(
            _("The code %(code)s is already taken by the %(kind)s “%(name)s”.")
            % {"code": clash.code, "kind": kind.label, "name": clash.name}
        )


def code_create(
    *,
    kind: CodeKind,
    actor: AbstractBaseUser | None,
    code: str,
    name: str,
    **details: str,
) -> CodeRecord:
    """Create a code in the CRM, then in the register; returns the new record."""
    _check_details(kind, details)
    code = code.strip()
    _refuse_taken(kind, code)
    user = _actor_or_none(actor)

    def register(_result) -> CodeRecord:
        return kind.model.objects.create(
            code=code, name=name, created_by=user, updated_by=user, **details
        )

    result = call(
        kind.operation("create"),
        kind.upsert_body(code=code, name=name, details=details),
        actor=user,
        snapshot=None,
        on_success=register,
    )
    return result.value


def code_update(
    *,
    kind: CodeKind,
    actor: AbstractBaseUser | None,
    record: CodeRecord,
    name: str,
    **details: str,
) -> CodeRecord:
    """Change a code's name (and description / field type) in the CRM, then in the register."""
    _check_details(kind, details)
    before = kind.snapshot(record)
    user = _actor_or_none(actor)

    def register(_result) -> CodeRecord:
        record.name = name
        for attr, value in details.items():
            setattr(record, attr, value)
        record.updated_by = user
        record.save(update_fields=["name", "updated_by", *details])
        return record

    result = call(
        kind.operation("update"),
        kind.upsert_body(code=record.code, name=name, details=details, before=before),
        actor=user,
        snapshot=before,
        on_success=register,
    )
    return result.value


def code_rename(
    *,
    kind: CodeKind,
    actor: AbstractBaseUser | None,
    record: CodeRecord,
    new_code: str,
) -> CodeRecord:
    """Change a code in the CRM, then in the register; customers stay attached (by key)."""
    new_code = new_code.strip()
    _refuse_taken(kind, new_code, exclude=record)
    before = kind.snapshot(record)
    user = _actor_or_none(actor)

    def register(_result) -> CodeRecord:
        record.code = new_code
        record.updated_by = user
        record.save(update_fields=["code", "updated_by"])
        return record

    result = call(
        kind.operation("rename"),
        kind.rename_body(old_code=record.code, new_code=new_code),
        actor=user,
        snapshot=before,
        on_success=register,
    )
    return result.value


def code_delete(*, kind: CodeKind, actor: AbstractBaseUser | None, record: CodeRecord) -> None:
    """Delete an unused code in the CRM, then from the register.

    A code in use is refused here, before anything is sent: the CRM would leave those
    customers pointing at a code it no longer knows.
    """
    usage = selectors.code_usage(kind=kind, record=record)
    if usage:
        raise CodeInUse(kind, usage)
    before = kind.snapshot(record)
    user = _actor_or_none(actor)

    def register(_result) -> None:
        kind.model.objects.filter(pk=record.pk).delete()

    call(
        kind.operation("delete"),
        kind.delete_body(code=record.code),
        actor=user,
        snapshot=before,
        on_success=register,
    )
