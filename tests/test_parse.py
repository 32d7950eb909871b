"""Unit tests for the cell parsers in `chitieu.ingest.parse` (no database).

Each test states the behaviour the submission contract asks for
(docs/submission-contract.md, "Periods" and "Values").
"""

from __future__ import annotations

import contextlib
import unicodedata
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chitieu.ingest.parse import (
    ParseError,
    Period,
    fold,
    parse_integer,
    parse_milestone,
    parse_period,
    parse_province_code,
    parse_rate,
)

# Deterministic property tests: the same examples every run, no example database.
PROPERTY = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --- periods: accepted forms --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code", "kind"),
    [
        # canonical forms
        ("2024-03", "2024-03", "month"),
        ("2024-12", "2024-12", "month"),
        ("2024-Q3", "2024-Q3", "quarter"),
        ("2024-q1", "2024-Q1", "quarter"),
        ("2024-H1", "2024-H1", "half_year"),
        ("2024-h2", "2024-H2", "half_year"),
        ("2024", "2024", "year"),
        # Vietnamese month
        ("Tháng 3/2024", "2024-03", "month"),
        ("Tháng 12/2024", "2024-12", "month"),
        ("tháng 03/2024", "2024-03", "month"),
        ("THÁNG 3/2024", "2024-03", "month"),
        ("Thang 3/2024", "2024-03", "month"),
        ("Tháng 3 / 2024", "2024-03", "month"),
        ("  Tháng   3/2024  ", "2024-03", "month"),
        ("Tháng3/2024", "2024-03", "month"),
        ("T3/2024", "2024-03", "month"),
        ("t3/2024", "2024-03", "month"),
        ("T 3/2024", "2024-03", "month"),
        ("T11/2024", "2024-11", "month"),
        # Vietnamese quarter
        ("Quý I/2024", "2024-Q1", "quarter"),
        ("Quý II/2024", "2024-Q2", "quarter"),
        ("Quý III/2024", "2024-Q3", "quarter"),
        ("Quý IV/2024", "2024-Q4", "quarter"),
        ("Quý 3/2024", "2024-Q3", "quarter"),
        ("quý iii/2024", "2024-Q3", "quarter"),
        ("QUÝ III/2024", "2024-Q3", "quarter"),
        ("Quy III/2024", "2024-Q3", "quarter"),
        ("Quý  III / 2024", "2024-Q3", "quarter"),
        # v1.1: the seed reports' and Excel users' other forms
        ("Q3/2024", "2024-Q3", "quarter"),
        ("Quý 3 năm 2024", "2024-Q3", "quarter"),
        ("Quý III năm 2024", "2024-Q3", "quarter"),
        ("Tháng 9 năm 2024", "2024-09", "month"),
        ("Tháng 09/2024", "2024-09", "month"),
        ("9/2024", "2024-09", "month"),
        ("09/2024", "2024-09", "month"),
        ("03/2024", "2024-03", "month"),
        # Vietnamese half-year
        ("6 tháng đầu năm 2024", "2024-H1", "half_year"),
        ("6 tháng cuối năm 2024", "2024-H2", "half_year"),
        ("6 THÁNG ĐẦU NĂM 2024", "2024-H1", "half_year"),
        ("6 thang cuoi nam 2024", "2024-H2", "half_year"),
        ("  6  tháng  đầu  năm  2024 ", "2024-H1", "half_year"),
        # "N tháng đầu năm": cumulative to the end of month N
        ("9 tháng đầu năm 2024", "2024-09", "month"),
        ("3 tháng đầu năm 2024", "2024-03", "month"),
        ("1 tháng đầu năm 2024", "2024-01", "month"),
        ("11 tháng đầu năm 2024", "2024-11", "month"),
        ("9 THANG DAU NAM 2024", "2024-09", "month"),
        # Vietnamese year
        ("Năm 2024", "2024", "year"),
        ("năm 2024", "2024", "year"),
        ("NĂM 2024", "2024", "year"),
        ("Nam 2024", "2024", "year"),
        (" 2024 ", "2024", "year"),
    ],
)
def test_period_forms(raw: str, code: str, kind: str) -> None:
    period = parse_period(raw)
    assert period.code == code
    assert period.type == kind


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Tháng 3/2024", "2024-03"),
        ("Quý III/2024", "2024-Q3"),
        ("6 tháng đầu năm 2024", "2024-H1"),
        ("6 tháng cuối năm 2024", "2024-H2"),
        ("9 tháng đầu năm 2024", "2024-09"),
        ("Năm 2024", "2024"),
        ("THÁNG 3/2024", "2024-03"),
    ],
)
def test_period_nfd_input(raw: str, code: str) -> None:
    decomposed = nfd(raw)
    assert decomposed != raw  # really decomposed
    assert parse_period(decomposed).code == code


