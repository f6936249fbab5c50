"""Benchmark: the audit screens at 1,000,000 entries over 90 days and 50 users.

    python -m uv run python bench/audit_log.py            # SQLite in a temporary file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crmadmin \\
        python -m uv run python bench/audit_log.py         # PostgreSQL

On PostgreSQL the benchmark works in its own database on the given server, named after the
given one with ``_bench_audit`` (``crmadmin_bench_audit``), so that engineers sharing a
server do not drop each other's; it is created at the start and dropped at the end. The
log is filled with raw multi-row inserts (COPY on PostgreSQL) of realistic entries:
operations, outcomes, failure kinds, durations and Vietnamese request bodies in the
proportions of a busy deployment, oldest first as the recorder writes them. The seeding
time is printed.

Then each case is requested through Django's test client as a manager (DEBUG off, no
template instrumentation), REPEAT times after a warm-up, and p50/p95 are printed:
the first page, a filtered page (one user, 7 days), the 50th page reached by following
"Older" 49 times, a code filter, the failures filter, and the dashboard (its first,
cold request is printed on its own: it reads 30 days once and caches the settled days).
The export of the whole table runs in a subprocess, which reports rows per second and
its peak resident memory (VmHWM, else ru_maxrss) and the growth over its state before the export.
Last, ``audit_verify``'s walk of the hash chain over every entry is timed (the seeding
links the entries as the recorder does: a link per entry, one more per completion), as
``manage.py audit_verify`` runs it (two processes at once on a machine of two cores or
more). Besides the wall time, which a loaded machine stretches, it prints the CPU
seconds of this process and its walkers, per link, and the ratio of the two.

Targets: pages p95 <= 100 ms; export >= 50,000 rows/s with peak memory <= 200 MB;
verifying the chain <= 30 s.

Options: --entries N (default 1,000,000), --days N (90), --users N (50), --repeat N (30),
--keep (keep the database and print where it is), --verify-only (seed, then time only the
chain's verification: no pages, no export).
"""

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import urlsplit

from _common import ROOT, analyse, bench_database, configure, get, measure_cases

PAGE_TARGET_MS = 100.0
EXPORT_TARGET_ROWS_PER_S = 50_000
EXPORT_TARGET_MB = 200.0
VERIFY_TARGET_S = 30.0
BENCH_SUFFIX = "_bench_audit"
MANAGER = "bench-manager"
BATCH = 10_000

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi"]
MIDDLE = ["Văn", "Thị", "Hoàng", "Minh", "Ngọc", "Thanh", "Đức", "Quang", "Thu", "Hữu"]
GIVEN = ["An", "Bích", "Dũng", "Đức", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương",
         "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phúc", "Quân", "Sơn",
         "Tâm", "Thảo", "Trang", "Trung", "Tuấn", "Vy", "Yến"]  # fmt: skip
STREETS = ["Lê Lợi", "Nguyễn Huệ", "Trần Hưng Đạo", "Hai Bà Trưng", "Lý Thường Kiệt"]
CITIES = ["Hà Nội", "TP. Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ"]
STATUSES = ["MOI", "DANG_CHAM_SOC", "VIP", "TIEM_NANG", "NGUNG"]
TYPES = ["CA_NHAN", "DOANH_NGHIEP"]
GROUP_NAMES = ["Hà Nội", "Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ"]
REJECTIONS = [
    ("2", "Mã khách hàng đã tồn tại"),
    ("3", "Không tìm thấy khách hàng"),
    ("5", "Số điện thoại không hợp lệ"),
    ("7", "Trạng thái khách hàng không tồn tại"),
    ("9", "Mã đang được sử dụng"),
]
# (operation, weight): customers dominate, token grants are a few percent.
OPERATIONS = [
    ("customer.update", 34), ("customer.create", 22), ("customer.rename", 2),
    ("customer.delete", 3), ("auth.token", 3),
    ("status.create", 1), ("status.update", 1), ("status.rename", 0.3), ("status.delete", 0.3),
    ("type.create", 0.5), ("type.update", 0.5), ("type.rename", 0.2), ("type.delete", 0.2),
    ("group.create", 0.5), ("group.update", 0.5), ("group.rename", 0.2), ("group.delete", 0.2),
    ("field.create", 0.3), ("field.update", 0.3), ("field.rename", 0.1), ("field.delete", 0.1),
]  # fmt: skip
OUTCOMES = [("succeeded", 930), ("rejected", 45), ("failed", 24), ("pending", 1)]
FAILURES = [("timeout", 3), ("http_error", 4), ("connection", 2), ("malformed", 1)]
COLUMNS = (
    "actor_id", "actor_username", "actor_ip", "operation", "record_kind", "code", "new_code",
    "request_id", "request_body", "snapshot_before", "started_at", "finished_at",
    "duration_ms", "outcome", "failure_kind", "http_status", "upstream_status",
    "upstream_error", "upstream_message", "upstream_data", "error_detail",
    "chain_seq", "chain_hash", "completion_seq", "completion_hash",
)  # fmt: skip


