"""One submission file through the contract: ledger → read → validate → COPY, or quarantine.

An accepted file's rows are loaded in one transaction with its ledger row; a rejected file
loads nothing, is recorded with every error, and moves to quarantine with its report.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from psycopg import errors as pg_errors

from chitieu.ingest.errors import FileRejected, SubmissionError
from chitieu.ingest.parse import is_blank
from chitieu.ingest.read import file_format, read_rows
from chitieu.ingest.report import ErrorSpool, write_report
from chitieu.ingest.validate import Observation, Validator
from chitieu.reference import Reference

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_VALUE_COLUMNS = (
    "submission_id",
    "row_number",
    "province_code",
    "unit_code",
    "period",
    "indicator_code",
    "numerator",
    "denominator",
    "value",
    "note",
)
_COPY_VALUES = f"copy raw.submission_value ({', '.join(_VALUE_COLUMNS)}) from stdin"
_COPY_ERRORS = (
    "copy audit.submission_error (submission_id, error_number, row_number, column_name, rule,"
    " message_vi, message_en, raw_value) from stdin"
)


@dataclass(frozen=True)
class FileResult:
    path: str
    outcome: str  # accepted | rejected | duplicate | unchanged
    rows: int = 0
    errors: int = 0
    submission_id: int | None = None
    report: str | None = None


class _Rejected(Exception):
    pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def quarantine_target(quarantine_dir: Path, rel_path: str, submission_id: int) -> Path:
    """Where a rejected file goes: its landing path under quarantine, made unique by its id."""
    rel = Path(rel_path)
    return quarantine_dir / rel.parent / f"{rel.stem}.{submission_id}{rel.suffix}"


def report_path(quarantined: Path) -> Path:
    return quarantined.with_name(quarantined.name + ".errors.csv")


def _copy_row(submission_id: int, obs: Observation) -> tuple[object, ...]:
    return (
        submission_id,
        obs.row_number,
        obs.province_code,
        obs.unit_code,
        obs.period.code,
        obs.indicator_code,
        obs.numerator,
        obs.denominator,
        obs.value,
        obs.note,
    )


def _validate_and_copy(
    cur: psycopg.Cursor, path: Path, submission_id: int, validator: Validator, spool: ErrorSpool
) -> int:
    """Stream the file through the validator into COPY; every error goes to the spool.

    After the first error nothing more is copied (the transaction will be rolled back), but
    validation goes on so the report lists every error in the file.
    """
    loaded = 0
    header_seen = False
    with cur.copy(_COPY_VALUES) as copy:
        try:
            for row in read_rows(path):
                if all(is_blank(cell) for cell in row.cells):
                    continue
                if not header_seen:
                    validator.header(row.number, row.cells)
                    header_seen = True
                    continue
                result = validator.row(row.number, row.cells, row.percent)
                if not isinstance(result, Observation):
                    spool.extend(result)
                elif not spool.count:
                    copy.write_row(_copy_row(submission_id, result))
                    loaded += 1
        except FileRejected as exc:
            spool.add(exc.error)
            return loaded
    if not header_seen:
        spool.add(
            SubmissionError(
                "empty_file", "Tệp rỗng: không có dòng tiêu đề", "Empty file: no header row"
            )
        )
    elif loaded == 0 and not spool.count:
        spool.add(
            SubmissionError(
                "no_rows",
                "Tệp chỉ có dòng tiêu đề, không có số liệu",
                "The file has a header but no data rows",
            )
        )
    return loaded


def _insert_ledger(
    conn: psycopg.Connection, rel_path: str, path: Path, sha: str, outcome: str, **extra: object
) -> int:
    stat = path.stat()
    columns = {
        "path": rel_path,
        "size_bytes": stat.st_size,
        "sha256": sha,
        "file_format": file_format(path) or "unknown",
        "submitted_at": datetime.fromtimestamp(stat.st_mtime, UTC),
        "modified_ns": stat.st_mtime_ns,
        "outcome": outcome,
        **extra,
    }
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    row = conn.execute(
        f"insert into raw.submission_file ({names}) values ({marks}) returning submission_id",
        list(columns.values()),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _move_to_quarantine(
    conn: psycopg.Connection, path: Path, submission_id: int, target: Path, label: str
) -> None:
    """Write the report from the audit table, then move the file. Re-runnable: a crash between
    the ledger commit and the move is finished by the next run."""
    errors = (
        SubmissionError(rule, vi, en, row, column, raw)
        for row, column, rule, vi, en, raw in conn.execute(
            "select row_number, column_name, rule, message_vi, message_en, raw_value"
            " from audit.submission_error where submission_id = %s order by error_number",
            (submission_id,),
        )
    )
    write_report(report_path(target), label, errors)
    target.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        shutil.move(path, target)


def _reject(
    conn: psycopg.Connection,
    rel_path: str,
    path: Path,
    sha: str,
    spool: ErrorSpool,
    quarantine_dir: Path,
    started: float,
) -> FileResult:
    with conn.transaction():
        submission_id = _insert_ledger(
            conn,
            rel_path,
            path,
            sha,
            "rejected",
            error_count=spool.count,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        target = quarantine_target(quarantine_dir, rel_path, submission_id)
        conn.execute(
            "update raw.submission_file set quarantine_path = %s where submission_id = %s",
            (str(target), submission_id),
        )
        with conn.cursor().copy(_COPY_ERRORS) as copy:
            for number, error in enumerate(spool, start=1):
                copy.write_row(
                    (
                        submission_id,
                        number,
                        error.row,
                        error.column,
                        error.rule,
                        error.vi,
                        error.en,
                        error.raw_value,
                    )
                )
    _move_to_quarantine(conn, path, submission_id, target, rel_path)
    return FileResult(rel_path, "rejected", 0, spool.count, submission_id, str(report_path(target)))


def _load_or_reject(
    conn: psycopg.Connection,
    rel_path: str,
    path: Path,
    sha: str,
    reference: Reference,
    quarantine_dir: Path,
) -> FileResult:
    started = time.monotonic()
    submitted_on = datetime.fromtimestamp(path.stat().st_mtime, LOCAL_TZ).date()
    validator = Validator(reference, submitted_on)
    spool = ErrorSpool(quarantine_dir / ".spool" / f"{sha}.csv")
    try:
        try:
            with conn.transaction():
                submission_id = _insert_ledger(conn, rel_path, path, sha, "accepted")
                loaded = _validate_and_copy(conn.cursor(), path, submission_id, validator, spool)
                spool.close()
                if spool.count:
                    raise _Rejected
                conn.execute(
                    "update raw.submission_file set row_count = %s, duration_ms = %s"
                    " where submission_id = %s",
                    (loaded, int((time.monotonic() - started) * 1000), submission_id),
                )
            return FileResult(rel_path, "accepted", loaded, 0, submission_id)
        except _Rejected:
            return _reject(conn, rel_path, path, sha, spool, quarantine_dir, started)
        except pg_errors.UniqueViolation:
            # Another worker accepted the same content first.
            return _record_duplicate(conn, rel_path, path, sha)
    finally:
        spool.close()
        spool.path.unlink(missing_ok=True)


def _record_duplicate(conn: psycopg.Connection, rel_path: str, path: Path, sha: str) -> FileResult:
    with conn.transaction():
        original = conn.execute(
            "select submission_id from raw.submission_file"
            " where sha256 = %s and outcome = 'accepted'",
            (sha,),
        ).fetchone()
        assert original is not None
        submission_id = _insert_ledger(
            conn, rel_path, path, sha, "duplicate", duplicate_of=original[0]
        )
    return FileResult(rel_path, "duplicate", 0, 0, submission_id)


def _already_seen(
    conn: psycopg.Connection, rel_path: str, path: Path, sha: str | None
) -> FileResult | None:
    """The ledger's answer for a file seen before (same path, and same mtime+size or same hash)."""
    stat = path.stat()
    if sha is None:
        where, params = "size_bytes = %s and modified_ns = %s", [stat.st_size, stat.st_mtime_ns]
    else:
        where, params = "sha256 = %s", [sha]
    row = conn.execute(
        "select submission_id, outcome, quarantine_path, row_count, error_count"
        f" from raw.submission_file where path = %s and {where}"
        " order by submission_id desc limit 1",
        [rel_path, *params],
    ).fetchone()
    if row is None:
        return None
    submission_id, outcome, quarantine_path, rows, errors = row
    report = None
    if outcome == "rejected":
        target = Path(quarantine_path)
        _move_to_quarantine(conn, path, submission_id, target, rel_path)
        report = str(report_path(target))
    return FileResult(rel_path, "unchanged", rows, errors, submission_id, report)


def ingest_file(
    url: str, landing_root: Path, rel_path: str, reference: Reference, quarantine_dir: Path
) -> FileResult:
    """Ingest one file of the landing area; safe to call again on the same file."""
    path = landing_root / rel_path
    with psycopg.connect(url) as conn:
        conn.autocommit = True  # transactions are explicit below
        seen = _already_seen(conn, rel_path, path, None)
        if seen:
            return seen
        sha = sha256_of(path)
        seen = _already_seen(conn, rel_path, path, sha)
        if seen:
            return seen
        accepted = conn.execute(
            "select 1 from raw.submission_file where sha256 = %s and outcome = 'accepted'",
            (sha,),
        ).fetchone()
        if accepted:
            return _record_duplicate(conn, rel_path, path, sha)
        return _load_or_reject(conn, rel_path, path, sha, reference, quarantine_dir)
