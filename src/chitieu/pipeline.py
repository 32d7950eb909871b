"""The nightly job's steps, as plain functions: `chitieu run` and the DAG call these."""

from __future__ import annotations

import calendar
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from chitieu import gates, journal, roles
from chitieu.config import Settings, load_settings
from chitieu.db import warehouse_url
from chitieu.exceptions import DataError
from chitieu.freshness import inputs_fingerprint, nothing_new
from chitieu.ingest.run import IngestSummary, ensure_schema, ingest_landing
from chitieu.morning.after import MorningAfter, write_morning_after
from chitieu.publish import (
    CANDIDATE,
    PUBLISHED,
    drop_candidate,
    mark_validated,
    publish,
    stamp_build,
)
from chitieu.transform import dbt_env, dbt_target_dir, run_dbt

Progress = Callable[[str], None]


class BackfillError(DataError):
    """A backfill asked for months that do not make sense."""


MARTS = (
    "fct_indicator_value",
    "fct_indicator_value_history",
    "target_gap",
    "unit_scorecard",
    "submission_completeness",
    "province_ranking",
    "dim_indicator",
    "dim_unit",
    "dim_province",
    "dim_period",
    "fct_indicator_value_successor",
    "fct_indicator_value_revision",
)


@dataclass
class BuildSummary:
    run_id: str
    mart_rows: dict[str, int] = field(default_factory=dict)
    gate_warnings: list[str] = field(default_factory=list)
    docs: str | None = None
    unchanged: str | None = None  # why nothing was built (freshness.nothing_new)

    def lines(self) -> list[str]:
        if self.unchanged:
            return ["published marts (schema marts): unchanged, nothing new to build"]
        lines = [
            "published marts (schema marts): "
            + ", ".join(f"{name} {rows} rows" for name, rows in self.mart_rows.items())
        ]
        lines += [f"gate warning: {w}" for w in self.gate_warnings]
        if self.docs:
            lines.append(f"data docs: {self.docs}")
        return lines


def mart_row_counts(url: str, schema: str = PUBLISHED) -> dict[str, int]:
    counts: dict[str, int] = {}
    with psycopg.connect(url) as conn:
        for name in MARTS:
            query = sql.SQL("select count(*) from {}.{}").format(
                sql.Identifier(schema), sql.Identifier(name)
            )
            row = conn.execute(query).fetchone()
            counts[name] = int(row[0]) if row else 0
    return counts


def build_staging(settings: Settings, url: str, progress: Progress) -> None:
    progress("dbt: reference seeds and staging models, with their tests")
    ensure_schema(url)
    roles.ensure_roles(url)
    run_dbt(
        settings,
        url,
        [
            "build",
            "--select",
            "resource_type:seed",
            "staging",
            "--indirect-selection",
            "cautious",
        ],
        marts_vars(settings),
        roles.usable(url, roles.TRANSFORMER),
    )


def gate_staging(settings: Settings, url: str, run_id: str, progress: Progress) -> gates.GateResult:
    progress("gate: Great Expectations on staging.stg_raw__submission_values")
    result = gates.run_gate(
        settings, url, "stg_raw__submission_values", "staging", "stg_raw__submission_values", run_id
    )
    return gates.require(result)


Months = tuple[str, str]
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_range(first: str, last: str) -> dict[str, str]:
    """The dates a backfill of months `first`..`last` (YYYY-MM) covers: every reporting
    period ending within them (months, and the quarters, halves and years ending there)."""
    bounds = []
    for month in (first, last):
        found = _MONTH.match(month)
        if not found:
            raise BackfillError(f"not a month (YYYY-MM): {month!r}")
        bounds.append((int(found[1]), int(found[2])))
    if bounds[0] > bounds[1]:
        raise BackfillError(f"--from {first} is after --to {last}")
    (year, month), (end_year, end_month) = bounds
    last_day = calendar.monthrange(end_year, end_month)[1]
    return {
        "from": date(year, month, 1).isoformat(),
        "to": date(end_year, end_month, last_day).isoformat(),
    }


def marts_vars(settings: Settings, months: Months | None = None) -> dict[str, object]:
    dbt_vars: dict[str, object] = {
        "marts_schema": CANDIDATE,
        "due_days": settings.due_days,
        "inputs_fingerprint": inputs_fingerprint(settings),
    }
    if months:
        dbt_vars["rebuild_periods"] = month_range(*months)
    return dbt_vars


