"""One submission file through the contract: ledger → read → validate → COPY, or quarantine.

An accepted file's rows are loaded in one transaction with its ledger row; a rejected file
loads nothing, is recorded with every error, and moves to quarantine with its report.

Memory stays bounded whatever the file's size: rows stream from the reader through the
checks into COPY, errors stream to a scratch file, and repeated keys are found by the
database at the end of the file (skipped when no two key hashes are equal), not kept in
memory.
Rows in the common clean shapes take `fastpath.RowChecker`; every other row gets the
Validator's full verdict.

Byte-identical files: the content is accepted once, under its earliest copy by
(submitted_at, path), whatever order the copies are processed in; the others are recorded as
duplicates of it. When an earlier copy turns up after a later one was accepted, it takes the
content over (the later copy becomes the duplicate and its rows move to the earlier one), so
the result depends only on the files, as supersession requires.
"""

from __future__ import annotations

import hashlib
import heapq
import shutil
import sys
import time
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import errors as pg_errors

from chitieu import roles
from chitieu.ingest.errors import FileRejected, SubmissionError
from chitieu.ingest.fastpath import (
    KeyFilter,
    RowChecker,
    clean_csv_rows,
    copy_field,
    copy_tail,
)
from chitieu.ingest.header import header_columns
from chitieu.ingest.parse import is_blank
from chitieu.ingest.read import Sheet, file_format, read_sheets
from chitieu.ingest.report import ErrorSpool, write_report
from chitieu.ingest.table import SKIPPED, NonDataRows, Receipt, ReceiptLine, Table, tables
from chitieu.ingest.validate import Observation, Validator
from chitieu.reference import Reference
from chitieu.vn_time import VN_TZ

_KEY_COLUMNS = ("province_code", "unit_code", "period", "indicator_code")
_VALUE_COLUMNS = (
    "submission_id",
    "sheet_index",
    "sheet",
    "row_number",
    *_KEY_COLUMNS,
    "numerator",
    "denominator",
    "value",
    "note",
)
_LINES_PER_WRITE = 2048
_COPY_VALUES = f"copy raw.submission_value ({', '.join(_VALUE_COLUMNS)}) from stdin"
_COPY_ERRORS = (
    "copy audit.submission_error (submission_id, error_number, row_number, column_name, rule,"
    " message_vi, message_en, raw_value, sheet) from stdin"
)
_COPY_RECEIPT = (
    "copy audit.submission_receipt (submission_id, line_number, kind, sheet, row_number,"
    " message_vi, message_en) from stdin"
)
# After a file's first error its rows are no longer loaded, only their keys are kept here
# (dropped with the transaction) so that every repeated key can still be reported.
_KEYS_TABLE = "ingest_keys"
_CREATE_KEYS = (
    f"create temporary table {_KEYS_TABLE} (position bigint, province_code text,"
    " unit_code text, period text, indicator_code text) on commit drop"
)
_COPY_KEYS = f"copy {_KEYS_TABLE} (position, {', '.join(_KEY_COLUMNS)}) from stdin"
# A row's position in the file: its sheet's index times STRIDE plus its row number (a sheet
# has at most 2^20 rows), so that positions order rows as the file does. For a CSV file a
# position is the row number.
STRIDE = 1 << 21
# Every row whose key an earlier row of the file already has, with that first row.
_DUPLICATES = """
select position, first_position, indicator_code
from (
    select
        position,
        indicator_code,
        min(position) over (partition by province_code, unit_code, period, indicator_code)
            as first_position
    from ({keys}) as file_keys
) as ranked
where position <> first_position and position > %(after)s
order by position
"""
# The f-strings below interpolate only the column and table names of this module (`noqa:
# S608`); every value goes as a parameter.
_LOADED_KEYS = (
    f"select sheet_index::bigint * {STRIDE} + row_number as position,"  # noqa: S608
    f" {', '.join(_KEY_COLUMNS)} from raw.submission_value"
    " where submission_id = %(submission_id)s"
)
_LATER_KEYS = f"select position, {', '.join(_KEY_COLUMNS)} from {_KEYS_TABLE}"  # noqa: S608
# Decisions retried when another worker changed the ledger for the same content. Each retry
# follows a change another worker committed, and a content's copies change it a bounded number
# of times, but one worker can be overtaken once by each of the others (6 copies on 6 workers
# took a worker past 5 attempts in CI): the bound only stops a livelock.
_ATTEMPTS = 50


