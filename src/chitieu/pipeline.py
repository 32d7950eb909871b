"""The nightly job's steps, as plain functions: `chitieu run` and the DAG call these."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from chitieu import gates
from chitieu.config import Settings, load_settings
from chitieu.db import warehouse_url
from chitieu.ingest.run import IngestSummary, ensure_schema, ingest_landing
from chitieu.publish import CANDIDATE, PUBLISHED, drop_candidate, publish
from chitieu.transform import run_dbt

Progress = Callable[[str], None]

MARTS = ("fct_indicator_value", "target_gap")


@dataclass
class BuildSummary:
    run_id: str
    mart_rows: dict[str, int] = field(default_factory=dict)
    gate_warnings: list[str] = field(default_factory=list)
    docs: str | None = None

    def lines(self) -> list[str]:
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
    run_dbt(
        settings,
        url,
        [
            "build",
            "--select",
            "resource_type:seed",
            "staging",
            "--full-refresh",
            "--indirect-selection",
            "cautious",
        ],
        {"marts_schema": CANDIDATE},
    )


def gate_staging(settings: Settings, url: str, run_id: str, progress: Progress) -> gates.GateResult:
    progress("gate: Great Expectations on staging.stg_raw__submission_values")
    result = gates.run_gate(
        settings, url, "stg_raw__submission_values", "staging", "stg_raw__submission_values", run_id
    )
    return gates.require(result)


def build_marts(settings: Settings, url: str, progress: Progress) -> None:
    progress(f"dbt: intermediate models and candidate marts (schema {CANDIDATE}), with tests")
    drop_candidate(url)
    run_dbt(
        settings, url, ["build", "--select", "intermediate", "marts"], {"marts_schema": CANDIDATE}
    )


def publish_marts(url: str, progress: Progress) -> None:
    progress("publish: swapping the validated candidate in as schema marts")
    publish(url)


def build(settings: Settings | None = None, progress: Progress = print) -> BuildSummary:
    """dbt build → gates → publish. Raises before publishing if anything fails."""
    settings = settings or load_settings()
    url = warehouse_url(settings)
    summary = BuildSummary(run_id=uuid.uuid4().hex[:12])
    build_staging(settings, url, progress)
    gate = gate_staging(settings, url, summary.run_id, progress)
    summary.gate_warnings = [w.describe() for w in gate.warnings]
    summary.docs = gate.docs
    build_marts(settings, url, progress)
    publish_marts(url, progress)
    summary.mart_rows = mart_row_counts(url)
    return summary


@dataclass
class RunSummary:
    ingest: IngestSummary
    build: BuildSummary

    def lines(self) -> list[str]:
        return self.ingest.lines() + self.build.lines()


def run(
    landing: Path | None = None, settings: Settings | None = None, progress: Progress = print
) -> RunSummary:
    """Ingest the landing area, then build, gate and publish: the nightly job."""
    settings = settings or load_settings()
    ingested = ingest_landing(landing, settings, progress)
    built = build(settings, progress)
    return RunSummary(ingested, built)
