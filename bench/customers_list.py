"""Benchmark: server time of the customer list at 100,000 customers / ~250,000 phones.

    python -m uv run python bench/customers_list.py            # SQLite in a temporary file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crmadmin \\
        python -m uv run python bench/customers_list.py         # PostgreSQL

On PostgreSQL the benchmark works in its own database (the URL's name + "_bench"),
created at the start and dropped at the end. The register is filled with bulk inserts
(search columns computed as the models compute them), then each case requests the list
page through Django's test client as a support user, REPEAT times after a warm-up, and
prints p50 and p95, and the queries per request. Target: p95 <= 100 ms for every case.

Options: --customers N (default 100000), --repeat N (default 30), --keep (keep the data).
"""

import argparse
import random
import sys
import time

from _common import analyse, bench_database, measure_cases

TARGET_MS = 100.0

FAMILY_NAMES = [
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Huỳnh", 4),
    ("Phan", 4),
    ("Vũ", 4),
    ("Võ", 3),
    ("Đặng", 2),
    ("Bùi", 2),
    ("Đỗ", 2),
    ("Hồ", 2),
    ("Ngô", 2),
    ("Dương", 1),
    ("Lý", 1),
]
MIDDLE_NAMES = ["Văn", "Thị", "Hoàng", "Minh", "Ngọc", "Thanh", "Đức", "Quang", "Thu", "Hữu"]
GIVEN_NAMES = [
    "An", "Bích", "Dũng", "Đức", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương",
    "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phúc", "Phương",
    "Quân", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Trung", "Tuấn", "Vy", "Yến",
]  # fmt: skip
MOBILE_PREFIXES = ["090", "091", "093", "094", "096", "097", "098", "032", "035", "038",
                   "070", "077", "079", "081", "083", "085", "088"]  # fmt: skip
MAIL_DOMAINS = ["gmail.com", "yahoo.com.vn", "outlook.com", "fpt.vn", "vnpt.vn"]
STREETS = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt",
           "Điện Biên Phủ", "Cách Mạng Tháng Tám", "Võ Văn Tần", "Pasteur", "Đường số 7",
           "Phan Đình Phùng", "Hoàng Diệu", "Bạch Đằng", "Quang Trung",
           "Lạc Long Quân"]  # fmt: skip
DISTRICTS = ["Quận 1", "Quận 3", "Quận 10", "Bình Thạnh", "Hoàn Kiếm", "Ba Đình", "Cầu Giấy",
             "Hải Châu", "Ninh Kiều", "Lê Chân"]  # fmt: skip


def vietnamese_name(rng: random.Random) -> str:
    names, weights = zip(*FAMILY_NAMES, strict=True)
    family = rng.choices(names, weights)[0]
    return f"{family} {rng.choice(MIDDLE_NAMES)} {rng.choice(GIVEN_NAMES)}"


def fill_register(count: int, rng: random.Random) -> tuple[int, int]:
    from crmadmin.codes.models import Group, Status, Type
    from crmadmin.core.text import fold
    from crmadmin.customers.models import (
        Customer,
        CustomerPhone,
        phone_digits_of,
        search_text_of,
    )
    from crmadmin.customers.phones import comparison_key

    statuses = Status.objects.bulk_create(
        Status(code=code, name=name, search_text=fold(f"{code} {name}"))
        for code, name in [
            ("MOI", "Mới"),
            ("DANG_CHAM_SOC", "Đang chăm sóc"),
            ("VIP", "Khách VIP"),
            ("TIEM_NANG", "Tiềm năng"),
            ("NGUNG", "Ngừng giao dịch"),
        ]
    )
    types = Type.objects.bulk_create(
        Type(code=code, name=name, search_text=fold(f"{code} {name}"))
        for code, name in [("CA_NHAN", "Cá nhân"), ("DOANH_NGHIEP", "Doanh nghiệp")]
    )
    groups = Group.objects.bulk_create(
        Group(code=code, name=name, search_text=fold(f"{code} {name}"))
        for code, name in [
            ("HN", "Hà Nội"),
            ("HCM", "Hồ Chí Minh"),
            ("DN", "Đà Nẵng"),
            ("HP", "Hải Phòng"),
            ("CT", "Cần Thơ"),
        ]
    )
    phones_total = 0
    batch = 5000
    used_numbers: set[str] = set()
    for start in range(0, count, batch):
        customers = []
        phone_lists = []
        for number in range(start, min(start + batch, count)):
            code = f"KH{number + 1:06d}"
            name = vietnamese_name(rng)
            email = ""
            if rng.random() < 0.7:
                local = fold(name).replace(" ", ".")
                email = f"{local}{rng.randint(1, 9999)}@{rng.choice(MAIL_DOMAINS)}"
            address = f"{rng.randint(1, 300)} {rng.choice(STREETS)}, {rng.choice(DISTRICTS)}"
            customers.append(
                Customer(
                    code=code,
                    name=name,
                    search_name=fold(name),
                    search_text=search_text_of(code=code, name=name, email=email, address=address),
                    email=email,
                    address=address,
                    status=rng.choice(statuses),
                    type=rng.choice(types),
                    group=rng.choice(groups),
                )
            )
            phones = []
            for _ in range(rng.choices([1, 2, 3, 4], [20, 25, 40, 15])[0]):
                while True:
                    phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 9_999_999):07d}"
                    if phone not in used_numbers:
                        used_numbers.add(phone)
                        break
                phones.append(phone)
            phone_lists.append(phones)
            customers[-1].phone_digits = phone_digits_of(phones)
        Customer.objects.bulk_create(customers, batch_size=1000)
        if not all(customer.pk for customer in customers):
            customer_ids = dict(
                Customer.objects.filter(code__in=[c.code for c in customers]).values_list(
                    "code", "pk"
                )
            )
            for customer in customers:
                customer.pk = customer_ids[customer.code]
        rows = [
            CustomerPhone(
                customer_id=customer.pk,
                position=position,
                number=phone,
                digits=comparison_key(phone),
            )
            for customer, phones in zip(customers, phone_lists, strict=True)
            for position, phone in enumerate(phones)
        ]
        CustomerPhone.objects.bulk_create(rows, batch_size=2000)
        phones_total += len(rows)
    return count, phones_total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    options = parser.parse_args()

    with bench_database(prefix="crmadmin-bench-customers-", keep=options.keep):
        from django.test.utils import setup_test_environment

        setup_test_environment()
        return run(options)