def test_period_windows_1258_style_partial_composition() -> None:
    # Windows-1258 keeps base letters precomposed and tone marks combining ("Quý" = Quy + ́).
    assert parse_period("Quy\u0301 III/2024").code == "2024-Q3"
    assert parse_period("Tha\u0301ng 3/2024").code == "2024-03"


def test_six_months_of_year_is_first_half() -> None:
    # "6 tháng đầu năm" is the first half-year, however it is matched.
    assert parse_period("6 tháng đầu năm 2024") == parse_period("2024-H1")


# --- periods: Excel-typed cells ----------------------------------------------------------


def test_period_excel_date_is_month() -> None:
    period = parse_period(datetime(2024, 3, 1))
    assert period.code == "2024-03"
    assert period.type == "month"
    assert parse_period(date(2024, 3, 1)).code == "2024-03"


def test_period_excel_date_not_first_of_month_rejected() -> None:
    with pytest.raises(ParseError) as raised:
        parse_period(datetime(2024, 9, 30))
    # The date as the clerk sees it, and the forms to use instead.
    assert "30/09/2024" in raised.value.vi and "30/09/2024" in raised.value.en
    assert "Tháng 3/2024" in raised.value.en and "Q3/2024" in raised.value.vi


@pytest.mark.parametrize("raw", [2024, 2024.0])
def test_period_excel_number_is_year(raw: object) -> None:
    period = parse_period(raw)
    assert period.code == "2024"
    assert period.type == "year"


@pytest.mark.parametrize("raw", [2024.5, True, None, [2024], Decimal("2024.5")])
def test_period_excel_other_types_rejected(raw: object) -> None:
    with pytest.raises(ParseError):
        parse_period(raw)


@pytest.mark.parametrize("raw", [float("nan"), float("inf"), float("-inf")])
def test_period_non_finite_float_is_parse_error(raw: float) -> None:
    with pytest.raises(ParseError):
        parse_period(raw)


# --- periods: bounds ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "start", "end"),
    [
        ("2024-03", date(2024, 3, 1), date(2024, 3, 31)),
        ("2024-04", date(2024, 4, 1), date(2024, 4, 30)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),  # leap year
        ("2023-02", date(2023, 2, 1), date(2023, 2, 28)),
        ("1900-02", date(1900, 2, 1), date(1900, 2, 28)),  # divisible by 100: not leap
        ("2000-02", date(2000, 2, 1), date(2000, 2, 29)),  # divisible by 400: leap
        ("2024-12", date(2024, 12, 1), date(2024, 12, 31)),
        ("2024-Q1", date(2024, 1, 1), date(2024, 3, 31)),
        ("2024-Q2", date(2024, 4, 1), date(2024, 6, 30)),
        ("2024-Q3", date(2024, 7, 1), date(2024, 9, 30)),
        ("2024-Q4", date(2024, 10, 1), date(2024, 12, 31)),
        ("2024-H1", date(2024, 1, 1), date(2024, 6, 30)),
        ("2024-H2", date(2024, 7, 1), date(2024, 12, 31)),
        ("2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("Tháng 2/2024", date(2024, 2, 1), date(2024, 2, 29)),
        ("9 tháng đầu năm 2024", date(2024, 9, 1), date(2024, 9, 30)),
        ("Quý I/2023", date(2023, 1, 1), date(2023, 3, 31)),
        ("1900", date(1900, 1, 1), date(1900, 12, 31)),
        ("2999-12", date(2999, 12, 1), date(2999, 12, 31)),
    ],
)
def test_period_bounds(raw: str, start: date, end: date) -> None:
    period = parse_period(raw)
    assert (period.start, period.end) == (start, end)


