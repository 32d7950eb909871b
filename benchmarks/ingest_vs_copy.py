"""Ingest throughput and memory against a raw COPY baseline, on one embedded PostgreSQL.

    .venv/bin/python benchmarks/ingest_vs_copy.py --rows 1000000
    .venv/bin/python benchmarks/ingest_vs_copy.py      # 250k and 1M rows: memory stays flat
    .venv/bin/python benchmarks/ingest_vs_copy.py --rows 250000 --xlsx-rows 0  # no XLSX

For each size it writes one large *valid* submission CSV (unique province/unit/period/
indicator keys built from the dbt seeds; every period ended before the file's date; every
unit allowed to report its indicator; canonical text, so the baselines can COPY it as is),
then measures, each in a child process of its own so that the peak RSS (VmHWM) and the CPU
time are that step's alone:

- ours: `chitieu.ingest.load.ingest_file` on the file, the real path: hash, ledger, read,
  validate, COPY into raw.submission_value, duplicate-key check, commit.
- raw: the baseline. The same CSV read with the `csv` module and its already-clean cells
  COPYed as tuples (`COPY ... FROM STDIN`, `write_row`) into an unindexed table with the
  same columns. The ratio ours/raw is against this one.
- raw_constrained: the same as raw into a copy of raw.submission_value (`like ... including
  all`: its primary key): what the database alone costs for our table.
- raw_text: the file's bytes streamed straight into `COPY ... FROM STDIN (FORMAT csv)`, no
  Python per row at all.
- to_sql: what a typical tutorial pipeline does, `pandas.read_csv` then
  `DataFrame.to_sql` (SQLAlchemy's default driver, psycopg2) into an unindexed table, on the first
  `TO_SQL_ROWS` rows only (it is slow): compared in rows/s (target: ours ≥ 10× faster).

Then, once (`--xlsx-rows`, 50,000 by default; 0 skips it), the same kind of valid submission
written as an XLSX workbook (openpyxl, write-only: codes, period and note as text, numerator,
denominator and value as numbers) and ingested by `ingest_file` exactly as `ours` is, against
the very same rows as a CSV file through the same path: what a submission costs as XLSX.

Figures are printed and merged by name into bench-results.json (entries
{"name", "value", "unit", "baseline", "ratio"}), beside other benchmarks' entries. The
machine's load shows in them: run it on a quiet machine, twice.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import RESULTS, SEEDS, embedded_home, entry, merge_results

from chitieu.ingest.header import CONTRACT_COLUMNS

HEADER = CONTRACT_COLUMNS
LAST_YEAR = 2024  # every period ends by 2024-12-31, long before the file's date
FIRST_YEAR = 1900  # the contract's earliest year
BASELINE_TABLE = "bench.copy_baseline"
TARGET_RATIO = 2.0
STEPS = ("raw_text", "raw", "raw_constrained", "to_sql", "ours")
TO_SQL_ROWS = 100_000
TO_SQL_TARGET = 10.0
TARGET_RSS_MB = 300.0


# --- the submission file -------------------------------------------------------------------


def _pairs() -> tuple[list[str], list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Provinces, and the (unit, indicator, kind) pairs a unit may report, monthly/quarterly."""
    from chitieu.reference import load_reference

    reference = load_reference(SEEDS)
    monthly: list[tuple[str, str, str]] = []
    quarterly: list[tuple[str, str, str]] = []
    for indicator in sorted(reference.indicators.values(), key=lambda i: i.code):
        for unit in sorted(reference.units):
            if indicator.may_be_reported_by(unit):
                target = monthly if indicator.frequency == "monthly" else quarterly
                target.append((unit, indicator.code, indicator.unit_of_measure))
    return sorted(reference.provinces), monthly, quarterly


def _values(kind: str, rng: random.Random) -> tuple[str, str, str]:
    """numerator, denominator, value: valid for the indicator's unit, in canonical text."""
    if kind == "percent":
        denominator = rng.randint(1, 500_000)
        numerator = rng.randint(0, denominator)
        shape = rng.random()
        rate = f"{100 * numerator / denominator:.2f}"
        if shape < 0.6:
            return str(numerator), str(denominator), rate
        if shape < 0.9:
            return str(numerator), str(denominator), ""
        return "", "", rate
    if kind == "rank":
        return "", "63", str(rng.randint(1, 63))
    if kind == "milestone":
        return "", "", rng.choice("01")
    if kind == "vnd":
        return "", "", str(rng.randint(0, 10**12))
    return "", "", str(rng.randint(0, 5_000))  # count, days


