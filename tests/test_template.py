"""`chitieu template`: the XLSX a department fills in must load as it is, once filled.

Templates are filled in here with openpyxl as a clerk would in Excel, then run through the
ingest's own read → validate pass (`tests.test_corpus.check_file`). No database.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from chitieu.cli import main
from chitieu.config import load_settings
from chitieu.reference import Reference, load_reference
from chitieu.template import (
    COLUMNS,
    GUIDE_TITLE,
    SHEET_TITLE,
    TemplateError,
    make_template,
)
from tests.test_corpus import SEEDS, check_file

HEADERS = [header for header, _ in COLUMNS]
COL = {header: index for index, header in enumerate(HEADERS, start=1)}

# Monthly indicators SYT may report (its quarterly ones are due on quarters, not months).
SYT_MONTHLY = [
    "DVC_ONLINE_INTAKE_RATE",
    "DOSSIER_DIGITIZATION_RATE",
    "E_RESULT_RATE",
    "HI_QR_SCAN_SUCCESS_RATE",
    "HI_CCCD_VISIT_RATE",
]


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(SEEDS)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHITIEU_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _sheet(path: Path) -> Worksheet:
    workbook = load_workbook(path)
    assert workbook.sheetnames == [SHEET_TITLE, GUIDE_TITLE]  # ingest reads the first sheet
    return workbook.worksheets[0]


def _column(sheet: Worksheet, header: str) -> list[object]:
    return [sheet.cell(row=r, column=COL[header]).value for r in range(2, sheet.max_row + 1)]


def _kind(reference: Reference, sheet: Worksheet, row: int) -> str:
    return reference.indicators[
        str(sheet.cell(row=row, column=COL["Mã chỉ tiêu"]).value)
    ].unit_of_measure


def fill(path: Path, reference: Reference, province: object = "40") -> Path:
    """Type figures into every row as a clerk would, in the styles Excel stores them."""
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    for row in range(2, sheet.max_row + 1):
        cell = {header: sheet.cell(row=row, column=index) for header, index in COL.items()}
        if cell["Mã tỉnh"].value is None:
            cell["Mã tỉnh"].value = province
        kind = _kind(reference, sheet, row)
        if kind == "percent" and row % 3 == 0:
            cell["Tử số"].value, cell["Mẫu số"].value = 1273, 1344
        elif kind == "percent" and row % 3 == 1:
            # "64,67%" typed into a General cell: Excel stores 0.6467 with a percent format.
            cell["Giá trị"].value = 0.6467
            cell["Giá trị"].number_format = "0.00%"
        elif kind == "percent":
            cell["Tử số"].value, cell["Mẫu số"].value, cell["Giá trị"].value = 16923, 26794, 63.16
        elif kind == "rank":
            cell["Mẫu số"].value, cell["Giá trị"].value = 63, 38
        elif kind == "milestone":
            cell["Giá trị"].value = "Hoàn thành"
        else:
            cell["Giá trị"].value = {"count": 1068, "vnd": 33_200_000_000, "days": 7}[kind]
        cell["Ghi chú"].value = "đã kiểm tra"
    workbook.save(path)
    return path


def _validation_of(sheet: Worksheet, coordinate: str) -> DataValidation:
    found = [dv for dv in sheet.data_validations.dataValidation if coordinate in dv.sqref]
    assert len(found) == 1, f"{coordinate}: {len(found)} data validations"
    return found[0]


# --- a filled template is accepted --------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "period", "canonical", "frequency"),
    [
        ("SYT", "2024-03", "2024-03", "monthly"),
        ("CA", "Tháng 12/2024", "2024-12", "monthly"),
        ("STTTT", "Quý IV/2024", "2024-Q4", "quarterly"),  # count and milestone
        ("VPUBND", "2024-Q3", "2024-Q3", "quarterly"),  # rank and percent
        ("SLDTBXH", "2024-11", "2024-11", "monthly"),  # vnd
        ("STP", "2024-Q4", "2024-Q4", "quarterly"),  # days
        ("SNV", "2024-Q2", "2024-Q2", "quarterly"),  # milestone only
    ],
)
def test_filled_template_is_accepted(
    unit: str,
    period: str,
    canonical: str,
    frequency: str,
    reference: Reference,
    home: Path,
    tmp_path: Path,
) -> None:
    path = make_template(unit, period)
    assert path == home / "templates" / f"{unit}_{canonical}.xlsx"
    expected = [
        i.code
        for i in reference.indicators.values()
        if i.may_be_reported_by(unit) and i.frequency == frequency
    ]
    assert _column(_sheet(path), "Mã chỉ tiêu") == expected

    checked = check_file(fill(path, reference), reference, tmp_path)
    assert checked.found == []
    assert [row[:3] for row in checked.loaded] == [
        (number, "40", unit) for number in range(2, len(expected) + 2)
    ]
    assert {row[3] for row in checked.loaded} == {canonical}
    assert {row[4] for row in checked.loaded} == set(expected)


def test_the_guide_sheet_never_loads_and_the_receipt_says_so(
    reference: Reference, home: Path, tmp_path: Path
) -> None:
    from tests.test_real_files import read

    got = read(fill(make_template("SYT", "2024-03"), reference), reference, tmp_path)
    assert got.found == [] and got.loaded
    assert set(got.sheets) == {SHEET_TITLE}
    assert got.lines("header") == [(SHEET_TITLE, 1, "header: row 1")]
    assert got.lines("sheet_not_loaded") == [
        (GUIDE_TITLE, None, "an example or instructions sheet, not read")
    ]


def test_percent_cell_typed_with_percent_sign_loads_on_the_0_100_scale(
    reference: Reference, home: Path, tmp_path: Path
) -> None:
    checked = check_file(fill(make_template("SYT", "2024-03"), reference), reference, tmp_path)
    values = {row[0]: row[7] for row in checked.loaded}
    assert values[4] == Decimal("64.67")  # 0.6467 in a percent-formatted cell
    assert values[3] is None  # 1273/1344: the rate is computed downstream


def test_template_for_a_province_prefills_its_code(
    reference: Reference, home: Path, tmp_path: Path
) -> None:
    path = make_template("SYT", "2024-03", province="1")
    assert set(_column(_sheet(path), "Mã tỉnh")) == {"01"}
    checked = check_file(fill(path, reference, province="99"), reference, tmp_path)  # kept 01
    assert checked.found == []
    assert {row[1] for row in checked.loaded} == {"01"}


def test_unfilled_template_only_lacks_the_figures(
    reference: Reference, home: Path, tmp_path: Path
) -> None:
    """Everything prefilled is valid: the errors are the province and the values."""
    checked = check_file(make_template("SYT", "2024-03"), reference, tmp_path)
    assert {(rule, column) for rule, _, column in checked.found} == {
        ("required", "province_code"),
        ("value_missing", "value"),
    }


# --- layout and data validation -----------------------------------------------------------


def test_template_layout(home: Path) -> None:
    sheet = _sheet(make_template("SYT", "Tháng 3/2024"))
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert sheet.freeze_panes == "A2"
    assert _column(sheet, "Mã chỉ tiêu") == SYT_MONTHLY  # catalog order
    assert set(_column(sheet, "Mã đơn vị")) == {"SYT"}
    assert set(_column(sheet, "Kỳ báo cáo")) == {"2024-03"}
    assert set(_column(sheet, "Mã tỉnh")) == {None}  # for the department to fill
    assert all(_column(sheet, "Tên chỉ tiêu"))
    assert set(_column(sheet, "Đơn vị tính")) == {"%"}
    for header, width in COLUMNS:
        assert sheet.column_dimensions[chr(ord("A") + COL[header] - 1)].width == width


def test_value_cells_have_data_validation_by_kind(reference: Reference, home: Path) -> None:
    expected = {
        "percent": ("decimal", "between", "0", "100"),
        "count": ("whole", "greaterThanOrEqual", "0", None),
        "vnd": ("whole", "greaterThanOrEqual", "0", None),
        "days": ("whole", "greaterThanOrEqual", "0", None),
        "rank": ("whole", "greaterThanOrEqual", "1", None),
        "milestone": ("list", None, '"Hoàn thành,Chưa hoàn thành"', None),
    }
    seen = set()
    for unit in ("STTTT", "VPUBND", "SLDTBXH", "STP", "SNV", "CA"):
        sheet = _sheet(make_template(unit, "2024-Q4", all_indicators=True))
        for row in range(2, sheet.max_row + 1):
            kind = _kind(reference, sheet, row)
            value = _validation_of(sheet, f"I{row}")
            assert (value.type, value.operator, value.formula1, value.formula2) == expected[kind]
            assert value.showErrorMessage and value.allow_blank
            seen.add(kind)
    assert seen == set(expected)


def test_fraction_and_read_only_cells_have_data_validation(
    reference: Reference, home: Path
) -> None:
    sheet = _sheet(make_template("VPUBND", "2024-Q4", all_indicators=True))
    for row in range(2, sheet.max_row + 1):
        kind = _kind(reference, sheet, row)
        denominator = _validation_of(sheet, f"H{row}")
        assert (denominator.type, denominator.operator, denominator.formula1) == (
            "whole",
            "greaterThanOrEqual",
            "1",
        )
        numerators = [dv for dv in sheet.data_validations.dataValidation if f"G{row}" in dv.sqref]
        if kind == "rank":
            assert numerators == []  # a rank has no numerator
        else:
            (numerator,) = numerators
            assert (numerator.type, numerator.formula1) == ("whole", "0")
        for column in ("E", "F"):  # indicator name and unit label: read-only
            assert _validation_of(sheet, f"{column}{row}").formula1 == "FALSE"


def test_guide_sheet(home: Path) -> None:
    guide = load_workbook(make_template("SYT", "2024-03"))[GUIDE_TITLE]
    text = "\n".join(str(row[0]) for row in guide.iter_rows(values_only=True) if row[0])
    assert "SYT – Sở Y tế" in text
    assert "2024-03" in text
    assert "xoá cả dòng" in text


# --- inputs -------------------------------------------------------------------------------


def test_out_file_and_out_folder(home: Path, tmp_path: Path) -> None:
    assert make_template("SYT", "2024-03", out=tmp_path / "a.xlsx") == tmp_path / "a.xlsx"
    assert make_template("syt", "2024-Q1", out=tmp_path) == tmp_path / "SYT_2024-Q1.xlsx"
    with pytest.raises(TemplateError, match=r"\.xlsx"):
        make_template("SYT", "2024-03", out=tmp_path / "a.csv")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"unit": "XYZ", "period": "2024-03"}, "unknown unit 'XYZ'; known units: BHXH, CA"),
        ({"unit": "SYT", "period": "2024-13"}, "period '2024-13': Malformed period"),
        ({"unit": "SYT", "period": "2024-03", "province": "99"}, "unknown province code '99'"),
        ({"unit": "SYT", "period": "2024-03", "province": "abc"}, "province 'abc'"),
        ({"unit": "SYT", "period": "Năm 2024"}, "reports no yearly indicator"),
    ],
)
def test_bad_input_is_a_template_error(kwargs: dict[str, str], message: str, home: Path) -> None:
    with pytest.raises(TemplateError, match=message):
        make_template(**kwargs)  # type: ignore[arg-type]


def test_all_indicators_ignores_frequency(reference: Reference, home: Path) -> None:
    sheet = _sheet(make_template("SYT", "2024", all_indicators=True))
    allowed = [i.code for i in reference.indicators.values() if i.may_be_reported_by("SYT")]
    assert _column(sheet, "Mã chỉ tiêu") == allowed
    assert set(_column(sheet, "Kỳ báo cáo")) == {"2024"}


def test_cli_writes_the_default_path(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["template", "--unit", "SYT", "--period", "2024-03"]) == 0
    path = load_settings().home / "templates" / "SYT_2024-03.xlsx"
    assert path.is_file()
    assert str(path) in capsys.readouterr().out


def test_cli_unknown_unit_is_a_clear_error(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["template", "--unit", "XYZ", "--period", "2024-03"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: unknown unit 'XYZ'; known units: ")
    assert "SYT" in captured.err and "Traceback" not in captured.err
    assert not (home / "templates").exists()
