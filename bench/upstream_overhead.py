# Figures measured on 2026-12-03 on the 2-core machine at rest (load average 1.3), 300
# calls each, with the record's lease and the audit hash chain in the path: raw median
# 22.32 ms, call() 24.69 ms, ratio of medians 1.106 (target met); calling thread's CPU
# per call 1.71 ms raw, 4.10 ms through call() (+2.40 ms). Under a load average of ~14
# the same code measured 1.57-1.86: the ratio is only meaningful on a quiet machine.

"""What the upstream client and its write-ahead audit cost on top of the HTTP call itself.

Starts a local stub CRM (keep-alive HTTP/1.1, answers the envelope after a fixed 20 ms),
then times, interleaved, N calls through ``crmadmin.upstream.call()`` (operation table,
pending audit entry committed, request, entry completed: SQLite file database in WAL
mode, as in development) and N raw ``requests.post`` of the same bodies on a kept-alive
session. Prints medians, p95 and the ratio of medians.

Target: ratio of medians ≤ 1.15 (client + audit ≤ 3 ms of a 20 ms call).

    python -m uv run python bench/upstream_overhead.py [--calls 300] [--latency-ms 20]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _common import configure, migrate, percentile

TARGET_RATIO = 1.15
ANSWER = json.dumps({"status": 1, "error": 0, "message": "success", "data": "KH"}).encode()


def stub_crm(latency_s: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real CRM behind a proxy
        # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm
        # and the client's delayed ACK would add ~40 ms to every answer.
        disable_nagle_algorithm = True

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(latency_s)
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(ANSWER)))
            self.end_headers()
            self.wfile.write(ANSWER)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def setup_django(api_url: str, database: Path) -> None:
    """Always SQLite (as in development), whatever DATABASE_URL says."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    # Production mode: with DEBUG on, Django would also keep every SQL query in memory.
    os.environ["DEBUG"] = "false"
    os.environ["SECRET_KEY"] = "bench-only-secret-key-" + uuid.uuid4().hex
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["CRM_API_URL"] = api_url
    os.environ["CRM_API_TOKEN"] = "bench-static-token"
    configure(f"sqlite:///{database}")
    migrate()


def payload(i: int) -> dict:
    return {
        "customer_no": f"KH{i:05d}",
        "customer_name": "Nguyễn Thị Bích Ngọc",
        "customer_phones": ["0901234567", "0912345678"],
        "customer_address": "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
        "customer_email": "ngoc.nguyen@example.vn",
        "customer_status_code": "VIP",
        "customer_type_code": "LE",
        "customer_group_name": "Khách miền Nam",
        "fileds": [
            {"field_key": "NGAY_SINH", "field_value": "1990-05-01"},
            {"field_key": "SO_THICH", "field_value": "Cà phê"},
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()

    server = stub_crm(args.latency_ms / 1000)
    api_url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="crmadmin-bench-") as tmp:
        setup_django(api_url, Path(tmp) / "bench.sqlite3")

        import requests
        from django.conf import settings

        from crmadmin.audit.models import AuditEntry, Outcome
        from crmadmin.upstream import call, transport
        from crmadmin.upstream.client import tenant
        from crmadmin.upstream.operations import OPERATIONS

        operation = OPERATIONS["customer.create"]
        url = f"{settings.CRM_API_URL}{operation.path}"
        raw_session = requests.Session()
        timeout = (settings.CRM_CONNECT_TIMEOUT, settings.CRM_READ_TIMEOUT)

        def raw(i: int) -> None:
            body = operation.build_body(payload(i), tenant())
            response = raw_session.post(
                url,
                data=json.dumps(body, ensure_ascii=False).encode(),
                headers={
                    "Authorization": f"Bearer {settings.CRM_API_TOKEN}",
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                    "X-Request-ID": uuid.uuid4().hex,
                },
                timeout=timeout,
            )
            response.raise_for_status()
            response.json()

        def through_client(i: int) -> None:
            call("customer.create", payload(i), snapshot=None)

        cpu_ms = {raw: 0.0, through_client: 0.0}

        def timed(fn, i: int) -> float:
            # Wall time for the ratio; this thread's CPU time (the stub answers in threads
            # of its own) as the load-independent figure.
            start, cpu = time.perf_counter(), time.thread_time()
            fn(i)
            cpu_ms[fn] += (time.thread_time() - cpu) * 1000
            return (time.perf_counter() - start) * 1000

        for i in range(args.warmup):
            through_client(-1 - i)
            raw(-1 - i)

        client_ms: list[float] = []
        raw_ms: list[float] = []
        for i in range(args.calls):
            # Alternate which goes first, so neither always follows the other.
            if i % 2:
                client_ms.append(timed(through_client, i))
                raw_ms.append(timed(raw, i))
            else:
                raw_ms.append(timed(raw, i))
                client_ms.append(timed(through_client, i))

        finished = AuditEntry.objects.filter(outcome=Outcome.SUCCEEDED).count()
        # Close the kept-alive connections first, so no handler thread is mid-read at exit.
        raw_session.close()
        transport.session().close()
        server.shutdown()
        server.server_close()

    client_median = statistics.median(client_ms)
    raw_median = statistics.median(raw_ms)
    ratio = client_median / raw_median
    print(f"upstream overhead: {args.calls} calls each, stub latency {args.latency_ms:g} ms")
    print(f"{'(ms)':18}{'median':>10}{'p95':>10}{'mean':>10}")
    for label, values in (("raw requests.post", raw_ms), ("call() + audit", client_ms)):
        print(
            f"{label:18}{statistics.median(values):>10.2f}{percentile(values, 0.95):>10.2f}"
            f"{statistics.fmean(values):>10.2f}"
        )
    print(f"overhead of the median call: {client_median - raw_median:.2f} ms")
    raw_cpu, client_cpu = (cpu_ms[fn] / args.calls for fn in (raw, through_client))
    print(
        f"CPU per call (calling thread): raw {raw_cpu:.2f} ms, call() {client_cpu:.2f} ms "
        f"(+{client_cpu - raw_cpu:.2f} ms)"
    )
    print(f"ratio of medians: {ratio:.3f} (target ≤ {TARGET_RATIO})")
    print(f"audit entries finished as succeeded: {finished} (expected {args.calls + args.warmup})")
    verdict = "MEETS" if ratio <= TARGET_RATIO else "MISSES"
    print(f"{verdict} the target")
    return 0 if ratio <= TARGET_RATIO and finished == args.calls + args.warmup else 1


if __name__ == "__main__":
    sys.exit(main())
