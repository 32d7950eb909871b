"""Files as clerks make them (contract v1.1): the official form with a title block, merged
cells, a two-row header, totals and a signature; one sheet per month; example and hidden
sheets; Excel's CSV and Unicode Text exports; .xlsm, .xls and .ods.

Built with `tests/clerk_files.py` and read through `_validate_and_copy` (the pass
`ingest_file` runs, with the corpus's stand-in cursor: no database), each test asserts the
exact values loaded or the exact errors, and the receipt. The last tests run files through
a real warehouse: the receipt in `audit.submission_receipt`, at the head of a rejected
file's report and in the run's summary.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chitieu.ingest.errors import SubmissionError
from chitieu.ingest.load import _validate_and_copy
from chitieu.ingest.report import ErrorSpool, read_report
from chitieu.ingest.run import ingest_landing
from chitieu.ingest.table import Receipt
from chitieu.ingest.validate import Validator
from chitieu.reference import Reference, load_reference
from tests import clerk_files
from tests.conftest import Warehouse
from tests.test_corpus import SEEDS, SUBMITTED_ON, _CursorStandIn

RATE = "DVC_ONLINE_INTAKE_RATE"  # percent, any unit
VISIT = "HI_CCCD_VISIT_RATE"  # percent, SYT
D = Decimal

# The official form's four data rows (province, unit, period, indicator, num, den, value,
# note); the loaded rows are (row, province, unit, period, indicator, num, den, value, note).
ROWS = [
    ["49", "SYT", "2024-09", RATE, 600, 1000, 60, None],
    ["49", "SYT", "2024-09", VISIT, 16923, None, "63,16", "16.923 người, đạt 63,16%"],
    ["49", "SYT", "2024-08", RATE, None, None, 58.5, None],
    ["49", "SYT", "2024-08", VISIT, None, None, 61, "-"],
]
VALUES = [
    ("49", "SYT", "2024-09", RATE, 600, 1000, D(60), None),
    ("49", "SYT", "2024-09", VISIT, 16923, None, D("63.16"), "16.923 người, đạt 63,16%"),
    ("49", "SYT", "2024-08", RATE, None, None, D("58.5"), None),
    ("49", "SYT", "2024-08", VISIT, None, None, D(61), "-"),
]


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(SEEDS)


@dataclass
class Read:
    loaded: list[tuple]  # (row, province, unit, period, indicator, num, den, value, note)
    sheets: list[str | None]
    errors: list[SubmissionError]
    receipt: Receipt

    @property
    def found(self) -> list[tuple[str, str | None, int | None, str | None]]:
        return [(e.rule, e.sheet, e.row, e.column) for e in self.errors]

    @property
    def values(self) -> list[tuple]:
        return [row[1:] for row in self.loaded]

    def lines(self, kind: str) -> list[tuple[str | None, int | None, str]]:
        return [(x.sheet, x.row, x.en) for x in self.receipt.lines if x.kind == kind]


def read(path: Path, reference: Reference, scratch: Path) -> Read:
    cursor, receipt = _CursorStandIn(), Receipt()
    spool = ErrorSpool(scratch / "spool" / f"{path.name}.csv")
    validator = Validator(reference, SUBMITTED_ON)
    try:
        _validate_and_copy(cursor, path, 1, validator, spool, receipt=receipt)  # type: ignore[arg-type]
    finally:
        spool.close()
    loaded = [row[1:] for row in cursor.copied.rows]
    return Read(loaded, cursor.copied.sheets, list(spool), receipt)


# --- the official form ---------------------------------------------------------------------


def test_official_form_loads_every_row_and_lists_what_it_skipped(
    reference: Reference, tmp_path: Path
) -> None:
    form = clerk_files.official_xlsx(tmp_path / "bao_cao.xlsx", ROWS)
    got = read(form.path, reference, tmp_path)
    assert got.found == []
    assert got.values == VALUES  # merged keys filled down, "-" note kept as text
    first = form.first_data_row
    assert [row[0] for row in got.loaded] == list(range(first, first + 4))  # the sheet's rows
    assert got.sheets == ["Báo cáo"] * 4
    assert got.lines("header") == [("Báo cáo", form.header_row, f"header: row {form.header_row}")]
    skipped = {row: text for _sheet, row, text in got.lines("row_skipped")}
    assert skipped == {
        form.numbering_row: "skipped: the column-numbering row",
        form.total_row: "skipped: a total row",
        form.date_row: "skipped: the place-and-date line",
        **{row: "skipped: the signature block" for row in form.signature_rows},
    }


def test_official_form_percent_cells_are_rates(reference: Reference, tmp_path: Path) -> None:
    rows = [[*row[:6], 64.67, None] for row in ROWS[2:]]
    form = clerk_files.official_xlsx(tmp_path / "pct.xlsx", rows, percent_format=True)
    got = read(form.path, reference, tmp_path)
    assert got.found == []
    assert [row[6] for row in got.values] == [D("64.67"), D("64.67")]


def test_a_row_with_a_code_but_no_value_below_the_form_stays_an_error(
    reference: Reference, tmp_path: Path
) -> None:
    rows = [*ROWS, ["49", "SYT", "2024-07", RATE, None, None, None, "Tổng cộng"]]
    form = clerk_files.official_xlsx(tmp_path / "f.xlsx", rows, total_row=False)
    got = read(form.path, reference, tmp_path)
    assert got.found == [("value_missing", "Báo cáo", form.last_data_row, "value")]


# Any title block above a valid table: the same values load as without it.
_TITLE_CELL = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "UBND TỈNH QUẢNG NAM",
            "SỞ Y TẾ",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 06",
            "Kỳ báo cáo: Quý III/2024",
            "Số: 123/BC-SYT",
        ]
    ),
    st.text(alphabet=string.ascii_letters + " ,.:-ạếờ", max_size=30),
    st.integers(0, 99),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=st.lists(st.lists(_TITLE_CELL, max_size=8), max_size=20))
def test_any_title_block_loads_the_same_values(
    reference: Reference, tmp_path: Path, title: list[list[object]]
) -> None:
    plain = clerk_files.workbook_with_sheets(tmp_path / "plain.xlsx", {"S": ROWS})
    titled = tmp_path / "titled.xlsx"
    clerk_files.workbook_with_sheets(
        titled, {"S": [*title, clerk_files.HEADER_VI, *ROWS]}, header=None
    )
    expected = read(plain, reference, tmp_path)
    got = read(titled, reference, tmp_path)
    assert got.found == [] and expected.found == []
    assert got.values == expected.values == VALUES
    assert [row[0] for row in got.loaded] == [len(title) + 2 + i for i in range(len(ROWS))]


# --- sheets --------------------------------------------------------------------------------


def _month(period: str, rate: int) -> list[list[object]]:
    return [["49", "STP", period, RATE, None, None, rate, None]]


def test_one_sheet_per_month_loads_every_month_and_lists_the_others(
    reference: Reference, tmp_path: Path
) -> None:
    path = clerk_files.workbook_with_sheets(
        tmp_path / "quy3.xlsx",
        {
            "Ví dụ": _month("2024-01", 99),
            "T7": _month("2024-07", 70),
            "T8": _month("2024-08", 80),
            "An": _month("2024-06", 11),
            "T9": _month("2024-09", 90),
            "Ghi chép": [["Số liệu tạm tính"], ["chưa gửi"]],
            "Huong dan": [["Điền mỗi tháng một sheet"]],
        },
        hidden={"An"},
        headerless={"Ghi chép", "Huong dan"},
    )
    got = read(path, reference, tmp_path)
    assert got.found == []
    assert [(row[2], row[6]) for row in got.values] == [
        ("2024-07", D(70)),
        ("2024-08", D(80)),
        ("2024-09", D(90)),
    ]
    assert got.sheets == ["T7", "T8", "T9"]
    assert [row[0] for row in got.loaded] == [2, 2, 2]
    assert [(s, r) for s, r, _ in got.lines("header")] == [("T7", 1), ("T8", 1), ("T9", 1)]
    not_loaded = {sheet: text for sheet, _row, text in got.lines("sheet_not_loaded")}
    assert not_loaded.keys() == {"Ví dụ", "An", "Ghi chép", "Huong dan"}
    assert not_loaded["Ví dụ"] == "an example or instructions sheet, not read"
    assert not_loaded["Huong dan"] == "an example or instructions sheet, not read"
    assert not_loaded["An"] == "hidden sheet, not read"
    assert not_loaded["Ghi chép"].startswith("holds rows but no header")


def test_a_repeated_key_across_sheets_names_both_sheets(
    reference: Reference, tmp_path: Path
) -> None:
    path = clerk_files.workbook_with_sheets(
        tmp_path / "twice.xlsx", {"T7": _month("2024-07", 70), "T7 (2)": _month("2024-07", 71)}
    )
    got = read(path, reference, tmp_path)
    assert got.found == [("duplicate_key", "T7 (2)", 2, "indicator_code")]
    assert got.errors[0].en.endswith("as row 2 of sheet 'T7'")


def test_a_workbook_with_no_matching_sheet_names_every_sheet(
    reference: Reference, tmp_path: Path
) -> None:
    path = clerk_files.workbook_with_sheets(
        tmp_path / "vidu.xlsx",
        {"Ví dụ": _month("2024-07", 70), "Ẩn": _month("2024-08", 1), "Số liệu": [["x", 1]]},
        hidden={"Ẩn"},
        headerless={"Số liệu"},
    )
    got = read(path, reference, tmp_path)
    assert got.loaded == []
    assert got.found == [("missing_column", None, None, None)]
    message = got.errors[0].en
    for sheet in ("'Ví dụ' (an example", "'Ẩn' (hidden sheet", "'Số liệu' (no header row)"):
        assert sheet in message, message


# --- formats -------------------------------------------------------------------------------


def test_xlsm_reads_as_xlsx(reference: Reference, tmp_path: Path) -> None:
    got = read(clerk_files.xlsm(tmp_path / "mau.xlsm", ROWS), reference, tmp_path)
    assert got.found == [] and got.values == VALUES


def test_xls_with_merged_keys(reference: Reference, tmp_path: Path) -> None:
    rows = [[*row] for row in ROWS]
    for row in rows[1:]:
        row[0] = row[1] = None  # province and unit merged down rows 1-4 (0-based grid)
    path = clerk_files.xls(tmp_path / "cu.xls", rows, merges=[(1, 4, 0, 0), (1, 4, 1, 1)])
    got = read(path, reference, tmp_path)
    assert got.found == []
    assert got.values == VALUES
    assert got.sheets == ["Báo cáo"] * 4


def test_xls_rate_that_may_be_a_percent_cell_is_an_error(
    reference: Reference, tmp_path: Path
) -> None:
    rows = [["49", "SYT", "2024-09", RATE, None, None, 0.6467, None]]
    path = clerk_files.xls(tmp_path / "pct.xls", rows, percent_cells=[(1, 6)])
    got = read(path, reference, tmp_path)
    assert got.found == [("rate_ambiguous", "Báo cáo", 2, "value")]
    assert ".xlsx" in got.errors[0].en and ".xlsx" in got.errors[0].vi


def test_ods_loads_and_its_percent_cells_are_errors(reference: Reference, tmp_path: Path) -> None:
    got = read(clerk_files.ods(tmp_path / "lo.ods", ROWS), reference, tmp_path)
    assert got.found == [] and got.values == VALUES
    rows = [["49", "SYT", "2024-09", RATE, None, None, 0.6467, None]]
    path = clerk_files.ods(tmp_path / "pct.ods", rows, percent_cells=[(1, 6)])
    assert read(path, reference, tmp_path).found == [("rate_ambiguous", "Báo cáo", 2, "value")]


def test_unicode_text_export_utf16_with_tabs(reference: Reference, tmp_path: Path) -> None:
    rows = [["49", "SYT", "Quý III năm 2024", RATE, "", "", "64,67", "ghi chú, có dấu phẩy"]]
    got = read(clerk_files.unicode_text(tmp_path / "u.csv", rows), reference, tmp_path)
    assert got.found == []
    assert got.values == [
        ("49", "SYT", "2024-Q3", RATE, None, None, D("64.67"), "ghi chú, có dấu phẩy")
    ]


def test_unquoted_decimal_comma_is_never_loaded(reference: Reference, tmp_path: Path) -> None:
    lines = [
        "49,SYT,2024-09,DVC_ONLINE_INTAKE_RATE,,,70,76,ghi chú",  # the note moved out
        "49,SYT,2024-08,DVC_ONLINE_INTAKE_RATE,,,70,",
        "49,SYT,2024-07,DVC_ONLINE_INTAKE_RATE,,,70,ghi chú,,,",  # trailing empty cells: fine
    ]
    got = read(clerk_files.raw_lines(tmp_path / "dau_phay.csv", lines), reference, tmp_path)
    assert got.found == [("extra_cells", None, 2, None)]
    assert "70,76" in got.errors[0].en


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    extra=st.text(alphabet=string.digits + string.ascii_letters + "%.", min_size=1, max_size=6),
    at=st.integers(0, 7),
    pad=st.integers(0, 3),
)
def test_a_row_with_one_extra_cell_is_never_loaded(
    reference: Reference, tmp_path: Path, extra: str, at: int, pad: int
) -> None:
    cells = ["49", "SYT", "2024-09", RATE, "600", "1000", "60", "ghi chú"]
    cells.insert(at + 1, extra)  # any cell split in two: everything after moves right
    line = ",".join(cells) + "," * pad
    path = clerk_files.raw_lines(tmp_path / "x.csv", [line])
    got = read(path, reference, tmp_path)
    assert got.loaded == []
    assert ("extra_cells", None, 2, None) in got.found


# --- cells ---------------------------------------------------------------------------------


def test_invisible_characters_are_removed_and_left_ones_shown(
    reference: Reference, tmp_path: Path
) -> None:
    rows = [
        ["49", "\u200bSYT\u00ad", "2024-09", f"{RATE}\ufeff", None, None, 60, "a\u200db"],
        ["49", "SYT\u200e", "2024-08", RATE, None, None, 60, None],
    ]
    got = read(
        clerk_files.workbook_with_sheets(tmp_path / "zw.xlsx", {"S": rows}), reference, tmp_path
    )
    assert got.found == [("unknown_unit", "S", 3, "unit_code")]
    assert "SYT\\u200e" in got.errors[0].en and "SYT\\u200e" in got.errors[0].vi


def test_date_cells_as_periods(reference: Reference, tmp_path: Path) -> None:
    rows = [
        ["49", "SYT", datetime(2024, 9, 1), RATE, None, None, 60, None],  # typed "9/2024"
        ["49", "SYT", datetime(2024, 9, 30), VISIT, None, None, 60, None],
    ]
    got = read(
        clerk_files.workbook_with_sheets(tmp_path / "d.xlsx", {"S": rows}), reference, tmp_path
    )
    assert got.found == [("period_format", "S", 3, "period")]
    assert "30/09/2024" in got.errors[0].en and "Tháng 3/2024" in got.errors[0].en


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (("Mã tỉnh", "Đơn vị", "Kỳ", "Mã chỉ tiêu", "Tỷ lệ %"), "64,67"),
        (("Mã tỉnh", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Kết quả (%)"), "64,67"),
        (("Mã tỉnh", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Số liệu"), "64,67"),
        (("MÃ TỈNH", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Tỷ lệ(%)"), "64,67"),
    ],
)
def test_header_synonyms(
    reference: Reference, tmp_path: Path, header: tuple[str, ...], value: str
) -> None:
    rows = [["49", "SYT", "2024-09", RATE, value]]
    path = clerk_files.workbook_with_sheets(tmp_path / "h.xlsx", {"S": rows}, header=header)
    got = read(path, reference, tmp_path)
    assert got.found == []
    assert got.values == [("49", "SYT", "2024-09", RATE, None, None, D("64.67"), None)]


def test_a_synonym_beside_its_column_is_another_column(
    reference: Reference, tmp_path: Path
) -> None:
    """`Đơn vị` beside `Mã đơn vị` is the unit's name, ignored like any other column."""
    header = ("Mã tỉnh", "Đơn vị", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Giá trị")
    rows = [["49", "Sở Y tế", "SYT", "2024-09", RATE, 60]]
    path = clerk_files.workbook_with_sheets(tmp_path / "s.xlsx", {"S": rows}, header=header)
    got = read(path, reference, tmp_path)
    assert got.found == [] and got.values[0][1] == "SYT"


# --- through a warehouse -------------------------------------------------------------------


def test_receipts_are_stored_reported_and_summarised(warehouse: Warehouse) -> None:
    landing = warehouse.landing
    form = clerk_files.official_xlsx(landing / "49_SYT_T9.xlsx", ROWS)
    clerk_files.workbook_with_sheets(
        landing / "49_STP_Q3.xlsx",
        {"Ví dụ": _month("2024-01", 99), "T7": _month("2024-07", 170)},
    )
    (landing / "ghi_chu.pdf").write_bytes(b"%PDF-1.4 not a report")
    (landing / "~$49_SYT_T9.xlsx").write_bytes(b"lock")
    printed: list[str] = []
    summary = ingest_landing(landing, warehouse.settings, progress=printed.append)

    outcomes = {r.path: r.outcome for r in summary.results}
    assert outcomes == {
        "49_SYT_T9.xlsx": "accepted",
        "49_STP_Q3.xlsx": "rejected",
        "ghi_chu.pdf": "rejected",
    }
    assert summary.ignored == ["~$49_SYT_T9.xlsx"]
    stored = warehouse.query(
        "select f.path, r.kind, r.sheet, r.row_number from audit.submission_receipt r"
        " join raw.submission_file f using (submission_id) order by f.path, r.line_number"
    )
    assert ("49_SYT_T9.xlsx", "header", "Báo cáo", form.header_row) in stored
    assert ("49_SYT_T9.xlsx", "row_skipped", "Báo cáo", form.total_row) in stored
    assert [s for s in stored if s[0] == "49_STP_Q3.xlsx"] == [
        ("49_STP_Q3.xlsx", "sheet_not_loaded", "Ví dụ", None),
        ("49_STP_Q3.xlsx", "header", "T7", 1),
    ]
    loaded = warehouse.query(
        "select sheet_index, sheet, row_number, period, value from raw.submission_value"
        " order by row_number"
    )
    assert [row[:3] for row in loaded] == [
        (0, "Báo cáo", form.first_data_row + i) for i in range(4)
    ]

    report = next(r for r in summary.results if r.path == "49_STP_Q3.xlsx").report
    receipt, errors = read_report(Path(report or ""))
    assert [(line["rule"], line["sheet"]) for line in receipt] == [
        ("sheet_not_loaded", "Ví dụ"),
        ("header", "T7"),
    ]
    assert [(e["rule"], e["sheet"], e["row"]) for e in errors] == [("rate_out_of_range", "T7", "2")]
    pdf = next(r for r in summary.results if r.path == "ghi_chu.pdf")
    assert read_report(Path(pdf.report or ""))[1][0]["rule"] == "unsupported_format"

    lines = summary.lines()
    assert f"  49_SYT_T9.xlsx (accepted): header 'Báo cáo' row {form.header_row}; " in "\n".join(
        lines
    )
    official = next(line for line in lines if "49_SYT_T9.xlsx" in line)
    assert f"skipped 'Báo cáo' rows {form.total_row}: a total row" in official
    signature = ", ".join(
        [f"{form.signature_rows[0]}-{form.signature_rows[1]}", str(form.signature_rows[2])]
    )
    assert f"skipped 'Báo cáo' rows {signature}: the signature block" in official
    other = next(line for line in lines if "49_STP_Q3.xlsx" in line)
    assert other == (
        "  49_STP_Q3.xlsx (rejected): sheet 'Ví dụ' not read: an example or instructions"
        " sheet, not read; header 'T7' row 1"
    )
