"""What every benchmark shares: a throwaway embedded warehouse and bench-results.json.

Figures are entries {"name", "value", "unit", "baseline", "ratio"}: `baseline` is the
same quantity for the thing compared against, measured in the same run (our machines are
noisy, so only ratios travel), and `ratio` = value / baseline.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "dbt_project" / "seeds"
RESULTS = REPO / "bench-results.json"

T = TypeVar("T")


def entry(name: str, value: float, unit: str, baseline: float | None = None) -> dict:
    ratio = round(value / baseline, 3) if baseline else None
    baseline_value = None if baseline is None else round(baseline, 3)
    return {"name": name, "value": round(value, 3), "unit": unit, "baseline": baseline_value,
            "ratio": ratio}  # fmt: skip


def merge_results(entries: list[dict[str, object]], path: Path = RESULTS) -> None:
    """Add or replace entries by name in bench-results.json, keeping other benchmarks'."""
    existing: list[dict[str, object]] = []
    if path.exists():
        existing = json.loads(path.read_text(encoding="utf-8"))
    names = {item["name"] for item in entries}
    merged = [item for item in existing if item.get("name") not in names] + entries
    path.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@contextmanager
def embedded_home(prefix: str = "ctb-") -> Iterator[Path]:
    """CHITIEU_HOME in a fresh short temp dir (the embedded server's Unix socket path must
    stay under ~107 bytes), its embedded server stopped and the dir removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    saved = {name: os.environ.get(name) for name in _ENVIRONMENT}
    os.environ["CHITIEU_HOME"] = str(home)
    for name in _ENVIRONMENT[1:]:
        os.environ.pop(name, None)
    from chitieu.config import load_settings
    from chitieu.db import stop_embedded

    try:
        yield home
    finally:
        stop_embedded(load_settings())
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(home, ignore_errors=True)


_ENVIRONMENT = ("CHITIEU_HOME", "CHITIEU_DB_URL", "CHITIEU_LANDING_DIR", "CHITIEU_QUARANTINE_DIR")


def timed(step: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started
