"""Where the data is in a file: which sheets are read, which row is the header, which rows
below it are not data. Everything the reader decides is written to the file's `Receipt`.

- Sheets: every visible sheet whose header is found is read; hidden sheets and sheets named
  as an example or instructions (`Ví dụ`, `Hướng dẫn`, `Example`, `Instructions`) never are.
- Header: the first row within the first `HEADER_ROWS` that names the required columns,
  with the row below when that row holds sub-headings (`header.sub_headings`).
- Merged cells: a value merged down several rows applies to each row it covers.
- Rows that are not data: rows with no code in a key column that are a total, a section
  heading, the column numbering, a place-and-date line or part of the signature block.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from chitieu.ingest.errors import FileRejected, file_error
from chitieu.ingest.header import (
    HEADERS,
    KEY_CODES,
    REQUIRED,
    HeaderColumns,
    header_columns,
    sub_headings,
)
from chitieu.ingest.parse import fold, is_blank
from chitieu.ingest.read import HEADER_ROWS, Merge, Row, Sheet


@dataclass(frozen=True)
class ReceiptLine:
    """What the reader did with part of a file: `kind` is `header`, `row_skipped` or
    `sheet_not_loaded`."""

    kind: str
    vi: str
    en: str
    sheet: str | None = None
    row: int | None = None


@dataclass
class Receipt:
    lines: list[ReceiptLine] = field(default_factory=list)

    def note(self, kind: str, vi: str, en: str, sheet: str | None, row: int | None) -> None:
        self.lines.append(ReceiptLine(kind, vi, en, sheet, row))


def notable(lines: list[ReceiptLine] | tuple[ReceiptLine, ...]) -> bool:
    """Whether a receipt says more than "header: row 1" of the only sheet."""
    return any(line.kind != "header" or line.row != 1 for line in lines)


def _rows_text(rows: list[int]) -> str:
    """36, 37, 38, 40 → "36-38, 40"."""
    spans: list[list[int]] = []
    for row in sorted(rows):
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def summary(lines: list[ReceiptLine] | tuple[ReceiptLine, ...]) -> str:
    """A receipt in one line (English): each sheet's header row, the rows skipped by reason,
    the sheets not read and why."""
    parts: list[str] = []
    skipped: dict[tuple[str | None, str], list[int]] = {}
    for line in lines:
        where = f"'{line.sheet}' " if line.sheet is not None else ""
        if line.kind == "header":
            parts.append(f"header {where}row {line.row}")
        elif line.kind == "row_skipped" and line.row is not None:
            reason = line.en.removeprefix("skipped: ")
            skipped.setdefault((line.sheet, reason), []).append(line.row)
        else:
            parts.append(f"sheet {where}not read: {line.en}")
    for (sheet, reason), rows in skipped.items():
        where = f"'{sheet}' " if sheet is not None else ""
        parts.append(f"skipped {where}rows {_rows_text(rows)}: {reason}")
    return "; ".join(parts)


@dataclass
class Table:
    """A sheet's table: its header (the text naming each position, from one or two rows)
    and its data rows, merged cells filled down, rows that are not data left out."""

    sheet: Sheet
    header_row: int
    names: list[object]
    rows: Iterator[Row]


# --- sheets --------------------------------------------------------------------------------

_NOT_DATA_SHEET = re.compile(r"\b(vi du|huong dan|examples?|instructions?)\b")


def sheet_skipped(sheet: Sheet) -> tuple[str, str] | None:
    """Why a sheet is never loaded (vi, en), or None."""
    if sheet.hidden:
        return "sheet ẩn, không đọc", "hidden sheet, not read"
    if sheet.name is not None and _NOT_DATA_SHEET.search(fold(sheet.name)):
        return "sheet ví dụ/hướng dẫn, không đọc", "an example or instructions sheet, not read"
    return None


# --- merged cells --------------------------------------------------------------------------


def fill_down(rows: Iterator[Row], merges: list[Merge]) -> Iterator[Row]:
    """The rows with each value merged down several rows copied into every row it covers
    (in its first column: the other columns of a merged range are one cell)."""
    starts: dict[int, list[tuple[int, int]]] = {}
    for first_row, first_col, last_row, _last_col in merges:
        if last_row > first_row:
            starts.setdefault(first_row, []).append((first_col, last_row))
    return _filled(rows, starts) if starts else rows  # no layer per row when nothing merged


def _filled(rows: Iterator[Row], starts: dict[int, list[tuple[int, int]]]) -> Iterator[Row]:
    active: list[tuple[int, int, object, bool]] = []  # column, last row, value, percent
    for number, row_cells, row_percent in rows:
        active = [fill for fill in active if fill[1] >= number]
        cells, percent = row_cells, row_percent or [False] * len(row_cells)
        if active:
            cells, percent = list(cells), list(percent)
            for column, _last, value, is_percent in active:
                if column >= len(cells):
                    cells += [None] * (column + 1 - len(cells))
                    percent += [False] * (column + 1 - len(percent))
                if is_blank(cells[column]):
                    cells[column], percent[column] = value, is_percent
        for column, last_row in starts.get(number, ()):
            if column < len(cells):
                flag = column < len(percent) and percent[column]
                active.append((column, last_row, cells[column], flag))
        yield Row(number, cells, percent)


# --- the header ----------------------------------------------------------------------------


def _header_at(rows: list[Row], at: int) -> tuple[list[object], int] | None:
    """The header starting at rows[at] (its names and how many rows it takes), or None."""
    top = rows[at].cells
    below = rows[at + 1].cells if at + 1 < len(rows) else []
    combined = sub_headings(top, below)
    if combined is not None and header_columns(combined).complete:
        return combined, 2
    if header_columns(top).complete:
        return list(top), 1
    return None


def _missing_columns(rows: list[Row], sheet: Sheet) -> FileRejected:
    """The error for a sheet with no header: the columns missing from the row that comes
    closest (the first non-empty row when none names any)."""
    best = max(
        rows,
        key=lambda row: len(set(header_columns(row.cells).columns) & set(REQUIRED)),
    )
    found = header_columns(best.cells).columns
    names = ", ".join(f"{HEADERS[c][1]} ({c})" for c in REQUIRED if c not in found)
    where = f" (sheet '{sheet.name}')" if sheet.name else ""
    error = file_error(
        "missing_column",
        f"Thiếu cột bắt buộc: {names}; không thấy dòng tiêu đề trong {HEADER_ROWS} dòng đầu{where}",
        f"Missing required column(s): {names}; no header row in the first {HEADER_ROWS} "
        f"rows{where}",
        row=best.number,
        sheet=sheet.name,
    )
    return error


def locate(sheet: Sheet) -> Table | FileRejected | None:
    """The sheet's table; the `missing_column` error when the sheet holds rows but no
    header in its first `HEADER_ROWS`; None when it holds nothing at all."""
    rows = fill_down(sheet.rows, sheet.merges)
    head: list[Row] = []
    for row in rows:
        head.append(Row(*row))
        if head[-1].number > HEADER_ROWS:
            break
    for at, row in enumerate(head):
        if row.number > HEADER_ROWS:
            break
        found = _header_at(head, at)
        if found is not None:
            names, taken = found
            rest = iter(head[at + taken :])
            return Table(sheet, row.number, names, itertools.chain(rest, rows))
    filled = [row for row in head if not _blank(row.cells)]
    if not filled:
        first = next((Row(*row) for row in rows if not _blank(row[1])), None)
        if first is None:
            return None
        filled = [first]
    return _missing_columns(filled, sheet)


def _blank(cells: list[object]) -> bool:
    return all(is_blank(cell) for cell in cells)


# --- rows that are not data ----------------------------------------------------------------

_TOTAL = re.compile(r"(tong cong|tong so|cong|tong)\b[^0-9]*")
_SECTION = re.compile(r"(?:[ivxlc]+|[a-z]|[0-9]{1,2}(?:\.[0-9]{1,2})*)[.)] *\S.*")
_SECTION_MARK = re.compile(r"(?:[ivxlc]+|[a-z])[.)]?")
_NUMBERING = re.compile(r"[\s()0-9a-z=×*/+.%-]*\([0-9a-z]{1,3}\)[\s()0-9a-z=×*/+.%-]*")
_PLACE_DATE = re.compile(r".*\bngay\b.*\bthang\b.*\bnam\b.*")
_SIGNATURE = re.compile(
    r"(?:(?:kt|tm|q|tl|tuq)\.? *)?(?:nguoi lap|thu truong|giam doc|pho giam doc|truong phong"
    r"|pho truong phong|chanh van phong|chu tich|pho chu tich|noi nhan|xac nhan|\(ky)\b.*"
)

# What a code looks like (`49`, `SYT`, `DVC_ONLINE_INTAKE_RATE`, or a mistyped one): one
# word. A label (`Tổng cộng`) or a signer's name is several.
_CODE = re.compile(r"[A-Za-z0-9_.\-]+")

SKIPPED = {
    "total": ("dòng tổng cộng", "a total row"),
    "section": ("dòng tiêu đề mục", "a section heading"),
    "numbering": ("dòng đánh số cột", "the column-numbering row"),
    "place_date": ("dòng địa danh, ngày tháng", "the place-and-date line"),
    "signature": ("phần chữ ký", "the signature block"),
}


class NonDataRows:
    """Tells the rows below a header that are not data; from a signature or place-and-date
    line on, every row without a code is the signature block (names, `Nơi nhận`, ...)."""

    def __init__(self, columns: HeaderColumns) -> None:
        self.key_cells = [columns.columns[c] for c in KEY_CODES if c in columns.columns]
        self.value_cells = [
            columns.columns[c]
            for c in ("numerator", "denominator", "value")
            if c in columns.columns
        ]
        self.in_signature = False

    def reason(self, cells: list[object]) -> str | None:
        """Why the row is not data (a key of `SKIPPED`), or None for a data row."""
        for i in self.key_cells:
            if i < len(cells) and cells[i] is not None and _CODE.fullmatch(str(cells[i]).strip()):
                return None  # a code: the row is data, whatever else it holds
        texts = [(i, fold(str(cell))) for i, cell in enumerate(cells) if not is_blank(cell)]
        labels = {i: self._label(text) for i, text in texts}
        if self.in_signature:
            return "signature"
        kinds = set(labels.values())
        if kinds & {"signature", "place_date"}:
            self.in_signature = True
            return "signature" if "signature" in kinds else "place_date"
        if texts and all(_NUMBERING.fullmatch(text) for _i, text in texts):
            return "numbering"
        if "total" in kinds:
            return "total"
        has_values = any(i < len(cells) and not is_blank(cells[i]) for i in self.value_cells)
        if not has_values and ("section" in kinds or self._marked_section(texts)):
            return "section"
        return None

    @staticmethod
    def _label(text: str) -> str | None:
        if _SIGNATURE.fullmatch(text):
            return "signature"
        if _PLACE_DATE.fullmatch(text):
            return "place_date"
        if _TOTAL.fullmatch(text):
            return "total"
        if _SECTION.fullmatch(text):
            return "section"
        if _NUMBERING.fullmatch(text):
            return "numbering"
        return None

    @staticmethod
    def _marked_section(texts: list[tuple[int, str]]) -> bool:
        """`I` or `A` in one cell and the heading's text in the next."""
        return len(texts) == 2 and bool(_SECTION_MARK.fullmatch(texts[0][1]))


