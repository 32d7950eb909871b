"""The row rules of the submission contract, applied to one file's rows.

`Validator.header` maps the header row to contract columns; `Validator.row` turns one data
row into an `Observation` or the list of every rule it breaks.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chitieu.ingest.errors import SubmissionError, file_error
from chitieu.ingest.header import HEADERS, REQUIRED, header_columns, last_named
from chitieu.ingest.parse import (
    EMPTY_MARKS,
    ParseError,
    Period,
    is_blank,
    parse_code,
    parse_integer,
    parse_milestone,
    parse_period,
    parse_province_code,
    parse_rate,
    shown,
)
from chitieu.reference import Indicator, Reference

__all__ = ["HEADERS", "REQUIRED", "Observation", "Validator"]
_VALUE_COLUMNS = ("numerator", "denominator", "value")

RATE_TOLERANCE = Decimal("0.05")
# The contract has 8 columns and a form adds a few for readability; thousands of columns is
# a broken or hostile file, whose every row would cost that much.
MAX_COLUMNS = 1_000


@dataclass(frozen=True)
class Observation:
    row_number: int
    province_code: str
    unit_code: str
    period: Period
    indicator_code: str
    numerator: int | None
    denominator: int | None
    value: Decimal | None
    note: str | None


def _cell_text(raw: object) -> str | None:
    if raw is None:
        return None
    return unicodedata.normalize("NFC", str(raw))


class RowErrors:
    """Collects a row's errors with its number (and sheet, in a workbook)."""

    def __init__(self, row: int, sheet: str | None = None) -> None:
        self.row = row
        self.sheet = sheet
        self.items: list[SubmissionError] = []

    def add(self, rule: str, column: str | None, vi: str, en: str, raw: object = None) -> None:
        raw_text = None if raw is None else str(raw)
        self.items.append(SubmissionError(rule, vi, en, self.row, column, raw_text, self.sheet))


