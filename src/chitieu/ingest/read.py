"""Readers for the file formats of a submission, streaming one row at a time.

`read_sheets` gives a file's `Sheet`s (a CSV is one): each yields `Row`s, the row number a
spreadsheet would show, the cell values (text for CSV, typed values for workbooks, with the
invisible characters of `parse.INVISIBLE` removed) and, per cell, whether Excel formats it
as a percentage. Where the table starts in a sheet, and which sheets are read, is
`table.py`'s business.
"""

from __future__ import annotations

import codecs
import csv
import pickle
import re
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TextIO

from chitieu.ingest.errors import FileRejected, file_error
from chitieu.ingest.header import header_columns, sub_headings
from chitieu.ingest.parse import INVISIBLE_CHARS, visible
from chitieu.ingest.whole_read import SheetData

# .xlsm is an .xlsx that may carry macros (never run: only cell values are read).
FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".ods": "ods"}
# Files that are clearly not submissions: left alone and listed as ignored.
_SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})
# Rows searched for the header, as a spreadsheet numbers them.
HEADER_ROWS = 30

# Bounds on what a submission may be, so a hostile file is rejected in bounded memory and
# time instead of taking the run down. A real report's line is a few hundred characters and
# its workbook a few megabytes unpacked; these are far above that.
MAX_LINE_CHARS = 1 << 20  # one CSV line, read at most this much at a time
MAX_XLSX_UNPACKED_BYTES = 1 << 30  # the workbook's parts together, as the zip declares them
MAX_XLSX_RATIO = 200  # unpacked/packed, for a part over 16 MiB; Excel's stay well under 50
_RATIO_FLOOR = 16 << 20  # smaller parts are harmless whatever their ratio
_SNIFF_BYTES = 1 << 16
# What other formats begin with, for the message when one is renamed to .csv.
_BINARY_MAGIC = {
    b"PK\x03\x04": "ZIP/Excel .xlsx",
    b"\xd0\xcf\x11\xe0": "Excel 97-2003 .xls",
    b"%PDF": "PDF",
    b"\x89PNG": "PNG",
    b"\xff\xd8\xff": "JPEG",
}

# Characters that never occur in Vietnamese text but do when TCVN3 (ABC) or VNI bytes were
# decoded as a Western code page and saved again as UTF-8: "C«ng an tØnh", "Sôû Y teá".
# Symbols real notes use (°, ±, ×, «», ², ©) are left out so they do not trip the check.
# "ð" is how Windows-1258's "đ" looks through a Western code page ("ðõn viò").
# A character class: the regex engine scans a 56 MB file for them three times faster than
# `frozenset.isdisjoint`, which makes a string object of every character.
_MOJIBAKE_CHARS = "¨ª¯´µ¶·¸¹º¼½¾¿ÆÇËÎÏÐÑØÛÜÞßæçëîïñøûüþÿ¡¢¤¥¦¬ð"
_MOJIBAKE = re.compile(f"[{_MOJIBAKE_CHARS}]")
# Anything a reader must act on in text: reject it (NUL, mojibake) or remove it (invisible).
_NOT_PLAIN = re.compile(f"[\x00{_MOJIBAKE_CHARS}{INVISIBLE_CHARS}]")

_ENCODING_VI = (
    "Tệp không ở bảng mã Unicode (UTF-8/UTF-16); có thể là Windows-1258, TCVN3 (ABC) hoặc "
    "VNI. Hãy lưu lại tệp với bảng mã Unicode UTF-8"
)
_ENCODING_EN = (
    "The file is not Unicode (UTF-8/UTF-16); it looks like Windows-1258, TCVN3 (ABC) or VNI. "
    "Save it again as UTF-8"
)


class Row(NamedTuple):
    """A row: its number as a spreadsheet shows it, its cells, and whether each is
    percent-formatted (None: none is). A fast reader may give plain tuples of the same."""

    number: int
    cells: list[object]
    percent: list[bool] | None


# A merged range: first row, first column, last row, last column (rows as a spreadsheet
# numbers them, columns from 0).
Merge = tuple[int, int, int, int]


