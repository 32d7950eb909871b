"""Unit tests for the row and header rules (`chitieu.ingest.validate.Validator`) and the
CSV reader (`chitieu.ingest.read`). No database.

Every error is checked by its exact (rule, row, column), as the error report shows it.
"""

from __future__ import annotations

import codecs
import unicodedata
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from chitieu.ingest.errors import FileRejected, SubmissionError
from chitieu.ingest.header import CONTRACT_COLUMNS
from chitieu.ingest.parse import is_blank
from chitieu.ingest.read import read_csv, read_xlsx
from chitieu.ingest.validate import Observation, Validator
from chitieu.reference import Reference, load_reference

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "dbt_project" / "seeds"

HEADER = list(CONTRACT_COLUMNS)
SUBMITTED_ON = date(2025, 1, 15)

# Indicators of each unit kind in the catalog, with a unit allowed to report them.
PERCENT_ANY = "DVC_ONLINE_INTAKE_RATE"  # percent, reporting_units = *
PERCENT_SYT = "HI_CCCD_VISIT_RATE"  # percent, SYT only
COUNT = "MODELS_IMPLEMENTED"  # count, CA
COUNT_STTTT = "DIGITAL_TEAM_MEMBERS"  # count, STTTT
VND = "SW_CASHLESS_AMOUNT"  # vnd, SLDTBXH
DAYS = "LINKED_SERVICE_DAYS"  # days, STP
RANK = "PROVINCE_SERVICE_INDEX_RANK"  # rank, VPUBND
MILESTONE = "IOC_OPERATIONAL"  # milestone, STTTT
MILESTONE_SNV = "EMULATION_CRITERIA_ADOPTED"  # milestone, SNV


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(SEEDS)


def test_reference_has_what_these_tests_use(reference: Reference) -> None:
    units = {
        PERCENT_ANY: "percent",
        PERCENT_SYT: "percent",
        COUNT: "count",
        COUNT_STTTT: "count",
        VND: "vnd",
        DAYS: "days",
        RANK: "rank",
        MILESTONE: "milestone",
        MILESTONE_SNV: "milestone",
    }
    for code, unit in units.items():
        assert reference.indicators[code].unit_of_measure == unit
    assert reference.indicators[PERCENT_ANY].reporting_units == ("*",)
    assert not reference.indicators[PERCENT_SYT].may_be_reported_by("CA")
    assert {"01", "40", "49", "51"} <= reference.provinces
    assert "99" not in reference.provinces
    assert {"CA", "SYT", "STTTT", "SLDTBXH", "STP", "VPUBND", "SNV"} <= reference.units


def validator(
    reference: Reference, submitted_on: date = SUBMITTED_ON, header: list[object] | None = None
) -> Validator:
    v = Validator(reference, submitted_on)
    v.header(1, list(HEADER if header is None else header))
    return v


def cells(
    province: object = "40",
    unit: object = "CA",
    period: object = "2024-03",
    indicator: object = PERCENT_ANY,
    numerator: object = "",
    denominator: object = "",
    value: object = "",
    note: object = "",
) -> list[object]:
    return [province, unit, period, indicator, numerator, denominator, value, note]


def check(
    reference: Reference,
    row: list[object],
    *,
    number: int = 2,
    percent: list[bool] | None = None,
    submitted_on: date = SUBMITTED_ON,
) -> Observation | list[SubmissionError]:
    v = validator(reference, submitted_on)
    return v.row(number, row, percent or [False] * len(row))


def errors_of(
    result: Observation | list[SubmissionError],
) -> list[tuple[str, int | None, str | None]]:
    assert not isinstance(result, Observation), f"expected errors, got {result}"
    for error in result:
        assert error.vi and error.en  # every error says why, in both languages
    return sorted((e.rule, e.row, e.column) for e in result)


def accepted(result: Observation | list[SubmissionError]) -> Observation:
    assert isinstance(result, Observation), f"expected an accepted row, got {result}"
    return result


# --- header -------------------------------------------------------------------------------


def test_header_canonical_names(reference: Reference) -> None:
    v = validator(reference)
    assert v.columns == {name: index for index, name in enumerate(HEADER)}


def test_header_vietnamese_names_case_diacritics_and_spaces_ignored(reference: Reference) -> None:
    header = [
        "  MÃ TỈNH ",
        "ma don vi",
        unicodedata.normalize("NFD", "Kỳ báo cáo"),
        "MÃ CHỈ TIÊU",
        "Tên chỉ tiêu",  # extra column, ignored
        "tu so",
        "Mẫu Số",
        "Tỷ lệ (%)",
        "Ghi chú",
        "",  # blank header cell, ignored
        None,
    ]
    v = validator(reference, header=header)
    assert v.columns == {
        "province_code": 0,
        "unit_code": 1,
        "period": 2,
        "indicator_code": 3,
        "numerator": 5,
        "denominator": 6,
        "value": 7,
        "note": 8,
    }
    row = ["1", "ca", "Tháng 3/2024", PERCENT_ANY, "Tỷ lệ hồ sơ trực tuyến", "", "", "64,67%", "x"]
    obs = accepted(v.row(2, row, [False] * len(row)))
    assert (obs.province_code, obs.unit_code, obs.period.code) == ("01", "CA", "2024-03")
    assert obs.value == Decimal("64.67")