@dataclass(frozen=True)
class FileResult:
    path: str
    outcome: str  # accepted | rejected | duplicate | unchanged
    rows: int = 0
    errors: int = 0
    submission_id: int | None = None
    report: str | None = None
    receipt: tuple[ReceiptLine, ...] = ()


class _Rejected(Exception):
    """The file breaks the contract; `reporters` are the province/unit pairs of its rows
    that loaded before its first error ('49/SYT;49/CA'), None when none did."""

    def __init__(self, reporters: str | None = None) -> None:
        super().__init__(reporters)
        self.reporters = reporters


# The (province, unit) pairs among the first rows a file loaded, before its transaction is
# rolled back: who a rejection notice goes to. A sample: a file is one unit's, nearly always.
_REPORTERS = """
select string_agg(distinct reporter, ';' order by reporter)
from (
    select province_code || '/' || unit_code as reporter from raw.submission_value
    where submission_id = %s limit 10000
) as sample
"""


class _Retry(Exception):
    """Another worker changed the ledger for this content meanwhile: decide again."""


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


def report_of(quarantined: str) -> str:
    """Where a quarantined file's report is: beside it (a local path or an object's URL)."""
    return quarantined + ".errors.csv"


def report_path(quarantined: Path) -> Path:
    return Path(report_of(str(quarantined)))