@dataclass
class Sheet:
    """One sheet of a workbook (a CSV file is one sheet with no name). `percent_known`: the
    reader sees each cell's percent format (XLSX does; .xls and .ods through calamine do
    not, so a number there may be a fraction shown as a percentage)."""

    name: str | None
    index: int
    hidden: bool
    rows: Iterator[Row]
    merges: list[Merge]
    percent_known: bool = True


def file_format(path: Path) -> str | None:
    return FORMATS.get(path.suffix.lower())


def is_not_a_submission(name: str) -> bool:
    """Office lock files (~$report.xlsx), hidden files and the system's own files."""
    return name.startswith(("~$", ".")) or name.casefold() in _SYSTEM_FILES


def _visible_cells(cells: list) -> list:
    return [visible(cell) if type(cell) is str else cell for cell in cells]


def _csv_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _check_text(text: str, number: int) -> None:
    if "\x00" in text:
        # NUL never occurs in text; it does when UTF-16 without a BOM is read as UTF-8, and
        # PostgreSQL cannot store it, so COPY would fail the whole run.
        raise file_error(
            "encoding",
            _ENCODING_VI + " (có ký tự NUL: có thể là UTF-16 không có BOM)",
            _ENCODING_EN + " (NUL characters found: UTF-16 without a BOM?)",
            row=number,
        )
    # Every mojibake character is non-ASCII, and isascii() is a flag check on ASCII text.
    if not text.isascii() and _MOJIBAKE.search(text):
        raise file_error(
            "encoding",
            _ENCODING_VI + " (chữ bị lỗi phông)",
            _ENCODING_EN + " (garbled legacy-font text found)",
            row=number,
        )


def is_plain_text(text: str) -> bool:
    """Whether `text` passes `_check_text` and holds no invisible character to remove: one
    scan, for a fast reader that then skips both per cell."""
    if text.isascii():
        return "\x00" not in text
    return _NOT_PLAIN.search(text) is None


def _sniff_delimiter(first_line: str) -> str:
    """v1's choice from the first non-empty line: `;` when it has more of them than `,`."""
    if first_line.count("\t") > max(first_line.count(";"), first_line.count(",")):
        return "\t"
    return ";" if first_line.count(";") > first_line.count(",") else ","


def _has_header(rows: list[list[str]]) -> bool:
    for top, below in zip(rows, [*rows[1:], []], strict=False):
        if header_columns(top).complete:
            return True
        combined = sub_headings(top, below)
        if combined is not None and header_columns(combined).complete:
            return True
    return False


def csv_delimiter(handle: TextIO) -> str:
    """The delimiter of a CSV file, from its first `HEADER_ROWS` lines: the first of `,`,
    `;` and tab (v1's choice first) under which a header row appears; v1's choice when none
    does (the header check then reports the missing columns). Leaves `handle` at its start."""
    head: list[str] = []
    for line in _bounded_lines(handle):
        head.append(line)
        if len(head) >= HEADER_ROWS:
            break
    handle.seek(0)
    first = next((line for line in head if line.strip(" \t\r\n\ufeff,;")), "")
    chosen = _sniff_delimiter(first)
    text = "".join(head).replace("\ufeff", "")
    for delimiter in dict.fromkeys([chosen, ";" if chosen == "," else ",", "\t"]):
        try:
            rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
        except csv.Error:
            continue
        if _has_header([[visible(cell) for cell in row] for row in rows]):
            return delimiter
    return chosen


def _binary_kind(head: bytes) -> str | None:
    """What a file that is not text at all looks like, or None. UTF-16 without a BOM has NUL
    bytes too, but nearly all at even or all at odd offsets (the high byte of ASCII); binary
    data has about as many at both."""
    for magic, kind in _BINARY_MAGIC.items():
        if head.startswith(magic):
            return kind
    even, odd = head[0::2].count(0), head[1::2].count(0)
    return "binary" if min(even, odd) > 0 and 4 * min(even, odd) >= max(even, odd) else None


def _check_not_binary(path: Path, encoding: str) -> None:
    if encoding == "utf-16":
        return  # NUL bytes are half of UTF-16 text
    with path.open("rb") as handle:
        kind = _binary_kind(handle.read(_SNIFF_BYTES))
    if kind is not None:
        raise file_error(
            "unreadable",
            f"Tệp không phải văn bản CSV mà là tệp nhị phân ({kind}) đổi tên thành .csv",
            f"The file is not CSV text but binary data ({kind}) renamed to .csv",
        )