@pytest.mark.parametrize("value_header", ["value", "Giá trị", "GIA TRI", "Tỷ lệ (%)", "ty le (%)"])
def test_header_value_aliases(reference: Reference, value_header: str) -> None:
    v = validator(reference, header=[*HEADER[:6], value_header])
    assert v.columns["value"] == 6


def test_header_only_required_columns(reference: Reference) -> None:
    v = validator(reference, header=["Mã tỉnh", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu"])
    # A row missing trailing cells: the percent indicator has no value at all.
    assert errors_of(v.row(2, ["40", "CA", "2024-03", PERCENT_ANY], [])) == [
        ("value_missing", 2, "value")
    ]
    row = ["40", "SNV", "2024-03", MILESTONE_SNV, "Hoàn thành"]  # extra trailing cell ignored
    assert errors_of(v.row(3, row, [])) == [("value_missing", 3, "value")]


@pytest.mark.parametrize(
    ("missing", "header"),
    [
        ("province_code", ["unit_code", "period", "indicator_code", "value"]),
        ("unit_code", ["province_code", "period", "indicator_code", "value"]),
        ("period", ["Mã tỉnh", "Mã đơn vị", "Mã chỉ tiêu", "Giá trị"]),
        ("indicator_code", ["province_code", "unit_code", "period", "Tên chỉ tiêu", "value"]),
    ],
)
def test_header_missing_column(reference: Reference, missing: str, header: list[str]) -> None:
    v = Validator(reference, SUBMITTED_ON)
    with pytest.raises(FileRejected) as info:
        v.header(3, header)
    error = info.value.error
    assert error.rule == "missing_column"
    assert error.row == 3
    assert missing in error.en and missing in error.vi


def test_header_missing_several_columns_named_in_one_error(reference: Reference) -> None:
    with pytest.raises(FileRejected) as info:
        Validator(reference, SUBMITTED_ON).header(1, ["province_code", "value"])
    error = info.value.error
    assert error.rule == "missing_column"
    for column in ("unit_code", "period", "indicator_code"):
        assert column in error.en


@pytest.mark.parametrize(
    "header",
    [
        [*HEADER, "Mã tỉnh"],
        ["value", *HEADER[:6], "Giá trị"],
        [*HEADER[:7], "Tỷ lệ (%)"],
        [*HEADER, " PERIOD "],
    ],
)
def test_header_duplicate_column(reference: Reference, header: list[str]) -> None:
    with pytest.raises(FileRejected) as info:
        Validator(reference, SUBMITTED_ON).header(1, header)
    assert info.value.error.rule == "duplicate_column"
    assert info.value.error.row == 1


def test_header_repeated_extra_column_is_ignored(reference: Reference) -> None:
    v = validator(reference, header=[*HEADER, "Tên chỉ tiêu", "Tên chỉ tiêu"])
    assert "Tên chỉ tiêu" not in v.columns


# --- accepted rows for every unit kind ---------------------------------------------------


def test_accept_percent_numerator_denominator(reference: Reference) -> None:
    obs = accepted(check(reference, cells(numerator="16.923", denominator="26.794")))
    assert (obs.numerator, obs.denominator) == (16923, 26794)
    assert obs.row_number == 2
    assert obs.indicator_code == PERCENT_ANY


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("64,67%", "64.67"), ("64.67", "64.67"), ("0", "0"), ("100", "100"), ("100%", "100")],
)
def test_accept_percent_value_only(reference: Reference, raw: str, expected: str) -> None:
    obs = accepted(check(reference, cells(value=raw)))
    assert obs.value == Decimal(expected)
    assert (obs.numerator, obs.denominator) == (None, None)


def test_accept_percent_all_three(reference: Reference) -> None:
    # "1.273/1.344 cơ sở" = 94,72 %
    obs = accepted(check(reference, cells(numerator="1.273", denominator="1.344", value="94,72")))
    assert (obs.numerator, obs.denominator, obs.value) == (1273, 1344, Decimal("94.72"))


def test_accept_percent_xlsx_percent_cell(reference: Reference) -> None:
    row = cells(value=0.6467)
    percent = [False] * len(row)
    percent[HEADER.index("value")] = True
    obs = accepted(check(reference, row, percent=percent))
    assert obs.value == Decimal("64.67")