# --- Seeding ----------------------------------------------------------------------------


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _customer(rng: random.Random, code: str) -> dict:
    phones = [f"09{rng.randint(0, 99_999_999):08d}" for _ in range(rng.choice((1, 1, 2, 3)))]
    return {
        "customer_no": code,
        "customer_name": _person(rng),
        "customer_phones": phones,
        "customer_address": f"{rng.randint(1, 300)} {rng.choice(STREETS)}, {rng.choice(CITIES)}",
        "customer_email": f"kh{rng.randint(1, 99999)}@gmail.com",
        "customer_status_code": rng.choice(STATUSES),
        "customer_type_code": rng.choice(TYPES),
        "customer_group_name": rng.choice(GROUP_NAMES),
    }


def _call(rng: random.Random, operation: str) -> tuple[str, str, str, dict, dict | None, str]:
    """record kind, code, new code, request body (tenant pair first), snapshot, data."""
    tenant = {"vbot_id": "VBOT-DEMO", "project_code": "DEMO"}
    if operation == "auth.token":
        return "", "", "", {"grant_type": "password", "username": "crm-api"}, None, ""
    kind, action = operation.split(".")
    if kind == "customer":
        code = f"KH{rng.randint(1, 80_000):06d}"
        before = {
            "code": code,
            "name": _person(rng),
            "phones": [f"09{rng.randint(0, 99_999_999):08d}"],
            "status": rng.choice(STATUSES),
        }
        if action in ("create", "update"):
            body = {**tenant, **_customer(rng, code)}
        elif action == "rename":
            new_code = f"KH{rng.randint(80_001, 99_999):06d}"
            body = {**tenant, "customer_no_old": code, "customer_no_new": new_code}
            return kind, code, new_code, body, before, new_code
        else:
            body = {**tenant, "customer_no": code}
        return kind, code, "", body, (None if action == "create" else before), code
    code = f"{kind.upper()}_{rng.randint(1, 40)}"
    before = {"code": code, "name": f"Mã {kind} {code.lower()}"}
    if action in ("create", "update"):
        body = {**tenant, f"{kind}_no": code, f"{kind}_name": f"Nhóm {_person(rng)}"}
    elif action == "rename":
        new_code = f"{code}_MOI"
        body = {**tenant, f"{kind}_no_old": code, f"{kind}_no_new": new_code}
        return kind, code, new_code, body, before, new_code
    else:
        body = {**tenant, f"{kind}_no": code}
    return kind, code, "", body, (None if action == "create" else before), code


