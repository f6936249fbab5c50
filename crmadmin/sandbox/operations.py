"""The 20 CRM calls the sandbox answers, as a table of (entity, action) → handler (``HANDLERS``).

The customer's four calls are written out; every reference-code kind of the registry
(``crmadmin.kinds``) gets the same four generic handlers, driven by its declaration.

Each handler reads the parsed JSON body (the tenant pair already checked), changes
the sandbox's tables and returns the envelope's ``data``, or raises ``Rejection``.
The caller runs it inside one short transaction.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from django.db.models import Q

from crmadmin.kinds import (
    CODE_MAX_LENGTH,
    CUSTOM_FIELDS_KEY,
    EMAIL_MAX_LENGTH,
    KINDS,
    NAME_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    RecordKind,
)
from crmadmin.sandbox.errors import ErrorCode, Rejection
from crmadmin.sandbox.models import SandboxCode, SandboxCustomer, SandboxFieldValue

# The kinds a sandbox customer points at: by a column of the same name, or (custom
# fields) through its values.
STATUS, TYPE, GROUP, FIELD = "status", "type", "group", "field"


class Body:
    """Typed reads of a call's JSON object, rejecting as the sandbox's error codes say."""

    def __init__(self, data: dict) -> None:
        self.data = data

    def text(self, key: str, *, required: bool = True, max_length: int | None = None) -> str:
        return _text(self.data.get(key), key, required=required, max_length=max_length)

    def phones(self, key: str) -> list[str]:
        value = self.data.get(key)
        if value is None:
            raise Rejection(ErrorCode.MISSING_KEY, f"Thiếu trường bắt buộc: {key}.")
        if not isinstance(value, list) or not all(isinstance(phone, str) for phone in value):
            raise Rejection(
                ErrorCode.WRONG_TYPE, f"Trường {key} phải là danh sách chuỗi ký tự (List<string>)."
            )
        if not value or not all(phone.strip() for phone in value):
            raise Rejection(
                ErrorCode.NO_PHONE,
                "Khách hàng phải có ít nhất một số điện thoại, và không số nào được để trống.",
            )
        for phone in value:
            if len(phone) > PHONE_MAX_LENGTH:
                raise Rejection(
                    ErrorCode.TOO_LONG,
                    f"Số điện thoại quá dài (tối đa {PHONE_MAX_LENGTH} ký tự): {phone}.",
                )
        return value

    def field_values(self, key: str) -> list[tuple[str, str]]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise Rejection(
                ErrorCode.WRONG_TYPE,
                f"Trường {key} phải là danh sách các đối tượng {{field_key, field_value}}.",
            )
        pairs: list[tuple[str, str]] = []
        for index, item in enumerate(value):
            where = f"{key}[{index}]"
            if not isinstance(item, dict):
                raise Rejection(
                    ErrorCode.WRONG_TYPE,
                    f"{where} phải là một đối tượng {{field_key, field_value}}.",
                )
            field_key = _text(
                item.get("field_key"), f"{where}.field_key", max_length=CODE_MAX_LENGTH
            )
            field_value = item.get("field_value")
            if field_value is None:
                raise Rejection(
                    ErrorCode.MISSING_KEY, f"Thiếu trường bắt buộc: {where}.field_value."
                )
            if not isinstance(field_value, str):
                raise Rejection(
                    ErrorCode.WRONG_TYPE, f"{where}.field_value phải là chuỗi ký tự (string)."
                )
            if any(field_key == seen for seen, _ in pairs):
                raise Rejection(
                    ErrorCode.WRONG_TYPE,
                    f"Trường thông tin {field_key} xuất hiện hai lần trong {key}.",
                )
            pairs.append((field_key, field_value))
        return pairs


def _text(value, key: str, *, required: bool = True, max_length: int | None = None) -> str:
    if value is None:
        if required:
            raise Rejection(ErrorCode.MISSING_KEY, f"Thiếu trường bắt buộc: {key}.")
        return ""
    if not isinstance(value, str):
        raise Rejection(ErrorCode.WRONG_TYPE, f"Trường {key} phải là chuỗi ký tự (string).")
    if required and not value.strip():
        raise Rejection(ErrorCode.MISSING_KEY, f"Trường bắt buộc {key} đang để trống.")
    if max_length is not None and len(value) > max_length:
        raise Rejection(ErrorCode.TOO_LONG, f"Trường {key} quá dài (tối đa {max_length} ký tự).")
    return value


# --- Statuses, types, groups, custom fields: one implementation over a table ----------


@dataclass(frozen=True)
class Attribute:
    wire_key: str
    column: str
    required: bool
    max_length: int | None


@dataclass(frozen=True)
class CodeKindSpec:
    """A reference-code kind as the sandbox stores and checks it, from its declaration.

    Details are stored in the ``SandboxCode`` column of the same name (``description``,
    ``field_type``): a kind with a detail of another name needs that column too.
    """

    kind: RecordKind

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def label(self) -> str:
        return self.kind.crm_label  # as the CRM's messages name it

    @property
    def code_key(self) -> str:
        return self.kind.code_key

    @property
    def attributes(self) -> tuple[Attribute, ...]:
        name = Attribute(self.kind.key("name"), "name", True, NAME_MAX_LENGTH)
        details = (
            Attribute(detail.wire_key, detail.attr, detail.required, detail.max_length)
            for detail in self.kind.details
        )
        return (name, *details)

    def values(self, body: Body) -> dict[str, str]:
        return {
            attribute.column: body.text(
                attribute.wire_key, required=attribute.required, max_length=attribute.max_length
            )
            for attribute in self.attributes
        }

    def usage(self, record: SandboxCode) -> int:
        """How many sandbox customers use ``record``."""
        if self.name == FIELD:
            return SandboxFieldValue.objects.filter(field=record).count()
        if self.name in (STATUS, TYPE, GROUP):
            return SandboxCustomer.objects.filter(**{self.name: record}).count()
        return 0


def _find_code(spec: CodeKindSpec, code: str) -> SandboxCode:
    record = SandboxCode.objects.filter(kind=spec.name, code=code).first()
    if record is None:
        raise Rejection(ErrorCode.UNKNOWN_CODE, f"Không tìm thấy {spec.label} có mã: {code}.")
    return record


def _refuse_duplicate_code(spec: CodeKindSpec, code: str) -> None:
    if SandboxCode.objects.filter(kind=spec.name, code=code).exists():
        raise Rejection(ErrorCode.DUPLICATE_CODE, f"Mã {spec.label} đã tồn tại: {code}.")


def _refuse_duplicate_group_name(name: str, *, other_than: SandboxCode | None = None) -> None:
    others = SandboxCode.objects.filter(kind=GROUP, name=name)
    if other_than is not None:
        others = others.exclude(pk=other_than.pk)
    if others.exists():
        raise Rejection(
            ErrorCode.DUPLICATE_GROUP_NAME, f"Tên nhóm khách hàng đã được dùng: {name}."
        )


def code_create(spec: CodeKindSpec, body: Body) -> str:
    code = body.text(spec.code_key, max_length=CODE_MAX_LENGTH)
    values = spec.values(body)
    _refuse_duplicate_code(spec, code)
    if spec.name == GROUP:
        _refuse_duplicate_group_name(values["name"])
    SandboxCode.objects.create(kind=spec.name, code=code, **values)
    return code


def code_update(spec: CodeKindSpec, body: Body) -> str:
    code = body.text(spec.code_key, max_length=CODE_MAX_LENGTH)
    values = spec.values(body)
    record = _find_code(spec, code)
    if spec.name == GROUP:
        _refuse_duplicate_group_name(values["name"], other_than=record)
    for column, value in values.items():
        setattr(record, column, value)
    record.save()
    return code


def code_rename(spec: CodeKindSpec, body: Body) -> str:
    old = body.text(f"{spec.code_key}_old", max_length=CODE_MAX_LENGTH)
    new = body.text(f"{spec.code_key}_new", max_length=CODE_MAX_LENGTH)
    record = _find_code(spec, old)
    if new != old:
        _refuse_duplicate_code(spec, new)
        record.code = new
        record.save(update_fields=["code"])
    return new


def code_delete(spec: CodeKindSpec, body: Body) -> bool:
    code = body.text(spec.code_key, max_length=CODE_MAX_LENGTH)
    record = _find_code(spec, code)
    in_use = spec.usage(record)
    if in_use:
        raise Rejection(
            ErrorCode.IN_USE,
            f"Không thể xóa {spec.label} {code}: đang được {in_use} khách hàng sử dụng.",
        )
    record.delete()
    return True


# --- Customers ---------------------------------------------------------------------


def _find_customer(code: str) -> SandboxCustomer:
    customer = SandboxCustomer.objects.filter(code=code).first()
    if customer is None:
        raise Rejection(ErrorCode.UNKNOWN_CODE, f"Không tìm thấy khách hàng có mã: {code}.")
    return customer


def _customer_values(body: Body) -> tuple[dict, list[tuple[SandboxCode, str]]]:
    """The customer's columns and custom-field values, all references resolved."""
    name = body.text("customer_name", max_length=NAME_MAX_LENGTH)
    phones = body.phones("customer_phones")
    address = body.text("customer_address", required=False)
    email = body.text("customer_email", required=False, max_length=EMAIL_MAX_LENGTH)
    status_code = body.text("customer_status_code", max_length=CODE_MAX_LENGTH)
    type_code = body.text("customer_type_code", max_length=CODE_MAX_LENGTH)
    group_name = body.text("customer_group_name", max_length=NAME_MAX_LENGTH)
    pairs = body.field_values(CUSTOM_FIELDS_KEY)

    # Every reference in one query (each call of a bulk job pays for it): the status and
    # type by code, the group by name, the fields by code; each unique within its kind.
    wanted = (
        Q(kind=STATUS, code=status_code)
        | Q(kind=TYPE, code=type_code)
        | Q(kind=GROUP, name=group_name)
        | Q(kind=FIELD, code__in=[key for key, _ in pairs])
    )
    found = list(SandboxCode.objects.filter(wanted))
    status = next((r for r in found if r.kind == STATUS and r.code == status_code), None)
    if status is None:
        raise Rejection(
            ErrorCode.UNKNOWN_STATUS, f"Không tìm thấy trạng thái khách hàng có mã: {status_code}."
        )
    type_ = next((r for r in found if r.kind == TYPE and r.code == type_code), None)
    if type_ is None:
        raise Rejection(
            ErrorCode.UNKNOWN_TYPE, f"Không tìm thấy loại khách hàng có mã: {type_code}."
        )
    group = next((r for r in found if r.kind == GROUP and r.name == group_name), None)
    if group is None:
        raise Rejection(
            ErrorCode.UNKNOWN_GROUP, f"Không tìm thấy nhóm khách hàng có tên: {group_name}."
        )
    fields = {record.code: record for record in found if record.kind == FIELD}
    for key, _ in pairs:
        if key not in fields:
            raise Rejection(
                ErrorCode.UNKNOWN_FIELD, f"Không tìm thấy trường thông tin có mã: {key}."
            )
    columns = {
        "name": name,
        "phones": phones,
        "address": address,
        "email": email,
        "status": status,
        "type": type_,
        "group": group,
    }
    return columns, [(fields[key], value) for key, value in pairs]


