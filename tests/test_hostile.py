"""Hostile input through the real ingest (`ingest_landing` / `ingest_one`) on a real warehouse.

Every hostile file must be rejected with the exact rule and a message in both languages, and
load nothing; a path that leads out of the landing area is refused before anything is read;
a file still being written is left for the next run. The big files (a 1 GB line, a zip bomb,
100,000 columns) are generated here, sparsely or streamed, so the module stays fast.
"""

from __future__ import annotations

import csv
import os
import random
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from chitieu.ingest import read
from chitieu.ingest.landing import BUSY, OUTSIDE, LandingError, discover
from chitieu.ingest.load import FileResult
from chitieu.ingest.report import read_report
from chitieu.ingest.run import IngestSummary, ingest_landing, ingest_one
from tests.conftest import Warehouse, make_warehouse
from tests.landing_files import HEADER, INTAKE

GOOD_ROW = f"40,CA,2024-03,{INTAKE},600,1000,,"
MODELS = "MODELS_IMPLEMENTED"  # a count indicator the police (CA) report
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
SHEET = "xl/worksheets/sheet1.xml"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _quiet(_line: str) -> None:
    pass


# --- building hostile files ----------------------------------------------------------------


def _csv(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _xlsx_with_sheet(path: Path, write_sheet: Callable[[zipfile.ZipFile], None]) -> Path:
    """A real workbook (openpyxl's parts) whose first sheet `write_sheet` writes."""
    from openpyxl import Workbook

    base = path.with_name(path.name + ".base")
    Workbook().save(base)
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            if name == SHEET:
                write_sheet(zout)
            else:
                zout.writestr(name, zin.read(name))
    base.unlink()
    return path


def _cell(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def _sheet_xml(rows: list[str], padding: int = 0) -> Iterator[bytes]:
    yield f'<worksheet xmlns="{_MAIN_NS}"><sheetData>'.encode()
    for number, cells in enumerate(rows, start=1):
        yield f'<row r="{number}">{cells}</row>'.encode()
    block = b" " * (1 << 20)
    for _ in range(padding >> 20):
        yield block  # whitespace between elements: valid XML, and it compresses ~1000:1
    yield b"</sheetData></worksheet>"


def zip_bomb(path: Path) -> Path:
    """A valid workbook whose sheet inflates 1000-fold: 64 MiB from about 64 KiB."""
    header = "".join(_cell(name) for name in HEADER.split(","))

    def write(zout: zipfile.ZipFile) -> None:
        with zout.open(SHEET, "w") as sheet:
            for chunk in _sheet_xml([header], padding=64 << 20):
                sheet.write(chunk)

    return _xlsx_with_sheet(path, write)


def wide_xlsx(path: Path, columns: int = 100_000) -> Path:
    """A workbook whose header row has `columns` cells (no `r` attributes, as the schema allows,
    so openpyxl places them one after another)."""
    header = "".join(_cell(name) for name in HEADER.split(",")) + _cell("x") * columns
    row = "".join(_cell(v) for v in GOOD_ROW.split(",") if v)
    return _xlsx_with_sheet(path, lambda z: z.writestr(SHEET, b"".join(_sheet_xml([header, row]))))


def long_line(path: Path, size: int = 1 << 30) -> Path:
    """A CSV whose second line runs `size` bytes with no newline: 2 MiB of text, then a hole
    (a sparse file, so it takes no disk and no time to write)."""
    with path.open("wb") as handle:
        handle.write((HEADER + "\n40,CA,2024-03," + INTAKE + ",1,2,50,").encode())
        handle.write(b"a" * (2 << 20))
        handle.truncate(size)
    return path


# --- what the ledger and the quarantine say ------------------------------------------------


def ledger_rows(wh: Warehouse) -> int:
    """Files in the ledger (0 too when no run got as far as creating it)."""
    if wh.query("select to_regclass('raw.submission_file')") == [(None,)]:
        return 0
    return int(wh.query("select count(*) from raw.submission_file")[0][0])


def report_cells(result: FileResult) -> list[dict[str, str]]:
    """The report's error lines (after the receipt's)."""
    assert result.report, result
    return read_report(Path(result.report))[1]


def assert_rejected(
    wh: Warehouse, result: FileResult, rule: str, row: int | None = None
) -> list[dict[str, str]]:
    """Rejected with `rule` (on `row`, when given) as its first error, worded in both
    languages; nothing loaded; ledger, audit and report agree. Returns the report's lines."""
    assert result.outcome == "rejected", result
    assert result.rows == 0
    ledger = wh.query(
        "select outcome, row_count, error_count from raw.submission_file where submission_id = %s",
        (result.submission_id,),
    )
    assert ledger == [("rejected", None, result.errors)] or ledger == [
        ("rejected", 0, result.errors)
    ]
    assert wh.query(
        "select count(*) from raw.submission_value where submission_id = %s",
        (result.submission_id,),
    ) == [(0,)]
    audit = wh.query(
        "select rule, row_number, message_vi, message_en from audit.submission_error"
        " where submission_id = %s order by error_number",
        (result.submission_id,),
    )
    assert len(audit) == result.errors >= 1
    first_rule, first_row, vi, en = audit[0]
    assert first_rule == rule, audit[0]
    if row is not None:
        assert first_row == row, audit[0]
    for _rule, _row, vi, en in audit:
        assert vi and en and vi != en  # a message in each language
    lines = report_cells(result)
    assert [line["rule"] for line in lines] == [a[0] for a in audit]
    return lines


# --- one run over the small hostile files --------------------------------------------------

NUMBER_ROWS = {
    # row in the file (header = 1) → the cell as typed
    2: f"40,CA,2024-03,{INTAKE},,,1e309,",
    3: f"40,CA,2024-04,{INTAKE},,,NaN,",
    4: f"40,CA,2024-05,{INTAKE},,,inf,",
    5: f"40,CA,2024-06,{INTAKE},,,-Infinity,",
    6: f"40,CA,2024-Q3,{MODELS},,,٣,",  # Arabic-Indic three
    7: f"40,CA,2024-Q4,{MODELS},٣,٤,,",
    8: f"40,CA,2024-07,{INTAKE},,,１２,",  # full-width digits
}

FORMULAS = {
    # cells that break a rule, so they are echoed into the report
    "value": '=HYPERLINK("http://evil.example","click")',
    "unit_code": "+cmd|' /C calc'!A0",
    "period": "@SUM(1)",
    "count": "-2+3",
    "tab": "\t=1+1",
}


def _formula_file(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        writer.writerow(["40", "CA", "2024-03", INTAKE, "", "", FORMULAS["value"], "=1+1"])
        writer.writerow(["40", FORMULAS["unit_code"], "2024-03", INTAKE, "", "", "50", ""])
        writer.writerow(["40", "CA", FORMULAS["period"], INTAKE, "", "", "50", ""])
        writer.writerow(["40", "CA", "2024-Q3", MODELS, "", "", FORMULAS["count"], ""])
        writer.writerow(["40", "CA", "2024-Q4", MODELS, "", "", FORMULAS["tab"], ""])
    return path


def _land_hostile(landing: Path) -> None:
    (landing / "empty.csv").write_bytes(b"")
    _csv(landing / "header_only.csv")
    (landing / "garbage.csv").write_bytes(random.Random(6).randbytes(1 << 16))
    zipped = landing / "workbook_renamed.csv"
    _xlsx_with_sheet(zipped, lambda z: z.writestr(SHEET, b"".join(_sheet_xml([]))))
    zip_bomb(landing / "zip_bomb.xlsx")
    wide_xlsx(landing / "wide.xlsx")
    _formula_file(landing / "+formulas.csv")
    _csv(landing / "duplicate_header.csv", GOOD_ROW, header=HEADER + ",value")
    _csv(
        landing / "duplicate_header_languages.csv",
        GOOD_ROW + ",40",
        header=HEADER + ",Mã tỉnh",
    )
    _csv(landing / "numbers.csv", *NUMBER_ROWS.values())
    _csv(
        landing / "negative_zero.csv",
        f"40,CA,2024-Q3,{MODELS},,,-0,",
        f"40,CA,2024-03,{INTAKE},-0,1,-0,",
    )
    _csv(landing / "good.csv", GOOD_ROW)  # the control: hostile neighbours change nothing


@pytest.fixture(scope="module")
def hostile(
    pg_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Warehouse, IngestSummary]]:
    home = tmp_path_factory.mktemp("hostile") / "home"
    with pytest.MonkeyPatch.context() as mp:
        wh = make_warehouse(mp, pg_server, home, "hostile")
        _land_hostile(wh.landing)
        yield wh, ingest_landing(wh.landing, wh.settings, progress=_quiet)


def _result(hostile: tuple[Warehouse, IngestSummary], name: str) -> FileResult:
    (result,) = [r for r in hostile[1].results if r.path == name]
    return result


def test_the_neighbours_of_hostile_files_still_load(hostile) -> None:
    wh, summary = hostile
    assert _result(hostile, "good.csv").outcome == "accepted"
    # Nothing but the two good files' rows was loaded, by any file.
    loaded = wh.query(
        "select f.path, count(*) from raw.submission_value v"
        " join raw.submission_file f using (submission_id) group by f.path order by 1"
    )
    assert loaded == [("good.csv", 1), ("negative_zero.csv", 2)]
    assert summary.counts["rejected"] == len(summary.results) - 2


def test_empty_file(hostile) -> None:
    assert_rejected(hostile[0], _result(hostile, "empty.csv"), "empty_file")


def test_header_only(hostile) -> None:
    assert_rejected(hostile[0], _result(hostile, "header_only.csv"), "no_rows")


def test_binary_garbage_named_csv(hostile) -> None:
    (line,) = assert_rejected(hostile[0], _result(hostile, "garbage.csv"), "unreadable")
    assert "binary" in line["message_en"] and "nhị phân" in line["message_vi"]


def test_workbook_renamed_to_csv_says_what_it_is(hostile) -> None:
    result = _result(hostile, "workbook_renamed.csv")
    (line,) = assert_rejected(hostile[0], result, "unreadable")
    assert "ZIP/Excel .xlsx" in line["message_en"]


def test_zip_bomb_is_refused_from_the_zip_directory(hostile) -> None:
    (line,) = assert_rejected(hostile[0], _result(hostile, "zip_bomb.xlsx"), "too_large")
    assert "zip bomb" in line["message_en"] and SHEET in line["message_en"]


def test_xlsx_larger_than_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The total limit, shown on a small workbook by lowering it (a real 1 GiB file would
    take the test minutes to write)."""
    path = _xlsx_with_sheet(tmp_path / "big.xlsx", lambda z: z.writestr(SHEET, "x" * 20_000))
    monkeypatch.setattr(read, "MAX_XLSX_UNPACKED_BYTES", 10_000)
    with pytest.raises(read.FileRejected) as caught:
        list(read.read_xlsx(path))
    assert caught.value.error.rule == "too_large"


def test_xlsx_with_100k_columns(hostile) -> None:
    (line,) = assert_rejected(hostile[0], _result(hostile, "wide.xlsx"), "too_large", row=1)
    assert "100,008 columns" in line["message_en"]


def test_formulas_are_neutralised_in_the_error_report(hostile) -> None:
    lines = assert_rejected(hostile[0], _result(hostile, "+formulas.csv"), "value_format")
    assert {line["rule"] for line in lines} == {"value_format", "unknown_unit", "period_format"}
    cells = [cell for line in lines for cell in line.values()]
    # No cell of the report starts as a formula, the file's own name included ...
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert lines[0]["file"] == "'+formulas.csv"
    # ... and every formula that broke a rule is there, behind an apostrophe.
    values = {line["value"] for line in lines}
    for formula in FORMULAS.values():
        assert "'" + formula in values or "'" + formula.strip().upper() in values, formula


def test_duplicate_headers(hostile) -> None:
    for name in ("duplicate_header.csv", "duplicate_header_languages.csv"):
        (line,) = assert_rejected(hostile[0], _result(hostile, name), "duplicate_column", row=1)
        assert "twice" in line["message_en"], name


def test_infinite_nan_and_non_latin_numbers_are_rejected(hostile) -> None:
    wh = hostile[0]
    lines = assert_rejected(wh, _result(hostile, "numbers.csv"), "value_format", row=2)
    found = sorted((int(line["row"]), line["rule"], line["column"]) for line in lines)
    assert found == [
        (2, "value_format", "value"),
        (3, "value_format", "value"),
        (4, "value_format", "value"),
        (5, "value_format", "value"),
        (6, "value_format", "value"),
        (7, "value_format", "denominator"),
        (7, "value_format", "numerator"),
        (7, "value_missing", "value"),  # the count's only numbers were unreadable
        (8, "value_format", "value"),
    ]


def test_negative_zero_is_zero(hostile) -> None:
    """`-0` is the number 0 (the contract asks for non-negative numbers, and 0 is one); it
    is loaded as 0, never as a negative or a NaN."""
    wh = hostile[0]
    assert _result(hostile, "negative_zero.csv").outcome == "accepted"
    rows = wh.query(
        "select indicator_code, numerator, value, value::text from raw.submission_value v"
        " join raw.submission_file f using (submission_id)"
        " where f.path = 'negative_zero.csv' order by row_number"
    )
    assert rows == [(MODELS, None, Decimal(0), "0"), (INTAKE, 0, Decimal(0), "0")]


def test_infinite_number_cell_in_a_workbook(warehouse: Warehouse) -> None:
    """A numeric XLSX cell of 1e309 reads as float infinity; it must not load as one."""
    header = "".join(_cell(name) for name in HEADER.split(","))
    row = "".join(_cell(v) for v in ("40", "CA", "2024-03", INTAKE)) + '<c r="G2"><v>1e309</v></c>'
    _xlsx_with_sheet(
        warehouse.landing / "inf.xlsx",
        lambda z: z.writestr(SHEET, b"".join(_sheet_xml([header, row]))),
    )
    result = ingest_one("inf.xlsx")
    (line,) = assert_rejected(warehouse, result, "value_format", row=2)
    assert "finite" in line["message_en"]


# --- a 1 GB line, in bounded memory --------------------------------------------------------


def test_a_1gb_line_is_rejected_in_bounded_memory(warehouse: Warehouse) -> None:
    long_line(warehouse.landing / "one_line.csv")
    tracemalloc.start()
    try:
        result = ingest_one("one_line.csv")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (line,) = assert_rejected(warehouse, result, "too_large", row=2)
    assert "1,048,576 characters" in line["message_en"]
    assert peak < 64 << 20, f"peak {peak >> 20} MiB while reading a 1 GiB line"


def test_long_lines_are_checked_the_same_on_both_paths(tmp_path: Path) -> None:
    """The fast path's pre-scan and read_csv agree on the limit, to the character."""
    from chitieu.ingest.fastpath import clean_csv_rows

    limit = read.MAX_LINE_CHARS
    for length, too_long in ((limit - 1, False), (limit, True)):
        path = tmp_path / f"line_{length}.csv"
        cells = ("a" * 99 + ",") * (length // 100) + "a" * (length % 100)
        path.write_text(HEADER + "\n" + cells + "\n", encoding="utf-8")
        assert (clean_csv_rows(path) is None) is too_long
        if too_long:
            with pytest.raises(read.FileRejected, match="longer than"):
                list(read.read_csv(path))
        else:
            assert len(list(read.read_csv(path))) == 2


# --- paths out of the landing area ---------------------------------------------------------


def test_a_symlink_out_of_the_landing_area_is_refused(warehouse: Warehouse, tmp_path: Path) -> None:
    outside = _csv(tmp_path / "secret" / "outside.csv", GOOD_ROW)
    (warehouse.landing / "link.csv").symlink_to(outside)
    (warehouse.landing / "linked_dir").symlink_to(outside.parent, target_is_directory=True)
    lines: list[str] = []

    summary = ingest_landing(warehouse.landing, warehouse.settings, progress=lines.append)

    assert summary.refused == ["link.csv"]
    assert summary.results == []
    assert any(OUTSIDE in line and "link.csv" in line for line in lines)
    assert any(OUTSIDE in line for line in summary.lines())
    assert ledger_rows(warehouse) == 0
    assert outside.read_text(encoding="utf-8").endswith(GOOD_ROW + "\n")  # left alone
    assert (warehouse.landing / "link.csv").is_symlink()


@pytest.mark.parametrize("rel", ["../outside.csv", "sub/../../outside.csv", "ABSOLUTE", "link.csv"])
def test_ingest_one_refuses_paths_out_of_the_landing_area(warehouse: Warehouse, rel: str) -> None:
    outside = _csv(warehouse.landing.parent / "outside.csv", GOOD_ROW)
    (warehouse.landing / "sub").mkdir()
    (warehouse.landing / "link.csv").symlink_to(outside)
    rel = str(outside) if rel == "ABSOLUTE" else rel
    with pytest.raises(LandingError, match="outside the landing area"):
        ingest_one(rel)
    assert outside.exists()
    assert ledger_rows(warehouse) == 0


def test_links_inside_the_landing_area_are_followed(warehouse: Warehouse) -> None:
    _csv(warehouse.landing / "real" / "report.csv", GOOD_ROW)
    (warehouse.landing / "alias.csv").symlink_to(warehouse.landing / "real" / "report.csv")
    found = discover(warehouse.landing)
    assert found.submissions == ["alias.csv", "real/report.csv"]
    assert found.refused == []


# --- a file still being written ------------------------------------------------------------


def _slow_writer(path: Path, rows: int, stop: threading.Event) -> threading.Thread:
    """Writes the header, then one row every 20 ms, as a slow network copy would."""
    path.write_text(HEADER + "\n", encoding="utf-8")

    def write() -> None:
        with path.open("a", encoding="utf-8") as handle:
            for month in range(1, rows + 1):
                if stop.is_set():
                    return
                handle.write(f"40,CA,2023-{month:02d},{INTAKE},{month},100,,\n")
                handle.flush()
                time.sleep(0.02)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_a_file_still_being_written_waits_for_the_next_run(warehouse: Warehouse) -> None:
    settings = replace(warehouse.settings, settle_seconds=0.3)
    _csv(warehouse.landing / "done.csv", GOOD_ROW)
    stop = threading.Event()
    writer = _slow_writer(warehouse.landing / "growing.csv", 12, stop)
    lines: list[str] = []
    try:
        first = ingest_landing(warehouse.landing, settings, progress=lines.append)
    finally:
        writer.join(timeout=10)
        stop.set()

    assert first.busy == ["growing.csv"]
    assert [(r.path, r.outcome) for r in first.results] == [("done.csv", "accepted")]
    assert any(BUSY in line and "growing.csv" in line for line in lines)
    assert BUSY in "\n".join(first.lines())
    assert warehouse.query(
        "select count(*) from raw.submission_file where path = 'growing.csv'"
    ) == [(0,)]

    second = ingest_landing(warehouse.landing, settings, progress=_quiet)
    assert second.busy == []
    (growing,) = [r for r in second.results if r.path == "growing.csv"]
    assert (growing.outcome, growing.rows) == ("accepted", 12)  # whole, not half


def test_settling_waits_once_per_run_and_not_for_old_files(tmp_path: Path) -> None:
    for number in range(30):
        _csv(tmp_path / f"f{number:02d}.csv", GOOD_ROW)
    started = time.monotonic()
    found = discover(tmp_path, settle_seconds=0.4)
    waited = time.monotonic() - started
    assert len(found.submissions) == 30 and found.busy == []
    assert 0.4 <= waited < 1.5  # one wait for 30 fresh files, not 30

    hour_ago = time.time() - 3600
    for path in tmp_path.iterdir():
        os.utime(path, (hour_ago, hour_ago))
    started = time.monotonic()
    discover(tmp_path, settle_seconds=5)
    assert time.monotonic() - started < 1  # nothing recent: nothing to wait for
