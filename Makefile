# Two commands on a fresh machine: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3.11
UV_VERSION ?= 0.13.9
VENV := .venv
TOOLS := .uv
UV := $(TOOLS)/bin/uv
BIN := $(VENV)/bin
SYNCED := $(VENV)/.synced
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help install demo check test test-external-pg lint lint-sql format airflow docs bench db-down clean chromium

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The npm packages GX Data Docs load, kept in the environment so the docs render offline
# (src/chitieu/gx_offline.py); not fatal, as the docs still work with a network.
$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	$(BIN)/python -m chitieu.gx_offline || echo "warning: GX Data Docs assets not fetched: they will load from CDNs"
	@touch $@

install: $(SYNCED) ## create .venv with the locked dependencies (uv.lock)

demo: $(SYNCED) ## sample data → ingest → dbt → gates → published marts, on embedded PostgreSQL
	$(BIN)/chitieu demo

# The edit-test loop: no database, no Airflow, no dbt parse (markers: pyproject.toml; `db`
# is set from the fixtures a test uses).
check: $(SYNCED) ## under a minute: ruff, and the tests that need no database or Airflow
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2 -q -m "not db and not airflow and not slow"

test: $(SYNCED) lint ## everything CI runs: linters, the suite, integration tests on PostgreSQL 15
	$(BIN)/pytest -n 2 --dist loadfile --durations=30
	$(MAKE) --no-print-directory test-external-pg

# The core integration tests (marked external_pg: `chitieu run` end to end, the marts, ingest
# order, the demo) again, against a PostgreSQL server of another version (15 here), so the
# warehouse is known to run beyond the embedded 18.
EXTERNAL_PG ?= postgresql://postgres@127.0.0.1:5432/postgres
test-external-pg: $(SYNCED) ## integration tests on EXTERNAL_PG (default: 127.0.0.1:5432)
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(EXTERNAL_PG)', connect_timeout=3).close()" 2>/dev/null; then \
		CHITIEU_TEST_PG='$(EXTERNAL_PG)' $(BIN)/pytest -m external_pg -n 2 --dist loadfile; \
	else echo "test-external-pg: no PostgreSQL answers at $(EXTERNAL_PG): skipped"; fi

lint: $(SYNCED) ## ruff (Python) and sqlfluff (dbt SQL)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory lint-sql

# sqlfluff's dbt templater opens a connection while compiling: it lints against an empty
# database beside the warehouse (`chitieu db env --lint`), so that what the warehouse holds
# never changes what is linted. The second pass lints the incremental models' incremental
# branches (.sqlfluff-incremental makes is_incremental() true). DBT_DIR: another copy of
# the project (tests/test_lint_sql.py lints a broken one).
DBT_DIR ?= dbt_project
lint-sql: $(SYNCED) ## sqlfluff on the dbt models, both branches of incremental ones (postgres dialect, dbt templater)
	cd $(DBT_DIR) && exports="$$($(CURDIR)/$(BIN)/chitieu db env --lint)" && eval "$$exports" \
		&& $(CURDIR)/$(BIN)/sqlfluff lint models tests \
		&& $(CURDIR)/$(BIN)/sqlfluff lint --config .sqlfluff-incremental \
			$$(grep -rl "is_incremental()" models --include=*.sql)

format: $(SYNCED) ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

airflow: $(SYNCED) ## Airflow UI (airflow standalone) on the embedded database, DAGs loaded
	$(BIN)/chitieu airflow standalone

docs: $(SYNCED) ## dbt docs for the warehouse, served on http://localhost:8080
	$(BIN)/chitieu docs --serve

chromium: ## install headless Chromium (Debian/Ubuntu): PDF/PNG of the progress brief, its tests
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@echo "chromium: $$(command -v chromium || command -v chromium-browser)"

# Each script starts its own embedded PostgreSQL under a temp dir and merges its figures into
# bench-results.json (entries {name, value, unit, baseline, ratio}); the table is printed last.
# Scale 1 is the national dataset (34 provinces x units x indicators x 36 months); scale 10 has
# ten times its history, for the scaling figures (`make bench BENCH_SCALES=1` skips it).
BENCH_ROWS ?= 250000 1000000
BENCH_SCALES ?= 1 10
bench: $(SYNCED) ## every benchmark (ingest vs COPY/to_sql, build, gates, night run, DAG parse); bench-results.json
	$(BIN)/python benchmarks/ingest_vs_copy.py --rows $(BENCH_ROWS)
	$(BIN)/python benchmarks/warehouse_build.py --scales $(BENCH_SCALES)
	$(BIN)/python benchmarks/dag_parse.py
	@$(BIN)/python benchmarks/table.py

db-down: $(SYNCED) ## stop the embedded PostgreSQL
	$(BIN)/chitieu db down

clean: ## remove the environment and all local state (.venv, .uv, .chitieu)
	-$(BIN)/chitieu db down
	rm -rf $(VENV) $(TOOLS) .chitieu dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
