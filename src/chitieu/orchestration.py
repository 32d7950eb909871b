"""What the DAG's tasks call: thin wrappers over the pipeline that log and return
XCom-friendly values. Kept here so the DAG file imports nothing heavy at parse time."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict
from datetime import date

from chitieu import journal, pipeline
from chitieu.config import Settings, load_settings
from chitieu.db import warehouse_url
from chitieu.ingest.landing import describe, discover
from chitieu.ingest.load import already_loaded, stat_in
from chitieu.ingest.run import ensure_schema, ingest_one
from chitieu.ingest.table import notable, summary

log = logging.getLogger(__name__)


def _step(url: str, dag_run: str | None, name: str) -> AbstractContextManager[journal.Step]:
    """The run journal's record of this task's step, under the DAG run's id (none when the
    function is called outside a DAG run)."""
    return journal.step(url, dag_run, name) if dag_run else nullcontext(journal.Step())


def discover_files(
    backfill: tuple[str, str] | None = None, dag_run: str | None = None
) -> list[str]:
    if backfill:
        log.info("backfill of %s … %s: rebuilding from the files already loaded", *backfill)
        return []
    settings = load_settings()
    url = warehouse_url(settings)
    ensure_schema(url)
    with _step(url, dag_run, "discover") as step:
        todo, left_out = _discover(settings, url)
        step.detail = left_out
    return todo


def _discover(settings: Settings, url: str) -> tuple[list[str], dict[str, list[str]]]:
    if settings.landing_url:  # s3://bucket/prefix
        from chitieu.ingest.storage import RemoteLanding

        remote = RemoteLanding.of(settings).discover()
        for rel in remote.ignored:
            log.warning("ignored (not a submission): %s", rel)
        root, submissions, stat = remote.root, remote.submissions, remote.stats.get
        left_out = {"ignored": remote.ignored}
    else:
        found = discover(settings.landing_dir, settings.settle_seconds)
        for rel in found.ignored:
            log.warning("ignored (not a submission): %s", rel)
        for line in describe(found):
            log.warning(line.strip())
        root, submissions, stat = str(found.root), found.submissions, stat_in(found.root)
        left_out = {"ignored": found.ignored, "busy": found.busy, "refused": found.refused}
    # One mapped task per file the ledger has not seen as it is now: the files of past
    # nights stay in the landing area, and mapping them all again every night would grow
    # the run with the history.
    todo, seen = already_loaded(url, submissions, stat)
    log.info(
        "%d submission file(s) in %s: %d to ingest, %d already loaded and unchanged",
        len(submissions), root, len(todo), len(seen),
    )  # fmt: skip
    return todo, left_out


def ingest_file(rel_path: str) -> dict[str, object]:
    result = ingest_one(rel_path)
    log.info("%s: %s (%d rows, %d errors)", rel_path, result.outcome, result.rows, result.errors)
    if notable(result.receipt):
        log.info("%s: %s", rel_path, summary(result.receipt))
    if result.report:
        log.warning("error report: %s", result.report)
    return asdict(result)


def anything_new(dag_run: str, backfill: tuple[str, str] | None = None) -> bool:
    """False when the night has nothing to build (no file accepted, the marts' other inputs
    unchanged since the published build): the DAG then skips the build and publication. A
    backfill always builds."""
    if backfill:
        return True
    settings = load_settings()
    url = warehouse_url(settings)
    return pipeline.check_anything_new(settings, url, dag_run, log.info) is None


def build_staging(
    results: list[dict[str, object]] | None = None, dag_run: str | None = None
) -> None:
    outcomes = [r["outcome"] for r in results or []]
    log.info("ingest outcomes: %s", {o: outcomes.count(o) for o in set(outcomes)})
    settings = load_settings()
    url = warehouse_url(settings)
    with _step(url, dag_run, "staging"):
        pipeline.build_staging(settings, url, log.info)


def gate_staging(dag_run: str | None = None) -> str:
    settings = load_settings()
    url = warehouse_url(settings)
    run_id = pipeline.new_run_id()
    with _step(url, dag_run, "staging_gate"):
        pipeline.gate_staging(settings, url, run_id, log.info)
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


def gate_marts(run_id: str, dag_run: str | None = None) -> list[str]:
    settings = load_settings()
    url = warehouse_url(settings)
    with _step(url, dag_run, "marts_gates"):
        warnings = pipeline.gate_marts(settings, url, run_id, log.info)
    for warning in warnings:
        log.warning("gate warning: %s", warning)
    return warnings


def publish(run_id: str, dag_run: str | None = None) -> dict[str, int]:
    url = warehouse_url(load_settings())
    with _step(url, dag_run, "publish"):
        pipeline.publish_marts(url, log.info, build_id=run_id)
    counts = pipeline.mart_row_counts(url)
    log.info("published: %s", counts)
    return counts


def morning_after(dag_run: str) -> list[str]:
    """The night report and the notices to departments: the DAG's last task, whatever the
    others did. The paths written."""
    from chitieu.morning.after import write_morning_after

    settings = load_settings()
    after = write_morning_after(settings, warehouse_url(settings), dag_run, log.info)
    if after is None:
        log.warning("no night report: the run journal has nothing for %s", dag_run)
        return []
    return [str(after.page), *(str(path) for path in after.notices)]


def extract_marts(tables: list[str]) -> list[str]:
    from chitieu.extracts import write_extract

    settings = load_settings()
    url = warehouse_url(settings)
    paths = [str(write_extract(url, table, settings.home / "extracts")) for table in tables]
    log.info("extracts written: %s", paths)
    return paths


def write_briefs(run_day: date) -> list[str]:
    """The progress brief of every province that reported in the month before the run's
    date: what the Working Group reads the next morning. No data is not an error."""
    from chitieu.report import ReportError, write_briefs_for_period

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
