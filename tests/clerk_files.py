"""Submission files as a provincial department's clerk makes them, for tests to build.

Every builder takes the target path and the data rows (lists of cell values in contract
order: province, unit, period, indicator, numerator, denominator, value, note), writes the
file and returns its Path; `official_xlsx` returns an `OfficialSheet` that also gives the
spreadsheet row numbers (1-based) of each part of the layout. Coordinates passed to `xls` and
`ods` (merges, percent cells) are 0-based (row, column) over the written grid, header row
included: row 0 is the header, row 1 the first data row.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import xlwt
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from chitieu.ingest.header import HEADERS

Rows = Sequence[Sequence[Any]]

HEADER_VI = (
    "Mã tỉnh",
    "Mã đơn vị",
    "Kỳ báo cáo",
    "Mã chỉ tiêu",
    "Tử số",
    "Mẫu số",
    "Tỷ lệ (%)",
    "Ghi chú",
)
HEADER_VI_VALUE = (*HEADER_VI[:6], "Giá trị", "Ghi chú")
HEADER_EN = tuple(HEADERS)  # the contract columns, by their English names
INDICATOR_NAMES = {
    "DVC_ONLINE_INTAKE_RATE": "Tỷ lệ hồ sơ tiếp nhận trực tuyến",
    "HI_CCCD_VISIT_RATE": "Tỷ lệ khám chữa bệnh BHYT bằng thẻ CCCD",
}
TITLE = "BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 06 THÁNG 9 NĂM 2024"
PLACE_DATE = "Quảng Nam, ngày 05 tháng 10 năm 2024"


def _grid(header: Sequence[Any] | None, rows: Rows) -> list[list[Any]]:
    return ([list(header)] if header is not None else []) + [list(r) for r in rows]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- .xlsx: the official layout -----------------------------------------------------------

# Official columns: A STT, B Mã tỉnh, C Mã đơn vị, D Kỳ báo cáo, E Mã chỉ tiêu, F Tên chỉ tiêu,
# G Tử số, H Mẫu số, I Tỷ lệ (%), J Ghi chú.
_KEYS = ("STT", "Mã tỉnh", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Tên chỉ tiêu")
_RESULTS = ("Tử số", "Mẫu số", "Tỷ lệ (%)")
_WIDTH = len(_KEYS) + len(_RESULTS) + 1  # 10 columns, A:J
_NUM_COL, _DEN_COL, _RATE_COL = 7, 8, 9


@dataclass(frozen=True)
class OfficialSheet:
    """Where things are in an `official_xlsx` sheet (1-based spreadsheet rows)."""

    path: Path
    sheet: str
    header_row: int  # first header row (STT, Mã tỉnh, ..., Kết quả thực hiện, Ghi chú)
    subheader_row: int | None  # Tử số / Mẫu số / Tỷ lệ (%) under Kết quả thực hiện
    numbering_row: int | None  # (1) (2) ... (10)
    first_data_row: int
    last_data_row: int  # == first_data_row - 1 when there are no rows
    total_row: int | None  # Tổng cộng
    date_row: int | None  # Quảng Nam, ngày ...
    signature_rows: tuple[int, ...]  # titles, "(Ký, ghi rõ họ tên)", names; () if none


def _merge(ws: Worksheet, r1: int, c1: int, r2: int, c2: int, value: Any = None) -> None:
    if value is not None:
        ws.cell(r1, c1, value)
    if (r1, c1) != (r2, c2):
        ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)


def _title_block(ws: Worksheet, title: str) -> int:
    """Rows 1-5: the two letterhead blocks, a blank row, the title, a blank row."""
    _merge(ws, 1, 1, 1, 3, "UBND TỈNH QUẢNG NAM")
    _merge(ws, 1, 5, 1, _WIDTH, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    _merge(ws, 2, 1, 2, 3, "SỞ Y TẾ")
    _merge(ws, 2, 5, 2, _WIDTH, "Độc lập - Tự do - Hạnh phúc")
    _merge(ws, 4, 1, 4, _WIDTH, title)
    return 6


def _header(ws: Worksheet, row: int, two_rows: bool) -> int:
    """The header from `row`; returns the next free row."""
    if not two_rows:
        for col, name in enumerate((*_KEYS, *_RESULTS, "Ghi chú"), start=1):
            ws.cell(row, col, name)
        return row + 1
    for col, name in enumerate(_KEYS, start=1):
        _merge(ws, row, col, row + 1, col, name)
    _merge(ws, row, _NUM_COL, row, _RATE_COL, "Kết quả thực hiện")
    for col, name in enumerate(_RESULTS, start=_NUM_COL):
        ws.cell(row + 1, col, name)
    _merge(ws, row, _WIDTH, row + 1, _WIDTH, "Ghi chú")
    return row + 2


def _rate_cell(ws: Worksheet, row: int, value: Any, percent_format: bool) -> None:
    if percent_format and _is_number(value):
        ws.cell(row, _RATE_COL, round(value / 100, 10)).number_format = "0.00%"
    else:
        ws.cell(row, _RATE_COL, value)


def _data(ws: Worksheet, first: int, rows: Rows, percent_format: bool) -> None:
    for i, (prov, unit, period, code, num, den, value, note) in enumerate(rows):
        r = first + i
        line = (i + 1, prov, unit, period, code, INDICATOR_NAMES.get(code, ""), num, den)
        for col, cell in enumerate(line, start=1):
            ws.cell(r, col, cell)
        _rate_cell(ws, r, value, percent_format)
        ws.cell(r, _WIDTH, note)


def _merge_keys(ws: Worksheet, first: int, rows: Rows) -> None:
    """Merge province, unit and period down over runs of equal values; a run of a column
    also ends where a column to its left changes (a unit's run stays inside its province).
    Only the top cell keeps the value, as in Excel."""
    for key in range(3):
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or list(rows[i][: key + 1]) != list(rows[start][: key + 1]):
                _merge(ws, first + start, key + 2, first + i - 1, key + 2)
                start = i


def _total(ws: Worksheet, row: int, rows: Rows, percent_format: bool) -> None:
    _merge(ws, row, 1, row, _NUM_COL - 1, "Tổng cộng")
    num = sum(r[4] for r in rows if _is_number(r[4]))
    den = sum(r[5] for r in rows if _is_number(r[5]))
    ws.cell(row, _NUM_COL, num)
    ws.cell(row, _DEN_COL, den)
    _rate_cell(ws, row, round(100 * num / den, 2) if den else None, percent_format)


def _signature(ws: Worksheet, row: int) -> tuple[int, ...]:
    """Place and date at `row`, then titles, signing hint, two blank rows, names."""
    _merge(ws, row, _NUM_COL, row, _WIDTH, PLACE_DATE)
    lines = (("NGƯỜI LẬP BIỂU", "GIÁM ĐỐC"), ("(Ký, ghi rõ họ tên)",) * 2)
    rows = (row + 1, row + 2, row + 5)
    for r, (left, right) in zip(rows, (*lines, ("Trần Thị B", "Nguyễn Văn A")), strict=True):
        _merge(ws, r, 2, r, 4, left)
        _merge(ws, r, _NUM_COL, r, _WIDTH, right)
    return rows


def official_xlsx(
    path: Path,
    rows: Rows,
    *,
    sheet: str = "Báo cáo",
    title: str = TITLE,
    title_block: bool = True,
    two_row_header: bool = True,
    merge_keys: bool = True,
    total_row: bool = True,
    signature: bool = True,
    numbering_row: bool = True,
    percent_format: bool = False,
) -> OfficialSheet:
    """The official report layout, columns A:J (see the `_KEYS` comment). `rows` are the 8
    contract values each; the STT and the indicator's name are added. With `percent_format`
    the rate (a percent, e.g. 64.67) is stored as the fraction 0.6467 formatted "0.00%"."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    header = _title_block(ws, title) if title_block else 1
    row = _header(ws, header, two_row_header)
    numbering = row if numbering_row else None
    if numbering:
        for col in range(1, _WIDTH + 1):
            ws.cell(numbering, col, f"({col})")
    first = row + 1 if numbering else row
    _data(ws, first, rows, percent_format)
    if merge_keys:
        _merge_keys(ws, first, rows)
    last = first + len(rows) - 1
    total = last + 1 if total_row else None
    if total:
        _total(ws, total, rows, percent_format)
    date_row = (total or last) + 2 if signature else None
    signatures = _signature(ws, date_row) if date_row else ()
    wb.save(path)
    subheader = header + 1 if two_row_header else None
    return OfficialSheet(
        path=path,
        sheet=sheet,
        header_row=header,
        subheader_row=subheader,
        numbering_row=numbering,
        first_data_row=first,
        last_data_row=last,
        total_row=total,
        date_row=date_row,
        signature_rows=signatures,
    )


# --- .xlsx / .xlsm: plain sheets ---------------------------------------------------------


def _plain_sheet(ws: Worksheet, grid: list[list[Any]]) -> None:
    for row in grid:
        ws.append(row)


def workbook_with_sheets(
    path: Path,
    sheets: Mapping[str, Rows],
    *,
    hidden: Collection[str] = (),
    header: Sequence[Any] | None = HEADER_VI,
    headerless: Collection[str] = (),
) -> Path:
    """One sheet per entry, in order, each a header row then its rows; sheets named in
    `hidden` get sheet_state "hidden", those in `headerless` hold their rows without the
    header (e.g. a "Huong dan" sheet of notes, or data without the contract header)."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        _plain_sheet(ws, _grid(None if name in headerless else header, rows))
        if name in hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


class _MacroWorkbook(Workbook):
    """Saved with the macro-enabled content type, as Excel saves an .xlsm (without macros,
    which a clerk's template rarely has)."""

    mime_type = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def xlsm(
    path: Path, rows: Rows, *, sheet: str = "Báo cáo", header: Sequence[Any] | None = HEADER_VI
) -> Path:
    """An .xlsm workbook: one sheet, a header row then `rows`."""
    wb = _MacroWorkbook()
    wb.active.title = sheet
    _plain_sheet(wb.active, _grid(header, rows))
    wb.save(path)
    return path


# --- .xls (BIFF8, xlwt) ------------------------------------------------------------------


def _xls_styles() -> dict[str, Any]:
    return {
        "percent": xlwt.easyxf(num_format_str="0.00%"),
        "date": xlwt.easyxf(num_format_str="DD/MM/YYYY"),
        "datetime": xlwt.easyxf(num_format_str="DD/MM/YYYY HH:MM"),
        "plain": xlwt.Style.default_style,
    }


def _xls_style(styles: dict[str, Any], value: Any, percent: bool) -> Any:
    if percent:
        return styles["percent"]
    if isinstance(value, datetime):
        return styles["datetime"]
    return styles["date"] if isinstance(value, date) else styles["plain"]


def _xls_sheet(
    ws: Any, styles: dict[str, Any], grid: list[list[Any]], merges: list, percent: Collection
) -> None:
    def at(r: int, c: int) -> Any:
        return grid[r][c] if r < len(grid) and c < len(grid[r]) else None

    covered: set[tuple[int, int]] = set()
    for r1, r2, c1, c2 in merges:
        covered |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        value = at(r1, c1)
        ws.write_merge(r1, r2, c1, c2, value, _xls_style(styles, value, (r1, c1) in percent))
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            if value is not None and (r, c) not in covered:
                ws.write(r, c, value, _xls_style(styles, value, (r, c) in percent))


def xls(
    path: Path,
    rows: Rows,
    *,
    sheet: str = "Báo cáo",
    header: Sequence[Any] | None = HEADER_VI,
    merges: Iterable[tuple[int, int, int, int]] = (),
    percent_cells: Collection[tuple[int, int]] = (),
    extra_sheets: Mapping[str, Rows] | None = None,
    hidden: Collection[str] = (),
) -> Path:
    """An Excel 97-2003 workbook. `merges` are xlwt's (r1, r2, c1, c2), 0-based inclusive;
    the merged area shows its top-left grid value, the other grid values there are dropped.
    `percent_cells` (row, col) keep their value (give the fraction, 0.6467) formatted
    "0.00%". Dates and datetimes are written as Excel dates. `extra_sheets` follow the first
    (header row, then rows); those named in `hidden` are hidden."""
    wb, styles = xlwt.Workbook(encoding="utf-8"), _xls_styles()
    ws = wb.add_sheet(sheet)
    _xls_sheet(ws, styles, _grid(header, rows), list(merges), percent_cells)
    for name, extra in (extra_sheets or {}).items():
        _xls_sheet(wb.add_sheet(name), styles, _grid(header, extra), [], ())
    for name in hidden:
        wb.get_sheet(name).visibility = 1
    wb.save(str(path))
    return path


# --- .ods (hand-written OpenDocument) ----------------------------------------------------

_ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"
_ODS_NS = " ".join(
    f'xmlns:{p}="urn:oasis:names:tc:opendocument:xmlns:{ns}:1.0"'
    for p, ns in (
        ("office", "office"), ("style", "style"), ("text", "text"), ("table", "table"),
        ("number", "datastyle"), ("fo", "xsl-fo-compatible"),
    )
)  # fmt: skip
_ODS_STYLES = (
    '<number:percentage-style style:name="N11"><number:number number:decimal-places="2"'
    ' number:min-integer-digits="1"/><number:text>%</number:text></number:percentage-style>'
    '<number:date-style style:name="N37"><number:day number:style="long"/><number:text>/'
    '</number:text><number:month number:style="long"/><number:text>/</number:text>'
    '<number:year number:style="long"/></number:date-style>'
    '<style:style style:name="ce1" style:family="table-cell" style:data-style-name="N11"/>'
    '<style:style style:name="ce2" style:family="table-cell" style:data-style-name="N37"/>'
    '<style:style style:name="ta1" style:family="table"><style:table-properties'
    ' table:display="true"/></style:style>'
    '<style:style style:name="ta2" style:family="table"><style:table-properties'
    ' table:display="false"/></style:style>'
)
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest='
    '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{_ODS_MIME}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _ods_cell(value: Any, percent: bool, span: int) -> str:
    attrs = f' table:number-rows-spanned="{span}"' if span > 1 else ""
    if value is None or value == "":
        return f"<table:table-cell{attrs}/>"
    if percent and _is_number(value):
        attrs += f' table:style-name="ce1" office:value-type="percentage" office:value="{value}"'
        shown = f"{value * 100:.2f}%"
    elif _is_number(value):
        attrs += f' office:value-type="float" office:value="{value}"'
        shown = str(value)
    elif isinstance(value, date):
        iso = value.isoformat()
        attrs += f' table:style-name="ce2" office:value-type="date" office:date-value="{iso}"'
        shown = f"{value:%d/%m/%Y}"
    else:
        attrs += ' office:value-type="string"'
        shown = str(value)
    return f"<table:table-cell{attrs}><text:p>{escape(shown)}</text:p></table:table-cell>"


def _ods_table(
    name: str, grid: list[list[Any]], spans: Mapping[tuple[int, int], int], percent: Collection
) -> str:
    covered = {(r + k, c) for (r, c), n in spans.items() for k in range(1, n)}
    width = max((len(row) for row in grid), default=1)
    rows = []
    for r, row in enumerate(grid):
        cells = (
            "<table:covered-table-cell/>"
            if (r, c) in covered
            else _ods_cell(value, (r, c) in percent, spans.get((r, c), 1))
            for c, value in enumerate(row)
        )
        rows.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
    columns = f'<table:table-column table:number-columns-repeated="{width}"/>'
    return f"<table:table table:name={quoteattr(name)}>{columns}{''.join(rows)}</table:table>"


def _ods_zip(path: Path, tables: list[str]) -> None:
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_ODS_NS}'
        f' office:version="1.2"><office:automatic-styles>{_ODS_STYLES}'
        "</office:automatic-styles><office:body><office:spreadsheet>"
        f"{''.join(tables)}</office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), _ODS_MIME, compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", _MANIFEST)
        zf.writestr("content.xml", content)