def test_accept_percent_xlsx_plain_number_cell(reference: Reference) -> None:
    obs = accepted(check(reference, cells(value=64.67)))
    assert obs.value == Decimal("64.67")


def test_accept_count_thousands_dot(reference: Reference) -> None:
    obs = accepted(check(reference, cells(unit="STTTT", indicator=COUNT_STTTT, value="1.068")))
    assert obs.value == Decimal(1068)


@pytest.mark.parametrize("raw", ["1,068", "1 068", "1068", 1068, 1068.0])
def test_accept_count_other_groupings(reference: Reference, raw: object) -> None:
    obs = accepted(check(reference, cells(unit="STTTT", indicator=COUNT_STTTT, value=raw)))
    assert obs.value == Decimal(1068)


def test_accept_count_as_x_of_y(reference: Reference) -> None:
    # "25/44 mô hình": numerator/denominator without value; the count is the numerator.
    obs = accepted(check(reference, cells(indicator=COUNT, numerator="25", denominator="44")))
    assert (obs.numerator, obs.denominator, obs.value) == (25, 44, Decimal(25))


def test_accept_vnd(reference: Reference) -> None:
    row = cells(unit="SLDTBXH", indicator=VND, value="33.200.000.000")
    assert accepted(check(reference, row)).value == Decimal(33_200_000_000)


def test_accept_days(reference: Reference) -> None:
    row = cells(unit="STP", indicator=DAYS, period="2024-Q3", value="7")
    obs = accepted(check(reference, row))
    assert obs.value == Decimal(7)
    assert obs.period.code == "2024-Q3"


def test_accept_zero_count(reference: Reference) -> None:
    row = cells(unit="STP", indicator=DAYS, value="0")
    assert accepted(check(reference, row)).value == Decimal(0)


def test_accept_rank_with_denominator(reference: Reference) -> None:
    # "xếp thứ 38/63"
    row = cells(unit="VPUBND", indicator=RANK, value="38", denominator="63")
    obs = accepted(check(reference, row))
    assert (obs.value, obs.denominator) == (Decimal(38), 63)


@pytest.mark.parametrize(("value", "denominator"), [("1", ""), ("63", "63"), ("38", "")])
def test_accept_rank_bounds(reference: Reference, value: str, denominator: str) -> None:
    row = cells(unit="VPUBND", indicator=RANK, value=value, denominator=denominator)
    accepted(check(reference, row))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hoàn thành", 1),
        ("Chưa hoàn thành", 0),
        ("hoan thanh", 1),
        ("Đã", 1),
        ("Chưa", 0),
        ("yes", 1),
        ("no", 0),
        ("1", 1),
        ("0", 0),
        (1, 1),
    ],
)
def test_accept_milestone(reference: Reference, raw: object, expected: int) -> None:
    row = cells(unit="STTTT", indicator=MILESTONE, period="2024", value=raw)
    assert accepted(check(reference, row)).value == Decimal(expected)


def test_accept_normalises_codes_and_note(reference: Reference) -> None:
    note = unicodedata.normalize("NFD", "Số liệu lũy kế")
    row = cells(
        province=1, unit=" ca ", indicator=f" {PERCENT_ANY.lower()} ", value="50", note=note
    )
    obs = accepted(check(reference, row))
    assert (obs.province_code, obs.unit_code, obs.indicator_code) == ("01", "CA", PERCENT_ANY)
    assert obs.note == "Số liệu lũy kế"
    assert unicodedata.is_normalized("NFC", obs.note)


def test_accept_blank_note_is_none(reference: Reference) -> None:
    assert accepted(check(reference, cells(value="50"))).note is None


def test_accept_xlsx_typed_cells(reference: Reference) -> None:
    from datetime import datetime

    row = cells(province=40.0, period=datetime(2024, 3, 1), numerator=25.0, denominator=44)
    obs = accepted(check(reference, row))
    assert (obs.province_code, obs.period.code, obs.numerator, obs.denominator) == (
        "40",
        "2024-03",
        25,
        44,
    )


# --- row rules: exact rule, row and column -----------------------------------------------


@pytest.mark.parametrize("column", ["province_code", "unit_code", "period", "indicator_code"])
@pytest.mark.parametrize("blank", ["", "   ", None])
def test_rule_required(reference: Reference, column: str, blank: object) -> None:
    row = cells(value="50")
    row[HEADER.index(column)] = blank
    assert errors_of(check(reference, row, number=7)) == [("required", 7, column)]


def test_rule_required_when_row_is_short(reference: Reference) -> None:
    assert errors_of(check(reference, ["40", "CA"], number=4)) == [
        ("required", 4, "indicator_code"),
        ("required", 4, "period"),
    ]