def _set_field_values(customer: SandboxCustomer, values: list[tuple[SandboxCode, str]]) -> None:
    customer.field_values.all().delete()
    SandboxFieldValue.objects.bulk_create(
        SandboxFieldValue(customer=customer, field=field, value=value) for field, value in values
    )


def customer_create(body: Body) -> str:
    code = body.text("customer_no", max_length=CODE_MAX_LENGTH)
    columns, field_values = _customer_values(body)
    if SandboxCustomer.objects.filter(code=code).exists():
        raise Rejection(ErrorCode.DUPLICATE_CODE, f"Mã khách hàng đã tồn tại: {code}.")
    customer = SandboxCustomer.objects.create(code=code, **columns)
    _set_field_values(customer, field_values)
    return code


def customer_update(body: Body) -> str:
    """Replace the customer's data with the body's: an optional key left out is cleared."""
    code = body.text("customer_no", max_length=CODE_MAX_LENGTH)
    columns, field_values = _customer_values(body)
    customer = _find_customer(code)
    for column, value in columns.items():
        setattr(customer, column, value)
    customer.save()
    _set_field_values(customer, field_values)
    return code


def customer_rename(body: Body) -> str:
    old = body.text("customer_no_old", max_length=CODE_MAX_LENGTH)
    new = body.text("customer_no_new", max_length=CODE_MAX_LENGTH)
    customer = _find_customer(old)
    if new != old:
        if SandboxCustomer.objects.filter(code=new).exists():
            raise Rejection(ErrorCode.DUPLICATE_CODE, f"Mã khách hàng đã tồn tại: {new}.")
        customer.code = new
        customer.save(update_fields=["code"])
    return new


