"""What the DAG's tasks call: thin wrappers over the pipeline that log and return
XCom-friendly values. Kept here so the DAG file imports nothing heavy at parse time."""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict

from chitieu import pipeline
from chitieu.config import load_settings
from chitieu.db import warehouse_url
from chitieu.ingest.landing import discover
from chitieu.ingest.run import ingest_one

log = logging.getLogger(__name__)


def discover_files() -> list[str]:
    settings = load_settings()
    found = discover(settings.landing_dir)
    for rel in found.ignored:
        log.warning("ignored (not .csv/.xlsx): %s", rel)
    log.info("%d submission file(s) in %s", len(found.submissions), found.root)
    return found.submissions


def ingest_file(rel_path: str) -> dict[str, object]:
    result = ingest_one(rel_path)
    log.info("%s: %s (%d rows, %d errors)", rel_path, result.outcome, result.rows, result.errors)
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


def build_marts(run_id: str) -> None:
    settings = load_settings()
    log.info("gate run %s passed; building marts", run_id)
    pipeline.build_marts(settings, warehouse_url(settings), log.info)


def gate_marts(run_id: str) -> list[str]:
    settings = load_settings()
    warnings = pipeline.gate_marts(settings, warehouse_url(settings), run_id, log.info)
    for warning in warnings:
        log.warning("gate warning: %s", warning)
    return warnings


def publish() -> dict[str, int]:
    url = warehouse_url(load_settings())
    pipeline.publish_marts(url, log.info)
    counts = pipeline.mart_row_counts(url)
    log.info("published: %s", counts)
    return counts