@pytest.mark.parametrize("raw", ["99", "00", "ab", "001", "4.0x", 99, 1.5])
def test_rule_unknown_province(reference: Reference, raw: object) -> None:
    assert errors_of(check(reference, cells(province=raw, value="50"))) == [
        ("unknown_province", 2, "province_code")
    ]


@pytest.mark.parametrize("raw", ["XX", "C A", "SO_Y_TE"])
def test_rule_unknown_unit(reference: Reference, raw: str) -> None:
    assert errors_of(check(reference, cells(unit=raw, value="50"))) == [
        ("unknown_unit", 2, "unit_code")
    ]


def test_rule_unknown_indicator(reference: Reference) -> None:
    assert errors_of(check(reference, cells(indicator="NO_SUCH_INDICATOR", value="50"))) == [
        ("unknown_indicator", 2, "indicator_code")
    ]


def test_rule_unit_not_allowed(reference: Reference) -> None:
    result = check(reference, cells(unit="CA", indicator=PERCENT_SYT, value="50"))
    assert errors_of(result) == [("unit_not_allowed", 2, "indicator_code")]


def test_rule_unit_allowed_from_list(reference: Reference) -> None:
    accepted(check(reference, cells(unit="SYT", indicator=PERCENT_SYT, value="50")))
    # HI_QR_SCAN_SUCCESS_RATE lists SYT;BHXH
    accepted(check(reference, cells(unit="BHXH", indicator="HI_QR_SCAN_SUCCESS_RATE", value="5")))
    result = check(reference, cells(unit="CA", indicator="HI_QR_SCAN_SUCCESS_RATE", value="5"))
    assert errors_of(result) == [("unit_not_allowed", 2, "indicator_code")]


@pytest.mark.parametrize(
    "raw", ["2024-13", "Quý V/2024", "abc", "٢٠٢٤-03", "2024-Q5", "Tháng 13/2024"]
)
def test_rule_period_format(reference: Reference, raw: str) -> None:
    assert errors_of(check(reference, cells(period=raw, value="50"))) == [
        ("period_format", 2, "period")
    ]


@pytest.mark.parametrize("raw", ["2024-04", "2024-Q2", "2024-H1", "2024", "Năm 2024", "2025-01"])
def test_rule_period_future(reference: Reference, raw: str) -> None:
    result = check(reference, cells(period=raw, value="50"), submitted_on=date(2024, 3, 31))
    assert errors_of(result) == [("period_future", 2, "period")]


@pytest.mark.parametrize("raw", ["2024-03", "2024-Q1", "Tháng 3/2024", "2023", "2023-H2"])
def test_period_ending_on_or_before_submission_is_accepted(reference: Reference, raw: str) -> None:
    accepted(check(reference, cells(period=raw, value="50"), submitted_on=date(2024, 3, 31)))


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"value": "1.068,5"}, "value"),  # percent: thousands separator in a rate
        ({"value": "NaN"}, "value"),
        ({"value": "abc"}, "value"),
        ({"numerator": "abc", "denominator": "10"}, "numerator"),
        ({"numerator": "1.06", "denominator": "10"}, "numerator"),
        ({"numerator": "1", "denominator": "y"}, "denominator"),
        ({"indicator": COUNT_STTTT, "unit": "STTTT", "value": "1.06"}, "value"),
        ({"indicator": COUNT_STTTT, "unit": "STTTT", "value": "1068.5"}, "value"),
        ({"indicator": COUNT_STTTT, "unit": "STTTT", "value": 1068.5}, "value"),
        ({"indicator": VND, "unit": "SLDTBXH", "value": "33,2 tỷ"}, "value"),
        ({"indicator": DAYS, "unit": "STP", "value": "7 ngày"}, "value"),
        ({"indicator": RANK, "unit": "VPUBND", "value": "1,5"}, "value"),
        ({"indicator": MILESTONE, "unit": "STTTT", "value": "sắp xong"}, "value"),
        ({"indicator": MILESTONE, "unit": "STTTT", "value": 2}, "value"),
    ],
)
def test_rule_value_format(reference: Reference, overrides: dict[str, object], column: str) -> None:
    assert errors_of(check(reference, cells(**overrides))) == [("value_format", 2, column)]


@pytest.mark.parametrize(
    ("indicator", "unit"),
    [(PERCENT_ANY, "CA"), (COUNT_STTTT, "STTTT"), (VND, "SLDTBXH"), (DAYS, "STP"),
     (RANK, "VPUBND"), (MILESTONE, "STTTT")],
)  # fmt: skip
def test_rule_value_missing(reference: Reference, indicator: str, unit: str) -> None:
    result = check(reference, cells(unit=unit, indicator=indicator, note="no value"))
    assert errors_of(result) == [("value_missing", 2, "value")]