def line_too_long(number: int) -> FileRejected:
    return file_error(
        "too_large",
        f"Dòng {number} dài hơn {MAX_LINE_CHARS:,} ký tự (thiếu dấu xuống dòng?)",
        f"Row {number} is longer than {MAX_LINE_CHARS:,} characters (missing line breaks?)",
        row=number,
    )


def _bounded_lines(handle: TextIO) -> Iterator[str]:
    """The file's lines, refusing one longer than MAX_LINE_CHARS before it is all in memory
    (csv.reader and readline() would otherwise read a 1 GB line whole)."""
    number = 0
    while True:
        line = handle.readline(MAX_LINE_CHARS)
        if not line:
            return
        number += 1
        if len(line) >= MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise line_too_long(number)
        yield line


def read_csv(path: Path) -> Iterator[Row]:
    encoding = _csv_encoding(path)
    _check_not_binary(path, encoding)
    number = 0
    try:
        with path.open(encoding=encoding, errors="strict", newline="") as handle:
            delimiter = csv_delimiter(handle)
            # strict: a quote left open would otherwise swallow every later line into one
            # cell (a note, say), and those rows would vanish from an accepted file.
            lines = _bounded_lines(handle)
            reader = csv.reader(lines, delimiter=delimiter, strict=True)
            for number, cells in enumerate(reader, start=1):
                for cell in cells:
                    _check_text(cell, number)
                yield Row(number, _visible_cells(cells), [False] * len(cells))
    except UnicodeDecodeError as exc:
        raise file_error("encoding", _ENCODING_VI, _ENCODING_EN) from exc
    except csv.Error as exc:
        # Rows are records, as a spreadsheet counts them; the broken one follows the last read.
        if "field larger than field limit" in str(exc):
            limit = csv.field_size_limit()
            raise file_error(
                "too_large",
                f"Một ô ở dòng {number + 1} dài hơn {limit:,} ký tự",
                f"A cell on row {number + 1} is longer than {limit:,} characters",
                row=number + 1,
            ) from exc
        raise file_error(
            "malformed_csv",
            f"Tệp CSV hỏng từ dòng {number + 1}: {exc} (kiểm tra dấu ngoặc kép)",
            f"Malformed CSV from row {number + 1}: {exc} (check the double quotes)",
            row=number + 1,
        ) from exc


def _is_percent_format(number_format: str | None) -> bool:
    """Excel scales a cell by 100 only for a bare % in its format, not a quoted or escaped one."""
    if not number_format:
        return False
    bare = re.sub(r'"[^"]*"|\\.', "", number_format)
    return "%" in bare


# What a corrupt workbook raises, on opening or while its sheet is streamed: a broken zip or
# deflate stream, an encrypted or unsupported zip member (RuntimeError), a missing part,
# malformed XML (ParseError is a SyntaxError), a bad cell reference. Found by flipping random
# bytes of real workbooks.
_XLSX_BROKEN = (
    zipfile.BadZipFile,
    zlib.error,
    RuntimeError,
    LookupError,
    ValueError,
    OSError,
    EOFError,
    SyntaxError,
)


def _unreadable(exc: Exception) -> FileRejected:
    return file_error(
        "unreadable",
        "Không đọc được tệp XLSX (tệp hỏng hoặc không phải Excel)",
        f"Cannot read the XLSX file (corrupt or not Excel): {type(exc).__name__}",
    )


