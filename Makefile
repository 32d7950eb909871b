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
.PHONY: help install demo test lint lint-sql format airflow docs bench db-down clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(SYNCED) ## create .venv with the locked dependencies (uv.lock)

demo: $(SYNCED) ## sample data → ingest → dbt → gates → published marts, on embedded PostgreSQL
	$(BIN)/chitieu demo

test: $(SYNCED) lint ## everything CI runs: linters, then the whole test suite
	$(BIN)/pytest

lint: $(SYNCED) ## ruff (Python) and sqlfluff (dbt SQL)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory lint-sql

# sqlfluff's dbt templater opens a connection while compiling, so it lints against the
# warehouse database (the embedded one unless CHITIEU_DB_URL is set).
lint-sql: $(SYNCED) ## sqlfluff on the dbt models (postgres dialect, dbt templater)
	cd dbt_project && exports="$$(../$(BIN)/chitieu db env)" && eval "$$exports" && ../$(BIN)/sqlfluff lint models tests

format: $(SYNCED) ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

airflow: $(SYNCED) ## Airflow UI (airflow standalone) on the embedded database, DAGs loaded
	$(BIN)/chitieu airflow standalone

docs: $(SYNCED) ## dbt docs for the warehouse, served on http://localhost:8080
	$(BIN)/chitieu docs --serve

db-down: $(SYNCED) ## stop the embedded PostgreSQL
	$(BIN)/chitieu db down

clean: ## remove the environment and all local state (.venv, .uv, .chitieu)
	-$(BIN)/chitieu db down
	rm -rf $(VENV) $(TOOLS) .chitieu dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
