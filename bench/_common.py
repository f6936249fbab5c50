"""What the benchmark scripts share: Django set-up, a database of their own, timing.

A script works in a temporary SQLite file, or, when DATABASE_URL is set, in a PostgreSQL
database of its own on that server, created at the start and dropped at the end
(:func:`bench_database`). Pages are timed through Django's test client and reported as
p50/p95 against a target (:func:`measure_cases`).
"""

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --- Database set-up --------------------------------------------------------------------


def configure(database_url: str, *, production: bool = False) -> None:
    """Set Django up on ``database_url`` (tests.settings unless the environment names
    other settings). ``production``: DEBUG off after set-up, so no query log is kept
    per request and templates carry no debug information."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django
    from django.conf import settings

    django.setup()
    if production:
        settings.DEBUG = False


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_database_url(
    given: str | None, workdir: str, *, name: str | None = None, filename: str = "bench.sqlite3"
) -> str:
    """A SQLite file in ``workdir`` without ``given``; else ``given`` with its database
    renamed to ``name`` (default: the given name + "_bench")."""
    if not given:
        return f"sqlite:///{workdir}/{filename}"
    parts = urlsplit(given)
    name = name or (parts.path.lstrip("/") or "crmadmin") + "_bench"
    return urlunsplit(parts._replace(path=f"/{name}"))


def _postgres_admin(url: str, sql: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql)


def create_postgres_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    _postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}"')
    _postgres_admin(url, f'CREATE DATABASE "{name}"')


def drop_postgres_database(url: str) -> None:
    from django.db import connections

    connections.close_all()
    name = urlsplit(url).path.lstrip("/")
    _postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}"')


@contextmanager
def bench_database(
    *,
    prefix: str,
    name: str | None = None,
    filename: str = "bench.sqlite3",
    keep: bool = False,
    production: bool = False,
) -> Iterator[str]:
    """Create the benchmark's database, set Django up on it and migrate it; yield its URL.

    SQLite in a temporary folder (``prefix``) unless DATABASE_URL is set; see
    :func:`bench_database_url` for ``name`` and ``filename``. Dropped (or the folder
    removed) at the end unless ``keep``, which prints where it is instead.
    """
    given = os.environ.get("DATABASE_URL")
    workdir = "" if given else tempfile.mkdtemp(prefix=prefix)
    url = bench_database_url(given, workdir, name=name, filename=filename)
    if given:
        create_postgres_database(url)
    configure(url, production=production)
    try:
        migrate()
        yield url
    finally:
        if keep:
            print(f"kept: {url}")
        elif given:
            drop_postgres_database(url)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def analyse() -> None:
    """Statistics for the planner, as a database in service has them (PostgreSQL's
    autovacuum also sets the visibility map that lets COUNT(*) read only an index)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


# --- Measuring --------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def get(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def measure(client, url: str, repeat: int) -> list[float]:
    """Milliseconds of ``repeat`` requests for ``url``, after three to warm up."""
    for _ in range(3):
        get(client, url)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        get(client, url)
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure_cases(client, cases, repeat: int, target_ms: float, width: int = 40) -> bool:
    """Time each ``(label, url)`` and print p50/p95 against ``target_ms``; all met?"""
    print(f"{'case':<{width}} {'p50 ms':>8} {'p95 ms':>8}  target p95 <= {target_ms:.0f} ms")
    all_met = True
    for label, url in cases:
        times = measure(client, url, repeat)
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        met = p95 <= target_ms
        all_met &= met
        print(f"{label:<{width}} {p50:8.1f} {p95:8.1f}  {'met' if met else 'MISSED'}")
    return all_met