@dataclass(frozen=True)
class DbtContext:
    """How every dbt invocation of the marts build runs, from `chitieu build` or from an
    Airflow task Cosmos renders: the connection and role (env) and the vars."""

    env: dict[str, str]
    vars: dict[str, object]

    @property
    def role(self) -> str:
        return self.env["CHITIEU_PGROLE"]


def marts_dbt_context(settings: Settings, url: str, months: Months | None = None) -> DbtContext:
    role = roles.usable(url, roles.TRANSFORMER)
    return DbtContext(dbt_env(url, role), marts_vars(settings, months))


def begin_marts_build(
    settings: Settings, url: str, progress: Progress, months: Months | None = None
) -> None:
    """Note what the build can see (macros/incremental_state.sql), before its models."""
    if months:
        progress(f"backfill: rebuilding the periods ending in {months[0]} … {months[1]}")
    dbt = marts_dbt_context(settings, url, months)
    run_dbt(settings, url, ["run-operation", "begin_incremental_build"], dbt.vars, dbt.role)


def finish_marts_build(
    settings: Settings, url: str, build_id: str | None = None, months: Months | None = None
) -> str:
    """After every model and test succeeded: declare the marts' keys (macros/keys.sql),
    commit the incremental state and stamp the build (not yet validated: the gates come
    next)."""
    dbt = marts_dbt_context(settings, url, months)
    run_dbt(settings, url, ["run-operation", "finish_marts_build"], dbt.vars, dbt.role)
    build_id = build_id or uuid.uuid4().hex[:12]
    stamp_build(url, build_id)
    return build_id


# What the marts build runs: the intermediate views, the candidate marts and the semantic
# layer's time spine.
_MARTS_SELECTION = ("--select", "intermediate", "marts", "semantic")


def run_marts_models(
    settings: Settings,
    url: str,
    progress: Progress,
    full_refresh: bool = False,
    months: Months | None = None,
) -> None:
    """The models of a marts build: note what the build can see (forgetting the candidate
    first for a full refresh), then `dbt run` of the intermediate views and the candidate
    marts (incremental marts catch up from the candidate's older build)."""
    if full_refresh:
        drop_candidate(url)
    begin_marts_build(settings, url, progress, months)
    dbt = marts_dbt_context(settings, url, months)
    args = ["run", *_MARTS_SELECTION, *(["--full-refresh"] if full_refresh else [])]
    run_dbt(settings, url, args, dbt.vars, dbt.role)


def run_marts_tests(settings: Settings, url: str, months: Months | None = None) -> None:
    """`dbt test` of those models, once every one is built: a test reading several models
    sees them all current, as the DAG's test task does. Unit tests check the logic, not the
    data: they run in the test suite (tests/test_marts.py), not on every night (dbt's
    advice for production builds)."""
    dbt = marts_dbt_context(settings, url, months)
    args = ["test", *_MARTS_SELECTION, "--exclude-resource-type", "unit_test"]
    run_dbt(settings, url, args, dbt.vars, dbt.role)


def build_marts(
    settings: Settings,
    url: str,
    progress: Progress,
    full_refresh: bool = False,
    build_id: str | None = None,
    months: Months | None = None,
) -> str:
    """Bring the candidate marts up to date: incrementally from the older build the
    candidate schema holds (see publish), or from nothing with `full_refresh`; with `months`,
    also rebuild the rows of the periods ending in those months."""
    progress(f"dbt: intermediate models and candidate marts (schema {CANDIDATE}), then tests")
    run_marts_models(settings, url, progress, full_refresh, months)
    run_marts_tests(settings, url, months)
    return finish_marts_build(settings, url, build_id, months)


# The candidate marts gated before publishing (expectations/suites/<name>.json).
GATED_MARTS = ("fct_indicator_value", "fct_indicator_value_history", "target_gap")


def gate_marts(settings: Settings, url: str, run_id: str, progress: Progress) -> list[str]:
    """Validate every gated candidate mart; raise `GateFailed` naming all failures."""
    warnings: list[str] = []
    failed: list[gates.GateResult] = []
    for name in GATED_MARTS:
        progress(f"gate: Great Expectations on {CANDIDATE}.{name}")
        result = gates.run_gate(settings, url, name, CANDIDATE, name, run_id)
        warnings += [w.describe() for w in result.warnings]
        if not result.success:
            failed.append(result)
    if failed:
        raise gates.GateFailed(*failed)
    mark_validated(url, run_id)
    return warnings


