"""A generated national dataset: what the benchmarks (and anyone sizing a server) load.

34 provinces × every unit × every indicator a unit may report, monthly (and quarterly where
the catalog says so), for `36 × scale` months ending in December 2024: realistic trends
(each series an S-curve around the Đề án 06 years, with noise), missing reports, late
reports and corrections. `scale` multiplies the history's length (scale 10: 360 months),
which is how the data grows here: the contract's keys are province-level, so commune-level
reporting (more rows per period) has no shape the warehouse could load.

The history arrives as one file per (province, quarter), as a provincial office sends its
consolidated reports; a night brings one file per province for the next month, plus a few
corrections of the last quarter. A quarter of the provinces write Vietnamese headers, `;`,
`T1/2025` periods and decimal commas, the rest the English canonical form.

Same seed, same bytes and modification times (`submitted_at`): nothing reads the clock.
"""

from __future__ import annotations

import csv
import io
import math
import os
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from chitieu.ingest.header import CONTRACT_COLUMNS
from chitieu.reference import Indicator, load_reference
from chitieu.vn_time import VN_TZ

PROVINCE_COUNT = 34
HISTORY_MONTHS = 36
LAST_MONTH = (2024, 12)  # the history's last month; a night adds the month after
MISSING_SHARE = 0.03  # of (province, unit, month) reports that never come
LATE_SHARE = 0.1  # of files sent well after the due date
CORRECTION_SHARE = 0.03  # of files re-sent later with revised figures
NIGHT_CORRECTIONS = 3  # provinces re-sending their last quarter on the night