class Quarantine:
    """Where rejected files go: a local folder. An object-store landing area
    (`storage.RemoteQuarantine`) moves them to a bucket instead; the ledger records whatever
    `target` names, so a move interrupted by a crash is finished by the next run either way."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def scratch(self) -> Path:
        """A local folder for error spools."""
        return self.folder / ".spool"

    def target(self, rel_path: str, submission_id: int) -> str:
        return str(quarantine_target(self.folder, rel_path, submission_id))

    def report(self, target: str) -> str:
        return str(report_path(Path(target)))

    def move(self, path: Path, target: str, write: Callable[[Path], None]) -> None:
        """Write the report (`write` to a local path) beside `target`, then move the file."""
        moved = Path(target)
        write(report_path(moved))
        moved.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            shutil.move(path, moved)


def _submitted_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


# --- rows → COPY ---------------------------------------------------------------------------


class Positions:
    """The sheets of a file by index, to turn a row's position (see STRIDE) back into its
    sheet and row."""

    def __init__(self) -> None:
        self.names: dict[int, str | None] = {0: None}

    def sheet(self, position: int) -> str | None:
        return self.names.get(position // STRIDE)

    def where(self, position: int) -> tuple[str, str]:
        """'row 7' / 'row 7 of sheet T8' (vi, en)."""
        row, sheet = position % STRIDE, self.sheet(position)
        if sheet is None:
            return f"dòng {row}", f"row {row}"
        return f"dòng {row} sheet '{sheet}'", f"row {row} of sheet '{sheet}'"

    def order(self, error: SubmissionError) -> int:
        """Where an error stands in the file (file-wide errors last)."""
        if error.row is None:
            return sys.maxsize
        index = next((i for i, name in self.names.items() if name == error.sheet), 0)
        return index * STRIDE + error.row


def duplicate_key_error(
    position: int, first: int, indicator_code: str, positions: Positions | None = None
) -> SubmissionError:
    """The Validator's `duplicate_key` error, for the row at `position` whose key the row
    at `first` has."""
    positions = positions or Positions()
    vi, en = positions.where(first)
    return SubmissionError(
        "duplicate_key",
        f"Trùng tỉnh/đơn vị/kỳ/chỉ tiêu với {vi}",
        f"Same province/unit/period/indicator as {en}",
        position % STRIDE,
        "indicator_code",
        indicator_code,
        positions.sheet(position),
    )


def _clean_csv(path: Path) -> Sheet | None:
    """A clean CSV file as one sheet of text cells, which `RowChecker.fast` can take."""
    if file_format(path) != "csv":
        return None
    rows = clean_csv_rows(path)
    return None if rows is None else Sheet(None, 0, False, rows, [])  # type: ignore[arg-type]


class _Sink:
    """Where checked rows go, on one connection (so one COPY at a time).

    While the file has no error its rows are COPYed into raw.submission_value. After its
    first error (the transaction will be rolled back) rows are no longer loaded; only once the
    duplicate check has moved to the database (`keys_in_database`) are their keys COPYed, to
    a temporary table, so that SQL can still find every repeated key.
    """

    def __init__(self, cur: psycopg.Cursor, submission_id: int, positions: Positions) -> None:
        self.cur = cur
        self.submission_id = submission_id
        self.clean = True
        self.keys_in_database = False
        self._flushed = 0
        self._stack = ExitStack()
        self._copy = self._stack.enter_context(cur.copy(_COPY_VALUES))
        self._keys_table = False
        # Loaded rows as COPY text lines, sent a block at a time: cheaper per row than
        # `write_row`, which adapts each value again.
        self.lines: list[str] = []
        self.positions = positions
        self.base = 0  # the position of row 0 of the sheet being read
        self.prefix = ""
        self.sheet(0, None)

    def sheet(self, index: int, name: str | None) -> None:
        """Rows from now on are of sheet `index` (`name`)."""
        self.positions.names[index] = name
        self.base = index * STRIDE
        self.prefix = f"{self.submission_id}\t{index}\t{copy_field(name)}\t"

    @property
    def loaded(self) -> int:
        return self._flushed + len(self.lines)

    def _keys_copy(self) -> None:
        self._stack.close()
        if not self._keys_table:
            self.cur.execute(_CREATE_KEYS)
            self._keys_table = True
        self._copy = self._stack.enter_context(self.cur.copy(_COPY_KEYS))

    def error_seen(self) -> None:
        if self.clean:
            self.clean = False
            # Rolled back in the end, but until then the duplicate check reads these rows.
            self.flush()
            self._stack.close()
            if self.keys_in_database:
                self._keys_copy()

    def move_keys_to_database(self, first_positions: dict[tuple, int]) -> None:
        """From now on every key goes to the database; `first_positions` are the keys seen so
        far with their first row (rows after an error were not loaded, so are not there)."""
        self.keys_in_database = True
        if not self.clean:
            self._keys_copy()
            for key, position in first_positions.items():
                self._copy.write_row((position, *key))

    def write(self, number: int, key: tuple, tail: str) -> None:
        """Row `number`: its key and the rest of its COPY line (`fastpath.copy_tail`), which
        is not used once the file has an error. Key parts are codes of the reference data,
        which hold no character COPY would need escaped."""
        if self.clean:
            lines = self.lines
            lines.append(f"{self.prefix}{number}\t{key[0]}\t{key[1]}\t{key[2]}\t{key[3]}\t{tail}\n")
            if len(lines) >= _LINES_PER_WRITE:
                self.flush()
        elif self.keys_in_database:
            self._copy.write_row((self.base + number, *key))

    def flush(self) -> None:
        self._copy.write("".join(self.lines))
        self._flushed += len(self.lines)
        self.lines.clear()

    def close(self) -> None:
        if self.clean:
            self.flush()
        self._stack.close()

    def abort(self) -> None:
        self._stack.__exit__(*sys.exc_info())

    def duplicates(self, after: int) -> Iterator[tuple[int, int, str]]:
        """(position, first position, indicator) of every row after position `after` whose
        key an earlier row has, in the file's order."""
        keys = _LOADED_KEYS if not self._keys_table else f"{_LOADED_KEYS} union {_LATER_KEYS}"
        params = {"submission_id": self.submission_id, "after": after}
        with self.cur.connection.cursor(name="ingest_duplicates") as named:
            named.execute(_DUPLICATES.format(keys=keys), params)
            yield from named