def generate(rng: random.Random, count: int, span: timedelta, end: datetime, users: list):
    """Rows of COLUMNS, oldest first (as the recorder appends them), in batches, linked
    into the hash chain as the recorder links them."""
    from django.db import connection

    from crmadmin.audit import chain

    started_names, vendor = chain.started_columns(), connection.vendor
    seq, previous = 0, chain.GENESIS
    operations, op_weights = zip(*OPERATIONS, strict=True)
    outcomes, out_weights = zip(*OUTCOMES, strict=True)
    failures, failure_weights = zip(*FAILURES, strict=True)
    user_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(users))]
    start = end - span
    step = span / count
    batch = []
    for index in range(count):
        started_at = start + step * (index + rng.random())
        operation = rng.choices(operations, op_weights)[0]
        outcome = rng.choices(outcomes, out_weights)[0]
        actor_id, username = (
            (None, "") if operation == "auth.token" else rng.choices(users, user_weights)[0]
        )
        kind, code, new_code, body, before, data = _call(rng, operation)
        failure_kind = http_status = upstream_status = upstream_data = None
        upstream_error = upstream_message = error_detail = ""
        duration = rng.lognormvariate(5.2, 0.45)  # median ~180 ms
        if outcome == "succeeded":
            http_status, upstream_status, upstream_message = 200, 1, "success"
            upstream_data = json.dumps(True if operation.endswith(".delete") else data)
        elif outcome == "rejected":
            failure_kind, http_status, upstream_status = "rejected", 200, 0
            upstream_error, upstream_message = rng.choice(REJECTIONS)
        elif outcome == "failed":
            failure_kind = rng.choices(failures, failure_weights)[0]
            if failure_kind == "timeout":
                duration = 15_000 + rng.random() * 40
                error_detail = "ReadTimeout: read timeout=15.0"
            elif failure_kind == "connection":
                duration = 3_050 + rng.random() * 20
                error_detail = "ConnectionError: connection refused"
            elif failure_kind == "http_error":
                http_status = rng.choice((500, 502, 503))
                error_detail = f"HTTP {http_status} from the CRM"
            else:
                http_status, error_detail = 200, "answer is not JSON"
        pending = outcome == "pending"
        finished_at = None if pending else started_at + timedelta(milliseconds=duration)
        started = {
            "actor_id": actor_id,
            "actor_username": username,
            "actor_ip": f"10.{rng.randint(0, 3)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "operation": operation,
            "record_kind": kind,
            "code": code,
            "new_code": new_code,
            "request_id": f"{rng.getrandbits(128):032x}",
            "request_body": body,
            "snapshot_before": before,
            "started_at": started_at,
            "job_id": None,  # calls made by a person, not a background job
        }
        completed = {
            "finished_at": finished_at,
            "duration_ms": None if pending else round(duration, 3),
            "outcome": outcome,
            "failure_kind": failure_kind or "",
            "http_status": http_status,
            "upstream_status": upstream_status,
            "upstream_error": upstream_error,
            "upstream_message": upstream_message,
            "upstream_data": None if upstream_data is None else json.loads(upstream_data),
            "error_detail": error_detail,
        }
        seq += 1
        text = chain.content(
            started_names, [started[name] for name in started_names], vendor=vendor
        )
        chain_seq, chain_hash = seq, chain.digest(previous, seq, text)
        previous = chain_hash
        completion_seq = completion_hash = None
        if not pending:
            seq += 1
            text = chain.completed_content(chain_hash, completed, vendor)
            completion_seq, completion_hash = seq, chain.digest(previous, seq, text)
            previous = completion_hash
        batch.append(
            (
                *(started[name] for name in COLUMNS[:8]),
                json.dumps(body),
                None if before is None else json.dumps(before),
                started_at,
                finished_at,
                completed["duration_ms"],
                outcome,
                failure_kind or "",
                http_status,
                upstream_status,
                upstream_error,
                upstream_message,
                upstream_data,
                error_detail,
                chain_seq,
                chain_hash,
                completion_seq,
                completion_hash or "",
            )
        )
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def insert(batch: list[tuple]) -> None:
    from django.db import connection, transaction

    from crmadmin.audit.models import AuditEntry

    table = AuditEntry._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
            return
        # SQLite stores what Django's adapter would: naive UTC text for datetimes.
        rows = [
            (
                *row[:10],
                str(row[10].astimezone(UTC).replace(tzinfo=None)),
                None if row[11] is None else str(row[11].astimezone(UTC).replace(tzinfo=None)),
                *row[12:],
            )
            for row in batch
        ]
        placeholders = ", ".join("?" for _ in COLUMNS)
        # Table and column names are this module's constants, values are parameters.
        insert_sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({placeholders})"  # noqa: S608
        cursor.executemany(insert_sql, rows)