def test_period_excel_date_bounds_leap_february() -> None:
    period = parse_period(datetime(2024, 2, 1))
    assert period == Period("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29))


# --- periods: malformed -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2024-13",
        "2024-00",
        "2024-3",
        "24-03",
        "2024-Q5",
        "2024-Q0",
        "2024-H3",
        "2024-H0",
        "Quý V/2024",
        "Quý 5/2024",
        "Quý 0/2024",
        "Quý IIII/2024",
        "Tháng 13/2024",
        "Tháng 0/2024",
        "T13/2024",
        "0 tháng đầu năm 2024",
        "13 tháng đầu năm 2024",
        "6 tháng giữa năm 2024",
        "abc",
        "",
        "   ",
        "٢٠٢٤-03",  # Arabic-Indic digits
        "２０２４-03",  # fullwidth digits
        "2024-٠٣",
        "Năm ٢٠٢٤",
        "1899",  # outside the accepted year range
        "3000-01",
        "2024-03-01",
        "13/2024",
        "Q5/2024",
        "2024/03",
        "Năm",
    ],
)
def test_period_malformed(raw: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_period(raw)
    assert info.value.vi and info.value.en


@pytest.mark.parametrize("raw", ["0000-03", "0000", "0000-Q1", "T3/0000", "Năm 0000"])
def test_period_year_zero_is_parse_error(raw: str) -> None:
    with pytest.raises(ParseError):
        parse_period(raw)


# --- periods: properties ------------------------------------------------------------------


@PROPERTY
@given(year=st.integers(1900, 2999), month=st.integers(1, 12))
def test_month_code_round_trips(year: int, month: int) -> None:
    code = f"{year:04d}-{month:02d}"
    period = parse_period(code)
    assert period.code == code
    assert period.type == "month"
    assert period.start == date(year, month, 1)
    assert parse_period(period.code) == period


@PROPERTY
@given(year=st.integers(1900, 2999), q=st.integers(1, 4), h=st.integers(1, 2))
def test_other_codes_round_trip(year: int, q: int, h: int) -> None:
    for code in (f"{year:04d}-Q{q}", f"{year:04d}-H{h}", f"{year:04d}"):
        assert parse_period(code).code == code


@PROPERTY
@given(year=st.integers(1900, 2999), month=st.integers(1, 12))
def test_vietnamese_month_forms_agree(year: int, month: int) -> None:
    code = f"{year:04d}-{month:02d}"
    assert parse_period(f"Tháng {month}/{year}").code == code
    assert parse_period(f"T{month}/{year}").code == code
    assert parse_period(nfd(f"Tháng {month}/{year}")).code == code


@PROPERTY
@given(text=st.text())
def test_parse_period_raises_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_period(text)


# Period-shaped noise reaches the regex branches, which arbitrary text rarely does.
# Years start at 0001: year 0000 is a known bug covered by test_period_year_zero_is_parse_error.
_period_like = st.one_of(
    st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1, 9999), st.integers(0, 99)),
    st.builds(lambda y, q: f"{y:04d}-Q{q}", st.integers(1, 9999), st.integers(0, 9)),
    st.builds(lambda y, m: f"T{m}/{y:04d}", st.integers(1, 9999), st.integers(0, 99)),
    st.builds(
        lambda y, q: f"Quý {q}/{y:04d}",
        st.integers(1, 9999),
        st.sampled_from(["0", "1", "4", "5", "9", "i", "iv", "iii", "ii"]),
    ),
    st.builds(lambda y, n: f"{n} tháng đầu năm {y:04d}", st.integers(1, 9999), st.integers(0, 99)),
    st.builds(lambda y: f"Năm {y:04d}", st.integers(1, 9999)),
)


@PROPERTY
@given(text=_period_like)
def test_parse_period_raises_only_parse_error_on_period_like_text(text: str) -> None:
    try:
        period = parse_period(text)
    except ParseError:
        return
    assert 1900 <= period.start.year <= 2999
    assert period.start <= period.end


# --- rates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("64,67%", Decimal("64.67")),
        ("64,67", Decimal("64.67")),
        ("64.67", Decimal("64.67")),
        ("64.67%", Decimal("64.67")),
        ("64,67 %", Decimal("64.67")),
        (" 64,67% ", Decimal("64.67")),
        ("100", Decimal("100")),
        ("0", Decimal("0")),
        ("0,5", Decimal("0.5")),
        ("63,16%", Decimal("63.16")),
        (64.67, Decimal("64.67")),
        (64, Decimal("64")),
        (Decimal("64.67"), Decimal("64.67")),
    ],
)
def test_rate_accepted(raw: object, expected: Decimal) -> None:
    assert parse_rate(raw) == expected


def test_rate_xlsx_percent_cell_is_scaled() -> None:
    assert parse_rate(0.6467, percent_format=True) == Decimal("64.67")
    assert parse_rate(1, percent_format=True) == Decimal("100")
    assert parse_rate(0, percent_format=True) == Decimal("0")


def test_rate_text_in_percent_cell_is_not_scaled() -> None:
    # A text cell that happens to carry a percent format already says 64,67.
    assert parse_rate("64,67%", percent_format=True) == Decimal("64.67")


@pytest.mark.parametrize(
    "raw",
    [
        "1.068,5",
        "1,068.5",
        "1.068.000",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "Infinity",
        "1e309",
        "1e2",
        "١٢",  # Arabic-Indic digits
        "６４",  # fullwidth digits
        "",
        "%",
        "abc",
        "64,67%%",
        "64,",
        ",5",
        float("nan"),
        float("inf"),
        float("-inf"),
        Decimal("NaN"),
        True,
        None,
    ],
)
def test_rate_rejected(raw: object) -> None:
    with pytest.raises(ParseError):
        parse_rate(raw)


@PROPERTY
@given(
    rate=st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False),
    percent_sign=st.sampled_from(["", "%", " %"]),
    comma=st.booleans(),
)
def test_rate_round_trips_vietnamese_style(rate: Decimal, percent_sign: str, comma: bool) -> None:
    text = f"{rate:.2f}"
    if comma:
        text = text.replace(".", ",")
    assert parse_rate(text + percent_sign) == rate


@PROPERTY
@given(
    rate=st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False)
)
def test_any_two_place_decimal_round_trips(rate: Decimal) -> None:
    assert parse_rate(f"{rate:.2f}".replace(".", ",")) == rate


@PROPERTY
@given(text=st.text())
def test_parse_rate_raises_only_parse_error(text: str) -> None:
    try:
        parse_rate(text)
        parse_rate(text, percent_format=True)
    except ParseError:
        pass


# --- integers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.068", 1068),
        ("1,068", 1068),
        ("1 068", 1068),
        ("1\u00a0068", 1068),  # no-break space, as Excel writes it
        ("1068", 1068),
        (" 1068 ", 1068),
        ("0", 0),
        ("16.923", 16923),
        ("1.273.000", 1273000),
        ("1,273,000", 1273000),
        ("1 273 000", 1273000),
        ("33.200.000.000", 33200000000),
        ("999", 999),
        ("-5", -5),  # parsed; the validator reports the `negative` rule
        (1068, 1068),
        (1068.0, 1068),
        (Decimal("1068"), 1068),
    ],
)
def test_integer_accepted(raw: object, expected: int) -> None:
    assert parse_integer(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        1068.5,
        "1068.5",
        "1.06",
        "1.0680",
        "10.68",
        "1.068,5",
        "1.068,000",  # mixed separators
        "1,068.000",
        "1 068.000",
        "1..068",
        ".068",
        "1.068.",
        "12.34.567",
        "1e3",
        "NaN",
        "inf",
        "١٢",
        "",
        "abc",
        float("nan"),
        float("inf"),
        True,
        None,
    ],
)
def test_integer_rejected(raw: object) -> None:
    with pytest.raises(ParseError):
        parse_integer(raw)


@pytest.mark.parametrize("raw", ["9" * 5000, "1" + ".000" * 1500])
def test_integer_huge_digit_string_never_crashes(raw: str) -> None:
    with contextlib.suppress(ParseError):
        parse_integer(raw)


@PROPERTY
@given(n=st.integers(min_value=0, max_value=10**15), sep=st.sampled_from([".", ",", " "]))
def test_grouped_integer_round_trips(n: int, sep: str) -> None:
    text = f"{n:,}".replace(",", sep)
    assert parse_integer(text) == n
    assert parse_integer(str(n)) == n


@PROPERTY
@given(text=st.text())
def test_parse_integer_raises_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_integer(text)


# --- milestones ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("0", 0),
        (1, 1),
        (0, 0),
        (1.0, 1),
        (0.0, 0),
        ("Hoàn thành", 1),
        ("hoàn thành", 1),
        ("HOÀN THÀNH", 1),
        ("Hoan thanh", 1),
        ("  Hoàn   thành ", 1),
        (nfd("Hoàn thành"), 1),
        ("Chưa hoàn thành", 0),
        ("Chua hoan thanh", 0),
        ("CHƯA HOÀN THÀNH", 0),
        (nfd("Chưa hoàn thành"), 0),
        ("Đã", 1),
        ("đã", 1),
        ("Da", 1),
        ("ĐÃ", 1),
        ("Chưa", 0),
        ("chua", 0),
        ("yes", 1),
        ("Yes", 1),
        ("YES", 1),
        ("no", 0),
        ("No", 0),
        (" 1 ", 1),
    ],
)
def test_milestone_accepted(raw: object, expected: int) -> None:
    assert parse_milestone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["2", 2, -1, 0.5, "", "abc", "hoàn", "ok", "true", "có", float("nan"), None]
)
def test_milestone_rejected(raw: object) -> None:
    with pytest.raises(ParseError):
        parse_milestone(raw)


@PROPERTY
@given(text=st.text())
def test_parse_milestone_raises_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        assert parse_milestone(text) in (0, 1)


# --- province codes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "01"),
        ("01", "01"),
        (" 1 ", "01"),
        ("40", "40"),
        (1, "01"),
        (1.0, "01"),
        (40, "40"),
        (49.0, "49"),
    ],
)
def test_province_code_accepted(raw: object, expected: str) -> None:
    assert parse_province_code(raw) == expected


@pytest.mark.parametrize(
    "raw", ["001", "100", "ab", "1a", "", "-1", "1.5", "١", 1.5, -1, 100, float("nan"), None]
)
def test_province_code_rejected(raw: object) -> None:
    with pytest.raises(ParseError):
        parse_province_code(raw)


@PROPERTY
@given(text=st.text())
def test_parse_province_code_raises_only_parse_error(text: str) -> None:
    try:
        code = parse_province_code(text)
    except ParseError:
        return
    assert len(code) == 2 and code.isascii() and code.isdigit()


# --- folding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  MÃ TỈNH ", "ma tinh"),
        ("Mã  đơn vị", "ma don vi"),
        (nfd("Kỳ báo cáo"), "ky bao cao"),
        ("Đ", "d"),
    ],
)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected
