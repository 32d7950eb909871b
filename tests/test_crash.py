"""Crash safety: `chitieu run` killed with SIGKILL mid-ingest, mid-build and mid-publish.

One warehouse goes through a night gone wrong, in order (the tests of this module depend on
each other's state, so they run as a sequence): files A are published; files B arrive, with
one large file; the run is killed while that file's COPY is in progress; the next run is
killed while dbt builds the candidate marts; the next one is killed while the publishing
transaction is half done (blocked on a lock the test holds). After every kill nothing
partial is visible: no file half loaded, no row twice, the ledger agreeing with the rows,
the published marts exactly the old build. Every killed run is re-run by the next step, and
the last re-run must finish on its own and publish marts identical to those of one
uninterrupted run on the same files in a fresh database.

The kill points are found by watching the server (pg_stat_progress_copy, pg_class,
pg_stat_activity), never by sleeping: the child runs the real CLI, unmodified.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from chitieu.pipeline import MARTS, run
from tests.conftest import Warehouse, make_warehouse
from tests.generated_landing import write_large_report, write_unit_reports
from tests.test_demo import mart_checksums

pytestmark = pytest.mark.slow

BIG = "96/CA/CA_96_lich_su_2018-2023.csv"  # history resent in one large file
BIG_ROWS = 40_000  # enough for its COPY to be seen in progress, small for the build
WAIT_S = 300.0  # for a kill point or a run to finish, on a loaded 2-core machine


def _quiet(_line: str) -> None:
    pass


def land_first_files(landing: Path) -> dict[str, int]:
    return write_unit_reports(landing, provinces=3, files_per_province=6)


def land_second_files(landing: Path) -> dict[str, int]:
    files = write_unit_reports(landing, provinces=3, files_per_province=14, skip=3, seed=8)
    files[BIG] = write_large_report(landing, BIG, BIG_ROWS, last_year=2023)
    return files


# --- what is compared -----------------------------------------------------------------------


def portable_checksums(wh: Warehouse) -> dict[str, str]:
    """`mart_checksums` with each submission id replaced by its file's path: ids differ
    between databases (a killed transaction still used up the ids it drew)."""
    sums = {}
    for name in MARTS:
        sums[name] = wh.query(
            "select count(*) || ':' || md5(coalesce(string_agg(r::text, '|' order by r::text),"
            " '')) from (select (to_jsonb(t) - 'submission_id') || jsonb_build_object('file',"
            " f.path) as r from marts." + name + " t left join raw.submission_file f"
            " on f.submission_id = (to_jsonb(t) ->> 'submission_id')::bigint) as rows"
        )[0][0]
    return sums


def assert_nothing_partial(wh: Warehouse, expected_rows: dict[str, int]) -> None:
    """Every accepted file has exactly its rows, nothing else is loaded, no row is there
    twice, and no content or path is accepted twice."""
    mismatched = wh.query(
        "select f.path, f.row_count, count(v.row_number) from raw.submission_file f"
        " left join raw.submission_value v using (submission_id) where f.outcome = 'accepted'"
        " group by f.submission_id having count(v.row_number) <> f.row_count"
    )
    assert mismatched == []
    orphans = wh.query(
        "select count(*) from raw.submission_value v where not exists (select from"
        " raw.submission_file f where f.submission_id = v.submission_id and outcome = 'accepted')"
    )
    assert orphans == [(0,)]
    accepted = dict(
        wh.query("select path, row_count from raw.submission_file where outcome = 'accepted'")
    )
    assert {path: expected_rows[path] for path in accepted} == accepted
    twice = wh.query(
        "select path from raw.submission_file where outcome = 'accepted'"
        " group by path having count(*) > 1"
    )
    assert twice == []
    # The generated files share no key, so any key seen twice is a row loaded twice.
    keys = wh.query(
        "select count(*), count(distinct (province_code, unit_code, period, indicator_code))"
        " from raw.submission_value"
    )
    assert keys[0][0] == keys[0][1]
    assert {outcome for (outcome,) in wh.query("select outcome from raw.submission_file")} <= {
        "accepted"
    }


# --- the child run and the server's view of it ------------------------------------------------


@dataclass
class Night:
    wh: Warehouse
    old: dict[str, str]  # mart_checksums of the build published before the night
    old_build: str
    files: dict[str, int] = field(default_factory=dict)
    logs: list[Path] = field(default_factory=list)


def child_env(wh: Warehouse) -> dict[str, str]:
    s = wh.settings
    return {
        **os.environ,
        "CHITIEU_HOME": str(s.home),
        "CHITIEU_DB_URL": wh.url,
        "CHITIEU_LANDING_DIR": str(s.landing_dir),
        "CHITIEU_QUARANTINE_DIR": str(s.quarantine_dir),
        "CHITIEU_SETTLE_SECONDS": "0",
    }


def start_chitieu(wh: Warehouse, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """`chitieu <args>` in a child process on `wh`, its output in `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "chitieu.cli", *args],
            env=child_env(wh),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def start_run(night: Night) -> subprocess.Popen[bytes]:
    """`chitieu run` in a child process, its output in a log file of its own."""
    log = night.wh.settings.home / f"run_{len(night.logs)}.log"
    night.logs.append(log)
    return start_chitieu(night.wh, log, "run")


def wait_until(
    proc: subprocess.Popen[bytes], log: Path, what: str, found: Callable[[], bool]
) -> None:
    """Poll `found` until it holds; fail with the end of the child's log if the child ends
    first or WAIT_S pass."""
    deadline = time.monotonic() + WAIT_S
    while not _safely(found):
        if proc.poll() is not None:
            pytest.fail(f"the run ended (rc {proc.returncode}) before {what}:\n{tail(log)}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no {what} after {WAIT_S:.0f} s:\n{tail(log)}")
        time.sleep(0.05)


def _safely(found: Callable[[], bool]) -> bool:
    """The probe's answer; False while what it reads does not exist yet."""
    try:
        return found()
    except psycopg.errors.UndefinedTable:  # the run itself creates the ledger
        return False


def kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-4000:]


def _one(wh: Warehouse, statement: str, params: tuple[object, ...] = ()) -> object:
    return wh.query(statement, params)[0][0]


def copying(wh: Warehouse, rows: int) -> bool:
    """A COPY into this database has received `rows` rows and is still going."""
    return bool(
        _one(
            wh,
            "select exists (select from pg_stat_progress_copy p join pg_stat_activity a"
            " using (pid) where a.datname = current_database() and p.tuples_processed >= %s)",
            (rows,),
        )
    )


def building_candidate(wh: Warehouse) -> bool:
    """The marts build is under way (begun, not committed: the candidate's incremental state
    is pending, see macros/incremental_state.sql) and dbt has committed a candidate mart.
    A state that lasts from the first mart to the end of the dbt tests: a probe of dbt's
    statements themselves, milliseconds each on test data, could miss them all."""
    return bool(
        _one(
            wh,
            "select coalesce(obj_description(to_regnamespace('marts_candidate'), 'pg_namespace')"
            "  like '%%pending_through_submission_id=%%', false)"
            " and exists (select from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            "  where n.nspname = 'marts_candidate' and c.relname = any(%s))",
            (list(MARTS),),
        )
    )


def waiting_in_publish(wh: Warehouse) -> bool:
    """The publishing transaction is blocked mid-way, on the lock the test holds."""
    return bool(
        _one(
            wh,
            "select exists (select from pg_stat_activity where datname = current_database()"
            " and wait_event_type = 'Lock' and query ilike 'revoke usage on schema \"marts\"%%')",
        )
    )


def published_build(wh: Warehouse) -> str:
    return str(_one(wh, "select build_id from marts.build_info"))


def schemas(wh: Warehouse) -> set[str]:
    return {
        name
        for (name,) in wh.query("select nspname from pg_namespace where nspname like 'marts%%'")
    }


# --- the night ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def night(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    """A warehouse with files A published, and files B (with the large file) just landed."""
    with pytest.MonkeyPatch.context() as mp:
        wh = make_warehouse(mp, pg_server, tmp_path_factory.mktemp("night") / "home", "night")
        first = land_first_files(wh.landing)
        run(wh.landing, wh.settings, _quiet)
        state = Night(wh, mart_checksums(wh), published_build(wh), first)
        state.files.update(land_second_files(wh.landing))
        yield state


@pytest.fixture(scope="module")
def uninterrupted(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The marts of one uninterrupted run on files A and B, in a database of their own."""
    with pytest.MonkeyPatch.context() as mp:
        wh = make_warehouse(mp, pg_server, tmp_path_factory.mktemp("calm") / "home", "calm")
        land_first_files(wh.landing)
        land_second_files(wh.landing)
        run(wh.landing, wh.settings, _quiet)
        return portable_checksums(wh)


def test_killed_during_the_copy_of_a_large_file(night: Night) -> None:
    proc = start_run(night)
    wait_until(
        proc,
        night.logs[-1],
        "COPY of the large file in progress",
        lambda: copying(night.wh, 10_000),
    )
    kill(proc)

    assert_nothing_partial(night.wh, night.files)
    assert night.wh.query("select count(*) from raw.submission_file where path = %s", (BIG,)) == [
        (0,)
    ]
    assert mart_checksums(night.wh) == night.old


def test_killed_while_dbt_builds_the_candidate(night: Night) -> None:
    proc = start_run(night)
    wait_until(
        proc,
        night.logs[-1],
        "dbt building the candidate marts",
        lambda: building_candidate(night.wh),
    )
    kill(proc)

    # The re-run's ingest finished what the killed one began: every file, each once.
    assert_nothing_partial(night.wh, night.files)
    accepted = night.wh.query("select path from raw.submission_file where outcome = 'accepted'")
    assert sorted(path for (path,) in accepted) == sorted(night.files)
    assert mart_checksums(night.wh) == night.old
    assert published_build(night.wh) == night.old_build


def test_killed_in_the_middle_of_publishing(night: Night) -> None:
    with psycopg.connect(night.wh.url) as blocker:
        # An uncommitted change to schema marts' catalog row: publish's revoke on marts,
        # after it has already granted on the candidate, waits for this transaction.
        blocker.execute("grant usage on schema marts to chitieu_loader")
        proc = start_run(night)
        wait_until(
            proc, night.logs[-1], "publish blocked half way", lambda: waiting_in_publish(night.wh)
        )
        kill(proc)
        assert mart_checksums(night.wh) == night.old
        blocker.rollback()

    assert published_build(night.wh) == night.old_build
    assert schemas(night.wh) == {"marts", "marts_candidate"}
    assert_nothing_partial(night.wh, night.files)


def test_rerun_after_the_kills_publishes_the_uninterrupted_marts(
    night: Night, uninterrupted: dict[str, str]
) -> None:
    proc = start_run(night)
    try:
        returncode = proc.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the re-run did not finish in {WAIT_S:.0f} s:\n{tail(night.logs[-1])}")
    assert returncode == 0, tail(night.logs[-1])

    assert_nothing_partial(night.wh, night.files)
    assert portable_checksums(night.wh) == uninterrupted
    assert published_build(night.wh) != night.old_build
    # The build published before the night is the previous one, intact.
    assert mart_checksums(night.wh, "marts_previous") == night.old