def _check_unpacked_size(path: Path) -> None:
    """Refuse a zip bomb from its directory, before anything is decompressed: zipfile never
    inflates a part past the size the directory declares, so the declared sizes bound it."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except _XLSX_BROKEN as exc:  # NotImplementedError ("zip file version") is a RuntimeError
        raise _unreadable(exc) from exc
    total = sum(part.file_size for part in parts)
    bomb = next(
        (
            part
            for part in parts
            if part.file_size > _RATIO_FLOOR
            and part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1)
        ),
        None,
    )
    if total <= MAX_XLSX_UNPACKED_BYTES and bomb is None:
        return
    mib = total >> 20
    raise file_error(
        "too_large",
        f"Tệp XLSX giải nén ra {mib:,} MiB"
        + (f" ({bomb.filename} nén hơn {MAX_XLSX_RATIO} lần)" if bomb else "")
        + f": quá lớn hoặc là 'bom nén' (giới hạn {MAX_XLSX_UNPACKED_BYTES >> 20:,} MiB)",
        f"The XLSX file unpacks to {mib:,} MiB"
        + (f" ({bomb.filename} is compressed over {MAX_XLSX_RATIO}:1)" if bomb else "")
        + f": too large, or a zip bomb (limit {MAX_XLSX_UNPACKED_BYTES >> 20:,} MiB)",
    )


_MERGE = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3}[0-9]+:[A-Z]{1,3}[0-9]+)"'
)
_MERGE_TAIL = 512  # longer than a mergeCell tag: one split by a chunk boundary is found whole


def _merge(ref: bytes) -> Merge:
    from openpyxl.utils.cell import range_boundaries

    first_col, first_row, last_col, last_row = range_boundaries(ref.decode())
    return (first_row, first_col - 1, last_row, last_col - 1)  # type: ignore[operator]


def _xlsx_merges(archive: zipfile.ZipFile, part: str) -> list[Merge]:
    """The merged ranges of a worksheet part. They are listed after the cells, so the part
    is scanned for them first, a chunk at a time (bounded memory)."""
    merges: list[Merge] = []
    tail = b""
    with archive.open(part.lstrip("/")) as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            text = tail + chunk
            keep = len(text) - _MERGE_TAIL  # a tag starting before this ends in `text`
            merges += [_merge(m[1]) for m in _MERGE.finditer(text) if m.start() < keep]
            tail = text[max(keep, 0) :]
        merges += [_merge(m[1]) for m in _MERGE.finditer(tail)]
    return merges


def _xlsx_rows(sheet: object) -> Iterator[Row]:
    # Some producers write wrong dimensions; without this openpyxl may stop early.
    sheet.reset_dimensions()  # type: ignore[attr-defined]
    for number, cells in enumerate(sheet.iter_rows(), start=1):  # type: ignore[attr-defined]
        values = [getattr(cell, "value", None) for cell in cells]
        percent = [_is_percent_format(getattr(cell, "number_format", None)) for cell in cells]
        for value in values:
            if isinstance(value, str):
                _check_text(value, number)
        yield Row(number, _visible_cells(values), percent)


def _guarded(rows: Iterator[Row], broken: tuple[type[Exception], ...]) -> Iterator[Row]:
    """The rows, a corrupt part's exception turned into the file's rejection: escaping, it
    would abort the whole run, not just reject this file."""
    try:
        yield from rows
    except broken as exc:
        raise _unreadable(exc) from exc


def _xlsx_sheets(path: Path) -> Iterator[Sheet]:
    from openpyxl import load_workbook

    _check_unpacked_size(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except _XLSX_BROKEN as exc:
        raise _unreadable(exc) from exc
    try:
        for index, sheet in enumerate(workbook.worksheets):
            hidden = sheet.sheet_state != "visible"
            try:
                merges = [] if hidden else _xlsx_merges(workbook._archive, sheet._worksheet_path)
            except _XLSX_BROKEN as exc:
                raise _unreadable(exc) from exc
            rows = _guarded(_xlsx_rows(sheet), _XLSX_BROKEN)
            yield Sheet(sheet.title, index, hidden, rows, merges)
    finally:
        workbook.close()


def read_xlsx(path: Path) -> Iterator[Row]:
    """The rows of the workbook's first sheet."""
    for sheet in _xlsx_sheets(path):
        yield from sheet.rows
        return


# Text that betrays, in an .ods file's content, what calamine cannot report: merged cells
# and percentage cells.
_ODS_MERGED = b"number-rows-spanned"
_ODS_PERCENT = b'value-type="percentage"'


def _ods_content_has(path: Path, *needles: bytes) -> list[bool]:
    found = [False] * len(needles)
    tail = b""
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            text = tail + chunk
            found = [seen or needle in text for seen, needle in zip(found, needles, strict=True)]
            tail = text[-64:]
    return found


# Formats read whole into memory (python-calamine has no streaming): a real report is well
# under a megabyte, so this bounds memory without refusing any.
MAX_WHOLE_READ_BYTES = 128 << 20