class _DuplicateKeys:
    """The duplicate-key rule for the whole file. Up to `MEMORY_KEYS` keys it is checked in
    memory, exactly as the Validator does, each error reported with its row; beyond that the
    keys move to the database and the check runs in SQL at the end of the file, skipped when a
    comparison of every key's hash shows none was seen twice. Memory stays bounded either way."""

    MEMORY_KEYS = 100_000

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.first_rows: dict[tuple, int] | None = {}
        self.filter: KeyFilter | None = None
        self.checked_through = 0  # positions up to here were checked in memory

    def error(self, number: int, key: tuple) -> SubmissionError | None:
        """The duplicate_key error of the row at position `number` when memory can tell,
        else None."""
        first_rows = self.first_rows
        if first_rows is None:
            self.filter.add(key)  # type: ignore[union-attr]
            return None
        first = first_rows.setdefault(key, number)
        if first != number:
            return duplicate_key_error(number, first, key[3], self.sink.positions)
        if len(first_rows) > self.MEMORY_KEYS:
            self._to_database(number)
        return None

    def _to_database(self, number: int) -> None:
        assert self.first_rows is not None
        self.filter = KeyFilter()
        for key in self.first_rows:
            self.filter.add(key)
        self.sink.move_keys_to_database(self.first_rows)
        self.first_rows = None
        self.checked_through = number

    def remaining(self) -> Iterator[SubmissionError]:
        """The errors left for the database to find (none while checked in memory)."""
        if self.filter is None or not self.filter.maybe_duplicate:
            return
        positions = self.sink.positions
        for position, first, indicator_code in self.sink.duplicates(self.checked_through):
            yield duplicate_key_error(position, first, indicator_code, positions)


def _validate_and_copy(
    cur: psycopg.Cursor,
    path: Path,
    submission_id: int,
    validator: Validator,
    spool: ErrorSpool,
    duplicates: ErrorSpool | None = None,
    receipt: Receipt | None = None,
    positions: Positions | None = None,
) -> int:
    """Stream the file through the checks into COPY; every error goes to `spool`, in order.

    `table.tables` finds each sheet's table and writes what it read to `receipt`; each data
    row is checked by `RowChecker.fast` or, failing that, a Validator of its own (`validator`
    gives the reference and the submission date), while `_DuplicateKeys` checks repeated
    keys across the file. After the first error no more rows are loaded (the transaction
    will be rolled back), but checking goes on so the report lists every error. Repeated
    keys of a very large file are found at the end, in SQL, and spooled to `duplicates` (to
    `spool` when not given).
    """
    receipt = receipt if receipt is not None else Receipt()
    sink = _Sink(cur, submission_id, positions or Positions())
    keys = _DuplicateKeys(sink)
    clean = _clean_csv(path)
    try:
        try:
            sheets = iter([clean]) if clean is not None else read_sheets(path)
            for table in tables(sheets, receipt):
                _copy_table(table, validator, clean is not None, sink, keys, spool, receipt)
        except FileRejected as exc:
            spool.add(exc.error)
        sink.close()
    except BaseException:
        sink.abort()
        raise
    for error in keys.remaining():
        (spool if duplicates is None else duplicates).add(error)
    loaded = sink.loaded if sink.clean else 0
    if loaded == 0 and not spool.count and not (duplicates and duplicates.count):
        spool.add(
            SubmissionError(
                "no_rows",
                "Tệp chỉ có dòng tiêu đề, không có số liệu",
                "The file has a header but no data rows",
            )
        )
    return loaded