def test_rule_value_missing_count_with_numerator_only(reference: Reference) -> None:
    result = check(reference, cells(indicator=COUNT, numerator="25"))
    assert errors_of(result) == [("value_missing", 2, "value")]


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"numerator": "5"}, "denominator"),
        ({"denominator": "10"}, "numerator"),
        ({"numerator": "5", "value": "-"}, "denominator"),  # a dash is an empty cell
        ({"denominator": "10", "value": "x"}, "numerator"),
    ],
)
def test_rule_fraction_incomplete(
    reference: Reference, overrides: dict[str, object], column: str
) -> None:
    assert errors_of(check(reference, cells(**overrides))) == [("fraction_incomplete", 2, column)]


@pytest.mark.parametrize(
    ("overrides", "numerator", "denominator"),
    [
        ({"numerator": "16.923", "value": "63,16%"}, 16923, None),  # "16.923 người, đạt 63,16%"
        ({"denominator": "26794", "value": "63,16"}, None, 26794),
        ({"numerator": "16923", "denominator": "–", "value": "63.16"}, 16923, None),
    ],
)
def test_rate_with_one_count_keeps_the_count(
    reference: Reference, overrides: dict[str, object], numerator: int, denominator: int
) -> None:
    """The seed reports' form: a count and the rate, the other count missing."""
    result = check(reference, cells(**overrides))
    assert isinstance(result, Observation), result
    assert (result.numerator, result.denominator, result.value) == (
        numerator,
        denominator,
        Decimal("63.16"),
    )


@pytest.mark.parametrize("mark", ["-", "–", "x", "X", " - "])
def test_a_dash_or_x_in_a_value_cell_is_empty(reference: Reference, mark: str) -> None:
    result = check(reference, cells(numerator="600", denominator="1000", value=mark))
    assert isinstance(result, Observation), result
    assert result.value is None
    missing = check(reference, cells(indicator=COUNT_STTTT, unit="STTTT", value=mark))
    assert errors_of(missing) == [("value_missing", 2, "value")]


@pytest.mark.parametrize("raw", ["100,01", "150%", "-1", "-0,01", "1000"])
def test_rule_rate_out_of_range(reference: Reference, raw: str) -> None:
    assert errors_of(check(reference, cells(value=raw))) == [("rate_out_of_range", 2, "value")]


def test_rule_rate_out_of_range_xlsx_percent_cell(reference: Reference) -> None:
    row = cells(value=1.5)  # shown as 150%
    percent = [False] * len(row)
    percent[HEADER.index("value")] = True
    assert errors_of(check(reference, row, percent=percent)) == [("rate_out_of_range", 2, "value")]


@pytest.mark.parametrize(
    "overrides",
    [
        {"numerator": "45", "denominator": "44"},
        {"numerator": "1.345", "denominator": "1.344"},
        {"indicator": COUNT, "numerator": "45", "denominator": "44"},
        {"indicator": COUNT, "numerator": "45", "denominator": "44", "value": "45"},
    ],
)
def test_rule_numerator_gt_denominator(reference: Reference, overrides: dict[str, object]) -> None:
    assert errors_of(check(reference, cells(**overrides))) == [
        ("numerator_gt_denominator", 2, "numerator")
    ]


def test_rule_numerator_gt_denominator_with_value_is_one_error(reference: Reference) -> None:
    # The rate cannot be compared when the fraction itself is wrong; one error, not two.
    result = check(reference, cells(numerator="45", denominator="44", value="50"))
    assert errors_of(result) == [("numerator_gt_denominator", 2, "numerator")]


@pytest.mark.parametrize(
    ("numerator", "denominator", "value"),
    [("1", "4", "25,06"), ("1", "4", "24,94"), ("1", "4", "30"), ("16.923", "26.794", "65,16")],
)
def test_rule_rate_mismatch(
    reference: Reference, numerator: str, denominator: str, value: str
) -> None:
    row = cells(numerator=numerator, denominator=denominator, value=value)
    assert errors_of(check(reference, row)) == [("rate_mismatch", 2, "value")]


@pytest.mark.parametrize(
    ("numerator", "denominator", "value"),
    [
        ("1", "4", "25,05"),  # |25.05 − 25| = 0.05 exactly: accepted
        ("1", "4", "24,95"),
        ("1", "4", "25"),
        ("1", "3", "33,38"),  # 33.333…: within 0.05
        ("1", "3", "33,29"),
        ("16.923", "26.794", "63,16"),  # 63.159…
        ("0", "10", "0"),
        ("10", "10", "100%"),
    ],
)
def test_rate_within_tolerance_accepted(
    reference: Reference, numerator: str, denominator: str, value: str
) -> None:
    accepted(check(reference, cells(numerator=numerator, denominator=denominator, value=value)))


