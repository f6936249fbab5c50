"""Benchmark: exports and imports at 100,000 customers / ~250,000 phones.

    python -m uv run python bench/import_export.py           # SQLite in a temporary file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crmadmin \\
        python -m uv run python bench/import_export.py        # PostgreSQL (own database)

The register is filled as bench/customers_list.py fills it. Each measure then runs in a
process of its own, so its peak resident memory is its own:
- export: GET /customers/export.csv and .xlsx, the whole register, read to the end;
- preview: the exported CSV and XLSX uploaded and every row checked against the register
  (all "unchanged": the second import of a file);
- adopt: the register's customers removed, the CSV previewed (all "new") and adopted; the
  rate counts the adopt step only (register rows, phones and one audit event per row).

Targets: export >= 20,000 rows/s and <= 200 MB each; preview of the CSV <= 20 s and of
the XLSX <= 40 s, <= 400 MB each; adopt >= 5,000 rows/s. Exits 1 when one is missed.
Options: --customers N (default 100000), --keep (keep the database), --only MEASURES
(comma-separated among export-csv, export-xlsx, preview-csv, preview-xlsx, adopt; the
exports are always made, as the other measures read their files). BENCH_PROFILE=FILE
writes a cProfile of the measured step of each measure to FILE.<measure>.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from _common import ROOT, analyse, bench_database, configure

EXPORT_RATE = 20_000
EXPORT_MB = 200
PREVIEW_SECONDS = {"csv": 20.0, "xlsx": 40.0}
PREVIEW_MB = 400
ADOPT_RATE = 5_000
SUPPORT = "bench-support"


def peak_memory_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process: what the work cost, whatever the load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def profiled(measure: str):
    """cProfile of the block to ``$BENCH_PROFILE.<measure>`` when that is set."""
    target = os.environ.get("BENCH_PROFILE")
    if not target:
        yield
        return
    import cProfile

    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(f"{target}.{measure}")


def _support():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=SUPPORT)


def _upload(path: Path):
    from django.core.files import File

    from crmadmin.imports import services
    from crmadmin.imports.models import Import, State

    with path.open("rb") as file:
        job = services.import_upload(
            actor=_support(), target="customers", uploaded=File(file, name=path.name)
        )
    Import.objects.filter(pk=job.pk).update(state=State.PREVIEWING)
    return job


def worker(measure: str, url: str, workdir: str) -> dict:
    configure(url, production=True)
    from django.test import Client

    from crmadmin.imports.apply import run_apply
    from crmadmin.imports.models import Import, Mode
    from crmadmin.imports.preview import run_preview

    # This machine runs Python with PYTHONDONTWRITEBYTECODE: the first request compiles
    # every module it imports (seconds). A server in service has done that long before,
    # so each measure warms up first (a request, the spreadsheet reader) off the clock.
    client = Client()
    client.force_login(_support())
    for chunk in client.get("/customers/export.csv?q=no-such-customer-warm-up"):
        del chunk
    import openpyxl  # noqa: F401

    started, cpu_started = time.perf_counter(), cpu_seconds()
    if measure.startswith("export-"):
        file_format = measure.removeprefix("export-")
        response = client.get(f"/customers/export.{file_format}")
        assert response.status_code == 200 and response.streaming
        target = Path(workdir) / f"customers.{file_format}"
        with target.open("wb") as file:
            for chunk in response.streaming_content:
                file.write(chunk)
        return {
            "seconds": time.perf_counter() - started,
            "cpu": cpu_seconds() - cpu_started,
            "peak_mb": peak_memory_mb(),
        }
    if measure.startswith("preview-"):
        file_format = measure.removeprefix("preview-")
        with profiled(measure):
            job = run_preview(_upload(Path(workdir) / f"customers.{file_format}"))
        return {
            "seconds": time.perf_counter() - started,
            "cpu": cpu_seconds() - cpu_started,
            "peak_mb": peak_memory_mb(),
            "counts": job.counts,
            "error": job.error,
        }
    # adopt: an empty register, the CSV previewed (all new), then adopted.
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("customerfieldvalue", "customerphone", "customer"):
            cursor.execute(f"DELETE FROM customers_{table}")  # noqa: S608
        if connection.vendor == "postgresql":
            # What autovacuum does after a mass delete, off the clock: without it the
            # indexes still hold the 100,000 deleted rows the adopt would step over.
            for table in ("customerfieldvalue", "customerphone", "customer"):
                cursor.execute(f"VACUUM ANALYZE customers_{table}")
    job = run_preview(_upload(Path(workdir) / "customers.csv"))
    Import.objects.filter(pk=job.pk).update(mode=Mode.ADOPT)
    job.refresh_from_db()
    started, cpu_started = time.perf_counter(), cpu_seconds()
    with profiled(measure):
        job = run_apply(job, actor=_support())
    return {
        "seconds": time.perf_counter() - started,
        "cpu": cpu_seconds() - cpu_started,
        "peak_mb": peak_memory_mb(),
        "counts": job.counts,
        "done": job.rows.filter(outcome="done").count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--only", default="", help="comma-separated measures to run")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(worker(*options.worker)))
        return 0
    with bench_database(prefix="crmadmin-bench-import-", keep=options.keep, production=True) as url:
        return run(options, url)


def run(options, url: str) -> int:
    from customers_list import fill_register
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    started = time.perf_counter()
    customers, phones = fill_register(options.customers, random.Random(20261129))
    analyse()
    print(
        f"{connection.vendor}: {customers:,} customers, {phones:,} phones "
        f"inserted in {time.perf_counter() - started:.1f} s"
    )
    user = get_user_model().objects.create_user(username=SUPPORT)
    user.groups.add(Group.objects.get(name="Support"))
    connection.close()

    all_met = True
    with tempfile.TemporaryDirectory(prefix="crmadmin-bench-files-") as workdir:

        def measure(name: str) -> dict:
            done = subprocess.run(
                [sys.executable, __file__, "--worker", name, url, workdir],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            return json.loads(done.stdout.strip().splitlines()[-1])

        for file_format in ("csv", "xlsx"):
            figures = measure(f"export-{file_format}")
            rate = customers / figures["seconds"]
            met = rate >= EXPORT_RATE and figures["peak_mb"] <= EXPORT_MB
            all_met &= met
            size = (Path(workdir) / f"customers.{file_format}").stat().st_size
            print(
                f"export {file_format.upper():4}: {customers:,} rows, {size / 1e6:.0f} MB in "
                f"{figures['seconds']:.1f} s = {rate:,.0f} rows/s "
                f"({customers / figures['cpu']:,.0f} rows per CPU-second), "
                f"peak {figures['peak_mb']:.0f} MB "
                f"(target >= {EXPORT_RATE:,} rows/s, <= {EXPORT_MB} MB: "
                f"{'met' if met else 'MISSED'})"
            )
        wanted = set(filter(None, options.only.split(","))) or {
            "export-csv", "export-xlsx", "preview-csv", "preview-xlsx", "adopt"
        }  # fmt: skip
        for file_format in ("csv", "xlsx"):
            if f"preview-{file_format}" not in wanted:
                continue
            figures = measure(f"preview-{file_format}")
            unchanged = figures["counts"].get("unchanged", 0)
            met = (
                figures["seconds"] <= PREVIEW_SECONDS[file_format]
                and figures["peak_mb"] <= PREVIEW_MB
                and unchanged == customers
            )
            all_met &= met
            print(
                f"preview {file_format.upper():4}: {customers:,} rows ({unchanged:,} unchanged) in "
                f"{figures['seconds']:.1f} s (CPU {figures['cpu']:.1f} s), "
                f"peak {figures['peak_mb']:.0f} MB "
                f"(target <= {PREVIEW_SECONDS[file_format]:.0f} s, <= {PREVIEW_MB} MB: "
                f"{'met' if met else 'MISSED'}){' ' + figures['error'] if figures['error'] else ''}"
            )
        if "adopt" not in wanted:
            print("all measured targets met" if all_met else "some targets missed")
            return 0 if all_met else 1
        figures = measure("adopt")
        rate = figures["done"] / figures["seconds"]
        met = rate >= ADOPT_RATE and figures["done"] == customers
        all_met &= met
        print(
            f"adopt: {figures['done']:,} rows in {figures['seconds']:.1f} s = {rate:,.0f} rows/s "
            f"({figures['done'] / figures['cpu']:,.0f} rows per CPU-second of this process), "
            f"peak {figures['peak_mb']:.0f} MB (target >= {ADOPT_RATE:,} rows/s: "
            f"{'met' if met else 'MISSED'})"
        )
    print("all targets met" if all_met else "some targets missed")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