def _copy_table(
    table: Table,
    file_validator: Validator,
    clean_text: bool,
    sink: _Sink,
    keys: _DuplicateKeys,
    spool: ErrorSpool,
    receipt: Receipt,
) -> None:
    """One table's rows through the checks into `sink` (see `_validate_and_copy`)."""
    sheet = table.sheet
    validator = Validator(
        file_validator.reference,
        file_validator.submitted_on,
        sheet=sheet.name,
        extra_cells=sheet.name is None,
        percent_known=sheet.percent_known,
    )
    validator.header(table.header_row, table.names)
    sink.sheet(sheet.index, sheet.name)
    checker = RowChecker(
        validator.reference, validator.submitted_on, validator.columns, validator.width
    )
    not_data = NonDataRows(header_columns(table.names))
    fast = checker.fast if clean_text else None
    base = sink.base

    def check(number: int, cells: list, percent: list[bool] | None) -> None:
        """Any row: a blank row, a row that is not data, a row `fast` takes, or the
        Validator's."""
        if fast is not None:
            checked = fast(cells)
            if checked is not None:
                duplicate = keys.error(base + number, checked[0])
                if duplicate is None:
                    sink.write(number, *checked)
                    return
                spool.add(duplicate)
                sink.error_seen()
                sink.write(number, checked[0], "")
                return
        if all(is_blank(cell) for cell in cells):
            return
        reason = not_data.reason(cells)
        if reason is not None:
            vi, en = SKIPPED[reason]
            receipt.note("row_skipped", f"bỏ qua: {vi}", f"skipped: {en}", sheet.name, number)
            return
        result = validator.like().row(number, cells, percent or [False] * len(cells))
        if isinstance(result, Observation):
            key: tuple | None = (
                result.province_code,
                result.unit_code,
                result.period.code,
                result.indicator_code,
            )
            tail = copy_tail((result.numerator, result.denominator, result.value, result.note))
        else:
            spool.extend(result)
            key, tail = checker.key_of(cells), ""
        if key is None:
            sink.error_seen()
            return
        duplicate = keys.error(base + number, key)
        if duplicate is not None:
            spool.add(duplicate)
        if not tail or duplicate is not None:
            sink.error_seen()
        sink.write(number, key, tail)

    rows = table.rows
    if fast is None:
        for number, cells, percent in rows:
            check(number, cells, percent)
        return
    # A clean CSV file (one table, base 0): while the file has no error, the rows `fast`
    # takes go through the loop below (`check` and `sink.write` inlined: they were a third
    # of a row's cost). A row's key is hashed here once the keys are only hashed
    # (KeyFilter), else checked by `keys.error`; a repeated key sends the row to `check`,
    # which reports it.
    hot = sink.clean
    hashes: array[int] | None = keys.filter.hashes if keys.filter else None
    lines, prefix, limit = sink.lines, sink.prefix, KeyFilter.MAX_HASHES
    for number, cells, percent in rows:
        if hot:
            checked = fast(cells)
            if checked is not None:
                key, tail = checked
                if hashes is not None:
                    hashes.append(hash(key))
                    if len(hashes) > limit:
                        keys.filter.give_up()  # type: ignore[union-attr]
                        hashes = None
                elif keys.error(number, key) is not None:
                    check(number, cells, percent)
                    hot = sink.clean
                    continue
                lines.append(f"{prefix}{number}\t{key[0]}\t{key[1]}\t{key[2]}\t{key[3]}\t{tail}\n")
                if len(lines) >= _LINES_PER_WRITE:
                    sink.flush()
                    hashes = keys.filter.hashes if keys.filter else None
                continue
        check(number, cells, percent)
        hot = sink.clean
        hashes = keys.filter.hashes if keys.filter else None


def _all_errors(
    spool: ErrorSpool, duplicates: ErrorSpool, positions: Positions
) -> Iterator[SubmissionError]:
    """Both spools in the file's order; a repeated key comes last among its row's errors,
    as the Validator reports it."""
    return heapq.merge(spool, duplicates, key=positions.order)


# --- the ledger ----------------------------------------------------------------------------