def test_rate_just_outside_tolerance_rejected(reference: Reference) -> None:
    row = cells(numerator="1", denominator="3", value="33,39")  # 0.0567 off
    assert errors_of(check(reference, row)) == [("rate_mismatch", 2, "value")]


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"indicator": COUNT_STTTT, "unit": "STTTT", "value": "-5"}, "value"),
        ({"indicator": VND, "unit": "SLDTBXH", "value": "-1.000"}, "value"),
        ({"indicator": DAYS, "unit": "STP", "value": "-1"}, "value"),
        ({"numerator": "-1", "denominator": "10"}, "numerator"),
        ({"indicator": COUNT, "numerator": "-1", "denominator": "44", "value": "3"}, "numerator"),
    ],
)
def test_rule_negative(reference: Reference, overrides: dict[str, object], column: str) -> None:
    assert errors_of(check(reference, cells(**overrides))) == [("negative", 2, column)]


@pytest.mark.parametrize(
    "overrides",
    [
        {"numerator": "0", "denominator": "0"},
        {"numerator": "0", "denominator": "-3"},
        {"indicator": COUNT, "numerator": "0", "denominator": "0", "value": "0"},
        {"indicator": RANK, "unit": "VPUBND", "value": "1", "denominator": "0"},
    ],
)
def test_rule_denominator_not_positive(reference: Reference, overrides: dict[str, object]) -> None:
    assert errors_of(check(reference, cells(**overrides))) == [
        ("denominator_not_positive", 2, "denominator")
    ]


@pytest.mark.parametrize("raw", ["0", "-1", "-38"])
def test_rule_rank_not_positive(reference: Reference, raw: str) -> None:
    row = cells(unit="VPUBND", indicator=RANK, value=raw, denominator="63")
    assert errors_of(check(reference, row)) == [("rank_not_positive", 2, "value")]


def test_rule_rank_gt_denominator(reference: Reference) -> None:
    row = cells(unit="VPUBND", indicator=RANK, value="64", denominator="63")
    assert errors_of(check(reference, row)) == [("rank_gt_denominator", 2, "value")]


def test_rule_duplicate_key(reference: Reference) -> None:
    v = validator(reference)
    accepted(v.row(2, cells(value="50"), []))
    accepted(v.row(3, cells(value="50", period="2024-04"), []))  # another period: fine
    accepted(v.row(4, cells(value="50", province="51"), []))  # another province: fine
    result = v.row(5, cells(value="60"), [])
    assert errors_of(result) == [("duplicate_key", 5, "indicator_code")]
    assert isinstance(result, list)
    assert "2" in result[0].en and "2" in result[0].vi  # names the first row
    # A third occurrence still points at the first one.
    result = v.row(6, cells(value="70"), [])
    assert errors_of(result) == [("duplicate_key", 6, "indicator_code")]
    assert "row 2" in result[0].en


def test_rule_duplicate_key_across_equivalent_spellings(reference: Reference) -> None:
    v = validator(reference)
    accepted(v.row(2, cells(province="1", unit="CA", period="2024-03", value="50"), []))
    result = v.row(
        3,
        cells(province="01", unit=" ca ", period="Tháng 3/2024", indicator=PERCENT_ANY.lower(),
              value="50"),
        [],
    )  # fmt: skip
    assert errors_of(result) == [("duplicate_key", 3, "indicator_code")]


def test_rule_duplicate_key_after_invalid_first_row(reference: Reference) -> None:
    v = validator(reference)
    assert errors_of(v.row(2, cells(value="150"), [])) == [("rate_out_of_range", 2, "value")]
    assert errors_of(v.row(3, cells(value="50"), [])) == [("duplicate_key", 3, "indicator_code")]


# --- several rules in one row -------------------------------------------------------------


def test_row_breaking_several_rules_reports_all(reference: Reference) -> None:
    row = cells(province="99", unit="XX", period="2024-13", value="150%")
    assert errors_of(check(reference, row, number=9)) == [
        ("period_format", 9, "period"),
        ("rate_out_of_range", 9, "value"),
        ("unknown_province", 9, "province_code"),
        ("unknown_unit", 9, "unit_code"),
    ]


def test_row_breaking_several_value_rules_reports_all(reference: Reference) -> None:
    row = cells(unit="CA", indicator=PERCENT_SYT, period="2099-01", numerator="-1",
                denominator="0", value="-5")  # fmt: skip
    assert errors_of(check(reference, row, number=4)) == [
        ("denominator_not_positive", 4, "denominator"),
        ("negative", 4, "numerator"),
        ("period_future", 4, "period"),
        ("rate_out_of_range", 4, "value"),
        ("unit_not_allowed", 4, "indicator_code"),
    ]


def test_row_all_required_missing(reference: Reference) -> None:
    assert errors_of(check(reference, cells(province="", unit="", period="", indicator=""))) == [
        ("required", 2, "indicator_code"),
        ("required", 2, "period"),
        ("required", 2, "province_code"),
        ("required", 2, "unit_code"),
    ]


