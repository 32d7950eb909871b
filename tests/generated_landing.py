"""Valid submission files generated in bulk: many small ones, or one large one.

Every row is valid under the submission contract: codes from the dbt seeds (provinces still
in existence, each indicator only from a unit that may report it), monthly periods that ended
before the file's date, rates as numerator/denominator with the value they imply.
"""

from __future__ import annotations

import csv
import os
import random
from datetime import datetime
from functools import cache
from pathlib import Path

from chitieu.config import load_settings
from chitieu.reference import load_reference
from tests.landing_files import HEADER, at

SUBMITTED = at("2025-01-15")  # after every period generated here


@cache
def current_provinces() -> tuple[str, ...]:
    """Province codes not merged away (a merged province cannot report recent periods)."""
    seeds = load_settings().seeds_dir / "provinces.csv"
    with seeds.open(encoding="utf-8") as handle:
        return tuple(
            sorted(r["province_code"] for r in csv.DictReader(handle) if not r["valid_to"])
        )


@cache
def monthly_rates() -> dict[str, tuple[str, ...]]:
    """unit → the monthly percent indicators it may report."""
    reference = load_reference(load_settings().seeds_dir)
    rates = sorted(
        i.code
        for i in reference.indicators.values()
        if i.frequency == "monthly" and i.unit_of_measure == "percent"
    )
    return {
        unit: tuple(c for c in rates if reference.indicators[c].may_be_reported_by(unit))
        for unit in sorted(reference.units)
    }


def months(last_year: int, count: int) -> list[str]:
    """`count` months, newest first, ending with December of `last_year`."""
    return [f"{last_year - i // 12}-{12 - i % 12:02d}" for i in range(count)]


def _rate_row(rng: random.Random, province: str, unit: str, period: str, code: str) -> str:
    denominator = rng.randint(1, 100_000)
    numerator = rng.randint(0, denominator)
    return f"{province},{unit},{period},{code},{numerator},{denominator},,"


def _write(path: Path, lines: list[str] | None, submitted: datetime) -> None:
    if lines is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    stamp = submitted.timestamp()
    os.utime(path, (stamp, stamp))


def write_unit_reports(
    landing: Path, provinces: int, files_per_province: int, seed: int = 7, skip: int = 0
) -> dict[str, int]:
    """`files_per_province` small reports from each of `provinces` provinces (after the first
    `skip`): one file per unit and month (2024-12, then 2024-11, ...), with every monthly rate
    the unit may report. Returns {path: rows}."""
    rng = random.Random(seed)
    written: dict[str, int] = {}
    units = [u for u, codes in monthly_rates().items() if codes]
    for province in current_provinces()[skip : skip + provinces]:
        for number in range(files_per_province):
            unit = units[number % len(units)]
            period = months(2024, number // len(units) + 1)[-1]
            rel = f"{province}/{unit}/{unit}_{province}_{period}.csv"
            lines = [_rate_row(rng, province, unit, period, c) for c in monthly_rates()[unit]]
            _write(landing / rel, lines, SUBMITTED)
            written[rel] = len(lines)
    return written


def write_large_report(
    landing: Path, rel: str, rows: int, last_year: int = 2024, seed: int = 11
) -> int:
    """One file of `rows` rows with unique keys: every province × unit × monthly rate, month
    after month back from December of `last_year`. Written line by line, so its size costs
    no memory."""
    rng = random.Random(seed)
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    pairs = [(u, c) for u, codes in monthly_rates().items() for c in codes]
    per_month = len(pairs) * len(current_provinces())
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER + "\n")
        for period in months(last_year, rows // per_month + 1):
            for province in current_provinces():
                for unit, code in pairs:
                    if written < rows:
                        handle.write(_rate_row(rng, province, unit, period, code) + "\n")
                        written += 1
    # Only once closed: the last write would otherwise stamp the file with the current time.
    _write(path, None, SUBMITTED)
    return written