def write_submission(path: Path, rows: int, seed: int = 6) -> int:
    """A valid submission of `rows` rows with unique keys, newest periods first."""
    provinces, monthly, quarterly = _pairs()
    rng = random.Random(seed)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for year in range(LAST_YEAR, FIRST_YEAR - 1, -1):
            periods = [(f"{year}-{m:02d}", monthly) for m in range(12, 0, -1)]
            periods += [(f"{year}-Q{q}", quarterly) for q in range(4, 0, -1)]
            for period, pairs in periods:
                for province in provinces:
                    for unit, indicator, kind in pairs:
                        numerator, denominator, value = _values(kind, rng)
                        note = "đính chính số liệu" if rng.random() < 0.02 else ""
                        writer.writerow(
                            (province, unit, period, indicator, numerator, denominator, value, note)
                        )
                        written += 1
                        if written == rows:
                            return written
    raise SystemExit(f"only {written} unique keys exist; ask for fewer rows")


def write_xlsx(csv_path: Path, xlsx_path: Path) -> int:
    """The rows of the CSV `csv_path` as the first sheet of an XLSX workbook: the same header
    and cells, numerator/denominator/value as numbers (empty cells left empty), the rest as
    text (province codes keep their leading zero, periods stay `2024-03`)."""
    from openpyxl import Workbook

    numeric = {HEADER.index(name) for name in ("numerator", "denominator", "value")}

    def number(cell: str) -> int | float:
        return float(cell) if "." in cell else int(cell)

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    written = 0
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        sheet.append(next(reader))
        for cells in reader:
            sheet.append([(number(cell) if i in numeric else cell) if cell else None
                          for i, cell in enumerate(cells)])  # fmt: skip
            written += 1
    workbook.save(xlsx_path)
    return written


# --- measurements, each in its own child process ---------------------------------------------


def _cpu_s() -> float:
    """CPU time (user + system) this process has used."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    """The process's peak resident set size (VmHWM), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_ours(url: str, csv_path: Path, scratch: Path) -> dict[str, object]:
    from chitieu.ingest.load import ingest_file
    from chitieu.ingest.run import ensure_schema
    from chitieu.reference import load_reference

    ensure_schema(url)
    reference = load_reference(SEEDS)
    cpu, started = _cpu_s(), time.perf_counter()
    result = ingest_file(url, csv_path.parent, csv_path.name, reference, scratch / "quarantine")
    seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
    if result.outcome != "accepted":
        raise SystemExit(f"the benchmark file was not accepted: {result}")
    return {"seconds": seconds, "cpu_s": cpu, "rows": result.rows, "rss_mb": _peak_rss_mb()}


def _baseline_table(conn: object, constrained: bool = False) -> None:
    """The baseline's table: raw.submission_value's columns, no index, no constraint; or,
    `constrained`, with its indexes and constraints too (`including all`)."""
    execute = conn.execute  # type: ignore[attr-defined]
    execute("create schema if not exists bench")
    execute(f"drop table if exists {BASELINE_TABLE}")
    if not constrained:
        execute(
            f"create table {BASELINE_TABLE} (submission_id bigint, row_number integer,"
            " province_code text, unit_code text, period text, indicator_code text,"
            " numerator bigint, denominator bigint, value numeric, note text)"
        )
        return
    execute(f"create table {BASELINE_TABLE} (like raw.submission_value including all)")


# The columns the baselines fill (raw.submission_value's sheet columns keep their defaults).
_BASELINE_COLUMNS = f"submission_id, row_number, {', '.join(HEADER)}"


def _child_raw(url: str, csv_path: Path, constrained: bool = False) -> dict[str, object]:
    """csv module → tuples of the already-clean cells → COPY FROM STDIN (write_row), one
    transaction."""
    import psycopg

    from chitieu.ingest.run import ensure_schema

    ensure_schema(url)
    with psycopg.connect(url) as conn:
        _baseline_table(conn, constrained)
        conn.commit()
        cpu, started = _cpu_s(), time.perf_counter()
        rows = 0
        with (
            conn.cursor().copy(f"copy {BASELINE_TABLE} ({_BASELINE_COLUMNS}) from stdin") as copy,
            csv_path.open(encoding="utf-8", newline="") as handle,
        ):
            reader = csv.reader(handle)
            next(reader)
            for number, cells in enumerate(reader, start=2):
                copy.write_row((0, number, *[cell or None for cell in cells]))
                rows += 1
        conn.commit()
        seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
        conn.execute(f"drop table {BASELINE_TABLE}")
    return {"seconds": seconds, "cpu_s": cpu, "rows": rows, "rss_mb": _peak_rss_mb()}