def test_row_count_several_rules(reference: Reference) -> None:
    row = cells(indicator=COUNT, numerator="45", denominator="44", value="-3")
    assert errors_of(check(reference, row)) == [
        ("negative", 2, "value"),
        ("numerator_gt_denominator", 2, "numerator"),
    ]


def test_row_malformed_rate_and_incomplete_fraction_reports_both(reference: Reference) -> None:
    row = cells(numerator="5", value="abc", denominator="x")
    assert errors_of(check(reference, row)) == [
        ("value_format", 2, "value"),
    ]
    row = cells(numerator="5", value="-")
    assert errors_of(check(reference, row)) == [("fraction_incomplete", 2, "denominator")]


def test_errors_keep_raw_value(reference: Reference) -> None:
    result = check(reference, cells(period="2024-13", value="150%"))
    assert isinstance(result, list)
    raw = {e.rule: e.raw_value for e in result}
    assert raw == {"period_format": "2024-13", "rate_out_of_range": "150%"}


# --- read_csv -----------------------------------------------------------------------------


def write(tmp_path: Path, data: bytes, name: str = "report.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_all(path: Path) -> list[tuple[int, list[object]]]:
    return [(row.number, row.cells) for row in read_csv(path)]


CSV_TEXT = (
    "Mã tỉnh{d}Mã đơn vị{d}Kỳ báo cáo{d}Mã chỉ tiêu{d}Giá trị\n40{d}CA{d}T3/2024{d}{i}{d}{v}\n"
)


@pytest.mark.parametrize(("delimiter", "value"), [(",", '"64,67%"'), (";", "64,67%")])
def test_read_csv_delimiter(tmp_path: Path, delimiter: str, value: str) -> None:
    text = CSV_TEXT.format(d=delimiter, i=PERCENT_ANY, v=value)
    rows = read_all(write(tmp_path, text.encode("utf-8")))
    assert rows == [
        (1, ["Mã tỉnh", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Giá trị"]),
        (2, ["40", "CA", "T3/2024", PERCENT_ANY, "64,67%"]),
    ]


def test_read_csv_semicolon_with_decimal_commas(tmp_path: Path) -> None:
    data = "province_code;unit_code;period;indicator_code;numerator;denominator;value\n"
    data += f"40;CA;2024-03;{PERCENT_ANY};1.273;1.344;94,72\n"
    rows = read_all(write(tmp_path, data.encode()))
    assert rows[1][1] == ["40", "CA", "2024-03", PERCENT_ANY, "1.273", "1.344", "94,72"]


def test_read_csv_utf8_bom(tmp_path: Path) -> None:
    text = CSV_TEXT.format(d=";", i=PERCENT_ANY, v="50")
    rows = read_all(write(tmp_path, codecs.BOM_UTF8 + text.encode("utf-8")))
    assert rows[0][1][0] == "Mã tỉnh"  # no BOM glued to the first header
    assert rows[1][1] == ["40", "CA", "T3/2024", PERCENT_ANY, "50"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_read_csv_utf16_with_bom(tmp_path: Path, encoding: str) -> None:
    text = CSV_TEXT.format(d=";", i=PERCENT_ANY, v="50").replace("\n", "\r\n")
    data = text.encode(encoding)
    if encoding == "utf-16-le":
        data = codecs.BOM_UTF16_LE + data
    elif encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    rows = read_all(write(tmp_path, data))
    assert rows == [
        (1, ["Mã tỉnh", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Giá trị"]),
        (2, ["40", "CA", "T3/2024", PERCENT_ANY, "50"]),
    ]


def test_read_csv_keeps_blank_rows_for_numbering(tmp_path: Path) -> None:
    data = (
        f"province_code,unit_code,period,indicator_code,value\n\n40,CA,2024-03,{PERCENT_ANY},50\n"
    )
    rows = read_all(write(tmp_path, data.encode()))
    assert [number for number, _ in rows] == [1, 2, 3]
    assert rows[2][1][0] == "40"


def windows_1258_bytes() -> bytes:
    # Python's cp1258 codec cannot encode precomposed "ở"/"ế" ('Sở Y tế'.encode('cp1258')
    # raises); Windows-1258 stores a base letter plus a combining tone mark, as here.
    return "province_code,unit_code,note\n40,SYT,Sơ\u0309 Y tê\u0301\n".encode("cp1258")


def test_read_csv_windows_1258_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, windows_1258_bytes())
    with pytest.raises(FileRejected) as info:
        read_all(path)
    error = info.value.error
    assert error.rule == "encoding"
    assert "Windows-1258" in error.vi
    assert "Windows-1258" in error.en
    assert "UTF-8" in error.vi and "UTF-8" in error.en


@pytest.mark.parametrize("garbled", ["C«ng an tØnh", "Së Y tÕ", "Sôû Y teá"])
def test_read_csv_tcvn3_mojibake_rejected(tmp_path: Path, garbled: str) -> None:
    data = f"province_code,unit_code,note\n40,CA,{garbled}\n".encode()
    with pytest.raises(FileRejected) as info:
        read_all(write(tmp_path, data))
    assert info.value.error.rule == "encoding"
    assert info.value.error.row == 2


def test_read_csv_nfd_text_is_read_and_validated_as_nfc(
    tmp_path: Path, reference: Reference
) -> None:
    text = "Mã tỉnh;Mã đơn vị;Kỳ báo cáo;Mã chỉ tiêu;Tỷ lệ (%);Ghi chú\n"
    text += f"40;CA;Quý I/2024;{PERCENT_ANY};64,67%;Sở Y tế báo cáo\n"
    rows = list(read_csv(write(tmp_path, unicodedata.normalize("NFD", text).encode())))
    v = Validator(reference, SUBMITTED_ON)
    v.header(rows[0].number, rows[0].cells)
    obs = accepted(v.row(rows[1].number, rows[1].cells, rows[1].percent))
    assert obs.period.code == "2024-Q1"
    assert obs.note == "Sở Y tế báo cáo"


def test_read_csv_through_validator(tmp_path: Path, reference: Reference) -> None:
    """A small file end to end through the reader and the validator, as load.py drives it."""
    text = (
        "\ufeffMã tỉnh,Mã đơn vị,Kỳ báo cáo,Mã chỉ tiêu,Tên chỉ tiêu,Tử số,Mẫu số,Giá trị\n"
        f'1,CA,Tháng 3/2024,{PERCENT_ANY},"Tỷ lệ hồ sơ",1.273,1.344,"94,72"\n'
        ",,,,,,,\n"
        f"40,CA,2024-13,{PERCENT_ANY},x,,,50\n"
        f"40,CA,2024-03,{COUNT},x,25,44,\n"
    )
    v = Validator(reference, SUBMITTED_ON)
    header_seen = False
    results: dict[int, Observation | list[SubmissionError]] = {}
    for row in read_csv(write(tmp_path, text.encode())):
        if all(is_blank(cell) for cell in row.cells):
            continue
        if not header_seen:
            v.header(row.number, row.cells)
            header_seen = True
            continue
        results[row.number] = v.row(row.number, row.cells, row.percent)
    assert sorted(results) == [2, 4, 5]
    assert accepted(results[2]).province_code == "01"
    assert errors_of(results[4]) == [("period_format", 4, "period")]
    assert accepted(results[5]).value == Decimal(25)


def test_read_csv_semicolon_after_leading_blank_lines(tmp_path: Path) -> None:
    data = (
        f"\n\nprovince_code;unit_code;period;indicator_code;value\n40;CA;2024-03;{PERCENT_ANY};50\n"
    )
    rows = read_all(write(tmp_path, data.encode()))
    assert rows[2] == (3, ["province_code", "unit_code", "period", "indicator_code", "value"])


@pytest.mark.parametrize("note", ["Nhiệt độ 25°C", "Sai số ±0.5%", "Khổ 2×3 m", "Dự án «IOC»"])
def test_read_csv_utf8_symbols_in_note_are_not_mojibake(tmp_path: Path, note: str) -> None:
    data = f"province_code,unit_code,period,indicator_code,value,note\n40,CA,2024-03,X,50,{note}\n"
    rows = read_all(write(tmp_path, data.encode()))
    assert rows[1][1][-1] == note


# --- read_xlsx: percent number formats ----------------------------------------------------


def _xlsx_with_formats(tmp_path: Path, formats: list[str], values: list[float]) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([f"c{i}" for i in range(len(values))])
    sheet.append(values)
    for index, number_format in enumerate(formats, start=1):
        sheet.cell(row=2, column=index).number_format = number_format
    path = tmp_path / "report.xlsx"
    workbook.save(path)
    return path


def test_read_xlsx_percent_format_flagged(tmp_path: Path) -> None:
    path = _xlsx_with_formats(tmp_path, ["0.00%", "0%", "General", "0.00"], [0.6467, 0.5, 64, 1])
    rows = list(read_xlsx(path))
    assert rows[1].cells == [0.6467, 0.5, 64, 1]
    assert rows[1].percent == [True, True, False, False]


def test_read_xlsx_literal_percent_sign_is_not_percent_format(tmp_path: Path) -> None:
    path = _xlsx_with_formats(tmp_path, ['0.00"%"', "0.00\\%"], [64.67, 64.67])
    assert list(read_xlsx(path))[1].percent == [False, False]
