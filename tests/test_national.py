"""The generated national dataset the benchmarks load: valid, reproducible, and shaped as
its docstring says (missing reports, late reports, corrections)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from chitieu.ingest.run import ingest_landing
from chitieu.national import (
    HISTORY_MONTHS,
    VN_TZ,
    Dataset,
    history_months,
    load_dataset,
    write_history,
    write_night,
)
from tests.conftest import Warehouse


def _two_provinces(warehouse: Warehouse) -> Dataset:
    data = load_dataset(warehouse.settings.seeds_dir)
    assert len(data.provinces) == 34
    return replace(data, provinces=data.provinces[2:4])  # one English, one Vietnamese style


def test_every_generated_file_is_accepted(warehouse: Warehouse) -> None:
    data = _two_provinces(warehouse)
    history = write_history(warehouse.landing, data)
    night = write_night(warehouse.landing, data)
    summary = ingest_landing(warehouse.landing, warehouse.settings, lambda _line: None)
    assert summary.counts["accepted"] == len(history) + len(night), summary.lines()
    assert summary.counts["rejected"] == 0
    corrections = [p for p in history + night if "_dieuchinh" in p.name]
    assert corrections, "some reports are re-sent"
    # Some quarters' reports came weeks after their due date (5 days after the quarter).
    late = [p for p in history if "_dieuchinh" not in p.name and _days_after_quarter(p) > 15]
    assert 0 < len(late) < len(history) / 3
    # Some units' monthly reports never came: fewer keys than a complete history has.
    monthly = sum(1 for _, ind in data.pairs if ind.frequency == "monthly")
    quarterly = len(data.pairs) - monthly
    months = HISTORY_MONTHS + 1  # and the night's month
    complete = len(data.provinces) * (months * monthly + HISTORY_MONTHS // 3 * quarterly)
    keys = warehouse.query(
        "select count(*) from (select distinct province_code, unit_code, period, indicator_code"
        " from raw.submission_value) as k"
    )[0][0]
    assert 0.9 * complete < keys < complete


def _days_after_quarter(path: Path) -> int:
    year, quarter = path.stem.split("_")[1].split("Q")
    end = date(int(year) + int(quarter) // 4, int(quarter) % 4 * 3 + 1, 1) - timedelta(days=1)
    return (datetime.fromtimestamp(path.stat().st_mtime, VN_TZ).date() - end).days


def test_same_seed_same_files(tmp_path: Path, warehouse: Warehouse) -> None:
    data = _two_provinces(warehouse)
    first = write_history(tmp_path / "a", data)
    second = write_history(tmp_path / "b", data)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert [p.stat().st_mtime_ns for p in first] == [p.stat().st_mtime_ns for p in second]


def test_scale_multiplies_the_history() -> None:
    assert len(history_months(1)) == HISTORY_MONTHS
    months = history_months(10)
    assert len(months) == 10 * HISTORY_MONTHS
    assert months[-1] == history_months(1)[-1]  # the same last month at every scale


def test_chitieu_generate_writes_history_and_nights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from chitieu.cli import main

    assert main(["generate", "--out", str(tmp_path), "--nights", "1"]) == 0
    out = capsys.readouterr().out
    assert "history: 421 files, 74,417 rows (36 months)" in out
    assert "night 1: 37 files" in out
    assert len(list(tmp_path.rglob("*.csv"))) == 421 + 37
