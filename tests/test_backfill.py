"""Backfills rebuild the marts of a range of months from the files already loaded.

Three nights of files (January, February, March 2024, with a quarterly report and a
correction) go through the nightly path; its published marts are the reference. The
candidate schema a backfill starts from holds an older build, in which a January row is
spoilt first: no newer submission touches that row, so only really rebuilding January
repairs it, and the published marts can equal the nightly ones only if the backfill did.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from chitieu import cli
from chitieu.airflow_env import airflow_environment, prepare
from chitieu.db import airflow_url
from chitieu.pipeline import run
from chitieu.publish import CANDIDATE, PREVIOUS, PUBLISHED
from tests.airflow_processes import Processes, free_port, http_ok
from tests.conftest import Warehouse
from tests.landing_files import at, write_submission
from tests.test_marts import checksums

pytestmark = pytest.mark.slow

INTAKE = "DVC_ONLINE_INTAKE_RATE"
EID = "EID_ACTIVATED_RATE"  # a value without numerator/denominator: no dbt test notices +1
RANK = "PROVINCE_SERVICE_INDEX_RANK"

NIGHTS: list[list[tuple[str, list[str], str]]] = [
    [
        ("40/CA/CA_40_2024-01.csv", [f"40,CA,2024-01,{INTAKE},500,1000,,"], "2024-02-03"),
        ("49/CA/CA_49_2024-01.csv", [f"49,CA,2024-01,{EID},,,40,"], "2024-02-04"),
    ],
    [
        ("40/CA/CA_40_2024-02.csv", [f"40,CA,2024-02,{INTAKE},550,1000,,"], "2024-03-03"),
        ("49/CA/CA_49_2024-02.csv", [f"49,CA,2024-02,{EID},,,42,"], "2024-03-05"),
    ],
    [
        ("40/CA/CA_40_2024-03.csv", [f"40,CA,2024-03,{INTAKE},610,1000,,"], "2024-04-02"),
        ("40/VPUBND/VPUBND_40_2024Q1.csv", [f"40,VPUBND,2024-Q1,{RANK},,63,30,"], "2024-04-04"),
        (
            "40/CA/CA_40_2024-01_dinhchinh.csv",
            [f"40,CA,2024-01,{INTAKE},520,1000,,đính chính"],
            "2024-04-05",
        ),
    ],
]


def _quiet(_line: str) -> None:
    pass


def _run_each_night(wh: Warehouse) -> None:
    for night in NIGHTS:
        for rel, rows, day in night:
            write_submission(wh.landing, rel, rows, at(day))
        summary = run(wh.landing, wh.settings, progress=_quiet)
        assert summary.ingest.counts["accepted"] == len(night), summary.ingest.lines()


@pytest.fixture
def after_the_nights(warehouse_from: Callable[..., Warehouse]) -> Warehouse:
    """Each night's files, each followed by `chitieu run` (the nightly path): built once,
    every test gets its own copy."""
    return warehouse_from("three_nights", _run_each_night)


def _spoil_january(wh: Warehouse) -> None:
    with psycopg.connect(wh.url) as conn:
        spoilt = conn.execute(
            f"update {CANDIDATE}.fct_indicator_value set value = value + 1"
            " where province_code = '49' and period = '2024-01'"
        ).rowcount
    assert spoilt == 1


def _published_build(wh: Warehouse) -> tuple[str, bool]:
    build_id, validated = wh.query(
        f"select build_id, validated_at is not null from {PUBLISHED}.build_info"
    )[0]
    return build_id, validated


def test_chitieu_backfill_gives_the_nightly_marts_and_twice_changes_nothing(
    after_the_nights: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    wh = after_the_nights
    nightly = checksums(wh, PUBLISHED)
    files = wh.query("select count(*) from raw.submission_file")
    nightly_build = _published_build(wh)
    _spoil_january(wh)

    started = time.monotonic()
    assert cli.main(["backfill", "--from", "2024-01", "--to", "2024-02"]) == 0
    took = time.monotonic() - started
    assert "backfill of 2024-01 … 2024-02 done" in capsys.readouterr().out
    print(f"chitieu backfill: {took:.0f} s")
    assert checksums(wh, PUBLISHED) == nightly
    # Gated and published as a build of its own; nothing was ingested.
    backfilled = _published_build(wh)
    assert backfilled[1] and backfilled[0] != nightly_build[0]
    assert wh.query("select count(*) from raw.submission_file") == files

    # Again: the same marts (from the older build the rotation now puts in the candidate).
    assert cli.main(["backfill", "--from", "2024-01", "--to", "2024-02"]) == 0
    assert checksums(wh, PUBLISHED) == nightly
    assert _published_build(wh)[0] != backfilled[0]


def test_backfill_refuses_months_that_are_not_months(warehouse: Warehouse) -> None:
    assert cli.main(["backfill", "--from", "2024-13", "--to", "2024-02"]) == 1
    assert cli.main(["backfill", "--from", "2024-03", "--to", "2024-02"]) == 1


def _airflow_rows(wh: Warehouse, query: str) -> list[tuple]:
    with psycopg.connect(airflow_url(wh.settings)) as conn:
        return conn.execute(query).fetchall()  # type: ignore[arg-type]


def _wait_for_backfill(wh: Warehouse, runs: int, timeout: float) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = _airflow_rows(
            wh,
            "select logical_date, run_type, state from dag_run where dag_id = 'chitieu_nightly'"
            " and backfill_id is not null order by logical_date",
        )
        if len(states) == runs and all(s in ("success", "failed") for _, _, s in states):
            return states
        time.sleep(5)
    raise AssertionError(f"backfill not done after {timeout:.0f} s: {states}")


@pytest.mark.airflow
def test_airflow_backfill_rebuilds_each_runs_month(
    after_the_nights: Warehouse, tmp_path: Path
) -> None:
    """`airflow backfill create`, executed by a real scheduler (LocalExecutor) with the
    api-server its task processes report to: one run per logical date, each rebuilding the
    month of its date from the files already loaded."""
    wh = after_the_nights
    nightly = checksums(wh, PUBLISHED)
    files = wh.query("select count(*) from raw.submission_file")
    _spoil_january(wh)

    port = free_port()
    env = {
        **os.environ,
        **airflow_environment(wh.settings),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(24),
        # Only the backfill's runs: no run for today's date from the cron schedule.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
    }
    prepare(wh.settings)
    airflow = [str(Path(sys.executable).parent / "airflow")]
    for args in (["dags", "reserialize"], ["dags", "unpause", "chitieu_nightly"]):
        subprocess.run([*airflow, *args], env=env, check=True, capture_output=True)
    procs = Processes(tmp_path, env)
    procs.start("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(port)])
    procs.start("scheduler", ["scheduler"])
    try:
        # Task processes report to the api-server's Execution API: a task started before it
        # answers fails (and is retried), so the backfill starts once it does.
        procs.wait_until(
            "the api-server", lambda: http_ok(f"http://127.0.0.1:{port}/execution/health"), 300
        )
        started = time.monotonic()
        # The run of 01:00 on 31 January (Asia/Ho_Chi_Minh): it rebuilds January. (One run:
        # each is a whole DAG run of ~20 task processes; `chitieu backfill` is tested on a
        # range of months above.)
        subprocess.run(
            [*airflow, "backfill", "create", "--dag-id", "chitieu_nightly",
             "--from-date", "2024-01-31T00:00:00+07:00",
             "--to-date", "2024-01-31T02:00:00+07:00",
             "--max-active-runs", "1"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        states = _wait_for_backfill(wh, runs=1, timeout=1500)
        print(f"airflow backfill of 1 run: {time.monotonic() - started:.0f} s")
    finally:
        procs.stop()
    logs = (tmp_path / "scheduler.log").read_text(errors="replace")[-3000:]
    assert [(run_type, state) for _, run_type, state in states] == [("backfill", "success")], logs

    # The January run repaired January (spoilt in the build it started from) and published.
    assert checksums(wh, PUBLISHED) == nightly
    assert checksums(wh, PREVIOUS) == nightly
    assert wh.query("select count(*) from raw.submission_file") == files
    tasks = _airflow_rows(
        wh,
        "select task_id, state from task_instance where dag_id = 'chitieu_nightly'"
        " and run_id in (select run_id from dag_run where backfill_id is not null)",
    )
    assert ("dbt_marts.fct_indicator_value_run", "success") in tasks
    assert ("dbt_marts.dbt_project_test", "success") in tasks
    assert ("publish", "success") in tasks
    assert not [t for t, s in tasks if t == "ingest_file" and s == "success"]