def _insert_ledger(
    conn: psycopg.Connection, rel_path: str, path: Path, sha: str, outcome: str, **extra: object
) -> int:
    stat = path.stat()
    columns = {
        "path": rel_path,
        "size_bytes": stat.st_size,
        "sha256": sha,
        "file_format": file_format(path) or "unknown",
        "submitted_at": _submitted_at(path),
        "modified_ns": stat.st_mtime_ns,
        "outcome": outcome,
        **extra,
    }
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    row = conn.execute(
        # names: this function's own column names; values go as parameters
        f"insert into raw.submission_file ({names}) values ({marks}) returning submission_id",  # noqa: S608
        list(columns.values()),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _move_to_quarantine(
    conn: psycopg.Connection,
    path: Path,
    submission_id: int,
    target: str,
    label: str,
    quarantine: Quarantine,
) -> None:
    """Write the report from the audit table, then move the file. Re-runnable: a crash between
    the ledger commit and the move is finished by the next run."""
    errors = (
        SubmissionError(rule, vi, en, row, column, raw, sheet)
        for row, column, rule, vi, en, raw, sheet in conn.execute(
            "select row_number, column_name, rule, message_vi, message_en, raw_value, sheet"
            " from audit.submission_error where submission_id = %s order by error_number",
            (submission_id,),
        )
    )
    receipt = [
        SubmissionError(kind, vi, en, row, None, None, sheet)
        for kind, sheet, row, vi, en in conn.execute(
            "select kind, sheet, row_number, message_vi, message_en"
            " from audit.submission_receipt where submission_id = %s order by line_number",
            (submission_id,),
        )
    ]
    quarantine.move(path, target, lambda report: write_report(report, label, errors, receipt))


def _store_receipt(conn: psycopg.Connection, submission_id: int, receipt: Receipt) -> None:
    with conn.cursor().copy(_COPY_RECEIPT) as copy:
        for number, line in enumerate(receipt.lines, start=1):
            copy.write_row(
                (submission_id, number, line.kind, line.sheet, line.row, line.vi, line.en)
            )


def _reject(
    conn: psycopg.Connection,
    rel_path: str,
    path: Path,
    sha: str,
    errors: Iterable[SubmissionError],
    error_count: int,
    quarantine: Quarantine,
    started: float,
    receipt: Receipt,
    reporters: str | None = None,
) -> FileResult:
    with conn.transaction():
        submission_id = _insert_ledger(
            conn,
            rel_path,
            path,
            sha,
            "rejected",
            error_count=error_count,
            duration_ms=int((time.monotonic() - started) * 1000),
            reporters=reporters,
        )
        target = quarantine.target(rel_path, submission_id)
        conn.execute(
            "update raw.submission_file set quarantine_path = %s where submission_id = %s",
            (target, submission_id),
        )
        with conn.cursor().copy(_COPY_ERRORS) as copy:
            for number, error in enumerate(errors, start=1):
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
                        error.sheet,
                    )
                )
        _store_receipt(conn, submission_id, receipt)
    _move_to_quarantine(conn, path, submission_id, target, rel_path, quarantine)
    report = quarantine.report(target)
    lines = tuple(receipt.lines)
    return FileResult(rel_path, "rejected", 0, error_count, submission_id, report, lines)


def _take_over(conn: psycopg.Connection, later_copy: int) -> None:
    """Make the accepted later copy of this content a duplicate, and drop its rows (this file,
    byte-identical and earlier, loads them again under its own id)."""
    demoted = conn.execute(
        "update raw.submission_file set outcome = 'duplicate', row_count = 0"
        " where submission_id = %s and outcome = 'accepted'",
        (later_copy,),
    ).rowcount
    if demoted != 1:
        raise _Retry
    conn.execute("delete from raw.submission_value where submission_id = %s", (later_copy,))


