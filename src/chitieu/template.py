"""`chitieu template`: the XLSX a department fills in for one reporting period.

The first sheet follows the submission contract, so a filled-in template loads as it is:
Vietnamese headers, one row per indicator the unit reports at that period's frequency, the
codes and the canonical period prefilled, and Excel data validation on the cells a clerk
types into. A second sheet, "Hướng dẫn", says how to fill it in.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chitieu.config import Settings, load_settings
from chitieu.exceptions import DataError
from chitieu.ingest.parse import ParseError, Period, parse_code, parse_period, parse_province_code
from chitieu.reference import Indicator, Reference, load_reference

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.worksheet import Worksheet


class TemplateError(DataError, ValueError):
    """A unit, period or province the template cannot be made for; the CLI prints it."""


# The indicator frequency (catalog) that is due at each period type: the same pairing
# `marts.submission_completeness` uses to decide which reports are expected.
FREQUENCY_OF_PERIOD = {
    "month": "monthly",
    "quarter": "quarterly",
    "half_year": "half_yearly",
    "year": "yearly",
}
_EXAMPLE_PERIOD = {"monthly": "2024-03", "quarterly": "2024-Q1", "half_yearly": "2024-H1"}

SHEET_TITLE = "Báo cáo"
GUIDE_TITLE = "Hướng dẫn"
MILESTONE_CHOICES = ("Hoàn thành", "Chưa hoàn thành")

# (header, width). Headers are the contract's Vietnamese names; "Tên chỉ tiêu" and
# "Đơn vị tính" are for the clerk only and match no contract column, so ingest ignores them.
COLUMNS = (
    ("Mã tỉnh", 10),
    ("Mã đơn vị", 12),
    ("Kỳ báo cáo", 13),
    ("Mã chỉ tiêu", 36),
    ("Tên chỉ tiêu", 62),
    ("Đơn vị tính", 16),
    ("Tử số", 15),
    ("Mẫu số", 15),
    ("Giá trị", 18),
    ("Ghi chú", 40),
)
_COL = {header: index for index, (header, _) in enumerate(COLUMNS, start=1)}

_UNIT_LABEL = {
    "percent": "%",
    "count": "số lượng",
    "vnd": "đồng",
    "days": "ngày",
    "rank": "thứ hạng",
    "milestone": "mốc",
}
_VALUE_FORMAT = {
    # General, so a typed "64,67%" becomes a percent-formatted 0.6467, which ingest scales;
    # under a fixed "0.00" Excel could keep 0.6467 unflagged and 64.67 % would load as 0.65.
    "percent": "General",
    "count": "#,##0",
    "vnd": "#,##0",
    "days": "0",
    "rank": "0",
    "milestone": "@",
}
# Which of numerator/denominator a unit of measure may carry (contract, "Values").
_FRACTION = {
    "percent": ("Tử số", "Mẫu số"),
    "count": ("Tử số", "Mẫu số"),
    "vnd": ("Tử số", "Mẫu số"),
    "days": ("Tử số", "Mẫu số"),
    "rank": ("Mẫu số",),
    "milestone": (),
}


@dataclass(frozen=True)
class TemplateRow:
    indicator_code: str
    name_vi: str
    unit_of_measure: str  # percent | count | vnd | days | rank | milestone


# --- inputs ------------------------------------------------------------------------------


def _names(path: Path, key: str) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row[key]: row["name_vi"] for row in csv.DictReader(handle)}


def check_unit(raw: str, reference: Reference) -> str:
    code = parse_code(raw)
    if code not in reference.units:
        known = ", ".join(sorted(reference.units))
        raise TemplateError(f"unknown unit '{raw}'; known units: {known}")
    return code


def check_period(raw: str) -> Period:
    try:
        return parse_period(raw)
    except ParseError as exc:
        raise TemplateError(f"period '{raw}': {exc.en}") from exc


def check_province(raw: str | None, reference: Reference) -> str | None:
    if raw is None or not raw.strip():
        return None
    try:
        code = parse_province_code(raw)
    except ParseError as exc:
        raise TemplateError(f"province '{raw}': {exc.en}") from exc
    if code not in reference.provinces:
        raise TemplateError(f"unknown province code '{raw}'")
    return code


def _due(indicators: list[Indicator], period: Period) -> list[Indicator]:
    return [i for i in indicators if i.frequency == FREQUENCY_OF_PERIOD[period.type]]


def template_rows(
    unit: str, period: Period, reference: Reference, names: dict[str, str], every: bool = False
) -> list[TemplateRow]:
    """The unit's indicators due at this period's frequency (or all of them with `every`).

    Only due ones by default: a prefilled row left without figures rejects the whole file,
    and these are exactly the reports the completeness mart expects for the period.
    """
    allowed = [i for i in reference.indicators.values() if i.may_be_reported_by(unit)]
    chosen = allowed if every else _due(allowed, period)
    if not chosen:
        frequencies = sorted({i.frequency for i in allowed})
        hints = " and ".join(f"{f} (e.g. {_EXAMPLE_PERIOD.get(f, '2024')})" for f in frequencies)
        raise TemplateError(
            f"unit {unit} reports no {FREQUENCY_OF_PERIOD[period.type]} indicator, so a "
            f"template for {period.code} would be empty. {unit} reports {hints}; "
            "or pass --all-indicators"
        )
    return [TemplateRow(i.code, names.get(i.code, ""), i.unit_of_measure) for i in chosen]


def default_path(settings: Settings, unit: str, period: Period) -> Path:
    return settings.home / "templates" / f"{unit}_{period.code}.xlsx"


# --- the workbook ------------------------------------------------------------------------


def _validation(kind: str, **limits: str) -> DataValidation:
    """One Excel data validation with a Vietnamese prompt and a blocking error message."""
    from openpyxl.worksheet.datavalidation import DataValidation

    texts = {
        "decimal_0_100": ("Tỷ lệ (%)", "Số từ 0 đến 100, ví dụ 64,67 (hoặc gõ 64,67%)."),
        "whole_0": ("Số nguyên", "Số nguyên không âm, ví dụ 1068."),
        "whole_1": ("Số nguyên dương", "Số nguyên từ 1 trở lên."),
        "milestone": ("Mốc", "Chọn Hoàn thành hoặc Chưa hoàn thành."),
        "read_only": ("Chỉ để đọc", "Cột này để tham khảo, không được nạp; không cần sửa."),
    }
    title, message = texts[kind]
    return DataValidation(
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=kind != "read_only",
        errorTitle=f"{title}: không hợp lệ",
        error=message,
        promptTitle=title,
        prompt=message,
        **limits,
    )


def _validations() -> dict[str, DataValidation]:
    return {
        "decimal_0_100": _validation(
            "decimal_0_100", type="decimal", operator="between", formula1="0", formula2="100"
        ),
        "whole_0": _validation(
            "whole_0", type="whole", operator="greaterThanOrEqual", formula1="0"
        ),
        "whole_1": _validation(
            "whole_1", type="whole", operator="greaterThanOrEqual", formula1="1"
        ),
        "milestone": _validation(
            "milestone", type="list", formula1='"' + ",".join(MILESTONE_CHOICES) + '"'
        ),
        # Excel accepts a typed entry only when the formula is true: FALSE makes the cells
        # read-only without sheet protection, which would also stop clerks deleting rows.
        "read_only": _validation("read_only", type="custom", formula1="FALSE"),
    }


_VALUE_RULE = {
    "percent": "decimal_0_100",
    "count": "whole_0",
    "vnd": "whole_0",
    "days": "whole_0",
    "rank": "whole_1",
    "milestone": "milestone",
}
_FRACTION_RULE = {"Tử số": "whole_0", "Mẫu số": "whole_1"}


def _header(sheet: Worksheet) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    fill = PatternFill("solid", fgColor="1F4E78")
    for index, (header, width) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.row_dimensions[1].height = 30
    sheet.freeze_panes = "A2"


def _fill_row(
    sheet: Worksheet,
    number: int,
    row: TemplateRow,
    unit: str,
    period: Period,
    province: str | None,
    rules: dict[str, DataValidation],
) -> None:
    from openpyxl.styles import Alignment, PatternFill

    prefilled = PatternFill("solid", fgColor="F2F2F2")
    unused = PatternFill("solid", fgColor="BFBFBF")
    values = {
        "Mã tỉnh": province,
        "Mã đơn vị": unit,
        "Kỳ báo cáo": period.code,
        "Mã chỉ tiêu": row.indicator_code,
        "Tên chỉ tiêu": row.name_vi,
        "Đơn vị tính": _UNIT_LABEL.get(row.unit_of_measure, row.unit_of_measure),
    }
    for header, value in values.items():
        cell = sheet.cell(row=number, column=_COL[header], value=value)
        cell.number_format = "@"  # text: keeps "01" and stops Excel turning 2024-03 into a date
        if header != "Mã tỉnh":
            cell.fill = prefilled
    sheet.cell(row=number, column=_COL["Tên chỉ tiêu"]).alignment = Alignment(wrap_text=True)
    for header in ("Tên chỉ tiêu", "Đơn vị tính"):
        rules["read_only"].add(sheet.cell(row=number, column=_COL[header]).coordinate)

    for header in ("Tử số", "Mẫu số"):
        cell = sheet.cell(row=number, column=_COL[header])
        if header in _FRACTION.get(row.unit_of_measure, ()):
            cell.number_format = "#,##0"
            rules[_FRACTION_RULE[header]].add(cell.coordinate)
        else:
            cell.fill = unused  # the contract gives this unit of measure no such figure
    value = sheet.cell(row=number, column=_COL["Giá trị"])
    value.number_format = _VALUE_FORMAT.get(row.unit_of_measure, "General")
    rules[_VALUE_RULE.get(row.unit_of_measure, "whole_0")].add(value.coordinate)
    sheet.cell(row=number, column=_COL["Ghi chú"]).number_format = "@"


def _guide_lines(unit: str, unit_name: str, period: Period, rows: int) -> list[str]:
    return [
        "Hướng dẫn điền mẫu báo cáo Đề án 06",
        f"Đơn vị: {unit} – {unit_name}. Kỳ báo cáo: {period.code}. Số chỉ tiêu: {rows}.",
        "",
        "1. Điền Mã tỉnh (mã GSO 2 chữ số, ví dụ 40) ở mọi dòng nếu chưa có.",
        "2. Chỉ tiêu tỷ lệ (%): điền Tử số và Mẫu số, hoặc Giá trị từ 0 đến 100 (ví dụ 64,67), "
        "hoặc cả ba; khi có cả ba, Giá trị phải bằng 100 × Tử số / Mẫu số (lệch tối đa 0,05).",
        "3. Số lượng, số tiền (đồng), số ngày: Giá trị là số nguyên không âm (1.068 hay 1068 "
        'đều được); dạng "25/44 mô hình" thì điền Tử số 25 và Mẫu số 44.',
        "4. Thứ hạng: Giá trị là số nguyên dương; Mẫu số là tổng số được xếp hạng (ví dụ 63).",
        "5. Mốc: chọn Hoàn thành hoặc Chưa hoàn thành.",
        "6. Ô nền xám đã điền sẵn; ô xám đậm không dùng cho chỉ tiêu đó. Cột Tên chỉ tiêu và "
        "Đơn vị tính chỉ để đọc.",
        "7. Chỉ tiêu nào chưa có số liệu thì xoá cả dòng: một dòng thiếu số liệu làm cả tệp bị "
        "từ chối.",
        "8. Chỉ nộp sau khi kỳ báo cáo đã kết thúc; lưu dạng .xlsx và đặt vào thư mục tiếp "
        "nhận. Mọi sheet có dòng tiêu đề đều được nạp; sheet Hướng dẫn này thì không.",
        "9. Tệp có lỗi bị từ chối toàn bộ (không số liệu nào được nạp) và kèm báo cáo lỗi "
        "<tên tệp>.errors.csv ghi rõ dòng, cột và lý do; sửa rồi nộp lại.",
        "",
        "In English: fill in the province code, then numerator and denominator or the value "
        "for each row; delete rows you cannot report yet; any error rejects the whole file, "
        "with an <file>.errors.csv report listing every error.",
    ]


def _guide(workbook: Workbook, unit: str, unit_name: str, period: Period, rows: int) -> None:
    from openpyxl.styles import Alignment, Font

    sheet = workbook.create_sheet(GUIDE_TITLE)
    sheet.column_dimensions["A"].width = 110
    for number, line in enumerate(_guide_lines(unit, unit_name, period, rows), start=1):
        cell = sheet.cell(row=number, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet["A1"].font = Font(bold=True, size=14)


def write_template(
    path: Path,
    unit: str,
    unit_name: str,
    period: Period,
    rows: list[TemplateRow],
    province: str | None = None,
) -> Path:
    """Write the workbook: the data sheet, then the guide (an instructions sheet, which
    ingest never loads)."""
    from openpyxl import Workbook as NewWorkbook

    workbook = NewWorkbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    _header(sheet)
    rules = _validations()
    for number, row in enumerate(rows, start=2):
        _fill_row(sheet, number, row, unit, period, province, rules)
    for validation in rules.values():
        if validation.sqref.ranges:
            sheet.add_data_validation(validation)
    _guide(workbook, unit, unit_name, period, len(rows))
    workbook.properties.creator = "chitieu"
    workbook.properties.title = f"Đề án 06 – {unit} – {period.code}"

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    workbook.save(tmp)
    tmp.replace(path)
    return path


def make_template(
    unit: str,
    period: str,
    province: str | None = None,
    out: Path | None = None,
    settings: Settings | None = None,
    all_indicators: bool = False,
) -> Path:
    """Check the inputs against the reference data, then write the template; returns its path.

    `out` may be a file or an existing folder; by default
    `$CHITIEU_HOME/templates/<UNIT>_<period>.xlsx`.
    """
    settings = settings or load_settings()
    reference = load_reference(settings.seeds_dir)
    unit_code = check_unit(unit, reference)
    canonical = check_period(period)
    province_code = check_province(province, reference)
    names = _names(settings.seeds_dir / "indicator_catalog.csv", "indicator_code")
    rows = template_rows(unit_code, canonical, reference, names, every=all_indicators)

    target = out or default_path(settings, unit_code, canonical)
    if target.is_dir():
        target = target / default_path(settings, unit_code, canonical).name
    if target.suffix.lower() != ".xlsx":
        raise TemplateError(f"--out {target}: the template is an Excel file, name it *.xlsx")
    unit_name = _names(settings.seeds_dir / "units.csv", "unit_code").get(unit_code, "")
    return write_template(target, unit_code, unit_name, canonical, rows, province_code)