def _child_raw_text(url: str, csv_path: Path) -> dict[str, object]:
    """The file's bytes → COPY FROM STDIN (FORMAT csv, HEADER), one transaction."""
    import psycopg

    columns = ", ".join(HEADER)
    with psycopg.connect(url) as conn:
        _baseline_table(conn)
        conn.commit()
        cpu, started = _cpu_s(), time.perf_counter()
        with (
            conn.cursor().copy(
                f"copy {BASELINE_TABLE} ({columns}) from stdin (format csv, header true)"
            ) as copy,
            csv_path.open("rb") as handle,
        ):
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                copy.write(chunk)
        conn.commit()
        seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
        rows = conn.execute(f"select count(*) from {BASELINE_TABLE}").fetchone()[0]
        conn.execute(f"drop table {BASELINE_TABLE}")
    return {"seconds": seconds, "cpu_s": cpu, "rows": rows, "rss_mb": _peak_rss_mb()}


def _child_to_sql(url: str, csv_path: Path) -> dict[str, object]:
    """pandas.read_csv → DataFrame.to_sql (SQLAlchemy's default inserts), first rows only."""
    import pandas
    import sqlalchemy

    # SQLAlchemy's default PostgreSQL driver (psycopg2), as a tutorial's engine URL gets.
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("create schema if not exists bench"))
    cpu, started = _cpu_s(), time.perf_counter()
    frame = pandas.read_csv(csv_path, nrows=TO_SQL_ROWS, dtype=str, keep_default_na=False)
    frame.to_sql("to_sql_baseline", engine, schema="bench", if_exists="replace",
                        index=False, chunksize=10_000)  # fmt: skip
    seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("drop table bench.to_sql_baseline"))
    engine.dispose()
    return {"seconds": seconds, "cpu_s": cpu, "rows": len(frame), "rss_mb": _peak_rss_mb()}


def _run_child(step: str, url: str, csv_path: Path, scratch: Path, profile: bool) -> dict:
    command = [sys.executable, __file__, "--child", step, "--url", url, "--csv", str(csv_path)]
    command += ["--scratch", str(scratch)]
    if profile:
        command.append("--profile")
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child_main(args: argparse.Namespace) -> None:
    steps = {
        "ours": lambda: _child_ours(args.url, args.csv, args.scratch),
        "raw": lambda: _child_raw(args.url, args.csv),
        "raw_text": lambda: _child_raw_text(args.url, args.csv),
        "raw_constrained": lambda: _child_raw(args.url, args.csv, constrained=True),
        "to_sql": lambda: _child_to_sql(args.url, args.csv),
    }
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        figures = profiler.runcall(steps[args.child])
        stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime")
        stats.print_stats(25)
    else:
        figures = steps[args.child]()
    print(json.dumps(figures))


# --- the run ---------------------------------------------------------------------------------


def bench_size(rows: int, url: str, scratch: Path, profile: bool) -> list[dict]:
    landing = scratch / f"landing-{rows}"
    landing.mkdir()
    csv_path = landing / f"bench_{rows}.csv"
    started = time.perf_counter()
    write_submission(csv_path, rows)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"\n{rows:,} rows: wrote {csv_path.name} ({size_mb:.0f} MB) in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    figures = {}
    for step in STEPS:
        _checkpoint(url)
        figures[step] = _run_child(step, url, csv_path, scratch, profile and step == "ours")
        f = figures[step]
        assert f["rows"] == _rows_of(step, rows), (step, f["rows"], rows)
        f["rows_per_s"] = f["rows"] / f["seconds"]
        print(f"  {step:<15} {f['seconds']:7.2f} s  {f['rows_per_s']:>10,.0f} rows/s"
              f"  client CPU {f['cpu_s']:6.2f} s  peak RSS {f['rss_mb']:6.1f} MB")  # fmt: skip
    ours, raw = figures["ours"], figures["raw"]
    text, constrained = figures["raw_text"], figures["raw_constrained"]
    ratio = ours["seconds"] / raw["seconds"]
    print(f"  ratio ours/raw (time) {ratio:.2f}  (target ≤ {TARGET_RATIO:g}); "
          f"ours/raw_text {ours['seconds'] / text['seconds']:.2f}; "
          f"ours/raw_constrained {ours['seconds'] / constrained['seconds']:.2f}")  # fmt: skip
    speedup = ours["rows_per_s"] / figures["to_sql"]["rows_per_s"]
    print(f"  ours vs pandas to_sql (rows/s, on its first {TO_SQL_ROWS:,} rows): {speedup:.1f}x "
          f"faster (target ≥ {TO_SQL_TARGET:g}x)")  # fmt: skip
    print(f"  ours peak RSS {ours['rss_mb']:.1f} MB (target < {TARGET_RSS_MB:g} MB)")
    csv_path.unlink()
    suffix = _suffix(rows)
    return [
        entry(
            f"ingest_rows_per_s_{suffix}", rows / ours["seconds"], "rows/s", rows / raw["seconds"]
        ),
        entry(f"ingest_seconds_{suffix}", ours["seconds"], "s", raw["seconds"]),
        entry(
            f"ingest_seconds_vs_constrained_copy_{suffix}",
            ours["seconds"],
            "s",
            constrained["seconds"],
        ),
        entry(f"ingest_client_cpu_s_{suffix}", ours["cpu_s"], "s", raw["cpu_s"]),
        entry(f"ingest_peak_rss_mb_{suffix}", ours["rss_mb"], "MB", raw["rss_mb"]),
        entry(f"copy_text_rows_per_s_{suffix}", rows / text["seconds"], "rows/s"),
        entry(
            f"ingest_rows_per_s_vs_to_sql_{suffix}",
            ours["rows_per_s"],
            "rows/s",
            figures["to_sql"]["rows_per_s"],
        ),
    ]