def _load_or_reject(
    conn: psycopg.Connection,
    rel_path: str,
    path: Path,
    sha: str,
    reference: Reference,
    quarantine: Quarantine,
    later_copy: int | None,
) -> FileResult:
    started = time.monotonic()
    submitted_on = datetime.fromtimestamp(path.stat().st_mtime, VN_TZ).date()
    # Scratch files named per attempt: identical files may be ingested at the same time.
    scratch = quarantine.scratch / uuid.uuid4().hex
    spool = ErrorSpool(scratch.with_suffix(".errors.csv"))
    duplicates = ErrorSpool(scratch.with_suffix(".duplicates.csv"))
    receipt, positions = Receipt(), Positions()
    try:
        try:
            with conn.transaction():
                if later_copy is not None:
                    _take_over(conn, later_copy)
                submission_id = _insert_ledger(conn, rel_path, path, sha, "accepted")
                validator = Validator(reference, submitted_on)
                loaded = _validate_and_copy(
                    conn.cursor(),
                    path,
                    submission_id,
                    validator,
                    spool,
                    duplicates,
                    receipt,
                    positions,
                )
                spool.close()
                duplicates.close()
                if spool.count or duplicates.count:
                    found = conn.execute(_REPORTERS, (submission_id,)).fetchone()
                    raise _Rejected(found[0] if found else None)
                if later_copy is not None:
                    conn.execute(
                        "update raw.submission_file set duplicate_of = %s"
                        " where submission_id = %s or duplicate_of = %s",
                        (submission_id, later_copy, later_copy),
                    )
                conn.execute(
                    "update raw.submission_file set row_count = %s, duration_ms = %s"
                    " where submission_id = %s",
                    (loaded, int((time.monotonic() - started) * 1000), submission_id),
                )
                _store_receipt(conn, submission_id, receipt)
            lines = tuple(receipt.lines)
            return FileResult(rel_path, "accepted", loaded, 0, submission_id, None, lines)
        except _Rejected as rejected:
            return _reject(
                conn,
                rel_path,
                path,
                sha,
                _all_errors(spool, duplicates, positions),
                spool.count + duplicates.count,
                quarantine,
                started,
                receipt,
                rejected.reporters,
            )
    finally:
        for scratch_file in (spool, duplicates):
            scratch_file.close()
            scratch_file.path.unlink(missing_ok=True)


def _record_duplicate(conn: psycopg.Connection, rel_path: str, path: Path, sha: str) -> FileResult:
    with conn.transaction():
        # FOR SHARE waits for an earlier copy taking this content over (it holds the row):
        # then the row is no longer the accepted one, none is found, and the decision is
        # made again. Without the lock, this duplicate could point at the demoted copy.
        original = conn.execute(
            "select submission_id from raw.submission_file"
            " where sha256 = %s and outcome = 'accepted' for share",
            (sha,),
        ).fetchone()
        if original is None:
            raise _Retry
        submission_id = _insert_ledger(
            conn, rel_path, path, sha, "duplicate", duplicate_of=original[0]
        )
    return FileResult(rel_path, "duplicate", 0, 0, submission_id)


def _already_seen(
    conn: psycopg.Connection, rel_path: str, path: Path, sha: str | None, quarantine: Quarantine
) -> FileResult | None:
    """The ledger's answer for a file seen before (same path, and same mtime+size or same hash)."""
    stat = path.stat()
    if sha is None:
        where, params = "size_bytes = %s and modified_ns = %s", [stat.st_size, stat.st_mtime_ns]
    else:
        where, params = "sha256 = %s", [sha]
    row = conn.execute(
        # where: one of the two conditions above; values go as parameters
        "select submission_id, outcome, quarantine_path, row_count, error_count"  # noqa: S608
        f" from raw.submission_file where path = %s and {where}"
        " order by submission_id desc limit 1",
        [rel_path, *params],
    ).fetchone()
    if row is None:
        return None
    submission_id, outcome, quarantine_path, rows, errors = row
    report = None
    if outcome == "rejected":
        _move_to_quarantine(conn, path, submission_id, quarantine_path, rel_path, quarantine)
        report = quarantine.report(quarantine_path)
    return FileResult(rel_path, "unchanged", rows, errors, submission_id, report)