def customer_delete(body: Body) -> bool:
    code = body.text("customer_no", max_length=CODE_MAX_LENGTH)
    _find_customer(code).delete()
    return True


_CODE_ACTIONS = (
    ("create", code_create),
    ("update", code_update),
    ("rename", code_rename),
    ("delete", code_delete),
)
# Kinds with screens (and semantics) of their own have handlers of their own.
_OWN_HANDLERS = {
    "customer": {
        "create": customer_create,
        "update": customer_update,
        "rename": customer_rename,
        "delete": customer_delete,
    },
}


def _path_action(kind: RecordKind, action: str) -> str:
    """The action as the path spells it, lower-cased: "updateno" for updateNo/updateNO."""
    return (kind.rename_path if action == "rename" else action).lower()


def handlers_of(kinds: Iterable[RecordKind]) -> dict[tuple[str, str], Callable[[Body], object]]:
    """(entity, action as the path spells it, lower-cased) → handler, for these kinds."""
    handlers: dict[tuple[str, str], Callable[[Body], object]] = {}
    for kind in kinds:
        if kind.reference:
            actions = {
                action: partial(handler, CodeKindSpec(kind)) for action, handler in _CODE_ACTIONS
            }
        else:
            actions = _OWN_HANDLERS[kind.name]
        for action, handler in actions.items():
            handlers[(kind.name, _path_action(kind, action))] = handler
    return handlers


HANDLERS = handlers_of(KINDS.values())
