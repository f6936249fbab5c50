"""Demo customers, created through ``customer_create`` (so through the CRM and the audit log).

Statuses, types, groups and custom fields are picked from the register, which
``crmadmin.demo.codes.seed`` fills first.
"""

import datetime
import random

from django.contrib.auth.models import AbstractBaseUser

from crmadmin.codes.models import Field, Group, Status, Type
from crmadmin.core.text import fold
from crmadmin.customers.models import Customer
from crmadmin.customers.services import customer_create
from crmadmin.kinds import FieldType

DEMO_NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Bích",
    "Lê Hoàng Dũng",
    "Phạm Minh Đức",
    "Hoàng Thị Hà",
    "Huỳnh Văn Hải",
    "Phan Thị Hạnh",
    "Vũ Đức Hiếu",
    "Võ Thị Hoa",
    "Đặng Quốc Hùng",
    "Bùi Thị Hương",
    "Đỗ Minh Khánh",
    "Hồ Thị Lan",
    "Ngô Văn Long",
    "Dương Thị Mai",
    "Lý Hoàng Nam",
    "Nguyễn Thị Ngọc Yến",
    "Trần Quang Phúc",
    "Lê Thị Thu Trang",
    "Phạm Anh Tuấn",
]
STREETS = [
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Điện Biên Phủ",
    "Lý Thường Kiệt",
]
CITIES = ["Hà Nội", "TP. Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ"]
MOBILE_PREFIXES = ["090", "091", "093", "096", "097", "098", "032", "035", "077", "088"]
SOURCES = ["Website", "Giới thiệu", "Hội chợ", "Facebook", "Tổng đài"]


def seed(*, actor: AbstractBaseUser | None) -> int:
    """Create the demo customers the register does not hold yet; returns how many.

    Needs at least one status, type and group in the register (nothing is created
    without them). Running it again creates nothing new. An upstream failure propagates.
    """
    statuses = list(Status.objects.order_by("code"))
    types = list(Type.objects.order_by("code"))
    groups = list(Group.objects.order_by("code"))
    if not (statuses and types and groups):
        return 0
    fields = list(Field.objects.order_by("name", "code"))
    rng = random.Random(20261129)  # the same demo every time
    created = 0
    for index, name in enumerate(DEMO_NAMES, start=1):
        code = f"KH{index:04d}"
        phones = [
            f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 9_999_999):07d}"
            for _ in range(rng.randint(1, 3))
        ]
        if Customer.objects.filter(code=code).exists():
            continue
        customer_create(
            actor=actor,
            code=code,
            name=name,
            phones=phones,
            email=f"{fold(name).replace(' ', '.')}@example.vn",
            address=(f"{rng.randint(1, 300)} {rng.choice(STREETS)}, {CITIES[index % len(CITIES)]}"),
            status=statuses[index % len(statuses)],
            type=types[index % len(types)],
            group=groups[index % len(groups)],
            field_values={field: _demo_value(field, index, rng) for field in fields},
        )
        created += 1
    return created


def _demo_value(field: Field, index: int, rng: random.Random) -> str:
    match field.field_type:
        case FieldType.DATE:
            born = datetime.date(1970, 1, 1) + datetime.timedelta(days=rng.randint(0, 12_000))
            return born.isoformat()
        case FieldType.NUMBER:
            return str(rng.choice([5, 12, 30, 80, 150, 400]))
        case FieldType.URL:
            return f"https://khachhang{index}.example.vn"
        case FieldType.EMAIL:
            return f"lienhe{index}@example.vn"
        case FieldType.PHONE:
            return f"028{rng.randint(0, 99_999_999):08d}"
        case FieldType.LONG_TEXT:
            return "Khách hàng thân thiết, ưu tiên gọi buổi sáng."
        case _:
            return rng.choice(SOURCES)