def ods(
    path: Path,
    rows: Rows,
    *,
    sheet: str = "Báo cáo",
    header: Sequence[Any] | None = HEADER_VI,
    merged_down: Iterable[tuple[int, int, int]] = (),
    percent_cells: Collection[tuple[int, int]] = (),
    extra_sheets: Mapping[str, Rows] | None = None,
    hidden: Collection[str] = (),
) -> Path:
    """An OpenDocument spreadsheet. `merged_down` (row, col, n): that cell spans n rows, the
    n-1 cells under it become covered cells (their grid values are dropped). `percent_cells`
    are written as percentage cells: give the fraction (0.6467), shown "64.67%". Dates are
    date cells. `extra_sheets` follow the first; those named in `hidden` are not displayed."""
    spans = {(r, c): n for r, c, n in merged_down}
    tables = [_ods_table(sheet, _grid(header, rows), spans, percent_cells)]
    extra_sheets = extra_sheets or {}
    tables += [_ods_table(n, _grid(header, r), {}, ()) for n, r in extra_sheets.items()]
    names = [sheet, *extra_sheets]
    tables = [
        t.replace("<table:table ", f'<table:table table:style-name="ta{1 + (n in hidden)}" ', 1)
        for n, t in zip(names, tables, strict=True)
    ]
    _ods_zip(path, tables)
    return path