_EN_HEADER = CONTRACT_COLUMNS
_VI_HEADER = ("Mã tỉnh", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Tử số", "Mẫu số",
              "Giá trị", "Ghi chú")  # fmt: skip


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def index(self) -> int:
        """Months since January 2000: series are functions of it, whatever the scale."""
        return (self.year - 2000) * 12 + self.month - 1

    @property
    def end(self) -> date:
        return date(self.year + self.month // 12, self.month % 12 + 1, 1) - timedelta(days=1)

    @property
    def quarter(self) -> int:
        return (self.month - 1) // 3 + 1

    def shift(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)


@dataclass(frozen=True)
class Row:
    province: str
    unit: str
    period: str  # canonical: 2024-03 or 2024-Q1
    indicator: str
    numerator: int | None
    denominator: int | None
    value: float | int | None


@dataclass(frozen=True)
class Dataset:
    provinces: tuple[str, ...]
    pairs: tuple[tuple[str, Indicator], ...]  # (unit, indicator) a unit may report
    seed: int


def load_dataset(seeds_dir: Path, seed: int = 6) -> Dataset:
    """The provinces that exist throughout (no merger in the period) and the catalog."""
    with (seeds_dir / "provinces.csv").open(encoding="utf-8", newline="") as handle:
        lasting = sorted(r["province_code"] for r in csv.DictReader(handle) if not r["valid_to"])
    reference = load_reference(seeds_dir)
    pairs = tuple(
        (unit, indicator)
        for indicator in sorted(reference.indicators.values(), key=lambda i: i.code)
        for unit in sorted(reference.units)
        if indicator.may_be_reported_by(unit) and indicator.frequency in ("monthly", "quarterly")
    )
    return Dataset(tuple(lasting[:PROVINCE_COUNT]), pairs, seed)


def _rng(seed: int, *key: object) -> random.Random:
    """An independent, reproducible stream per key (crc32: str hashes vary per process)."""
    return random.Random(zlib.crc32("/".join(str(part) for part in (seed, *key)).encode()))


@dataclass(frozen=True)
class _Series:
    """One (province, unit, indicator) series: an S-curve centred between 2022 and 2025 (the
    programme's years) from `low` to `high`, and the shape its reports take."""

    centre: float
    width: float
    low: float
    high: float
    size: float  # denominator, amount or whole, by the indicator's unit
    mode: str  # how the unit writes rates: fraction, value or all

    def progress(self, index: int) -> float:
        return 1 / (1 + math.exp(-(index - self.centre) / self.width))


@lru_cache(maxsize=8192)
def _series(seed: int, province: str, unit: str, code: str) -> _Series:
    rng = _rng(seed, province, unit, code)
    mode = _rng(seed, "mode", province, unit).choice(("fraction", "value", "all"))
    return _Series(rng.uniform(22 * 12, 25 * 12), rng.uniform(8, 20), rng.uniform(2, 30),
                   rng.uniform(70, 100), rng.uniform(0, 1), mode)  # fmt: skip


def _row(data: Dataset, province: str, unit: str, ind: Indicator, period: str, index: int) -> Row:
    """The series' value at month `index`: a function of the series and the month only."""
    series = _series(data.seed, province, unit, ind.code)
    progress = series.progress(index)
    noise = _rng(data.seed, province, unit, ind.code, period)
    if ind.unit_of_measure == "percent":
        rate = series.low + (series.high - series.low) * progress + noise.gauss(0, 0.7)
        rate = min(100.0, max(0.0, rate))
        denominator = max(1, round((300 + 200_000 * series.size) * noise.uniform(0.9, 1.1)))
        numerator = min(denominator, round(rate * denominator / 100))
        value = round(100 * numerator / denominator, 2)
        if series.mode == "value":
            return Row(province, unit, period, ind.code, None, None, value)
        return Row(province, unit, period, ind.code, numerator, denominator,
                   value if series.mode == "all" else None)  # fmt: skip
    if ind.unit_of_measure == "rank":
        rank = round(60 - (30 + 28 * series.size) * progress + noise.uniform(-1, 1))
        return Row(province, unit, period, ind.code, None, 63, min(63, max(1, rank)))
    if ind.unit_of_measure == "milestone":
        return Row(province, unit, period, ind.code, None, None, int(progress > 0.5))
    if ind.unit_of_measure == "days":
        days = round(8 + (6 + 8 * series.size) * (1 - progress) + noise.uniform(-0.5, 0.5))
        return Row(province, unit, period, ind.code, None, None, max(1, days))
    if ind.unit_of_measure == "vnd":  # money paid cashless in the period, rounded to 100.000 đồng
        amount = (2e9 + 2.8e10 * series.size) * (0.2 + progress) * noise.uniform(0.94, 1.06)
        return Row(province, unit, period, ind.code, None, None, round(amount / 1e5) * 100_000)
    whole = 30 + round(5_000 * series.size)  # a count that grows towards a whole
    return Row(province, unit, period, ind.code, None, None, round(whole * (0.1 + 0.9 * progress)))


def _month_rows(data: Dataset, province: str, month: Month, *, complete: bool) -> list[Row]:
    """Every row the province's units report for the month (and for the quarter, at its last
    month); a few units' reports of the month are missing unless `complete`."""
    rows = []
    for unit in sorted({unit for unit, _ in data.pairs}):
        missing = _rng(data.seed, "missing", province, unit, month.index).random()
        if not complete and missing < MISSING_SHARE:
            continue
        for pair_unit, ind in data.pairs:
            if pair_unit != unit:
                continue
            if ind.frequency == "monthly":
                period = f"{month.year:04d}-{month.month:02d}"
            elif month.month % 3 == 0:
                period = f"{month.year:04d}-Q{month.quarter}"
            else:
                continue
            rows.append(_row(data, province, unit, ind, period, month.index))
    return rows


def _corrected(data: Dataset, rows: list[Row], key: object) -> list[Row]:
    """Two or three figures revised upwards after a review."""
    rng = _rng(data.seed, "correction", key)
    out = list(rows)
    for i in rng.sample(range(len(rows)), k=min(len(rows), rng.randint(2, 3))):
        row = rows[i]
        if row.numerator is not None and row.denominator is not None and row.value is None:
            numerator = min(row.denominator, row.numerator + max(1, row.denominator // 50))
            out[i] = replace(row, numerator=numerator)
        elif isinstance(row.value, float):
            value = min(100.0, round(row.value + 2.5, 2))
            out[i] = replace(row, numerator=None, denominator=None, value=value)
        elif row.value is not None and row.denominator is None and row.value > 1:
            out[i] = replace(row, value=row.value + max(1, row.value // 20))
    return out


def _vietnamese(data: Dataset, province: str) -> bool:
    return data.provinces.index(province) % 4 == 3


def _cells(row: Row, vietnamese: bool) -> list[object]:
    value: object = row.value
    period = row.period
    if vietnamese:
        if isinstance(value, float):
            value = f"{value:.2f}".replace(".", ",")
        year, _, rest = period.partition("-")
        period = f"Quý {rest[1]}/{year}" if rest.startswith("Q") else f"T{int(rest)}/{year}"
    return [row.province, row.unit, period, row.indicator, row.numerator, row.denominator,
            value, None]  # fmt: skip


def csv_bytes(rows: list[Row], vietnamese: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if vietnamese else ",", lineterminator="\r\n")
    writer.writerow(_VI_HEADER if vietnamese else _EN_HEADER)
    writer.writerows(
        ["" if cell is None else cell for cell in _cells(row, vietnamese)] for row in rows
    )
    return out.getvalue().encode("utf-8-sig" if vietnamese else "utf-8")


def _sent(data: Dataset, period_end: date, *key: object) -> datetime:
    """When a report was sent: a few days after its period, or much later when late."""
    rng = _rng(data.seed, "sent", *key)
    days = rng.randint(20, 60) if rng.random() < LATE_SHARE else rng.randint(1, 4)
    day = period_end + timedelta(days=days)
    return datetime(day.year, day.month, day.day, rng.randint(7, 17), rng.randrange(60),
                    tzinfo=VN_TZ)  # fmt: skip


def _write(root: Path, rel: str, data: bytes, when: datetime) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = int(when.timestamp()) * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    return path


def history_months(scale: int) -> list[Month]:
    last = Month(*LAST_MONTH)
    return [last.shift(-i) for i in range(HISTORY_MONTHS * scale - 1, -1, -1)]


def _quarters(months: list[Month]) -> Iterator[list[Month]]:
    quarter: list[Month] = []
    for month in months:
        quarter.append(month)
        if month.month % 3 == 0:
            yield quarter
            quarter = []
    if quarter:
        yield quarter


def write_history(root: Path, data: Dataset, scale: int = 1) -> list[Path]:
    """One file per (province, quarter) of the history, plus the corrections sent later."""
    written = []
    for quarter in _quarters(history_months(scale)):
        last = quarter[-1]
        for province in data.provinces:
            rows = [r for m in quarter for r in _month_rows(data, province, m, complete=False)]
            stem = f"{province}/{last.year}/{province}_{last.year}Q{last.quarter}"
            vietnamese = _vietnamese(data, province)
            when = _sent(data, last.end, province, last.index)
            written.append(_write(root, f"{stem}.csv", csv_bytes(rows, vietnamese), when))
            if _rng(data.seed, "corrects", province, last.index).random() < CORRECTION_SHARE:
                fixed = _corrected(data, rows, (province, last.index))
                later = when + timedelta(days=_rng(data.seed, "later", province).randint(5, 30))
                data_bytes = csv_bytes(fixed, vietnamese)
                written.append(_write(root, f"{stem}_dieuchinh.csv", data_bytes, later))
    return written


def write_night(root: Path, data: Dataset, nights: int = 1) -> list[Path]:
    """The files of night `nights` after the history: each province's report of the next
    month, and `NIGHT_CORRECTIONS` provinces re-sending their last quarter."""
    month = Month(*LAST_MONTH).shift(nights)
    written = []
    for province in data.provinces:
        rows = _month_rows(data, province, month, complete=True)
        when = _sent(data, month.end, province, month.index, "night")
        rel = f"{province}/{month.year}/{province}_{month.year}-{month.month:02d}.csv"
        written.append(_write(root, rel, csv_bytes(rows, _vietnamese(data, province)), when))
    quarter_end = month.shift(-((month.month - 1) % 3 + 1))
    last_quarter = [quarter_end.shift(-2), quarter_end.shift(-1), quarter_end]
    sent = datetime(month.end.year, month.end.month, month.end.day, 20, tzinfo=VN_TZ)
    sent += timedelta(days=5)
    for province in data.provinces[:NIGHT_CORRECTIONS]:
        rows = [r for m in last_quarter for r in _month_rows(data, province, m, complete=True)]
        fixed = _corrected(data, rows, (province, month.index, "night"))
        q = last_quarter[-1]
        rel = f"{province}/{q.year}/{province}_{q.year}Q{q.quarter}_dieuchinh_{month.index}.csv"
        written.append(_write(root, rel, csv_bytes(fixed, _vietnamese(data, province)), sent))
    return written


def row_count(paths: list[Path]) -> int:
    """Data rows in the written files (each has one header line)."""
    return sum(path.read_bytes().count(b"\n") - 1 for path in paths)
