"""The warehouse on a generated national dataset: build, gates and a night, at several scales.

    .venv/bin/python benchmarks/warehouse_build.py                # scale 1 and 10
    .venv/bin/python benchmarks/warehouse_build.py --scales 1

For each scale (`chitieu.national`: 34 provinces × every unit × every indicator, 36 × scale
months of history), on a fresh embedded PostgreSQL:

1. the history is generated, ingested, built with a full refresh, gated and published;
2. a night's files (the next month, and a few corrections of the last quarter) land, and the
   nightly job runs step by step (`chitieu run` does exactly these): ingest, staging build,
   staging gate, incremental marts build, mart gates, publish; its total is the end-to-end
   figure;
3. the marts are then rebuilt with a full refresh over the same data: the baseline of the
   incremental build (target: incremental ≤ 0.2 × full).

Gate time is reported as a share of the night's run. Across scales, the night's cost should
follow the night's data (the same at every scale), not the history's size: the exponent e in
time ∝ scale^e is printed (0: independent of the history; 1: proportional to it).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _common import SEEDS, embedded_home, entry, merge_results, timed

BUILD_TARGET = 0.2


def _quiet(_line: str) -> None:
    pass


def _full_build(settings, url: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from chitieu import pipeline

    run_id = "bench-full"
    seconds = {}
    _, seconds["staging"] = timed(lambda: pipeline.build_staging(settings, url, _quiet))
    _, seconds["staging_gate"] = timed(lambda: pipeline.gate_staging(settings, url, run_id, _quiet))
    _, seconds["marts"] = timed(
        lambda: pipeline.build_marts(settings, url, _quiet, full_refresh=True, build_id=run_id)
    )
    _, seconds["mart_gates"] = timed(lambda: pipeline.gate_marts(settings, url, run_id, _quiet))
    _, seconds["publish"] = timed(lambda: pipeline.publish_marts(url, _quiet, run_id))
    return seconds


def _night(settings, url: str, landing: Path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The nightly job's steps, as `pipeline.run` chains them, each timed."""
    from chitieu import pipeline
    from chitieu.ingest.run import ingest_landing

    run_id = "bench-night"
    steps: list[tuple[str, Callable[[], object]]] = [
        ("ingest", lambda: ingest_landing(landing, settings, _quiet)),
        ("staging", lambda: pipeline.build_staging(settings, url, _quiet)),
        ("staging_gate", lambda: pipeline.gate_staging(settings, url, run_id, _quiet)),
        ("marts", lambda: pipeline.build_marts(settings, url, _quiet, build_id=run_id)),
        ("mart_gates", lambda: pipeline.gate_marts(settings, url, run_id, _quiet)),
        ("publish", lambda: pipeline.publish_marts(url, _quiet, run_id)),
    ]
    seconds = {}
    for name, step in steps:
        _, seconds[name] = timed(step)
    return seconds


def bench_scale(scale: int) -> dict[str, float]:
    from chitieu.config import load_settings
    from chitieu.db import warehouse_url
    from chitieu.ingest.run import ingest_landing
    from chitieu.national import load_dataset, row_count, write_history, write_night

    with embedded_home() as home:
        settings = load_settings()
        url = warehouse_url(settings)
        landing = home / "landing"
        data = load_dataset(SEEDS)
        files, generate_s = timed(lambda: write_history(landing, data, scale))
        rows = row_count(files)
        print(f"\nscale {scale}: {len(files)} files, {rows:,} rows of history "
              f"(generated in {generate_s:.1f} s)", flush=True)  # fmt: skip
        summary, ingest_s = timed(lambda: ingest_landing(landing, settings, _quiet))
        if summary.counts["accepted"] != len(files):
            raise SystemExit(f"history not accepted whole: {summary.lines()}")
        print(f"  ingest history        {ingest_s:7.1f} s  ({rows / ingest_s:,.0f} rows/s)")
        full = _full_build(settings, url)
        print(f"  first build (full)    {sum(full.values()):7.1f} s  {_steps(full)}", flush=True)

        night_files = write_night(landing, data)
        night = _night(settings, url, landing)
        night_total = sum(night.values())
        print(f"  night ({len(night_files)} files, {row_count(night_files):,} rows) "
              f"{night_total:5.1f} s  {_steps(night)}", flush=True)  # fmt: skip

        from chitieu import pipeline

        _, full_marts = timed(
            lambda: pipeline.build_marts(settings, url, _quiet, full_refresh=True)
        )
        ratio = night["marts"] / full_marts
        print(f"  marts build: incremental {night['marts']:.1f} s vs full refresh "
              f"{full_marts:.1f} s: ratio {ratio:.2f} (target ≤ {BUILD_TARGET})")  # fmt: skip
    gates = night["staging_gate"] + night["mart_gates"]
    return {
        "history_rows": rows,
        "ingest_rows_per_s": rows / ingest_s,
        "night_s": night_total,
        "night_ingest_s": night["ingest"],
        "incremental_marts_s": night["marts"],
        "full_marts_s": full_marts,
        "staging_gate_s": night["staging_gate"],
        "mart_gates_s": night["mart_gates"],
        "gates_s": gates,
    }


def _steps(seconds: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.1f}" for name, value in seconds.items())


def _entries(scale: int, f: dict[str, float]) -> list[dict]:
    s = f"_scale{scale}"
    return [
        entry(f"build_incremental_s{s}", f["incremental_marts_s"], "s", f["full_marts_s"]),
        entry(f"gates_s{s}", f["gates_s"], "s", f["night_s"]),
        entry(f"gate_staging_s{s}", f["staging_gate_s"], "s", f["night_s"]),
        entry(f"gate_marts_s{s}", f["mart_gates_s"], "s", f["night_s"]),
        entry(f"night_run_s{s}", f["night_s"], "s"),
        entry(f"history_rows{s}", f["history_rows"], "rows"),
        entry(f"history_ingest_rows_per_s{s}", f["ingest_rows_per_s"], "rows/s"),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--no-results", action="store_true", help="do not write bench-results")
    args = parser.parse_args(argv)
    os.environ["DBT_QUIET"] = "true"  # dbt's per-model lines would bury the figures
    started = time.perf_counter()
    figures = {scale: bench_scale(scale) for scale in args.scales}
    entries = [item for scale, f in figures.items() for item in _entries(scale, f)]
    low, high = min(args.scales), max(args.scales)
    if high > low:
        growth = figures[high]["night_s"] / figures[low]["night_s"]
        exponent = math.log(growth) / math.log(high / low)
        print(f"\nnight's run: {figures[low]['night_s']:.1f} s at scale {low}, "
              f"{figures[high]['night_s']:.1f} s at scale {high}: ×{growth:.2f}, "
              f"exponent {exponent:.2f} (0: the history's size does not matter)")  # fmt: skip
        entries.append(
            entry(
                f"night_run_s_scale{high}_vs_{low}",
                figures[high]["night_s"],
                "s",
                figures[low]["night_s"],
            )
        )
        entries.append(entry(f"night_run_scaling_exponent_{low}_{high}", exponent, "exponent"))
    if not args.no_results:
        merge_results(entries)
    print(f"warehouse benchmark done in {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