def bench_xlsx(rows: int, url: str, scratch: Path, profile: bool) -> list[dict]:
    """`ours` on one submission as XLSX, against the same rows as CSV."""
    landing = scratch / f"landing-xlsx-{rows}"
    landing.mkdir()
    csv_path = landing / f"bench_xlsx_{rows}.csv"
    xlsx_path = csv_path.with_suffix(".xlsx")
    started = time.perf_counter()
    write_submission(csv_path, rows)
    written = write_xlsx(csv_path, xlsx_path)
    assert written == rows, (written, rows)
    print(f"\n{rows:,} rows as XLSX: wrote {xlsx_path.name} ({xlsx_path.stat().st_size / 1e6:.1f}"
          f" MB) and {csv_path.name} ({csv_path.stat().st_size / 1e6:.1f} MB) in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    figures = {}
    for kind, path in (("csv", csv_path), ("xlsx", xlsx_path)):
        _checkpoint(url)
        figures[kind] = f = _run_child("ours", url, path, scratch, profile)
        assert f["rows"] == rows, (kind, f["rows"], rows)
        f["rows_per_s"] = f["rows"] / f["seconds"]
        print(f"  ours {kind:<10} {f['seconds']:7.2f} s  {f['rows_per_s']:>10,.0f} rows/s"
              f"  client CPU {f['cpu_s']:6.2f} s  peak RSS {f['rss_mb']:6.1f} MB")  # fmt: skip
    xlsx, text = figures["xlsx"], figures["csv"]
    print(f"  ratio xlsx/csv (time) {xlsx['seconds'] / text['seconds']:.2f}")
    csv_path.unlink()
    xlsx_path.unlink()
    suffix = _suffix(rows)
    return [
        entry(f"ingest_xlsx_seconds_{suffix}", xlsx["seconds"], "s", text["seconds"]),
        entry(f"ingest_xlsx_rows_per_s_{suffix}", xlsx["rows_per_s"], "rows/s", text["rows_per_s"]),
        entry(f"ingest_xlsx_csv_rows_per_s_{suffix}", text["rows_per_s"], "rows/s"),
        entry(f"ingest_xlsx_peak_rss_mb_{suffix}", xlsx["rss_mb"], "MB", text["rss_mb"]),
    ]


def _suffix(rows: int) -> str:
    """How entry names give a size: 250k, 1M."""
    return f"{rows // 1000}k" if rows < 1_000_000 else f"{rows / 1e6:g}M"


def _checkpoint(url: str) -> None:
    """Write out what the steps before left in shared buffers and the WAL, so that a step
    does not pay for the previous one's writes (a checkpoint starting mid-step)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("checkpoint")


def _rows_of(step: str, rows: int) -> int:
    return min(rows, TO_SQL_ROWS) if step == "to_sql" else rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--xlsx-rows", type=int, default=50_000,
                        help="rows of the XLSX vs CSV submission (0: skip it)")  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="cProfile ours, to stderr")
    parser.add_argument("--no-results", action="store_true", help="do not write bench-results")
    parser.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child_main(args)
        return

    with embedded_home() as scratch:
        from chitieu.config import load_settings
        from chitieu.db import warehouse_url

        url = warehouse_url(load_settings())
        print(f"embedded PostgreSQL under {scratch}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
        entries = []
        for rows in args.rows:
            entries += bench_size(rows, url, scratch, args.profile)
        if args.xlsx_rows:
            entries += bench_xlsx(args.xlsx_rows, url, scratch, args.profile)
    if not args.no_results:
        merge_results(entries)
        print(f"\nwrote {len(entries)} entries to {RESULTS.name}")


if __name__ == "__main__":
    main()