# --- the file ------------------------------------------------------------------------------


def tables(path_sheets: Iterator[Sheet], receipt: Receipt) -> Iterator[Table]:
    """The tables of a file's sheets, in order, each sheet's fate written to `receipt`.
    Raises the file's rejection when no sheet has a table (`empty_file` when none holds
    anything)."""
    looked: list[str] = []
    missing: list[FileRejected] = []
    found = False
    skipped_any = False
    for sheet in path_sheets:
        skipped = sheet_skipped(sheet)
        if skipped is not None:
            receipt.note("sheet_not_loaded", skipped[0], skipped[1], sheet.name, None)
            looked.append(f"'{sheet.name}' ({skipped[1]})")
            skipped_any = True
            continue
        table = locate(sheet)
        if isinstance(table, Table):
            found = True
            receipt.note(
                "header",
                f"dòng tiêu đề: dòng {table.header_row}",
                f"header: row {table.header_row}",
                sheet.name,
                table.header_row,
            )
            yield table
        elif table is None:
            if sheet.name is not None:
                receipt.note("sheet_not_loaded", "sheet trống", "empty sheet", sheet.name, None)
                looked.append(f"'{sheet.name}' (empty)")
        else:
            missing.append(table)
            if sheet.name is not None:
                receipt.note(
                    "sheet_not_loaded",
                    f"có dữ liệu nhưng không có dòng tiêu đề: {table.error.vi}",
                    f"holds rows but no header: {table.error.en}",
                    sheet.name,
                    table.error.row,
                )
                looked.append(f"'{sheet.name}' (no header row)")
    if found:
        return
    if len(missing) == 1 and len(looked) <= 1:
        raise missing[0]
    if not missing and not skipped_any:  # nothing anywhere, as in v1
        raise file_error(
            "empty_file", "Tệp rỗng: không có dòng tiêu đề", "Empty file: no header row"
        )
    sheets = ", ".join(looked)
    raise file_error(
        "missing_column",
        f"Không sheet nào có dòng tiêu đề với các cột bắt buộc; đã xem: {sheets}",
        f"No sheet has a header row with the required columns; looked at: {sheets}",
    )