def publish_marts(url: str, progress: Progress, build_id: str | None = None) -> None:
    progress("publish: swapping the validated candidate in as schema marts")
    if not publish(url, build_id):
        progress(f"publish: build {build_id} is already the published one")


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def build(
    settings: Settings | None = None,
    progress: Progress = print,
    full_refresh: bool = False,
    months: Months | None = None,
    run_id: str | None = None,
) -> BuildSummary:
    """dbt (staging, then the marts) → gates → publish; raises before publishing on failure.
    Each step is recorded in the run journal under `run_id` (a new one by default), which
    is also the build's id."""
    settings = settings or load_settings()
    url = warehouse_url(settings)
    summary = BuildSummary(run_id=run_id or new_run_id())
    with journal.step(url, summary.run_id, "staging"):
        build_staging(settings, url, progress)
    with journal.step(url, summary.run_id, "staging_gate"):
        gate = gate_staging(settings, url, summary.run_id, progress)
    summary.gate_warnings = [w.describe() for w in gate.warnings]
    summary.docs = gate.docs
    with journal.step(url, summary.run_id, "marts"):
        build_marts(settings, url, progress, full_refresh, summary.run_id, months)
    with journal.step(url, summary.run_id, "marts_gates"):
        summary.gate_warnings += gate_marts(settings, url, summary.run_id, progress)
    with journal.step(url, summary.run_id, "publish"):
        publish_marts(url, progress, summary.run_id)
    summary.mart_rows = mart_row_counts(url)
    return summary


@dataclass
class RunSummary:
    ingest: IngestSummary
    build: BuildSummary
    after: MorningAfter | None = None

    def lines(self) -> list[str]:
        after = self.after.lines() if self.after else []
        return self.ingest.lines() + self.build.lines() + after


def run(
    landing: Path | None = None,
    settings: Settings | None = None,
    progress: Progress = print,
    full_refresh: bool = False,
    jobs: int | None = None,
) -> RunSummary:
    """Ingest the landing area (`jobs` files at a time), then build, gate and publish: the
    nightly job. A night that accepted no file, with the marts' other inputs unchanged,
    stops after the ingest (`check_anything_new`); `full_refresh` always builds."""
    settings = settings or load_settings()
    run_id = new_run_id()
    url = warehouse_url(settings)
    try:
        with journal.step(url, run_id, "ingest") as ingest:
            ingested = ingest_landing(landing, settings, progress, jobs)
            ingest.detail = ingested.left_out()
        unchanged = None if full_refresh else check_anything_new(settings, url, run_id, progress)
        if unchanged:
            built = BuildSummary(run_id=run_id, unchanged=unchanged)
        else:
            built = build(settings, progress, full_refresh, run_id=run_id)
    except Exception:
        # The morning still gets its report of what went wrong, when the database can say.
        write_morning_after(settings, url, run_id, progress)
        raise
    after = write_morning_after(settings, url, run_id, lambda _line: None)
    return RunSummary(ingested, built, after)


def check_anything_new(settings: Settings, url: str, run_id: str, progress: Progress) -> str | None:
    """Why the night has nothing to build, or None; recorded in the journal (step
    `anything_new`, detail `unchanged`: chitieu/night.py reads it) and said."""
    with journal.step(url, run_id, "anything_new") as step:
        unchanged = nothing_new(settings, url)
        if unchanged:
            step.detail = {"unchanged": unchanged}
    if unchanged:
        progress(unchanged)
    return unchanged


def backfill(
    first: str, last: str, settings: Settings | None = None, progress: Progress = print
) -> BuildSummary:
    """Rebuild the marts' rows of the periods ending in months `first`..`last` from the
    files already loaded (nothing is ingested), then gate and publish. The other periods
    stay as they are, so the published marts stay complete; a second backfill of the same
    months gives the same marts."""
    months = (first, last)
    month_range(*months)  # a bad month fails here, before anything runs
    return build(settings, progress, months=months)


def generate_docs(settings: Settings | None = None, progress: Progress = print) -> Path:
    """`dbt docs generate` against the warehouse; returns the docs' index.html."""
    settings = settings or load_settings()
    url = warehouse_url(settings)
    progress("dbt: generating the docs (models, columns, tests, lineage, catalog)")
    run_dbt(settings, url, ["docs", "generate"], {"marts_schema": PUBLISHED})
    return dbt_target_dir(settings) / "index.html"


def serve_docs(port: int, settings: Settings | None = None) -> None:
    settings = settings or load_settings()
    run_dbt(
        settings, warehouse_url(settings), ["docs", "serve", "--port", str(port), "--no-browser"]
    )