def seed(count: int, days: int, user_count: int) -> list:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    user_model = get_user_model()
    support = Group.objects.get(name="Support")
    users = []
    for number in range(1, user_count + 1):
        user = user_model.objects.create_user(username=f"nhanvien{number:02d}")
        user.groups.add(support)
        users.append((user.pk, user.username))
    manager = user_model.objects.create_user(username=MANAGER)
    manager.groups.add(Group.objects.get(name="Manager"))

    rng = random.Random(20261129)  # benchmark data, not secrets
    end = datetime.now(UTC)
    if connection.vendor == "sqlite":
        # A page cache large enough for the indexes: inserts with random keys (request
        # id, code, actor) otherwise read the B-trees back from disk at a million rows.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1048576")
    for batch in generate(rng, count, timedelta(days=days), end, users):
        insert(batch)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -2000")
            cursor.execute("PRAGMA shrink_memory")
    analyse()
    return users


# --- Measuring --------------------------------------------------------------------------


def older_link(response) -> str:
    tag = re.search(r'<a\b[^>]*data-link="older"[^>]*>', response.content.decode())
    assert tag, "no Older link"
    return unescape(re.search(r'href="([^"]*)"', tag.group(0)).group(1))


def peak_memory_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the process image, so unlike
    ru_maxrss it does not carry over the parent's peak through fork and exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def export_worker(database_url: str) -> None:
    """Run in a subprocess: export the whole log, print rows, seconds and memory as JSON."""
    configure(database_url, production=True)
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=MANAGER))
    before_mb = peak_memory_mb()
    started = time.perf_counter()
    response = client.get("/audit/export.csv")
    assert response.status_code == 200 and response.streaming
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\r\n")
        size += len(chunk)
    seconds = time.perf_counter() - started
    peak_mb = peak_memory_mb()
    print(
        json.dumps(
            {
                "rows": lines - 1,
                "bytes": size,
                "seconds": seconds,
                "peak_mb": peak_mb,
                "before_mb": before_mb,
            }
        )
    )


