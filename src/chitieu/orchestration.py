"""What the DAG's tasks call: thin wrappers over the pipeline that log and return
XCom-friendly values. Kept here so the DAG file imports nothing heavy at parse time."""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict

from chitieu import pipeline
from chitieu.config import load_settings
from chitieu.db import warehouse_url
from chitieu.ingest.landing import describe, discover
from chitieu.ingest.load import already_loaded, stat_in
from chitieu.ingest.run import ensure_schema, ingest_one
from chitieu.ingest.table import notable, summary

log = logging.getLogger(__name__)


def discover_files(backfill: tuple[str, str] | None = None) -> list[str]:
    if backfill:
        log.info("backfill of %s … %s: rebuilding from the files already loaded", *backfill)
        return []
    settings = load_settings()
    url = warehouse_url(settings)
    ensure_schema(url)
    if settings.landing_url:  # s3://bucket/prefix
        from chitieu.ingest.storage import RemoteLanding

        remote = RemoteLanding.of(settings).discover()
        for rel in remote.ignored:
            log.warning("ignored (not a submission): %s", rel)
        root, submissions, stat = remote.root, remote.submissions, remote.stats.get
    else:
        found = discover(settings.landing_dir, settings.settle_seconds)
        for rel in found.ignored:
            log.warning("ignored (not a submission): %s", rel)
        for line in describe(found):
            log.warning(line.strip())
        root, submissions, stat = str(found.root), found.submissions, stat_in(found.root)
    # One mapped task per file the ledger has not seen as it is now: the files of past
    # nights stay in the landing area, and mapping them all again every night would grow
    # the run with the history.
    todo, seen = already_loaded(url, submissions, stat)
    log.info(
        "%d submission file(s) in %s: %d to ingest, %d already loaded and unchanged",
        len(submissions), root, len(todo), len(seen),
    )  # fmt: skip
    return todo


def ingest_file(rel_path: str) -> dict[str, object]:
    result = ingest_one(rel_path)
    log.info("%s: %s (%d rows, %d errors)", rel_path, result.outcome, result.rows, result.errors)
    if notable(result.receipt):
        log.info("%s: %s", rel_path, summary(result.receipt))
    if result.report:
        log.warning("error report: %s", result.report)
    return asdict(result)


def build_staging(results: list[dict[str, object]] | None = None) -> None:
    outcomes = [r["outcome"] for r in results or []]
    log.info("ingest outcomes: %s", {o: outcomes.count(o) for o in set(outcomes)})
    settings = load_settings()
    pipeline.build_staging(settings, warehouse_url(settings), log.info)


def gate_staging() -> str:
    settings = load_settings()
    run_id = uuid.uuid4().hex[:12]
    pipeline.gate_staging(settings, warehouse_url(settings), run_id, log.info)
    return run_id


def begin_marts(run_id: str, backfill: tuple[str, str] | None = None) -> None:
    """Before the Cosmos task group builds the models (one dbt invocation each)."""
    settings = load_settings()
    log.info("gate run %s passed; building marts", run_id)
    pipeline.begin_marts_build(settings, warehouse_url(settings), log.info, backfill)


def finish_marts(run_id: str, backfill: tuple[str, str] | None = None) -> None:
    """After every model and test of the task group succeeded."""
    settings = load_settings()
    pipeline.finish_marts_build(settings, warehouse_url(settings), run_id, backfill)
    log.info("marts build %s complete, awaiting the gate", run_id)


def gate_marts(run_id: str) -> list[str]:
    settings = load_settings()
    warnings = pipeline.gate_marts(settings, warehouse_url(settings), run_id, log.info)
    for warning in warnings:
        log.warning("gate warning: %s", warning)
    return warnings


def publish(run_id: str) -> dict[str, int]:
    url = warehouse_url(load_settings())
    pipeline.publish_marts(url, log.info, build_id=run_id)
    counts = pipeline.mart_row_counts(url)
    log.info("published: %s", counts)
    return counts


def extract_marts(tables: list[str]) -> list[str]:
    from chitieu.extracts import write_extract

    settings = load_settings()
    url = warehouse_url(settings)
    paths = [str(write_extract(url, table, settings.home / "extracts")) for table in tables]
    log.info("extracts written: %s", paths)
    return paths


def write_briefs(ds: str) -> list[str]:
    """The progress brief of every province that reported in the month before the run's
    date: what the Working Group reads the next morning. No data is not an error."""
    from datetime import date

    from chitieu.report import ReportError, write_briefs_for_period

    run_day = date.fromisoformat(ds)
    year, month = (run_day.year, run_day.month - 1) if run_day.month > 1 else (run_day.year - 1, 12)
    period = f"{year:04d}-{month:02d}"
    settings = load_settings()
    try:
        paths = write_briefs_for_period(
            warehouse_url(settings), period, settings=settings, progress=log.info
        )
    except ReportError as exc:
        log.warning("no brief for %s: %s", period, exc)
        return []
    return [str(path) for path in paths]
