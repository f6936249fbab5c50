# The two commands: `make run` (the dashboard on the built-in sandbox) and `make test`
# (ruff, the import-linter contracts of pyproject.toml, migrations, pytest with coverage).
# Needs only Python 3.13 (picked by .python-version) and make; uv is installed on first use.

PYTHON ?= python
UV := $(PYTHON) -m uv
PORT ?= 8000
MANAGE := $(UV) run --frozen python manage.py
VENV_MANAGE := .venv/bin/python manage.py

.PHONY: run test lint format sync bench clean help

help:
	@echo "make run    serve the dashboard on http://127.0.0.1:$(PORT) against the built-in CRM sandbox"
	@echo "make test   lint, check migrations and run every test (DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make bench  run the benchmark scripts in bench/"

sync:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --quiet

run: export DEBUG ?= true
run: export PORT := $(PORT)
# Django's banner says once that this is a development server; its long warning is noise here.
run: export DJANGO_RUNSERVER_HIDE_WARNING := true
# One job worker runs beside the web server. A background job of a non-interactive shell
# ignores Ctrl-C, so the trap stops the worker (it pauses its job) when the server ends.
# Both run on the synced .venv's Python, not under `uv run`, so that a stop reaches each
# process directly instead of also through uv's relay: one CI run saw `make run` still
# alive 30 s after SIGTERM to its process group, and the relay was one suspect.
run: sync
	@$(MANAGE) write_dev_env
	@$(MANAGE) bootstrap
	@$(VENV_MANAGE) jobs_worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(VENV_MANAGE) runserver 127.0.0.1:$(PORT)

test: sync lint
	DEBUG=true $(MANAGE) makemigrations --check --dry-run
	$(UV) run --frozen pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

lint:
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen lint-imports --no-logo --no-cache

format: sync
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

bench: sync
	$(UV) run --frozen python bench/upstream_overhead.py
	$(UV) run --frozen python bench/customers_list.py
	$(UV) run --frozen python bench/audit_log.py
	$(UV) run --frozen python bench/bulk_job.py
	$(UV) run --frozen python bench/import_export.py

clean:
	rm -rf .venv staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm
