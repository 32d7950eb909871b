"""A realistic sample landing area: what four provinces' departments would send in 15 months.

`write_demo_landing(root)` writes one report per (province, unit, quarter) for provinces
40 (Nghệ An), 49 (Quảng Nam), 51 (Quảng Ngãi) and 48 (Đà Nẵng), months 2024-01 … 2025-03,
in the three shapes departments really use (English CSV, Vietnamese CSV with `;` and BOM,
Excel, half of it the official form with a title block and a signature), plus a few
corrections, a few broken files and two files that are not submissions.

Everything comes from `random.Random` seeded with `seed` and from the data itself, never
from the clock: the bytes and the modification times (the `submitted_at` of the ledger)
are the same on every call, so tests and demos can rely on them.
"""

from __future__ import annotations

import csv
import io
import os
import random
import unicodedata
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from chitieu.ingest.header import CONTRACT_COLUMNS
from chitieu.vn_time import VN_TZ

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

PROVINCES = ("40", "49", "51", "48")
MONTHS: tuple[tuple[int, int], ...] = tuple(
    (2024 + (i // 12), i % 12 + 1) for i in range(15)
)  # 2024-01 … 2025-03
QUARTERS: tuple[tuple[int, int], ...] = ((2024, 1), (2024, 2), (2024, 3), (2024, 4), (2025, 1))

# Vietnam has kept UTC+7 without daylight saving since 1975; a fixed offset needs no tzdata.

# Broken files (relative path → the rule codes the contract must report for them).
EXPECTED_REJECTIONS: dict[str, frozenset[str]] = {
    "40/STP/STP_40_2024Q2_loi_bangma.csv": frozenset({"encoding"}),
    "51/CA/CA_51_2024Q3_loi_chitieu.csv": frozenset({"unknown_indicator", "rate_out_of_range"}),
    "49/SYT/SYT_49_2024Q2_loi_kytuonglai.csv": frozenset({"period_future"}),
    "48/BHXH/BHXH_48_2024Q4_loi_trunglap.xlsx": frozenset(
        {"duplicate_key", "numerator_gt_denominator"}
    ),
}
# Files the landing area holds that are clearly not submissions (listed as ignored, left
# alone): a thumbnail cache and the lock file of a workbook a clerk has open in Excel.
NOT_SUBMISSIONS = ("Thumbs.db", "40/SYT/~$SYT_40_2024Q3.xlsx")
# Re-sent quarters (province, unit, (year, quarter)): a later file that supersedes the first.
CORRECTIONS: tuple[tuple[str, str, tuple[int, int]], ...] = (
    ("40", "SLDTBXH", (2024, 4)),
    ("49", "VPUBND", (2024, 3)),
    ("51", "BHXH", (2025, 1)),
)

_POPULATION_M = {"40": 3.44, "49": 1.52, "51": 1.25, "48": 1.25}  # millions of inhabitants
# How far ahead (+) or behind (−) of a typical province each province runs, in points.
_PERFORMANCE = {"48": 9.0, "40": 4.0, "51": 0.0, "49": -14.0}

# Percent indicators: typical rate in 2024-01 and in 2025-03, the denominator per million
# inhabitants, and whether the denominator is a monthly flow (dossiers received this month)
# rather than a slowly growing stock (eligible citizens, medical facilities).
_RATE_PROFILE: dict[str, tuple[float, float, int, bool]] = {
    "DVC_ONLINE_INTAKE_RATE": (45, 78, 9_000, True),
    "DVC_FULL_ONLINE_SHARE": (35, 62, 0, False),
    "DVC_PORTAL_SYNC_RATE": (60, 93, 0, False),
    "ESSENTIAL_DVC_ONLINE_RATE": (55, 90, 12_000, True),
    "DOSSIER_DIGITIZATION_RATE": (60, 95, 9_000, True),
    "E_RESULT_RATE": (50, 86, 9_000, True),
    "LAND_CHANGE_REG_ONLINE_RATE": (5, 36, 2_400, True),
    "DRIVING_LICENSE_ONLINE_RATE": (40, 86, 2_000, True),
    "CCCD_ONLINE_ISSUE_RATE": (20, 62, 15_000, True),
    "HI_HOUSEHOLD_RENEWAL_ONLINE_RATE": (10, 46, 11_000, True),
    "HI_QR_SCAN_SUCCESS_RATE": (55, 91, 150_000, True),
    "HI_CCCD_VISIT_RATE": (30, 76, 300_000, True),
    "HEALTH_QR_READER_FACILITY_RATE": (70, 98, 420, False),
    "HEALTH_CASHLESS_FACILITY_RATE": (60, 95, 420, False),
    "SCHOOL_CASHLESS_TUITION_RATE": (50, 92, 380, False),
    "SW_BENEFICIARY_REVIEWED_RATE": (70, 99, 36_000, False),
    "SW_ACCOUNT_OPENED_RATE": (35, 72, 36_000, False),
    "SW_PAID_VIA_ACCOUNT_RATE": (25, 66, 36_000, False),
    "PENSION_PAID_VIA_ACCOUNT_RATE": (50, 72, 26_000, False),
    "SI_POPULATION_SYNC_RATE": (85, 99.5, 210_000, False),
    "CIVIL_STATUS_DIGITIZATION_RATE": (20, 62, 880_000, False),
    "LAND_DATA_DIGITIZATION_RATE": (10, 46, 440_000, False),
    "CCCD_ISSUED_RATE": (95, 99.8, 760_000, False),
    "EID_ACTIVATED_RATE": (45, 86, 760_000, False),
    "EID_L2_ACTIVATION_RATE": (40, 81, 760_000, False),
    "ACCOMMODATION_ASM_RATE": (60, 97, 450, False),
}
_DEFAULT_RATE_PROFILE = (40.0, 75.0, 5_000, True)
# Denominators that do not grow with the population: the province's services, about.
_PER_PROVINCE = {"DVC_FULL_ONLINE_SHARE": 1_900, "DVC_PORTAL_SYNC_RATE": 1_300}
# Province-specific trends where the press reports (and the targets) call for one.
_RATE_OVERRIDE: dict[tuple[str, str], tuple[float, float]] = {
    ("SW_ACCOUNT_OPENED_RATE", "40"): (42, 70),  # ~65 % at end-2024 against a 90 % target
    ("PENSION_PAID_VIA_ACCOUNT_RATE", "51"): (56, 74),  # passes 61 % well before 2024-10-31
    ("DOSSIER_DIGITIZATION_RATE", "48"): (84, 106),  # reaches 100 % by end-2024
    ("HEALTH_CASHLESS_FACILITY_RATE", "48"): (90, 104),
    ("DVC_ONLINE_INTAKE_RATE", "49"): (33, 60),  # far short of 70 %
    ("CIVIL_STATUS_DIGITIZATION_RATE", "49"): (8, 30),
}
# Milestones: the quarter index (0 = 2024-Q1) from which the milestone is done; None = never.
_MILESTONE_FROM: dict[str, dict[str, int | None]] = {
    "IOC_OPERATIONAL": {"48": 0, "40": 2, "51": 4, "49": None},
    "EMULATION_CRITERIA_ADOPTED": {"48": 0, "40": 1, "51": 3, "49": 4},
}
_RANK_TREND = {"48": (6, 2), "40": (31, 17), "51": (40, 29), "49": (50, 43)}  # of 63
_DAYS_TREND = {"48": 10, "40": 15, "51": 17, "49": 22}  # working days in 2024-01
_MODELS_TOTAL = {"40": 44, "48": 36, "51": 40, "49": 42}
# Days after the quarter ends by which a province's units send their reports.
_DELAY_DAYS = {"48": (1, 4), "40": (1, 6), "51": (2, 8), "49": (3, 9)}

_ROMAN = ("I", "II", "III", "IV")
_NOTES = (
    "Số liệu lũy kế đến hết kỳ báo cáo",
    "Số liệu tạm tính, sẽ cập nhật kỳ sau",
    "Đã đối soát với Cơ sở dữ liệu quốc gia về dân cư",
    "Theo số liệu trên Cổng dịch vụ công của tỉnh",
    "Tăng so với kỳ trước nhờ đẩy mạnh tuyên truyền",
    "Một số xã chưa có thiết bị đọc mã QR",
    "Đường truyền mạng tại cấp xã còn chập chờn",
    "Số liệu do Phòng Kế hoạch tổng hợp",
)
_CORRECTION_NOTE = "Điều chỉnh số liệu sau rà soát, thay báo cáo ngày {:%d/%m/%Y}"
_EN_HEADER = CONTRACT_COLUMNS
_VI_HEADER = ("Mã tỉnh", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Tên chỉ tiêu")
_VI_VALUES = ("Tử số", "Mẫu số", "Tỷ lệ (%)", "Ghi chú")
_XLSX_VALUES = ("Tử số", "Mẫu số", "Giá trị", "Ghi chú")


# --- reference data ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Indicator:
    code: str
    name_vi: str
    unit_of_measure: str  # percent | count | vnd | days | rank | milestone
    reporting_units: tuple[str, ...]
    frequency: str  # monthly | quarterly

    def reported_by(self, unit_code: str) -> bool:
        return "*" in self.reporting_units or unit_code in self.reporting_units


@dataclass(frozen=True)
class _Catalog:
    indicators: tuple[_Indicator, ...]
    units: dict[str, str]  # code → Vietnamese name
    provinces: dict[str, str]  # code → Vietnamese name


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _load_catalog(seeds_dir: Path) -> _Catalog:
    indicators = tuple(
        _Indicator(
            row["indicator_code"],
            row["name_vi"],
            row["unit_of_measure"],
            tuple(row["reporting_units"].split(";")),
            row["frequency"],
        )
        for row in _read_csv(seeds_dir / "indicator_catalog.csv")
        if row["frequency"] in ("monthly", "quarterly")
    )
    units = {row["unit_code"]: row["name_vi"] for row in _read_csv(seeds_dir / "units.csv")}
    provinces = {
        row["province_code"]: row["name_vi"] for row in _read_csv(seeds_dir / "provinces.csv")
    }
    return _Catalog(indicators, units, provinces)


# --- periods -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Period:
    year: int
    month: int | None = None
    quarter: int | None = None

    @property
    def code(self) -> str:
        if self.month is not None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-Q{self.quarter}"

    @property
    def last_month(self) -> int:
        return self.month if self.month is not None else 3 * (self.quarter or 4)

    @property
    def index(self) -> int:
        """Months since 2024-01 of the period's last month (0 … 14)."""
        return (self.year - 2024) * 12 + self.last_month - 1


def _quarter_end(year: int, quarter: int) -> date:
    return date(year + quarter // 4, quarter % 4 * 3 + 1, 1) - timedelta(days=1)


def _quarter_months(year: int, quarter: int) -> list[_Period]:
    return [_Period(year, month=3 * quarter - 2 + i) for i in range(3)]


# --- values --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    province: str
    unit: str
    period: _Period
    indicator: _Indicator
    numerator: int | None
    denominator: int | None
    value: float | int | None  # rate (0–100, 2 decimals) for percent, else an integer
    note: str | None = None


def _rng(seed: int, *key: object) -> random.Random:
    """An independent stream per key, so changing one series leaves the others alone."""
    return random.Random("/".join(str(part) for part in (seed, *key)))


def _trend(start: float, end: float, index: int) -> float:
    return start + (end - start) * index / 14


def _cummax(values: list[int]) -> list[int]:
    out: list[int] = []
    for value in values:
        out.append(max(value, out[-1]) if out else value)
    return out


def _cummin(values: list[int]) -> list[int]:
    return [-v for v in _cummax([-v for v in values])]


def _percent_mode(seed: int, province: str, unit: str) -> str:
    """How a unit writes rates: `fraction` (tử số/mẫu số), `value` (tỷ lệ) or `all`."""
    return _rng(seed, "mode", province, unit).choices(
        ("fraction", "value", "all"), weights=(4, 4, 2)
    )[0]


def _rate_rows(
    seed: int, province: str, unit: str, ind: _Indicator, periods: list[_Period]
) -> list[_Row]:
    rng = _rng(seed, "series", province, unit, ind.code)
    start, end, per_million, flow = _RATE_PROFILE.get(ind.code, _DEFAULT_RATE_PROFILE)
    override = _RATE_OVERRIDE.get((ind.code, province))
    if override:
        start, end = override
        shift = rng.uniform(-2, 2)
    else:
        shift = _PERFORMANCE[province] + rng.uniform(-3, 3)
        if "*" in ind.reporting_units:  # every unit reports it: units differ more
            shift += rng.uniform(-8, 6)
    start, end = start + shift, end + shift + rng.uniform(-2, 2)
    if ind.code in _PER_PROVINCE:  # e.g. the province's public services: not per inhabitant
        base = _PER_PROVINCE[ind.code] * rng.uniform(0.9, 1.1)
    else:
        base = per_million * _POPULATION_M[province]
    if "*" in ind.reporting_units:
        # The unit's share of the province's dossiers, the same for every dossier indicator.
        base *= _rng(seed, "share", province, unit).uniform(0.05, 0.6)
    base = max(base, 30.0)
    mode = _percent_mode(seed, province, unit)
    rows = []
    for period in periods:
        trend = _trend(start, end, period.index)
        rate = 100.0 if trend >= 100 else min(100.0, max(0.0, trend + rng.gauss(0, 0.7)))
        if flow:
            den = base * (1 + 0.01 * period.index) * rng.uniform(0.88, 1.12)
        else:
            den = base * (1 + 0.004 * period.index)
        denominator = max(1, round(den))
        numerator = min(denominator, round(rate * denominator / 100))
        value = round(100 * numerator / denominator, 2)
        rows.append(
            _Row(
                province,
                unit,
                period,
                ind,
                None if mode == "value" else numerator,
                None if mode == "value" else denominator,
                None if mode == "fraction" else value,
            )
        )
    return rows


def _int_series(
    seed: int, province: str, unit: str, ind: _Indicator, periods: list[_Period]
) -> list[_Row]:
    rng = _rng(seed, "series", province, unit, ind.code)
    pop = _POPULATION_M[province]
    lag = province == "49"
    idx = [p.index for p in periods]
    numerator = denominator = None
    if ind.unit_of_measure == "rank":
        first, last = _RANK_TREND.get(province, (rng.randint(20, 50), rng.randint(10, 40)))
        values = [round(_trend(first, last, i) + rng.uniform(-1.2, 1.2)) for i in idx]
        values = _cummin([min(63, max(1, v)) for v in values])
        denominator = 63
    elif ind.unit_of_measure == "days":
        first = _DAYS_TREND.get(province, rng.randint(12, 20))
        values = _cummin(
            [max(1, round(_trend(first, first * 0.55, i) + rng.uniform(-1, 1))) for i in idx]
        )
    elif ind.unit_of_measure == "milestone":
        by_province = _MILESTONE_FROM.get(ind.code, {})
        done_from = by_province[province] if province in by_province else rng.randint(0, 5)
        values = [int(done_from is not None and i // 3 >= done_from) for i in idx]
    elif ind.unit_of_measure == "vnd":
        # Money paid cashless in the month, in đồng, rounded to 100.000 đồng: ~10 tỷ/million.
        scale = 9.5e9 * pop * (0.8 if lag else 1.0)
        values = [
            round(scale * _trend(0.6, 1.25, i) * rng.uniform(0.94, 1.06) / 1e5) * 100_000
            for i in idx
        ]
    elif ind.code != "DIGITAL_TEAM_MEMBERS":  # a count of a whole: "25/44 mô hình"
        total = _MODELS_TOTAL.get(province, rng.randint(30, 50))
        first = total * (rng.uniform(0.12, 0.2) if lag else rng.uniform(0.25, 0.4))
        last = total * (rng.uniform(0.5, 0.6) if lag else rng.uniform(0.85, 1.0))
        values = _cummax(
            [min(total, round(_trend(first, last, i) + rng.uniform(-1, 1))) for i in idx]
        )
        mode = _percent_mode(seed, province, unit)
        if mode != "value":
            return [
                _Row(province, unit, p, ind, v, total, None if mode == "fraction" else v)
                for p, v in zip(periods, values, strict=True)
            ]
    else:  # members of community digital-technology teams
        full = 6_500 * pop * (0.75 if lag else 1.0)
        values = _cummax(
            [round(full * _trend(0.55, 1.0, i) * rng.uniform(0.98, 1.02)) for i in idx]
        )
    return [
        _Row(province, unit, p, ind, numerator, denominator, v)
        for p, v in zip(periods, values, strict=True)
    ]


def _series(
    seed: int, province: str, unit: str, ind: _Indicator, periods: list[_Period]
) -> dict[str, _Row]:
    make = _rate_rows if ind.unit_of_measure == "percent" else _int_series
    return {row.period.code: row for row in make(seed, province, unit, ind, periods)}


def _all_series(seed: int, catalog: _Catalog) -> dict[tuple[str, str, str], dict[str, _Row]]:
    monthly = [_Period(y, month=m) for y, m in MONTHS]
    quarterly = [_Period(y, quarter=q) for y, q in QUARTERS]
    return {
        (province, unit, ind.code): _series(
            seed, province, unit, ind, monthly if ind.frequency == "monthly" else quarterly
        )
        for province in PROVINCES
        for unit in catalog.units
        for ind in catalog.indicators
        if ind.reported_by(unit)
    }


def _quarter_rows(
    seed: int,
    catalog: _Catalog,
    series: dict[tuple[str, str, str], dict[str, _Row]],
    province: str,
    unit: str,
    quarter: tuple[int, int],
) -> list[_Row]:
    """A unit's report for a quarter: its months' monthly rows, then the quarter's rows."""
    rng = _rng(seed, "rows", province, unit, *quarter)
    drop = 0.03 if province == "49" else 0.004  # the odd forgotten row
    rows: list[_Row] = []
    for period in [*_quarter_months(*quarter), _Period(quarter[0], quarter=quarter[1])]:
        for ind in catalog.indicators:
            if not ind.reported_by(unit) or (ind.frequency == "monthly") != (
                period.month is not None
            ):
                continue
            row = series[(province, unit, ind.code)][period.code]
            if rng.random() < drop:
                continue
            if rng.random() < 0.05:
                row = replace(row, note=rng.choice(_NOTES))
            elif ind.unit_of_measure == "rank" and rng.random() < 0.5:
                row = replace(row, note=f"Xếp thứ {row.value}/63")
            rows.append(row)
    return rows


# --- writing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    kind: str  # en_csv | vi_csv | xlsx
    month_form: int = 0  # Vietnamese month form: 0 "Tháng 3/2024", 1 "T3/2024", 2 "Tháng 03/2024"
    roman: bool = True  # "Quý I/2024" rather than "Quý 1/2024"
    percent_sign: bool = True  # "64,67%" rather than "64,67"
    grouping: bool = False  # English thousands "1,068" (quoted) rather than "1068"
    words: bool = False  # milestones as words (yes/no, Hoàn thành/Chưa hoàn thành)
    row_number: bool = False  # a leading "STT" column
    dates: bool = False  # XLSX: months typed as dates (Excel turns "3/2024" into 2024-03-01)
    crlf: bool = True
    official: bool = False  # XLSX: the official form (title block above, signature below)

    @property
    def ext(self) -> str:
        return "xlsx" if self.kind == "xlsx" else "csv"


def _style(seed: int, province: str, unit: str, quarter: tuple[int, int]) -> _Style:
    """A unit keeps its software, mostly; now and then a quarter comes in another shape."""
    home = _rng(seed, "style", province, unit)
    kind = home.choices(("en_csv", "vi_csv", "xlsx"), weights=(38, 38, 24))[0]
    options = dict(
        month_form=home.randrange(3),
        roman=home.random() < 0.7,
        percent_sign=home.random() < 0.6,
        grouping=home.random() < 0.3,
        words=home.random() < 0.5,
        row_number=home.random() < 0.4,
        dates=home.random() < 0.3,
        crlf=home.random() < 0.7,
        official=home.random() < 0.5,
    )
    if _rng(seed, "style", province, unit, *quarter).random() < 0.12:
        kind = home.choice([k for k in ("en_csv", "vi_csv", "xlsx") if k != kind])
    return _Style(kind, **options)


def _vi_int(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _vi_period(period: _Period, style: _Style) -> str:
    if period.month is None:
        q = period.quarter or 1
        return f"Quý {_ROMAN[q - 1] if style.roman else q}/{period.year}"
    return (
        f"Tháng {period.month}/{period.year}",
        f"T{period.month}/{period.year}",
        f"Tháng {period.month:02d}/{period.year}",
    )[style.month_form]


def _milestone_text(value: int, style: _Style) -> str:
    if not style.words:
        return str(value)
    if style.kind == "en_csv":
        return "yes" if value else "no"
    return "Hoàn thành" if value else "Chưa hoàn thành"


def _text_value(row: _Row, style: _Style) -> str:
    if row.value is None:
        return ""
    if row.indicator.unit_of_measure == "percent":
        if style.kind == "en_csv":
            return f"{row.value:.2f}"
        return f"{row.value:.2f}".replace(".", ",") + ("%" if style.percent_sign else "")
    if row.indicator.unit_of_measure == "milestone":
        return _milestone_text(int(row.value), style)
    return _text_int(int(row.value), style)


def _text_int(number: int | None, style: _Style) -> str:
    if number is None:
        return ""
    if style.kind == "vi_csv":
        return _vi_int(number)
    return f"{number:,}" if style.grouping else str(number)


def _csv_bytes(rows: list[_Row], style: _Style) -> bytes:
    buffer = io.StringIO()
    if style.kind == "en_csv":
        writer = csv.writer(buffer, lineterminator="\r\n" if style.crlf else "\n")
        writer.writerow(_EN_HEADER)
        for row in rows:
            writer.writerow(
                [
                    row.province,
                    row.unit,
                    row.period.code,
                    row.indicator.code,
                    _text_int(row.numerator, style),
                    _text_int(row.denominator, style),
                    _text_value(row, style),
                    row.note or "",
                ]
            )
        return buffer.getvalue().encode("utf-8")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n" if style.crlf else "\n")
    lead = ["STT"] if style.row_number else []
    writer.writerow([*lead, *_VI_HEADER, *_VI_VALUES])
    for number, row in enumerate(rows, start=1):
        writer.writerow(
            [
                *([str(number)] if style.row_number else []),
                row.province,
                row.unit,
                _vi_period(row.period, style),
                row.indicator.code,
                row.indicator.name_vi,
                _text_int(row.numerator, style),
                _text_int(row.denominator, style),
                _text_value(row, style),
                row.note or "",
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def _title_block(sheet: Worksheet, issuer: tuple[str, str], title: str, width: int) -> None:
    """The official form's head: issuer and national motto side by side, the report's title
    across the table (merged cells), a blank row."""
    from openpyxl.utils import get_column_letter

    unit, province = issuer
    motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    sheet.append([f"UBND TỈNH {province.upper()}", None, None, None, motto])
    sheet.append([unit.upper(), None, None, None, "Độc lập - Tự do - Hạnh phúc"])
    sheet.append([])
    sheet.append([f"BÁO CÁO KẾT QUẢ THỰC HIỆN ĐỀ ÁN 06 {title.upper()}"])
    sheet.append([])
    last = get_column_letter(width)
    for cells in ("A1:C1", f"E1:{last}1", "A2:C2", f"E2:{last}2", f"A4:{last}4"):
        sheet.merge_cells(cells)


def _signature(sheet: Worksheet, when: datetime, width: int) -> None:
    """The form's foot: a place-and-date line and who signs."""
    pad = [None] * (width - 3)
    sheet.append([])
    sheet.append([*pad, f"ngày {when.day:02d} tháng {when.month:02d} năm {when.year}"])
    sheet.append(["NGƯỜI LẬP BIỂU", None, None, *pad[3:], "THỦ TRƯỞNG ĐƠN VỊ"])
    sheet.append(["(Ký, ghi rõ họ tên)", None, None, *pad[3:], "(Ký tên, đóng dấu)"])


def _xlsx_bytes(
    rows: list[_Row],
    style: _Style,
    title: str,
    issuer: tuple[str, str],
    when: datetime,
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    lead = ["STT"] if style.row_number else []
    header = [*lead, *_VI_HEADER, *_XLSX_VALUES]
    if style.official:
        _title_block(sheet, issuer, title, len(header))
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=1):
        if row.period.month is not None and style.dates:
            period: object = datetime(row.period.year, row.period.month, 1)
        else:
            period = _vi_period(row.period, style)
        value: object = row.value
        if row.value is not None and row.indicator.unit_of_measure == "percent":
            value = round(float(row.value) / 100, 6)
        elif row.value is not None and row.indicator.unit_of_measure == "milestone" and style.words:
            value = _milestone_text(int(row.value), style)
        sheet.append(
            [
                *([number] if style.row_number else []),
                int(row.province),  # typed as a number, as Excel users do: 1 for "01"
                row.unit,
                period,
                row.indicator.code,
                row.indicator.name_vi,
                row.numerator,
                row.denominator,
                value,
                row.note,
            ]
        )
        cells = sheet[sheet.max_row]
        offset = len(lead)
        if isinstance(period, datetime):
            cells[offset + 2].number_format = "mm/yyyy"
        for cell in cells[offset + 5 : offset + 7]:
            cell.number_format = "#,##0"
        value_cell = cells[offset + 7]
        if row.indicator.unit_of_measure == "percent":
            value_cell.number_format = "0.00%"
        elif row.indicator.unit_of_measure in ("count", "vnd"):
            value_cell.number_format = "#,##0"
    if style.official:
        _signature(sheet, when.astimezone(VN_TZ), len(header))
    for letter, width in zip("ABCDEFGHIJ", (6, 9, 11, 14, 34, 48, 12, 12, 14, 40), strict=True):
        sheet.column_dimensions[letter].width = width

    # Fixed metadata and zip timestamps, so the same data gives the same bytes.
    naive_utc = when.astimezone(UTC).replace(tzinfo=None)
    author = " ".join(issuer).strip()
    workbook.properties.creator = author
    workbook.properties.lastModifiedBy = author
    workbook.properties.created = naive_utc
    workbook.properties.modified = naive_utc
    first = io.BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(first, "w", zipfile.ZIP_DEFLATED)).save()
    out = io.BytesIO()
    stamp = when.timetuple()[:6]
    with zipfile.ZipFile(first) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, src.read(info.filename))
    return out.getvalue()


_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


def _cp1258(text: str) -> bytes:
    """Windows-1258 as old office software writes it: base letters precomposed where the code
    page has them (â, ê, ơ, ư, đ …), tone marks as separate combining characters."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
        out += (base + "".join(c for c in parts if c in _TONE_MARKS)).encode("cp1258")
    return bytes(out)


def _submitted_at(seed: int, province: str, unit: str, quarter: tuple[int, int]) -> datetime:
    rng = _rng(seed, "submitted", province, unit, *quarter)
    low, high = _DELAY_DAYS[province]
    day = _quarter_end(*quarter) + timedelta(days=rng.randint(low, high))
    return datetime(
        day.year,
        day.month,
        day.day,
        rng.randint(7, 17),
        rng.randrange(60),
        rng.randrange(60),
        tzinfo=VN_TZ,
    )


def _file_bytes(rows: list[_Row], style: _Style, catalog: _Catalog, when: datetime) -> bytes:
    if style.kind != "xlsx":
        return _csv_bytes(rows, style)
    first = rows[0]
    quarter = (first.period.last_month - 1) // 3 + 1
    title = f"Quý {quarter}-{first.period.year}"
    issuer = (catalog.units[first.unit], catalog.provinces.get(first.province, ""))
    return _xlsx_bytes(rows, style, title, issuer, when)


class _Writer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: list[Path] = []

    def write(self, rel: str, data: bytes, when: datetime) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        stamp = int(when.timestamp()) * 1_000_000_000
        os.utime(path, ns=(stamp, stamp))
        self.written.append(path)


def _correct(seed: int, rows: list[_Row], original: datetime) -> list[_Row]:
    """The same quarter re-sent with two or three figures revised upwards after a review."""
    rng = _rng(seed, "correction", rows[0].province, rows[0].unit, rows[0].period.code)
    candidates = [i for i, row in enumerate(rows) if row.indicator.unit_of_measure != "milestone"]
    note = _CORRECTION_NOTE.format(original)
    out = list(rows)
    for i in rng.sample(candidates, k=min(len(candidates), rng.randint(2, 3))):
        row = rows[i]
        if row.indicator.unit_of_measure == "percent":
            rate = (
                row.value
                if row.denominator is None
                else 100 * (row.numerator or 0) / row.denominator
            )
            rate = min(100.0, float(rate or 0) + rng.uniform(1.5, 6))
            if row.denominator is None:
                out[i] = replace(row, value=round(rate, 2), note=note)
            else:
                numerator = min(row.denominator, round(rate * row.denominator / 100))
                value = None if row.value is None else round(100 * numerator / row.denominator, 2)
                out[i] = replace(row, numerator=numerator, value=value, note=note)
        elif row.indicator.unit_of_measure in ("rank", "days"):
            out[i] = replace(row, value=max(1, int(row.value or 1) - 1), note=note)
        else:
            value = round(int(row.value or 0) * rng.uniform(1.03, 1.1))
            if row.indicator.unit_of_measure == "vnd":
                value = round(value / 1e5) * 100_000
            numerator = row.numerator
            if numerator is not None and row.denominator is not None:
                value = numerator = min(row.denominator, max(value, numerator + 1))
            out[i] = replace(
                row, value=None if row.value is None else value, numerator=numerator, note=note
            )
    return out


def write_demo_landing(root: Path, *, seed: int = 6, seeds_dir: Path | None = None) -> list[Path]:
    """Write a realistic sample landing area under root; return the files written.

    Layout: `<province>/<unit>/<unit>_<province>_<yyyy>Q<n>.<csv|xlsx>`, one file per
    (province, unit, quarter) with that quarter's monthly rows and its quarterly rows; a few
    quarters are missing (mostly from Quảng Nam, which lags), a few are re-sent later with
    `_dieuchinh` (corrections), and the files in `EXPECTED_REJECTIONS` are broken on purpose.
    Same seed, same bytes and modification times. `seeds_dir` defaults to the configured
    dbt seeds (the reference catalog).
    """
    if seeds_dir is None:
        from chitieu.config import load_settings

        seeds_dir = load_settings().seeds_dir
    catalog = _load_catalog(seeds_dir)
    series = _all_series(seed, catalog)
    out = _Writer(Path(root))
    units = [u for u in catalog.units if any(i.reported_by(u) for i in catalog.indicators)]
    corrected = {(p, u, q) for p, u, q in CORRECTIONS}
    keep = {
        *corrected,
        ("40", "STP", (2024, 2)),
        ("51", "CA", (2024, 3)),
        ("49", "SYT", (2024, 2)),
        ("48", "BHXH", (2024, 4)),
    }

    for province in PROVINCES:
        for unit in units:
            for quarter in QUARTERS:
                key = (province, unit, quarter)
                skip = 0.06 if province == "49" else 0.01
                if key not in keep and _rng(seed, "skip", *key).random() < skip:
                    continue  # this quarter's report never came
                rows = _quarter_rows(seed, catalog, series, province, unit, quarter)
                if not rows:
                    continue
                style = _style(seed, province, unit, quarter)
                when = _submitted_at(seed, province, unit, quarter)
                stem = f"{province}/{unit}/{unit}_{province}_{quarter[0]}Q{quarter[1]}"
                out.write(f"{stem}.{style.ext}", _file_bytes(rows, style, catalog, when), when)
                if key in corrected:
                    later = when + timedelta(days=_rng(seed, "later", *key).randint(6, 15), hours=1)
                    fixed = _correct(seed, rows, when)
                    out.write(
                        f"{stem}_dieuchinh.{style.ext}",
                        _file_bytes(fixed, style, catalog, later),
                        later,
                    )

    _write_broken(seed, catalog, series, out)
    for name in NOT_SUBMISSIONS:
        out.write(name, b"\x00not a report", datetime(2024, 1, 2, 8, 0, tzinfo=VN_TZ))
    return sorted(out.written)


def _write_broken(
    seed: int,
    catalog: _Catalog,
    series: dict[tuple[str, str, str], dict[str, _Row]],
    out: _Writer,
) -> None:
    """The files of `EXPECTED_REJECTIONS`, each sent shortly before its good version."""

    def rows_of(province: str, unit: str, quarter: tuple[int, int]) -> list[_Row]:
        return _quarter_rows(seed, catalog, series, province, unit, quarter)

    def before_good(province: str, unit: str, quarter: tuple[int, int]) -> datetime:
        return _submitted_at(seed, province, unit, quarter) - timedelta(hours=3)

    vi = _Style("vi_csv", month_form=1, roman=True, percent_sign=True)

    # Saved from an old office program in Windows-1258 rather than Unicode.
    rows = rows_of("40", "STP", (2024, 2))
    text = _csv_bytes(
        [replace(r, note=r.note or "Số liệu do Phòng Hộ tịch tổng hợp") for r in rows], vi
    )
    out.write(
        "40/STP/STP_40_2024Q2_loi_bangma.csv",
        _cp1258(text.decode("utf-8-sig")),
        before_good("40", "STP", (2024, 2)),
    )

    # A mistyped indicator code, and a rate of 120 %.
    rows = rows_of("51", "CA", (2024, 3))
    typo = next(i for i, r in enumerate(rows) if r.indicator.code == "EID_L2_ACTIVATION_RATE")
    rows[typo] = replace(rows[typo], indicator=replace(rows[typo].indicator, code="EID_LV2_RATE"))
    over = next(
        i
        for i, r in enumerate(rows)
        if r.indicator.unit_of_measure == "percent" and i != typo and i > 3
    )
    rows[over] = replace(rows[over], numerator=None, denominator=None, value=120.0)
    out.write(
        "51/CA/CA_51_2024Q3_loi_chitieu.csv",
        _csv_bytes(rows, _Style("en_csv")),
        before_good("51", "CA", (2024, 3)),
    )

    # Sent on 24 June for the whole second quarter: June and Q2 have not ended yet.
    rows = rows_of("49", "SYT", (2024, 2))
    out.write(
        "49/SYT/SYT_49_2024Q2_loi_kytuonglai.csv",
        _csv_bytes(rows, vi),
        datetime(2024, 6, 24, 10, 15, tzinfo=VN_TZ),
    )

    # A row pasted twice (with another figure), and numerator and denominator swapped.
    rows = rows_of("48", "BHXH", (2024, 4))
    fractions = [
        i
        for i, r in enumerate(rows)
        if r.indicator.unit_of_measure == "percent" and r.numerator is not None
    ]
    if fractions:
        swap = fractions[len(fractions) // 2]
        row = rows[swap]
        assert row.numerator is not None and row.denominator is not None
        rows[swap] = replace(
            row, numerator=row.denominator + max(1, row.denominator // 20), value=None
        )
    else:
        swap = next(i for i, r in enumerate(rows) if r.indicator.unit_of_measure == "percent")
        rows[swap] = replace(rows[swap], numerator=1_530, denominator=1_350, value=None)
    again = rows[1 if swap == 0 else 0]
    rows.append(replace(again, note="Dòng nhập trùng"))
    when = before_good("48", "BHXH", (2024, 4))
    out.write(
        "48/BHXH/BHXH_48_2024Q4_loi_trunglap.xlsx",
        _file_bytes(rows, _Style("xlsx", roman=True), catalog, when),
        when,
    )
