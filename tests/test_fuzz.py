"""Fuzzing the readers and parsers with hypothesis: whatever a department sends, the ingest
answers with a documented outcome (rows loaded, or the module's own `FileRejected` /
`ParseError` / an error in the report), never an unhandled exception, which would abort the
whole run instead of rejecting one file.

- CSV: arbitrary bytes, and text shaped like a submission (delimiters, quotes, line breaks,
  BOMs, encodings, number and period look-alikes) through the whole read → validate pass
  `ingest_file` runs (`tests.test_corpus.check_file`, without a database).
- XLSX: small workbooks of arbitrary typed cells, and real workbooks with bytes flipped.
- Parsers: arbitrary text and arbitrary typed cell values (what openpyxl can hand over).

Atheris (coverage-guided) is not used: its wheel is 35 MB for a harness hypothesis already
covers here within a test run's time.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from chitieu.ingest.errors import FileRejected
from chitieu.ingest.parse import (
    ParseError,
    Period,
    parse_code,
    parse_integer,
    parse_milestone,
    parse_period,
    parse_province_code,
    parse_rate,
)
from chitieu.ingest.read import read_csv, read_xlsx
from chitieu.ingest.report import spreadsheet_safe
from chitieu.reference import Reference, load_reference
from tests import clerk_files
from tests.test_corpus import SEEDS, check_file

# No explain phase: on Python 3.11 it can fail with a SystemError of its own while
# reporting a real failure.
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink]
IO_FUZZ = settings(
    max_examples=200,
    deadline=None,  # file I/O: timing varies on a shared machine
    derandomize=True,
    database=None,
    phases=_PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Writing a workbook with openpyxl costs ~50 ms: fewer examples keep the module fast.
XLSX_FUZZ = settings(IO_FUZZ, max_examples=60)
PARSER_FUZZ = settings(max_examples=200, derandomize=True, database=None, phases=_PHASES)
REFERENCE: Reference = load_reference(SEEDS)


@contextmanager
def scratch() -> Iterator[Path]:
    # A folder per example: hypothesis calls the test many times within one fixture.
    with tempfile.TemporaryDirectory(prefix="fuzz-") as folder:
        yield Path(folder)


# --- what a cell may be --------------------------------------------------------------------

# Text near the formats the parsers take, so the fuzzing reaches past the first check.
_TOKENS = [
    "40", "01", "1", "CA", "SYT", "STTTT", "VPUBND", "2024-03", "2024-Q3", "2024-H1", "2024",
    "Tháng 3/2024", "Quý III/2024", "6 tháng đầu năm 2024", "Năm 2024", "T13/2024",
    "DVC_ONLINE_INTAKE_RATE", "MODELS_IMPLEMENTED", "IOC_OPERATIONAL",
    "PROVINCE_SERVICE_INDEX_RANK", "64,67%", "64.67", "1.068", "1 068", "1,068", "-0", "0",
    "1e309", "NaN", "inf", "-inf", "٣", "１２", "²", "Hoàn thành", "Đã", "yes", '=HYPERLINK("x")',
    "+cmd|' /C calc'!A0", "@SUM(1)", "\t=1", "99999999999999999999", "", " ", "\x00", "\ufeff",
]  # fmt: skip
_HEADERS = [
    "province_code", "unit_code", "period", "indicator_code", "numerator", "denominator",
    "value", "note", "Mã tỉnh", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Tử số", "Mẫu số",
    "Giá trị", "Tỷ lệ (%)", "Ghi chú", "Tên chỉ tiêu",
]  # fmt: skip

cell_text = st.one_of(st.sampled_from(_TOKENS), st.text(max_size=12))
numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    # A signaling NaN cannot be written to a workbook (openpyxl raises); a quiet one can.
    st.decimals(allow_nan=True, allow_infinity=True).filter(lambda d: not d.is_snan()),
)
typed_cell = st.one_of(
    st.none(),
    cell_text,
    numbers,
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)


# --- CSV -----------------------------------------------------------------------------------


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    """A file that is mostly a submission: a header of known and unknown names, rows of
    tokens and arbitrary text, joined by a delimiter that may not match, stray quotes and
    line breaks, in one of the encodings departments use (and some they should not)."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = draw(st.lists(st.sampled_from(_HEADERS), min_size=0, max_size=10))
    rows = draw(st.lists(st.lists(cell_text, max_size=10), max_size=6))
    quote = draw(st.sampled_from(["", '"']))
    line_end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [delimiter.join(header)] + [
        delimiter.join(quote + cell + quote for cell in row) for row in rows
    ]
    text = line_end.join(lines) + draw(st.sampled_from(["", line_end, '"', "\x00"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1258"]))
    return text.encode(encoding, errors="replace")


def _read_all(read: Callable[[Path], Iterator[object]], path: Path) -> None:
    try:
        for _row in read(path):
            pass
    except FileRejected as exc:
        assert exc.error.rule and exc.error.vi and exc.error.en


def _check_pass(path: Path, folder: Path) -> None:
    """The ingest's read → validate → COPY pass: every problem becomes a reported error."""
    checked = check_file(path, REFERENCE, folder)
    for error in checked.errors:
        assert error.rule and error.vi and error.en
    if checked.errors:
        return
    for row in checked.loaded:
        assert len(row) == 9 and row[0] >= 2  # (row number, key…, values…) below the header
        value = row[7]
        assert value is None or (isinstance(value, Decimal) and value.is_finite())


@IO_FUZZ
@given(data=st.binary(max_size=4096))
def test_csv_reader_survives_arbitrary_bytes(data: bytes) -> None:
    with scratch() as folder:
        path = folder / "fuzz.csv"
        path.write_bytes(data)
        _read_all(read_csv, path)
        _check_pass(path, folder)


@IO_FUZZ
@given(data=csv_bytes())
def test_csv_ingest_pass_survives_submission_like_text(data: bytes) -> None:
    with scratch() as folder:
        path = folder / "fuzz.csv"
        path.write_bytes(data)
        _read_all(read_csv, path)
        _check_pass(path, folder)


# --- XLSX ----------------------------------------------------------------------------------


def _workbook(rows: list[list[object]], formats: list[str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    workbook = Workbook()
    sheet = workbook.active
    for number, cells in enumerate(rows, start=1):
        for column, value in enumerate(cells, start=1):
            cell = sheet.cell(row=number, column=column)
            try:
                cell.value = value
            except (ValueError, TypeError, IllegalCharacterError):
                cell.value = ascii(value)  # openpyxl refuses control characters and the like
            cell.number_format = formats[(number + column) % len(formats)]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_FORMATS = ["General", "0.00%", "0%", '0.0"%"', "mm/yyyy", "#,##0", "@"]


@XLSX_FUZZ
@given(
    header=st.lists(st.sampled_from(_HEADERS), max_size=9),
    rows=st.lists(st.lists(typed_cell, max_size=9), max_size=5),
    formats=st.lists(st.sampled_from(_FORMATS), min_size=1, max_size=4),
)
def test_xlsx_ingest_pass_survives_arbitrary_cells(
    header: list[str], rows: list[list[object]], formats: list[str]
) -> None:
    with scratch() as folder:
        path = folder / "fuzz.xlsx"
        path.write_bytes(_workbook([list(header), *rows], formats))
        _read_all(read_xlsx, path)
        _check_pass(path, folder)


_BASE_WORKBOOK = _workbook(
    [
        ["Mã tỉnh", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Tử số", "Mẫu số", "Giá trị"],
        [40, "CA", "2024-03", "DVC_ONLINE_INTAKE_RATE", 600, 1000, 0.6],
        [40, "CA", datetime(2024, 4, 1), "DVC_ONLINE_INTAKE_RATE", None, None, "64,67%"],
    ],
    ["General", "0.00%"],
)


@XLSX_FUZZ
@given(
    flips=st.lists(
        st.tuples(st.integers(0, len(_BASE_WORKBOOK) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    ),
    cut=st.one_of(st.none(), st.integers(0, len(_BASE_WORKBOOK))),
)
def test_xlsx_reader_survives_corrupted_workbooks(
    flips: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(_BASE_WORKBOOK)
    for offset, byte in flips:
        data[offset] = byte
    with scratch() as folder:
        path = folder / "fuzz.xlsx"
        path.write_bytes(bytes(data[:cut]))
        _read_all(read_xlsx, path)
        _check_pass(path, folder)


@IO_FUZZ
@given(sheet=st.binary(max_size=2048) | st.text(max_size=512).map(str.encode))
def test_xlsx_reader_survives_arbitrary_sheet_xml(sheet: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(_BASE_WORKBOOK)) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/worksheets/sheet1.xml"] = sheet
    with scratch() as folder:
        path = folder / "fuzz.xlsx"
        with zipfile.ZipFile(path, "w") as target:
            for name, content in parts.items():
                target.writestr(name, content)
        _read_all(read_xlsx, path)


# --- the cell parsers ----------------------------------------------------------------------


def _documented(parse: Callable[[object], object], raw: object) -> object | None:
    """The parsed value, or None when the parser raised its own ParseError."""
    try:
        return parse(raw)
    except ParseError as exc:
        assert exc.vi and exc.en
        return None


any_cell = st.one_of(typed_cell, st.text())


@PARSER_FUZZ
@given(raw=any_cell)
@example(raw=date(1899, 12, 1))  # Excel dates outside the years a typed period may have:
@example(raw=datetime(9999, 1, 1))  # fuzzing found them accepted with codes that do not read back
def test_parse_period_outcomes(raw: object) -> None:
    period = _documented(parse_period, raw)
    if period is not None:
        assert isinstance(period, Period) and period.start <= period.end
        assert parse_period(period.code) == period  # the canonical code reads back the same


@PARSER_FUZZ
@given(raw=any_cell)
def test_parse_integer_outcomes(raw: object) -> None:
    number = _documented(parse_integer, raw)
    if number is not None:
        assert type(number) is int and abs(number) < 10**18
    if isinstance(raw, str) and number is not None:
        assert all(c.isascii() for c in raw if c.isdigit())  # ٣ or １２ never reads as a number


@PARSER_FUZZ
@given(raw=any_cell, percent=st.booleans())
def test_parse_rate_outcomes(raw: object, percent: bool) -> None:
    rate = _documented(lambda r: parse_rate(r, percent), raw)
    if rate is not None:
        assert isinstance(rate, Decimal) and rate.is_finite()  # never NaN or infinity
    if isinstance(raw, str) and rate is not None:
        assert all(c.isascii() for c in raw if c.isdigit())


@PARSER_FUZZ
@given(raw=any_cell)
def test_parse_milestone_province_and_code_outcomes(raw: object) -> None:
    assert _documented(parse_milestone, raw) in (None, 0, 1)
    province = _documented(parse_province_code, raw)
    assert province is None or (len(province) == 2 and province.isascii() and province.isdigit())
    assert isinstance(parse_code(raw), str)


@PARSER_FUZZ
@given(text=st.text())
def test_spreadsheet_safe_never_leaves_a_formula(text: str) -> None:
    safe = spreadsheet_safe(text)
    assert safe.removeprefix("'") == text or safe == text
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r", "\n"))


# --- every workbook format, corrupted (v1.1 reads .xlsm, .xls and .ods too) -----------------

_ROWS = [["49", "SYT", "2024-09", "DVC_ONLINE_INTAKE_RATE", 600, 1000, 60, "ghi chú"]]


def _base_workbooks() -> dict[str, bytes]:
    with scratch() as folder:
        built = [
            clerk_files.xlsm(folder / "base.xlsm", _ROWS),
            clerk_files.xls(folder / "base.xls", _ROWS, merges=[(1, 1, 0, 1)]),
            clerk_files.ods(folder / "base.ods", _ROWS),
        ]
        return {path.suffix: path.read_bytes() for path in built}


_BASES = _base_workbooks()


@settings(IO_FUZZ, max_examples=40)
@given(
    suffix=st.sampled_from(sorted(_BASES)),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.floats(0, 1)),
)
def test_every_workbook_format_survives_corruption(
    suffix: str, flips: list[tuple[float, int]], cut: float | None
) -> None:
    """python-calamine panics, or aborts asking for tens of GB, on some corrupt .xls files:
    the file is rejected (`unreadable`), the run goes on."""
    data = bytearray(_BASES[suffix])
    for where, byte in flips:
        data[int(where * len(data))] = byte
    with scratch() as folder:
        path = folder / f"fuzz{suffix}"
        path.write_bytes(bytes(data[: None if cut is None else int(cut * len(data))]))
        _check_pass(path, folder)


def test_a_zip_needing_a_newer_version_is_unreadable() -> None:
    """zipfile raises NotImplementedError (not BadZipFile) for a directory entry needing a
    newer zip version: once, that escaped and stopped the run."""
    data = bytearray(_BASES[".xlsm"])
    entry = data.index(b"PK\x01\x02")
    data[entry + 6] = 99  # "version needed to extract": 9.9
    with scratch() as folder:
        path = folder / "newer.xlsx"
        path.write_bytes(bytes(data))
        checked = check_file(path, REFERENCE, folder)
    assert [error.rule for error in checked.errors] == ["unreadable"]
