"""Load: a whole province-wide drop of files processed in one run, `jobs` files at a time.

Ingest workers each hold their own connection and commit each file on its own, so what
must hold is what holds for one worker: every file accounted for exactly once in the
ledger, every accepted file's rows loaded exactly once, and identical files racing each
other settled by the ledger (one accepted, the others its duplicates).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from chitieu.ingest.run import ingest_landing
from chitieu.pipeline import run
from tests.conftest import Warehouse
from tests.generated_landing import write_unit_reports
from tests.landing_files import INTAKE, at, write_submission

PROVINCES, FILES_PER_PROVINCE = 35, 20  # 700 files
JOBS = 4


def test_identical_files_racing_are_loaded_once(warehouse: Warehouse) -> None:
    """Copies of one file ingested at the same time by different workers: the earliest copy
    is accepted, every other copy is its duplicate, and its rows are loaded once."""
    contents = 3
    copies = 6
    for content in range(contents):
        rows = [f"40,CA,2024-{9 + content:02d},{INTAKE},{600 + content},1000,,"]
        for copy in range(copies):
            # Later copies first in path order, so the earliest is not simply the first seen.
            rel = f"40/CA/copy_{copies - copy}_{content}.csv"
            write_submission(warehouse.landing, rel, rows, at(f"2024-12-{10 + copy}"))

    summary = ingest_landing(warehouse.landing, warehouse.settings, lambda _: None, jobs=copies)

    # A later copy done first is accepted, then becomes the duplicate when an earlier one
    # takes its content over (see chitieu.ingest.load), so the ledger has the final word.
    assert len(summary.results) == contents * copies
    ledger = warehouse.query(
        "select sha256, submission_id, outcome, path, duplicate_of, row_count"
        " from raw.submission_file order by sha256, submitted_at"
    )
    assert len({sha for sha, *_ in ledger}) == contents
    for content in range(contents):
        first, *rest = ledger[content * copies : (content + 1) * copies]
        assert {sha for sha, *_ in rest} == {first[0]}
        # The earliest copy (submitted first) holds the content.
        assert (first[2], first[4], first[5]) == ("accepted", None, 1)
        assert first[3].startswith(f"40/CA/copy_{copies}_")
        assert {(outcome, of, rows) for _, _, outcome, _, of, rows in rest} == {
            ("duplicate", first[1], 0)
        }
    assert warehouse.query("select count(*) from raw.submission_value") == [(contents,)]


class _Progress:
    """Keeps the run's progress lines, and when the ingest started and ended."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ingest_started = self.ingest_ended = 0.0

    def __call__(self, line: str) -> None:
        if line.startswith("ingesting "):
            self.ingest_started = time.monotonic()
        elif line.startswith("dbt:") and not self.ingest_ended:
            self.ingest_ended = time.monotonic()
        self.lines.append(line)


@pytest.mark.slow
def test_700_files_landing_at_once_in_one_run(
    warehouse: Warehouse, record_property: Callable[[str, object], None]
) -> None:
    files = write_unit_reports(warehouse.landing, PROVINCES, FILES_PER_PROVINCE)
    assert len(files) == 700
    expected_rows = sum(files.values())
    progress = _Progress()

    started = time.monotonic()
    summary = run(warehouse.landing, warehouse.settings, progress, jobs=JOBS)
    elapsed = time.monotonic() - started
    ingest = progress.ingest_ended - progress.ingest_started
    record_property("run_seconds_700_files", round(elapsed, 1))
    record_property("ingest_seconds_700_files", round(ingest, 1))
    print(f"\n700 files, {expected_rows} rows, {JOBS} at a time: ingest {ingest:.1f} s,", end=" ")
    print(f"whole run {elapsed:.1f} s")

    assert summary.ingest.counts == {"accepted": 700}
    assert summary.ingest.rows_loaded == expected_rows
    # None lost, none twice: one ledger row per file, with its own rows and no other.
    ledger = warehouse.query(
        "select f.path, f.outcome, f.row_count, count(v.row_number)"
        " from raw.submission_file f left join raw.submission_value v using (submission_id)"
        " group by f.submission_id order by f.path"
    )
    assert {path: (loaded, count) for path, _, loaded, count in ledger} == {
        path: (rows, rows) for path, rows in files.items()
    }
    assert len(ledger) == 700
    assert {outcome for _, outcome, _, _ in ledger} == {"accepted"}
    distinct_keys = warehouse.query(
        "select count(distinct (province_code, unit_code, period, indicator_code)),"
        " count(*) from raw.submission_value"
    )
    assert distinct_keys == [(expected_rows, expected_rows)]
    assert summary.build.mart_rows["fct_indicator_value"] == expected_rows
    # Progress: the pool size, then every file as it finishes.
    assert (
        f"ingesting 700 file(s) from {summary.ingest.landing} ({JOBS} at a time)" in progress.lines
    )
    numbered = [line for line in progress.lines if line.startswith("  [")]
    assert len(numbered) == 700
    assert numbered[-1].startswith("  [700/700] accepted")


def test_a_night_opens_only_the_files_the_ledger_has_not_seen(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past nights' files stay in the landing area: the ledger answers for them in one
    query, and only new or changed files reach `ingest_file`."""
    from chitieu.ingest import run as ingest_run

    for month in (9, 10, 11):
        rows = [f"40,CA,2024-{month:02d},{INTAKE},{600 + month},1000,,"]
        rel = f"40/CA/CA_40_2024-{month:02d}.csv"
        write_submission(warehouse.landing, rel, rows, at("2024-12-01"))
    first = ingest_landing(warehouse.landing, warehouse.settings, lambda _: None)
    assert first.counts["accepted"] == 3

    opened: list[str] = []
    ingest = ingest_run.ingest_file

    def counting(url: str, root: object, rel: str, *args: object) -> object:
        opened.append(rel)
        return ingest(url, root, rel, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_run, "ingest_file", counting)
    # October sent again, corrected, under the same name.
    rows = [f"40,CA,2024-10,{INTAKE},650,1000,,"]
    write_submission(warehouse.landing, "40/CA/CA_40_2024-10.csv", rows, at("2024-12-05"))
    second = ingest_landing(warehouse.landing, warehouse.settings, lambda _: None)
    assert opened == ["40/CA/CA_40_2024-10.csv"]
    assert second.counts == {"unchanged": 2, "accepted": 1}
