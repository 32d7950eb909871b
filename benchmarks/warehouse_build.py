"""The warehouse on a generated national dataset: build, gates and a night, at several scales.

    .venv/bin/python benchmarks/warehouse_build.py                # scale 1 and 10
    .venv/bin/python benchmarks/warehouse_build.py --scales 1

For each scale (`chitieu.national`: 34 provinces × every unit × every indicator, 36 × scale
months of history), on a fresh embedded PostgreSQL:

1. the history is generated, ingested, built with a full refresh, gated and published, then
   built, gated and published twice more: a night's build starts from the candidate schema,
   which holds the build before last (publication rotates three schemas), so only from a
   warehouse's fourth build on is a night incremental, as every night of a running one is;
2. a night's files (the next month, and a few corrections of the last quarter) land, and the
   nightly job runs step by step (`chitieu run` does exactly these): ingest, staging build,
   staging gate, marts models (incremental), their dbt tests, mart gates, publish; its total
   is the end-to-end figure;
3. the marts are then rebuilt with a full refresh over the same data: its models are the
   baseline of the incremental ones (target: incremental ≤ 0.2 × full); its tests are timed
   too (they read whole marts, so they cost the same after either build).

Between 2 and 3, the same landing area is run again with `chitieu run`'s code: nothing new
arrived, so it must stop after the ingest (target: ≤ 0.05 of the night's run).

Before any data lands, the marts models are built over the empty warehouse: what dbt costs
with nothing to compute (start, and each model's statements: temp table, contract check,
comments, commit). No build of the same models, incremental or not, can take less, so
this floor over the full refresh is the best ratio an incremental night could reach.

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
EMPTY_NIGHT_TARGET = 0.05
# Builds of the history before the night: see step 1 above.
SETTLING_BUILDS = 3


def _quiet(_line: str) -> None:
    pass


def _timed_steps(steps: list[tuple[str, Callable[[], object]]]) -> dict[str, float]:
    seconds = {}
    for name, step in steps:
        _, seconds[name] = timed(step)
    return seconds


def _marts_steps(settings, url: str, run_id: str, full_refresh: bool) -> list:  # type: ignore[no-untyped-def]
    """`pipeline.build_marts` in its two timed parts: the models (with the incremental
    state's begin) and the dbt tests (with its commit)."""
    from chitieu import pipeline

    def models() -> None:
        pipeline.run_marts_models(settings, url, _quiet, full_refresh)

    def tests() -> None:
        pipeline.run_marts_tests(settings, url)
        pipeline.finish_marts_build(settings, url, run_id)

    return [("marts_models", models), ("marts_tests", tests)]


def _build_and_publish(settings, url: str, run_id: str, full_refresh: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from chitieu import pipeline

    return _timed_steps([
        *_marts_steps(settings, url, run_id, full_refresh),
        ("mart_gates", lambda: pipeline.gate_marts(settings, url, run_id, _quiet)),
        ("publish", lambda: pipeline.publish_marts(url, _quiet, run_id)),
    ])  # fmt: skip


def _empty_build(settings, url: str) -> float:
    """The marts models over a warehouse with no submission (staging built first, so dbt
    has parsed): the best of two full builds, as the first also opens dbt's connections."""
    from chitieu import pipeline

    pipeline.build_staging(settings, url, _quiet)

    def build() -> None:
        pipeline.run_marts_models(settings, url, _quiet, full_refresh=True)

    return min(timed(build)[1] for _ in range(2))


def _history_builds(settings, url: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Staging, its gate, then SETTLING_BUILDS builds of the marts; returns the first's steps."""
    from chitieu import pipeline

    first = _timed_steps([
        ("staging", lambda: pipeline.build_staging(settings, url, _quiet)),
        ("staging_gate", lambda: pipeline.gate_staging(settings, url, "bench-history", _quiet)),
    ])  # fmt: skip
    first |= _build_and_publish(settings, url, "bench-history-1", full_refresh=True)
    for number in range(2, SETTLING_BUILDS + 1):
        _build_and_publish(settings, url, f"bench-history-{number}", full_refresh=False)
    return first


def _night(settings, url: str, landing: Path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The nightly job's steps, as `pipeline.run` chains them, each timed."""
    from chitieu import pipeline
    from chitieu.ingest.run import ingest_landing

    run_id = "bench-night"
    return _timed_steps([
        ("ingest", lambda: ingest_landing(landing, settings, _quiet)),
        ("staging", lambda: pipeline.build_staging(settings, url, _quiet)),
        ("staging_gate", lambda: pipeline.gate_staging(settings, url, run_id, _quiet)),
        *_marts_steps(settings, url, run_id, full_refresh=False),
        ("mart_gates", lambda: pipeline.gate_marts(settings, url, run_id, _quiet)),
        ("publish", lambda: pipeline.publish_marts(url, _quiet, run_id)),
    ])  # fmt: skip


def bench_scale(scale: int) -> dict[str, float]:
    from chitieu import pipeline
    from chitieu.config import load_settings
    from chitieu.db import warehouse_url
    from chitieu.ingest.run import ingest_landing
    from chitieu.national import load_dataset, row_count, write_history, write_night

    with embedded_home() as home:
        settings = load_settings()
        url = warehouse_url(settings)
        landing = home / "landing"
        data = load_dataset(SEEDS)
        empty_s = _empty_build(settings, url)
        files, generate_s = timed(lambda: write_history(landing, data, scale))
        rows = row_count(files)
        print(f"\nscale {scale}: {len(files)} files, {rows:,} rows of history "
              f"(generated in {generate_s:.1f} s)", flush=True)  # fmt: skip
        summary, ingest_s = timed(lambda: ingest_landing(landing, settings, _quiet))
        if summary.counts["accepted"] != len(files):
            raise SystemExit(f"history not accepted whole: {summary.lines()}")
        print(f"  ingest history        {ingest_s:7.1f} s  ({rows / ingest_s:,.0f} rows/s)")
        first, settle_s = timed(lambda: _history_builds(settings, url))
        print(f"  first build (full)    {sum(first.values()):7.1f} s  {_steps(first)}")
        print(f"  {SETTLING_BUILDS} builds of the history {settle_s:6.1f} s", flush=True)

        night_files = write_night(landing, data)
        night = _night(settings, url, landing)
        night_total = sum(night.values())
        print(f"  night ({len(night_files)} files, {row_count(night_files):,} rows) "
              f"{night_total:5.1f} s  {_steps(night)}", flush=True)  # fmt: skip

        quiet, quiet_s = timed(lambda: pipeline.run(landing, settings, _quiet))
        if not quiet.build.unchanged:
            raise SystemExit("the night after the night built again: it had nothing new")
        print(f"  a night with nothing new (`chitieu run`: ingest finds only files already "
              f"loaded, then stops) {quiet_s:.2f} s: {quiet_s / night_total:.3f} of the "
              f"night's run (target ≤ {EMPTY_NIGHT_TARGET})", flush=True)  # fmt: skip

        full = _timed_steps(_marts_steps(settings, url, "bench-full", full_refresh=True))
        ratio = night["marts_models"] / full["marts_models"]
        print(f"  marts models: incremental {night['marts_models']:.1f} s vs full refresh "
              f"{full['marts_models']:.1f} s: ratio {ratio:.2f} (target ≤ {BUILD_TARGET}); "
              f"dbt tests {night['marts_tests']:.1f} s after the night, "
              f"{full['marts_tests']:.1f} s after the full refresh")  # fmt: skip
        print(f"  marts models over the empty warehouse (dbt's fixed cost) {empty_s:.1f} s: "
              f"{empty_s / full['marts_models']:.2f} of the full refresh, the floor of that "
              f"ratio")  # fmt: skip
    gates = night["staging_gate"] + night["mart_gates"]
    return {
        "history_rows": rows,
        "ingest_rows_per_s": rows / ingest_s,
        "night_s": night_total,
        "empty_night_s": quiet_s,
        "night_ingest_s": night["ingest"],
        "incremental_marts_s": night["marts_models"],
        "full_marts_s": full["marts_models"],
        "empty_marts_s": empty_s,
        "night_tests_s": night["marts_tests"],
        "full_tests_s": full["marts_tests"],
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
        entry(f"build_empty_warehouse_s{s}", f["empty_marts_s"], "s", f["full_marts_s"]),
        entry(f"marts_tests_night_s{s}", f["night_tests_s"], "s", f["full_tests_s"]),
        entry(f"gates_s{s}", f["gates_s"], "s", f["night_s"]),
        entry(f"gate_staging_s{s}", f["staging_gate_s"], "s", f["night_s"]),
        entry(f"gate_marts_s{s}", f["mart_gates_s"], "s", f["night_s"]),
        entry(f"night_run_s{s}", f["night_s"], "s"),
        entry(f"empty_night_run_s{s}", f["empty_night_s"], "s", f["night_s"]),
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