def bench_name(given: str | None) -> str | None:
    if not given:
        return None
    return (urlsplit(given).path.lstrip("/") or "crmadmin") + BENCH_SUFFIX


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--verify-only", action="store_true", help="time only audit_verify after seeding"
    )
    parser.add_argument("--export-worker", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.export_worker:
        export_worker(options.export_worker)
        return 0

    with bench_database(
        prefix="crmadmin-bench-audit-",
        name=bench_name(os.environ.get("DATABASE_URL")),
        filename="bench-audit.sqlite3",
        keep=options.keep,
        production=True,
    ) as url:
        return run(options, url)


def run(options, url: str) -> int:
    from django.core.management import call_command
    from django.db import connection

    call_command("createcachetable", verbosity=0)
    started = time.perf_counter()
    users = seed(options.entries, options.days, options.users)
    print(
        f"{connection.vendor}: {options.entries:,} audit entries over {options.days} days "
        f"and {options.users} users seeded in {time.perf_counter() - started:.1f} s"
    )

    all_met = True
    if not options.verify_only:
        all_met = measure_screens(options, url, users)
    all_met &= measure_verify(options)
    print("all targets met" if all_met else "some targets missed")
    return 0 if all_met else 1


def measure_screens(options, url: str, users: list) -> bool:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    client = Client()
    client.force_login(get_user_model().objects.get(username=MANAGER))
    today = timezone.localdate()
    busiest_id = users[0][0]
    week = f"date_from={today - timedelta(days=6)}&date_to={today}"
    page_url = "/audit/"
    for _ in range(49):
        page_url = older_link(get(client, page_url))
    from crmadmin.audit.models import AuditEntry

    renamed = AuditEntry.objects.filter(operation="customer.rename").order_by("-id").first()
    cases = [
        ("first page", "/audit/"),
        ("one user, 7 days", f"/audit/?actor={busiest_id}&{week}"),
        ("page 50 by keyset (49 x Older)", page_url),
        (f"code filter ({renamed.new_code}, renamed)", f"/audit/?code={renamed.new_code}"),
        ("outcome failed", "/audit/?outcome=failed"),
        ("outcome unknown, one user", f"/audit/?outcome=unknown&actor={users[5][0]}"),
        ("entry detail", f"/audit/{renamed.pk}/"),
    ]
    started = time.perf_counter()
    get(client, "/audit/dashboard/")
    cold_ms = (time.perf_counter() - started) * 1000

    cases.append(("dashboard (settled days cached)", "/audit/dashboard/"))
    all_met = measure_cases(client, cases, options.repeat, PAGE_TARGET_MS, width=42)
    print(f"{'dashboard, first request (cold cache)':<42} {cold_ms:8.1f}")

    connection.close()
    worker = subprocess.run(
        [sys.executable, __file__, "--export-worker", url],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    figures = json.loads(worker.stdout.strip().splitlines()[-1])
    rate = figures["rows"] / figures["seconds"]
    rate_met = rate >= EXPORT_TARGET_ROWS_PER_S and figures["rows"] == options.entries
    memory_met = figures["peak_mb"] <= EXPORT_TARGET_MB
    all_met &= rate_met and memory_met
    print(
        f"export: {figures['rows']:,} rows, {figures['bytes'] / 1e6:,.0f} MB of CSV in "
        f"{figures['seconds']:.1f} s = {rate:,.0f} rows/s "
        f"(target >= {EXPORT_TARGET_ROWS_PER_S:,}: {'met' if rate_met else 'MISSED'})"
    )
    print(
        f"export process peak memory: {figures['peak_mb']:.0f} MB "
        f"({figures['peak_mb'] - figures['before_mb']:+.0f} MB during the export; "
        f"target <= {EXPORT_TARGET_MB:.0f} MB: {'met' if memory_met else 'MISSED'})"
    )

    return all_met


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of this process and its children, or of process ``pid``
    (the database server's backend, when it runs on this machine)."""
    if pid is None:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_verify(options) -> bool:
    """Time ``audit_verify``'s walk: wall time against the target, and the CPU seconds
    it took here and in PostgreSQL's backend (the machine's load changes the first, not
    the others)."""
    from django.db import connection

    from crmadmin.audit import chain

    backend = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
    cpu_before, server_before = cpu_seconds(), cpu_seconds(backend) if backend else 0.0
    started = time.perf_counter()
    result = chain.verify()
    verify_s = time.perf_counter() - started
    cpu_s = cpu_seconds() - cpu_before
    server_s = cpu_seconds(backend) - server_before if backend else 0.0
    verify_met = result.ok and verify_s <= VERIFY_TARGET_S
    print(
        f"audit_verify: {result.links:,} links of {options.entries:,} entries "
        f"{'verified' if result.ok else 'BROKEN: ' + result.message} in {verify_s:.1f} s "
        f"(target <= {VERIFY_TARGET_S:.0f} s: {'met' if verify_met else 'MISSED'})"
    )
    per_link = 1e6 / max(result.links, 1)
    server = ""
    if backend and server_s == server_s:  # NaN: the walkers had connections of their own
        server = f", database server {server_s:.1f} s"
    print(
        f"audit_verify CPU: this process {cpu_s:.1f} s ({cpu_s * per_link:.2f} us per link)"
        f"{server}; wall time / CPU time {verify_s / max(cpu_s, 1e-9):.2f}"
    )
    return verify_met


if __name__ == "__main__":
    sys.exit(main())