# --- text files --------------------------------------------------------------------------


def csv_text(
    path: Path,
    rows: Rows,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
    newline: str = "\r\n",
    header: Sequence[Any] | None = HEADER_VI,
) -> Path:
    """Delimited text through the csv module (minimal quoting). `bom` prepends U+FEFF in
    `encoding` (give "utf-16-le", not "utf-16", which adds its own)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(_grid(header, rows))
    path.write_bytes((("\ufeff" if bom else "") + buffer.getvalue()).encode(encoding))
    return path


def unicode_text(path: Path, rows: Rows, *, header: Sequence[Any] | None = HEADER_VI) -> Path:
    """Excel's "Unicode Text (*.txt)": tab-separated, UTF-16 LE with a BOM, CRLF."""
    return csv_text(path, rows, delimiter="\t", encoding="utf-16-le", bom=True, header=header)


def semicolon_csv(path: Path, rows: Rows, *, header: Sequence[Any] | None = HEADER_VI) -> Path:
    """Excel's "CSV UTF-8" under a locale whose list separator is ";": UTF-8 BOM, CRLF."""
    return csv_text(path, rows, delimiter=";", encoding="utf-8", bom=True, header=header)


def raw_lines(
    path: Path,
    lines: Iterable[str],
    *,
    header: str | None = ",".join(HEADER_EN),
    encoding: str = "utf-8",
    newline: str = "\n",
) -> Path:
    """Lines written verbatim, no quoting: e.g. a rate with an unquoted decimal comma,
    `49,SYT,2024-09,DVC_ONLINE_INTAKE_RATE,,,70,76,ghi chú` (9 fields for 8 columns)."""
    text = newline.join([*([header] if header is not None else []), *lines]) + newline
    path.write_bytes(text.encode(encoding))
    return path