class Validator:
    """Applies the contract to one table; keeps the keys seen to catch repeated rows.

    `sheet` names the sheet in errors; `extra_cells` (CSV) makes a non-empty cell beyond the
    header's last column an error; `percent_known` False (.xls, .ods) makes a number that
    may be a percent-formatted fraction an error for a rate."""

    def __init__(
        self,
        reference: Reference,
        submitted_on: date,
        sheet: str | None = None,
        extra_cells: bool = False,
        percent_known: bool = True,
    ) -> None:
        self.reference = reference
        self.submitted_on = submitted_on
        self.sheet = sheet
        self.extra_cells = extra_cells
        self.percent_known = percent_known
        self.columns: dict[str, int] = {}
        self.width = 0  # cells the header names, up to its last non-empty one
        self._seen: dict[tuple[str, str, str, str], int] = {}

    def like(self) -> Validator:
        """A validator for the same table (its header read), with no keys seen."""
        other = Validator(
            self.reference, self.submitted_on, self.sheet, self.extra_cells, self.percent_known
        )
        other.columns, other.width = self.columns, self.width
        return other

    # -- header ---------------------------------------------------------------------------

    def header(self, number: int, cells: list[object]) -> None:
        """Map the header row; raises `FileRejected` listing missing or repeated columns."""
        if len(cells) > MAX_COLUMNS:
            raise file_error(
                "too_large",
                f"Dòng tiêu đề có {len(cells):,} cột; tệp báo cáo có tối đa {MAX_COLUMNS:,} cột",
                f"The header row has {len(cells):,} columns; a submission has at most "
                f"{MAX_COLUMNS:,}",
                row=number,
                sheet=self.sheet,
            )
        # Other columns (e.g. an indicator name) are ignored.
        found = header_columns(cells)
        if found.repeated is not None:
            raise file_error(
                "duplicate_column",
                f"Cột '{found.repeated}' xuất hiện hai lần trong dòng tiêu đề",
                f"Column '{found.repeated}' appears twice in the header row",
                row=number,
                sheet=self.sheet,
            )
        columns = found.columns
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            names = ", ".join(f"{HEADERS[c][1]} ({c})" for c in missing)
            raise file_error(
                "missing_column",
                f"Thiếu cột bắt buộc: {names}",
                f"Missing required column(s): {names}",
                row=number,
                sheet=self.sheet,
            )
        self.columns = columns
        self.width = last_named(cells) + 1

    def _get(self, cells: list[object], column: str) -> object:
        index = self.columns.get(column)
        if index is None or index >= len(cells):
            return None
        value = cells[index]
        if is_blank(value):
            return None
        if column in _VALUE_COLUMNS and isinstance(value, str) and value.strip() in EMPTY_MARKS:
            return None
        return value

    def _percent(self, percent: list[bool], column: str) -> bool:
        index = self.columns.get(column)
        return index is not None and index < len(percent) and percent[index]

    # -- rows -----------------------------------------------------------------------------

    def _extra_cells(self, cells: list[object], errors: RowErrors) -> None:
        extra = [cell for cell in cells[self.width :] if not is_blank(cell)]
        if not extra:
            return
        shown_cells = ", ".join(f"'{cell}'" for cell in extra[:3])
        errors.add(
            "extra_cells",
            None,
            f"Dòng có {len(cells[: self.width]) + len(extra)} ô có dữ liệu nhưng dòng tiêu đề "
            f"chỉ có {self.width} cột (thừa {shown_cells}): có thể một số thập phân viết dấu "
            "phẩy (70,76) mà không đặt trong ngoặc kép, hoặc một ô chứa dấu phân cách. Hãy "
            "đặt ô đó trong ngoặc kép, dùng dấu chấm thập phân, hoặc lưu CSV với dấu ';'",
            f"The row has cells beyond the header's {self.width} columns ({shown_cells}): "
            "probably a decimal comma (70,76) or a delimiter inside a cell, not quoted. "
            "Quote that cell, use a decimal point, or save the CSV with ';' as delimiter",
            extra[0],
        )

    def row(
        self, number: int, cells: list[object], percent: list[bool]
    ) -> Observation | list[SubmissionError]:
        errors = RowErrors(number, self.sheet)
        if self.extra_cells and len(cells) > self.width:
            self._extra_cells(cells, errors)
        raw = {column: self._get(cells, column) for column in HEADERS}
        for column in REQUIRED:
            if raw[column] is None:
                errors.add(
                    "required",
                    column,
                    f"Thiếu giá trị bắt buộc ở cột {HEADERS[column][1]}",
                    f"Required cell {column} is empty",
                )

        province = self._province(raw["province_code"], errors)
        unit = self._unit(raw["unit_code"], errors)
        indicator = self._indicator(raw["indicator_code"], unit, errors)
        period = self._period(raw["period"], errors)
        numerator, denominator, value = (None, None, None)
        if indicator is not None:
            numerator, denominator, value = self._values(
                indicator, raw, self._percent(percent, "value"), errors
            )

        if province and unit and period and indicator:
            key = (province, unit, period.code, indicator.code)
            first = self._seen.get(key)
            if first is not None:
                errors.add(
                    "duplicate_key",
                    "indicator_code",
                    f"Trùng tỉnh/đơn vị/kỳ/chỉ tiêu với dòng {first}",
                    f"Same province/unit/period/indicator as row {first}",
                    indicator.code,
                )
            else:
                self._seen[key] = number

        if errors.items:
            return errors.items
        assert province and unit and period and indicator
        note = _cell_text(raw["note"])
        return Observation(
            number, province, unit, period, indicator.code, numerator, denominator, value, note
        )

    def _province(self, raw: object, errors: RowErrors) -> str | None:
        if raw is None:
            return None
        try:
            code = parse_province_code(raw)
        except ParseError as exc:
            errors.add("unknown_province", "province_code", exc.vi, exc.en, raw)
            return None
        if code not in self.reference.provinces:
            errors.add(
                "unknown_province",
                "province_code",
                f"Mã tỉnh không có trong danh mục: {shown(code)}",
                f"Unknown province code: {shown(code)}",
                raw,
            )
            return None
        return code

    def _unit(self, raw: object, errors: RowErrors) -> str | None:
        if raw is None:
            return None
        code = parse_code(raw)
        if code not in self.reference.units:
            errors.add(
                "unknown_unit",
                "unit_code",
                f"Mã đơn vị không có trong danh mục: {shown(code)}",
                f"Unknown unit code: {shown(code)}",
                raw,
            )
            return None
        return code

    def _indicator(self, raw: object, unit: str | None, errors: RowErrors) -> Indicator | None:
        if raw is None:
            return None
        code = parse_code(raw)
        indicator = self.reference.indicators.get(code)
        if indicator is None:
            errors.add(
                "unknown_indicator",
                "indicator_code",
                f"Mã chỉ tiêu không có trong danh mục: {shown(code)}",
                f"Unknown indicator code: {shown(code)}",
                raw,
            )
            return None
        if unit is not None and not indicator.may_be_reported_by(unit):
            errors.add(
                "unit_not_allowed",
                "indicator_code",
                f"Đơn vị {unit} không được giao báo cáo chỉ tiêu {code}",
                f"Unit {unit} may not report indicator {code}",
                raw,
            )
        return indicator

    def _period(self, raw: object, errors: RowErrors) -> Period | None:
        if raw is None:
            return None
        try:
            period = parse_period(raw)
        except ParseError as exc:
            errors.add("period_format", "period", exc.vi, exc.en, raw)
            return None
        if period.end > self.submitted_on:
            errors.add(
                "period_future",
                "period",
                f"Kỳ {period.code} kết thúc ngày {period.end}, sau ngày nộp tệp "
                f"{self.submitted_on}",
                f"Period {period.code} ends on {period.end}, after the file was submitted "
                f"on {self.submitted_on}",
                raw,
            )
            return None
        return period

    # -- values by the indicator's unit ---------------------------------------------------

    def _integer(self, raw: dict[str, object], column: str, errors: RowErrors) -> int | None:
        if raw[column] is None:
            return None
        try:
            return parse_integer(raw[column])
        except ParseError as exc:
            errors.add("value_format", column, exc.vi, exc.en, raw[column])
            return None

    def _values(
        self,
        indicator: Indicator,
        raw: dict[str, object],
        value_is_percent: bool,
        errors: RowErrors,
    ) -> tuple[int | None, Decimal | None, Decimal | None]:
        numerator = self._integer(raw, "numerator", errors)
        denominator = self._integer(raw, "denominator", errors)
        if numerator is not None and numerator < 0:
            errors.add(
                "negative",
                "numerator",
                "Tử số không được âm",
                "Numerator must not be negative",
                raw["numerator"],
            )
        if denominator is not None and denominator <= 0:
            errors.add(
                "denominator_not_positive",
                "denominator",
                "Mẫu số phải lớn hơn 0",
                "Denominator must be positive",
                raw["denominator"],
            )
        if (
            numerator is not None
            and denominator is not None
            and denominator > 0
            and numerator > denominator
            and indicator.unit_of_measure != "rank"
        ):
            errors.add(
                "numerator_gt_denominator",
                "numerator",
                f"Tử số ({numerator}) lớn hơn mẫu số ({denominator})",
                f"Numerator ({numerator}) is greater than denominator ({denominator})",
                raw["numerator"],
            )
        check = {
            "percent": self._percent_value,
            "rank": self._rank_value,
            "milestone": self._milestone_value,
        }.get(indicator.unit_of_measure, self._count_value)
        value = check(raw, numerator, denominator, value_is_percent, errors)
        return numerator, denominator, value

    def _percent_value(self, raw, numerator, denominator, value_is_percent, errors):
        value: Decimal | None = None
        if raw["value"] is not None:
            try:
                value = parse_rate(raw["value"], value_is_percent)
            except ParseError as exc:
                errors.add("value_format", "value", exc.vi, exc.en, raw["value"])
            else:
                if self._may_be_a_fraction(raw["value"], value):
                    errors.add(
                        "rate_ambiguous",
                        "value",
                        f"Không rõ {raw['value']} là {value}% hay {value * 100}% (ô định dạng "
                        "%); định dạng tệp này không cho biết. Hãy lưu tệp dạng .xlsx, hoặc "
                        "gõ tỷ lệ dạng chữ (64,67%)",
                        f"Cannot tell whether {raw['value']} means {value}% or {value * 100}% "
                        "(a percent-formatted cell): this file format does not say. Save the "
                        "file as .xlsx, or type the rate as text (64.67%)",
                        raw["value"],
                    )
        has_num, has_den = raw["numerator"] is not None, raw["denominator"] is not None
        if has_num != has_den and raw["value"] is None:
            errors.add(
                "fraction_incomplete",
                "numerator" if has_den else "denominator",
                "Tử số và mẫu số phải có cùng nhau",
                "Numerator and denominator must be given together",
            )
        elif not has_num and raw["value"] is None:
            errors.add(
                "value_missing",
                "value",
                "Chỉ tiêu tỷ lệ cần tử số và mẫu số, hoặc tỷ lệ",
                "A percent indicator needs numerator and denominator, or value",
            )
        if value is not None and not Decimal(0) <= value <= Decimal(100):
            errors.add(
                "rate_out_of_range",
                "value",
                f"Tỷ lệ {value} nằm ngoài khoảng 0–100",
                f"Rate {value} is outside 0–100",
                raw["value"],
            )
        if (
            value is not None
            and numerator is not None
            and denominator is not None
            and 0 <= numerator <= denominator
            and denominator > 0
        ):
            computed = Decimal(100) * numerator / denominator
            if abs(value - computed) > RATE_TOLERANCE:
                errors.add(
                    "rate_mismatch",
                    "value",
                    f"Tỷ lệ {value} không khớp 100·tử số/mẫu số = {computed:.2f}",
                    f"Rate {value} does not match 100·numerator/denominator = {computed:.2f}",
                    raw["value"],
                )
        return value

    def _may_be_a_fraction(self, raw: object, value: Decimal) -> bool:
        """A number in (0, 1] read from a format that hides percent formats: 0.65 may be
        0.65% or a cell showing 65%."""
        return (
            not self.percent_known and not isinstance(raw, str) and Decimal(0) < value <= Decimal(1)
        )

    def _count_value(self, raw, numerator, denominator, value_is_percent, errors):
        value = self._integer(raw, "value", errors)
        if raw["value"] is None:
            if numerator is not None and denominator is not None:
                return Decimal(numerator)  # "25/44 models": the count is the numerator
            errors.add(
                "value_missing", "value", "Thiếu giá trị", "Value is required for this indicator"
            )
            return None
        if value is not None and value < 0:
            errors.add(
                "negative",
                "value",
                "Giá trị không được âm",
                "Value must not be negative",
                raw["value"],
            )
        return None if value is None else Decimal(value)

    def _rank_value(self, raw, numerator, denominator, value_is_percent, errors):
        value = self._integer(raw, "value", errors)
        if raw["value"] is None:
            errors.add("value_missing", "value", "Thiếu thứ hạng", "Rank value is required")
            return None
        if value is None:
            return None
        if value < 1:
            errors.add(
                "rank_not_positive",
                "value",
                "Thứ hạng phải là số nguyên dương",
                "Rank must be a positive integer",
                raw["value"],
            )
        elif denominator is not None and denominator > 0 and value > denominator:
            errors.add(
                "rank_gt_denominator",
                "value",
                f"Thứ hạng {value} lớn hơn số đơn vị được xếp hạng {denominator}",
                f"Rank {value} is greater than the number ranked ({denominator})",
                raw["value"],
            )
        return Decimal(value)

    def _milestone_value(self, raw, numerator, denominator, value_is_percent, errors):
        if raw["value"] is None:
            errors.add("value_missing", "value", "Thiếu giá trị mốc", "Milestone value is required")
            return None
        try:
            return Decimal(parse_milestone(raw["value"]))
        except ParseError as exc:
            errors.add("value_format", "value", exc.vi, exc.en, raw["value"])
            return None
