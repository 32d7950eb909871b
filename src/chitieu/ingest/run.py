"""Ingest a whole landing area: the function behind `chitieu ingest` and the DAG's tasks."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import psycopg

from chitieu import roles
from chitieu.config import Settings, load_settings
from chitieu.db import warehouse_url
from chitieu.ingest.landing import BUSY, OUTSIDE, describe, discover, submission_path
from chitieu.ingest.load import FileResult, already_loaded, ingest_file, stat_in
from chitieu.ingest.storage import is_remote
from chitieu.ingest.table import notable, summary
from chitieu.reference import Reference, load_reference

Progress = Callable[[str], None]

_SCHEMA_LOCK = 6_006  # advisory lock id: concurrent workers create the schema once


def ensure_schema(url: str) -> None:
    """Create the raw and audit tables (idempotent, safe under concurrent workers)."""
    ddl = resources.files("chitieu").joinpath("sql/warehouse.sql").read_text(encoding="utf-8")
    with psycopg.connect(url) as conn:
        conn.execute("select pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        conn.execute(ddl)
    roles.ensure_roles(url)


@dataclass
class IngestSummary:
    landing: str
    quarantine: str
    results: list[FileResult] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # links out of the landing area
    busy: list[str] = field(default_factory=list)  # still being written, left for next run

    @property
    def counts(self) -> Counter[str]:
        return Counter(result.outcome for result in self.results)

    def left_out(self) -> dict[str, list[str]]:
        """The files of the landing area this run did not ingest, and why."""
        return {"ignored": self.ignored, "busy": self.busy, "refused": self.refused}

    @property
    def rows_loaded(self) -> int:
        return sum(r.rows for r in self.results if r.outcome == "accepted")

    @property
    def reports(self) -> list[str]:
        return [r.report for r in self.results if r.report]

    def lines(self) -> list[str]:
        c = self.counts
        lines = [
            f"files: {c['accepted']} accepted, {c['rejected']} rejected, "
            f"{c['duplicate']} duplicate, {c['unchanged']} already seen, "
            f"{len(self.ignored)} ignored (not a submission)",
            f"rows loaded: {self.rows_loaded}",
        ]
        if self.busy:
            lines.append(f"{len(self.busy)} file(s) {BUSY}")
        if self.refused:
            lines.append(f"{len(self.refused)} link(s) {OUTSIDE}")
        lines += self._receipts()
        new_reports = [r.report for r in self.results if r.outcome == "rejected" and r.report]
        if new_reports:
            lines.append(
                f"error reports ({len(new_reports)}), beside the rejected files under "
                f"{self.quarantine}:"
            )
            lines += [f"  {report}" for report in new_reports[:10]]
            if len(new_reports) > 10:
                lines.append(f"  … and {len(new_reports) - 10} more")
        return lines

    def _receipts(self, shown: int = 10) -> list[str]:
        """The receipts that say more than "header: row 1": where the reader found the
        table, rows it skipped, sheets it did not read."""
        noted = [r for r in self.results if r.receipt and notable(r.receipt)]
        if not noted:
            return []
        lines = [f"receipts ({len(noted)} file(s) not read as one plain table):"]
        lines += [f"  {r.path} ({r.outcome}): {summary(r.receipt)}" for r in noted[:shown]]
        if len(noted) > shown:
            lines.append(f"  … and {len(noted) - shown} more (audit.submission_receipt)")
        return lines


def ingest_one(
    rel_path: str, landing: Path | str | None = None, settings: Settings | None = None
) -> FileResult:
    """Ingest one file (the DAG maps this over the landing area)."""
    settings = settings or load_settings()
    location = landing or settings.landing
    if is_remote(location):
        from chitieu.ingest.storage import ingest_remote_one

        url = warehouse_url(settings)
        ensure_schema(url)
        return ingest_remote_one(rel_path, url, settings, str(location))
    root = Path(location).resolve()
    submission_path(root, rel_path)  # raises before anything outside the landing area is read
    url = warehouse_url(settings)
    ensure_schema(url)
    return ingest_file(
        url, root, rel_path, load_reference(settings.seeds_dir), settings.quarantine_dir
    )


def default_jobs() -> int:
    """Files ingested at a time by default: a few, so that one large file does not hold up the
    rest, without taking every core from the database on a small machine."""
    return min(4, os.cpu_count() or 1)


def _ingest_all(
    url: str,
    root: Path,
    submissions: list[str],
    reference: Reference,
    quarantine_dir: Path,
    jobs: int,
) -> Iterator[tuple[str, FileResult]]:
    """(path, result) of every file as it finishes, `jobs` at a time. Each file is its own
    transaction on its own connection (see `ingest_file`), so workers never share one, and
    identical files ingested at once are settled by the ledger's unique index. The first
    failure stops the files not yet started and is raised once the running ones finish."""
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="ingest") as pool:
        futures = {
            pool.submit(ingest_file, url, root, rel, reference, quarantine_dir): rel
            for rel in submissions
        }
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()


def ingest_landing(
    landing: Path | str | None = None,
    settings: Settings | None = None,
    progress: Progress = print,
    jobs: int | None = None,
) -> IngestSummary:
    """Ingest every new file of the landing area, `jobs` files at a time (default
    `default_jobs()`)."""
    settings = settings or load_settings()
    location = landing or settings.landing
    if is_remote(location):  # s3://bucket/prefix: chitieu.ingest.storage
        from chitieu.ingest.storage import ingest_remote

        url = warehouse_url(settings)
        ensure_schema(url)
        return ingest_remote(str(location), settings, url, progress, jobs or default_jobs())
    found = discover(Path(location), settings.settle_seconds)
    summary = IngestSummary(
        str(found.root),
        str(settings.quarantine_dir),
        ignored=found.ignored,
        refused=found.refused,
        busy=found.busy,
    )
    for line in describe(found):
        progress(line)
    if not found.submissions:
        progress(f"no submission files in {found.root}")
        return summary
    url = warehouse_url(settings)
    ensure_schema(url)
    reference = load_reference(settings.seeds_dir)
    todo, by_path = already_loaded(url, found.submissions, stat_in(found.root))
    if by_path:
        progress(f"{len(by_path)} file(s) already loaded and unchanged: skipped")
    total = len(todo)
    jobs = max(1, min(jobs or default_jobs(), total))
    if todo:
        progress(f"ingesting {total} file(s) from {found.root} ({jobs} at a time)")
    done = _ingest_all(url, found.root, todo, reference, settings.quarantine_dir, jobs)
    for number, (rel, result) in enumerate(done, start=1):
        by_path[rel] = result
        if result.outcome != "unchanged":
            detail = (
                f"{result.rows} rows"
                if result.outcome == "accepted"
                else (f"{result.errors} error(s)" if result.outcome == "rejected" else "")
            )
            progress(f"  [{number}/{total}] {result.outcome:<9} {rel} {detail}".rstrip())
    summary.results = [by_path[rel] for rel in found.submissions]
    for rel in found.ignored:
        progress(f"  ignored (not a submission): {rel}")
    return summary
