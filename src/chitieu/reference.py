"""Reference data (catalog, units, provinces) from the dbt seed files.

The seeds in `dbt_project/seeds/` are the one source of truth: dbt loads them into the
warehouse for the marts, and the ingest validator reads the same files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Indicator:
    code: str
    unit_of_measure: str  # percent | count | vnd | days | rank | milestone
    direction: str
    reporting_units: tuple[str, ...]  # ("*",) means any unit
    frequency: str

    def may_be_reported_by(self, unit_code: str) -> bool:
        return "*" in self.reporting_units or unit_code in self.reporting_units


@dataclass(frozen=True)
class Reference:
    indicators: dict[str, Indicator]
    units: frozenset[str]
    provinces: frozenset[str]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=4)
def load_reference(seeds_dir: Path) -> Reference:
    indicators = {
        row["indicator_code"]: Indicator(
            code=row["indicator_code"],
            unit_of_measure=row["unit_of_measure"],
            direction=row["direction"],
            reporting_units=tuple(row["reporting_units"].split(";")),
            frequency=row["frequency"],
        )
        for row in _rows(seeds_dir / "indicator_catalog.csv")
    }
    units = frozenset(row["unit_code"] for row in _rows(seeds_dir / "units.csv"))
    provinces = frozenset(row["province_code"] for row in _rows(seeds_dir / "provinces.csv"))
    return Reference(indicators=indicators, units=units, provinces=provinces)