FileStat = tuple[int, int]  # size in bytes, modification time in ns


def stat_in(root: Path) -> Callable[[str], FileStat | None]:
    """The (size, mtime) of a path under a local landing folder; None when it is gone."""

    def stat(rel_path: str) -> FileStat | None:
        try:
            found = (root / rel_path).stat()
        except OSError:
            return None
        return found.st_size, found.st_mtime_ns

    return stat


def already_loaded(
    url: str, rel_paths: list[str], stat: Callable[[str], FileStat | None]
) -> tuple[list[str], dict[str, FileResult]]:
    """The files of `rel_paths` to ingest, in their order, and the recorded result of the
    others: those whose latest non-rejected ledger entry for their path has the size and
    modification time `stat` gives for the file now (a local file's, or an object's size
    and LastModified). One query, not a connection (or a download) per file: a landing
    area holding years of files costs a night almost nothing for those already seen. Every
    other file (new, changed, or rejected and still to be moved to quarantine) is left to
    `ingest_file`, whose own check has the last word."""
    with psycopg.connect(url) as conn:
        ledger = {
            path: (size, modified_ns, submission_id, rows, errors)
            for path, size, modified_ns, submission_id, rows, errors in conn.execute(
                "select distinct on (path) path, size_bytes, modified_ns, submission_id,"
                " row_count, error_count from raw.submission_file"
                " where path = any(%s) and outcome <> 'rejected'"
                " order by path, submission_id desc",
                (rel_paths,),
            )
        }
    seen: dict[str, FileResult] = {}
    for rel_path, (size, modified_ns, submission_id, rows, errors) in ledger.items():
        if stat(rel_path) == (size, modified_ns):
            recorded = FileResult(rel_path, "unchanged", rows or 0, errors or 0, submission_id)
            seen[rel_path] = recorded
    return [rel for rel in rel_paths if rel not in seen], seen


def _accepted_copy(
    conn: psycopg.Connection, rel_path: str, path: Path, sha: str
) -> tuple[int, bool] | None:
    """The accepted file with this content, if any, and whether it comes before this one in
    the files' order (submitted_at, then path: the order supersession uses)."""
    row = conn.execute(
        "select submission_id, (submitted_at, path) < (%s, %s) from raw.submission_file"
        " where sha256 = %s and outcome = 'accepted'",
        (_submitted_at(path), rel_path, sha),
    ).fetchone()
    return None if row is None else (int(row[0]), bool(row[1]))


def ingest_file(
    url: str,
    landing_root: Path,
    rel_path: str,
    reference: Reference,
    quarantine_dir: Path | Quarantine,
) -> FileResult:
    """Ingest one file of the landing area; safe to call again on the same file, and alongside
    other workers ingesting other files (or identical ones)."""
    quarantine = (
        quarantine_dir if isinstance(quarantine_dir, Quarantine) else Quarantine(quarantine_dir)
    )
    path = landing_root / rel_path
    with psycopg.connect(url) as conn:
        conn.autocommit = True  # transactions are explicit below
        # Ingest writes raw and audit only: as the loader role, it could not touch more.
        roles.set_role(conn, roles.LOADER)
        seen = _already_seen(conn, rel_path, path, None, quarantine)
        if seen:
            return seen
        sha = sha256_of(path)
        for _attempt in range(_ATTEMPTS):
            seen = _already_seen(conn, rel_path, path, sha, quarantine)
            if seen:
                return seen
            accepted = _accepted_copy(conn, rel_path, path, sha)
            try:
                if accepted is not None and accepted[1]:
                    return _record_duplicate(conn, rel_path, path, sha)
                later_copy = None if accepted is None else accepted[0]
                return _load_or_reject(conn, rel_path, path, sha, reference, quarantine, later_copy)
            except (_Retry, pg_errors.UniqueViolation):
                continue
        raise RuntimeError(f"{rel_path}: the ledger kept changing for its content; try again")