def _whole_workbook(path: Path) -> list[SheetData]:
    """The workbook's sheets, read by python-calamine in a child process (`whole_read`): a
    corrupt file that makes it panic or abort is rejected as unreadable."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "chitieu.ingest.whole_read", str(path)],
            capture_output=True,
            timeout=600,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise _unreadable(exc) from exc
    if done.returncode != 0 or not done.stdout:
        raise _unreadable(RuntimeError(f"reader exited with {done.returncode}"))
    status, payload = pickle.loads(done.stdout)  # our own child's output
    if status != "ok":
        raise _unreadable(RuntimeError(str(payload)))
    return payload


def _too_large_to_read_whole(kind: str, size: int) -> FileRejected:
    mib, limit = size >> 20, MAX_WHOLE_READ_BYTES >> 20
    return file_error(
        "too_large",
        f"Tệp .{kind} quá lớn ({mib:,} MiB, giới hạn {limit:,} MiB); hãy lưu dạng .xlsx",
        f"The .{kind} file is too large ({mib:,} MiB, limit {limit:,} MiB); save it as .xlsx",
    )


def _ods_checks(path: Path) -> bool:
    """Reject an .ods file calamine cannot read faithfully; whether percent cells are
    absent (then its numbers read as themselves)."""
    _check_unpacked_size(path)
    try:
        with zipfile.ZipFile(path) as archive:
            size = archive.getinfo("content.xml").file_size
        if size > MAX_WHOLE_READ_BYTES:
            raise _too_large_to_read_whole("ods", size)
        merged, percent = _ods_content_has(path, _ODS_MERGED, _ODS_PERCENT)
    except _XLSX_BROKEN as exc:
        raise _unreadable(exc) from exc
    if merged:
        raise file_error(
            "unsupported_layout",
            "Tệp .ods có ô gộp, không đọc được chắc chắn; hãy lưu tệp dạng .xlsx (Excel) rồi "
            "gửi lại",
            "The .ods file has merged cells, which cannot be read reliably; save it as .xlsx "
            "(Excel) and send it again",
        )
    return not percent


def _calamine_sheets(path: Path, kind: str) -> Iterator[Sheet]:
    """An .xls or .ods workbook, through python-calamine. It reports neither a cell's number
    format nor, for .ods, merged cells: an .ods with merged cells is rejected (its covered
    cells would read as empty), and percent cells of either make `percent_known` False."""
    if kind == "ods":
        percent_known = _ods_checks(path)
    else:
        size = path.stat().st_size
        if size > MAX_WHOLE_READ_BYTES:
            raise _too_large_to_read_whole(kind, size)
        percent_known = False
    for index, (name, hidden, values, ranges) in enumerate(_whole_workbook(path)):
        merges = [(r0 + 1, c0, r1 + 1, c1) for (r0, c0), (r1, c1) in ranges]
        yield Sheet(name, index, hidden, _calamine_rows(values), merges, percent_known)


def _calamine_rows(values: list[list]) -> Iterator[Row]:
    for number, cells in enumerate(values, start=1):
        cells = [None if cell == "" else cell for cell in cells]
        for value in cells:
            if isinstance(value, str):
                _check_text(value, number)
        yield Row(number, _visible_cells(cells), [False] * len(cells))


def read_sheets(path: Path) -> Iterator[Sheet]:
    """Every sheet of the file, in order (a CSV file is one)."""
    kind = file_format(path)
    if kind == "csv":
        yield Sheet(None, 0, False, read_csv(path), [])
    elif kind == "xlsx":
        yield from _xlsx_sheets(path)
    elif kind in ("xls", "ods"):
        yield from _calamine_sheets(path, kind)
    else:
        raise file_error(
            "unsupported_format",
            "Định dạng tệp không được hỗ trợ; hãy gửi tệp .xlsx, .xls, .ods hoặc .csv",
            "Unsupported file format; send an .xlsx, .xls, .ods or .csv file",
        )


def read_rows(path: Path) -> Iterator[Row]:
    """Every row of the file's first sheet (blank ones included, so numbers match)."""
    for sheet in read_sheets(path):
        yield from sheet.rows
        return