def run(options) -> int:
    from django.db import connection
    from django.test import Client

    from crmadmin.codes.models import Status
    from crmadmin.customers.models import CustomerPhone

    rng = random.Random(20261129)
    started = time.perf_counter()
    customers, phones = fill_register(options.customers, rng)
    analyse()
    print(
        f"{connection.vendor}: {customers:,} customers, {phones:,} phones "
        f"inserted in {time.perf_counter() - started:.1f} s"
    )

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username="bench-support")
    user.groups.add(Group.objects.get(name="Support"))
    client = Client()
    client.force_login(user)

    sample = CustomerPhone.objects.order_by("pk")[phones // 2].number
    part = f"{sample[-6:-3]} {sample[-3:]}"
    status = Status.objects.get(code="VIP")
    cases = [
        ("no filter", "/customers/"),
        ("name search without accents", "/customers/?q=nguyen+van+an"),
        (f"partial phone search ({part})", f"/customers/?q={part.replace(' ', '+')}"),
        ("status filter", f"/customers/?status={status.code}"),
        ("page 100", "/customers/?page=100"),
        # Beyond the five of the issue: a search that matches 4 in 10 customers, and
        # a search with a filter in the name order.
        ("broad name search (nguyen)", "/customers/?q=nguyen"),
        ("search + status + sort by name", f"/customers/?q=van&status={status.code}&sort=name"),
        # Issue 10: words in any order, not adjacent; words of two letters; the address.
        ("two words, one inside the other (nguyen yen)", "/customers/?q=nguyen+yen"),
        ("two-letter word + broad word (an nguyen)", "/customers/?q=an+nguyen"),
        ("word + two-letter word (khanh do)", "/customers/?q=khanh+do"),
        ("two-letter words only (an do)", "/customers/?q=an+do"),
        ("one letter + word (h linh)", "/customers/?q=h+linh"),
        ("address (ly thuong kiet)", "/customers/?q=ly+thuong+kiet"),
        ("address + name (hoan kiem tran)", "/customers/?q=hoan+kiem+tran"),
        (f"name + phone (nguyen {sample[-4:]})", f"/customers/?q=nguyen+{sample[-4:]}"),
    ]
    all_met = measure_cases(client, cases, options.repeat, TARGET_MS, width=48)
    print("all targets met" if all_met else "some targets missed")
    print_load_independent(client, cases, width=48)
    return 0 if all_met else 1


def print_load_independent(client, cases, width: int) -> None:
    """Figures a loaded machine changes less: SQL queries per request, the process's CPU
    time per request (median of 5; SQLite's work is inside it, PostgreSQL's is not), and
    on PostgreSQL the server's execution time (EXPLAIN ANALYZE) and buffers touched."""
    import statistics

    from django.core.signals import request_started
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    # Django empties the query log when a request starts; the count needs it kept.
    request_started.disconnect(reset_queries)
    postgresql = connection.vendor == "postgresql"
    extra = f" {'DB ms':>8} {'buffers':>8}" if postgresql else ""
    print(f"{'case':<{width}} {'queries':>8} {'CPU ms':>8}{extra}")
    for label, url in cases:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        cpu = []
        for _ in range(5):
            started = time.process_time()
            client.get(url)
            cpu.append((time.process_time() - started) * 1000)
        line = f"{label:<{width}} {len(queries):>8} {statistics.median(cpu):8.1f}"
        if postgresql:
            database_ms, buffers = explain_customer_queries(connection, queries)
            line += f" {database_ms:8.1f} {buffers:>8}"
        print(line)


def explain_customer_queries(connection, queries) -> tuple[float, int]:
    """PostgreSQL's own execution time of a request's reads of the customer table, and
    the shared buffers they touched (a count the machine's load does not change)."""
    import json

    total_ms, buffers = 0.0, 0
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if not sql.startswith("SELECT") or "customers_customer" not in sql:
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
            total_ms += plan["Execution Time"]
            top = plan["Plan"]
            buffers += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
    return total_ms, buffers


if __name__ == "__main__":
    sys.exit(main())
