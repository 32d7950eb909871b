"""Error spooling and the reports written beside quarantined files (`<file>.errors.csv`)."""

from __future__ import annotations

import csv
import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from chitieu.ingest.errors import SubmissionError

REPORT_COLUMNS = (
    "file",
    "sheet",
    "row",
    "column",
    "rule",
    "message_vi",
    "message_en",
    "value",
)
# The receipt's lines head the report, their kind in the `rule` column.
RECEIPT_KINDS = ("header", "row_skipped", "sheet_not_loaded")
# OWASP's list for CSV injection, and the full-width forms some spreadsheet locales also
# take as the start of a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def spreadsheet_safe(text: str | None) -> str:
    """Text a spreadsheet will show, never evaluate (`=HYPERLINK(...)` becomes `'=HYPER...`).
    Applied to every text cell of a report: any of them can carry a file's text."""
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class ErrorSpool:
    """Errors streamed to a scratch file, so a file with a million bad rows stays in bounded
    memory; read back once for the audit table and once for the report.

    `path` names the spool; the file actually used (`self.path`) gets a unique suffix, because
    parallel workers ingesting byte-identical files would otherwise share `<sha>.csv` and
    truncate or delete each other's errors mid-run.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f"{path.stem}.", suffix=path.suffix)
        self.path = Path(name)
        self.count = 0
        self._handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle)

    def add(self, error: SubmissionError) -> None:
        self.count += 1
        self._writer.writerow(
            [
                error.row or "",
                error.column or "",
                error.rule,
                error.vi,
                error.en,
                "" if error.raw_value is None else error.raw_value,
                "" if error.sheet is None else error.sheet,
            ]
        )

    def extend(self, errors: Iterable[SubmissionError]) -> None:
        for error in errors:
            self.add(error)

    def close(self) -> None:
        self._handle.close()

    def __iter__(self) -> Iterator[SubmissionError]:
        with self.path.open(encoding="utf-8", newline="") as handle:
            for row, column, rule, vi, en, value, sheet in csv.reader(handle):
                yield SubmissionError(
                    rule,
                    vi,
                    en,
                    int(row) if row else None,
                    column or None,
                    value or None,
                    sheet or None,
                )


def write_report(
    path: Path,
    file_label: str,
    errors: Iterable[SubmissionError],
    receipt: Iterable[SubmissionError] = (),
) -> None:
    """The clerk's report, Excel-friendly (UTF-8 with BOM), formula-safe: the receipt's
    lines (where the reader looked: `rule` is the line's kind), then one line per error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        for error in itertools.chain(receipt, errors):
            writer.writerow(
                [
                    spreadsheet_safe(file_label),
                    spreadsheet_safe(error.sheet),
                    "" if error.row is None else error.row,
                    spreadsheet_safe(error.column),
                    spreadsheet_safe(error.rule),
                    spreadsheet_safe(error.vi),
                    spreadsheet_safe(error.en),
                    spreadsheet_safe(error.raw_value),
                ]
            )
    tmp.replace(path)


def read_report(path: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """A report's receipt lines and its error lines, each a dict by `REPORT_COLUMNS`."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    receipt = [line for line in lines if line["rule"] in RECEIPT_KINDS]
    return receipt, [line for line in lines if line["rule"] not in RECEIPT_KINDS]
