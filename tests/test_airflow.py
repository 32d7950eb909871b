"""The nightly DAG: parses cleanly, and really runs under `airflow dags test`."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from chitieu.airflow_env import airflow_environment, prepare, run_airflow
from chitieu.config import REPO_ROOT
from chitieu.dag_timing import dag_parse_seconds
from chitieu.manifest import ensure_manifest
from chitieu.night import night_status
from tests.conftest import Warehouse
from tests.landing_files import at, write_submission
from tests.test_demo import mart_checksums

pytestmark = pytest.mark.airflow

DAGS = REPO_ROOT / "dags"

# Runs in a fresh interpreter so the import cost measured is the DAG files', not a warm
# module cache's, and Airflow's configuration comes from the environment given.
_INTEGRITY = """
import json, sys, time
started = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dags = {
    dag_id: {
        "owner": dag.owner,
        "retries": [t.retries for t in dag.tasks],
        "tags": sorted(dag.tags),
        "schedule": str(dag.schedule),
        "timezone": str(dag.timezone),
    }
    for dag_id, dag in bag.dags.items()
}
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": dags}))
"""


@pytest.fixture
def airflow_env(warehouse: Warehouse) -> dict[str, str]:
    import os

    ensure_manifest(warehouse.settings)  # what `chitieu airflow …` does before Airflow starts
    return {**os.environ, **airflow_environment(warehouse.settings)}


def test_dags_import_with_owner_retries_and_tags(airflow_env: dict[str, str]) -> None:
    import json

    out = subprocess.run(
        [sys.executable, "-c", _INTEGRITY, str(DAGS)],
        env=airflow_env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result = json.loads(out.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert "chitieu_nightly" in result["dags"]
    for dag_id, dag in result["dags"].items():
        assert dag["owner"] and dag["owner"] != "airflow", dag_id
        assert dag["tags"], dag_id
        # Airflow's default is 0 retries: every task must have been given some.
        assert dag["retries"] and min(dag["retries"]) >= 1, dag_id
    nightly = result["dags"]["chitieu_nightly"]
    assert set(nightly["retries"]) == {3}
    assert nightly["schedule"] == "0 1 * * *"
    assert nightly["timezone"] == "Asia/Ho_Chi_Minh"


def test_every_dag_file_parses_in_well_under_a_second(airflow_env: dict[str, str]) -> None:
    """The dag-processor re-parses every file every few seconds: the nightly DAG renders its
    dbt task group from the precompiled manifest, never by running dbt."""
    times = dag_parse_seconds(env=airflow_env)
    assert set(times) == {path.name for path in DAGS.glob("*.py")}
    for name, parsed in times.items():
        print(
            f"{name}: first parse {parsed.first:.3f} s ({parsed.first_cpu:.3f} s CPU), "
            f"re-parse {parsed.best:.3f} s ({parsed.best_cpu:.3f} s CPU)"
        )
        assert parsed.errors == {}, name
        assert parsed.dag_ids, name
        # CPU time, so that other work on the machine's cores does not count. Measured for
        # chitieu_nightly.py on 2 busy cores: 0.55 s for a parse in a fresh interpreter that
        # has imported Airflow (the file imports Cosmos), 0.09 s for its own top-level work.
        assert parsed.first_cpu < 1.0, name
        assert parsed.best_cpu < 0.5, name
    # Every dbt model of intermediate and marts is a task of the group (Cosmos rendered it).
    models = {
        path.stem
        for folder in ("intermediate", "marts", "semantic")
        for path in (REPO_ROOT / "dbt_project" / "models" / folder).glob("*.sql")
    }
    out = subprocess.run(
        [sys.executable, "-c", _TASK_IDS, str(DAGS / "chitieu_nightly.py")],
        env=airflow_env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    task_ids = set(out.strip().splitlines()[-1].split(","))
    assert {f"dbt_marts.{model}_run" for model in models} <= task_ids
    # and one task for the group's dbt tests, once every model is built
    assert [t for t in task_ids if t.startswith("dbt_marts.") and t.endswith("_test")] == [
        "dbt_marts.dbt_project_test"
    ]
    assert {"begin_marts", "finish_marts", "gate_marts", "publish"} <= task_ids


_TASK_IDS = """
import sys
from airflow.dag_processing.dagbag import DagBag
print(",".join(DagBag(dag_folder=sys.argv[1]).dags["chitieu_nightly"].task_ids))
"""


def test_without_its_manifest_the_dag_says_how_to_create_it(
    airflow_env: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "dbt_project"  # a project with no target/: never compiled
    project.mkdir()
    env = {**airflow_env, "CHITIEU_DBT_PROJECT_DIR": str(project)}
    times = dag_parse_seconds(repeats=1, env=env)
    nightly = times["chitieu_nightly.py"]
    assert nightly.dag_ids == []
    assert "chitieu manifest" in " ".join(nightly.errors.values())
    assert nightly.first < 5.0
    assert times["chitieu_bi_extract.py"].errors == {}


def test_dag_files_import_nothing_heavy_at_parse(airflow_env: dict[str, str]) -> None:
    probe = (
        "import sys, runpy; runpy.run_path(sys.argv[1]); "
        "heavy = [m for m in ('dbt', 'great_expectations', 'chitieu.pipeline', 'psycopg') "
        "if m in sys.modules]; print('HEAVY:' + ','.join(heavy))"
    )
    for dag_file in sorted(DAGS.glob("*.py")):
        out = subprocess.run(
            [sys.executable, "-c", probe, str(dag_file)],
            env=airflow_env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        # Airflow and Cosmos log to stdout as well: read the probe's own line.
        heavy = [line for line in out.splitlines() if line.startswith("HEAVY:")]
        assert heavy == ["HEAVY:"], f"{dag_file.name} imports {heavy}"


@pytest.mark.slow
def test_nightly_dag_publishes_then_a_failed_gate_keeps_the_marts(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_submission(
        warehouse.landing,
        "40/CA/CA_40_2024Q4.csv",
        ["40,CA,2024-10,DVC_ONLINE_INTAKE_RATE,600,1000,,",
         "40,CA,2024-11,DVC_ONLINE_INTAKE_RATE,650,1000,,"],
        at("2024-12-10"),
    )  # fmt: skip
    write_submission(
        warehouse.landing,
        "40/STP/STP_40_2024-11.csv",
        ["40,STP,2024-11,KHONG_CO,1,2,,"],
        at("2024-12-12"),
    )
    prepare(warehouse.settings)
    airflow_db = airflow_environment(warehouse.settings)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert airflow_db.startswith("postgresql+")

    started = time.monotonic()
    done = run_airflow(
        ["dags", "test", "chitieu_nightly", "2024-12-20"],
        warehouse.settings, check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    print(f"airflow dags test chitieu_nightly: {time.monotonic() - started:.0f} s")

    assert warehouse.query(
        "select period, value from marts.fct_indicator_value order by period"
    ) == [("2024-10", Decimal("60.0000")), ("2024-11", Decimal("65.0000"))]
    assert warehouse.query("select path, outcome from raw.submission_file order by path") == [
        ("40/CA/CA_40_2024Q4.csv", "accepted"),
        ("40/STP/STP_40_2024-11.csv", "rejected"),
    ]

    task_states = _airflow_rows(
        warehouse,
        "select task_id, map_index, state from task_instance"
        " where dag_id = 'chitieu_nightly' order by task_id, map_index",
    )
    assert ("ingest_file", 0, "success") in task_states
    assert ("ingest_file", 1, "success") in task_states
    assert all(state == "success" for _, _, state in task_states), task_states
    assert _airflow_rows(
        warehouse, "select state from dag_run where dag_id = 'chitieu_nightly'"
    ) == [("success",)]

    # The morning's brief for the month before the run's date.
    assert (warehouse.settings.reports_dir / "brief_40_2024-11.html").exists()
    # The night report (the DAG's last task), from the run journal its tasks kept.
    night = night_status(warehouse.url, warehouse.settings)
    assert night is not None and night.published
    assert night.attention == ["1 file(s) rejected"], night.attention
    assert (night.count("accepted"), night.count("rejected")) == (1, 1)
    notice = warehouse.settings.notices_dir / str(night.date) / "40_STP"
    assert (notice / f"thong_bao_{night.run_id}.txt").is_file()
    assert {"discover", "staging", "staging_gate", "marts_gates", "publish"} <= {
        step.step for step in night.steps
    }
    assert (warehouse.settings.reports_dir / f"night_{night.date}_{night.run_id}.html").is_file()

    # Publishing emitted the marts' Assets, which schedule the extract DAG.
    events = _airflow_rows(
        warehouse,
        "select a.name from asset_event e join asset a on a.id = e.asset_id order by a.name",
    )
    assert ("marts.target_gap",) in events
    extract = run_airflow(
        ["dags", "test", "chitieu_bi_extract", "2024-12-20"],
        warehouse.settings, check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert extract.returncode == 0, extract.stdout[-3000:] + extract.stderr[-3000:]
    csv_lines = (
        (warehouse.settings.home / "extracts" / "target_gap.csv")
        .read_text(encoding="utf-8-sig")
        .splitlines()
    )
    # The mart's columns, names beside the codes (marts contract v1.1)
    assert csv_lines[0].startswith(
        "province_code,province_name_vi,province_name_en,unit_code,unit_name_vi,unit_name_en"
    )
    assert len(csv_lines) == 1 + 2

    # The next night brings nothing: the build and publication are skipped, the marts and
    # their Assets untouched, the briefs and the night report still written.
    before = mart_checksums(warehouse)
    events_before = _airflow_rows(warehouse, "select count(*) from asset_event")
    quiet = run_airflow(
        ["dags", "test", "chitieu_nightly", "2024-12-21"],
        warehouse.settings, check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert quiet.returncode == 0, quiet.stdout[-4000:] + quiet.stderr[-4000:]
    quiet_states = _last_run_states(warehouse)
    assert quiet_states["anything_new"] == "success", quiet_states
    skipped = {"build_staging", "gate_staging", "begin_marts", "finish_marts", "gate_marts",
               "publish"}  # fmt: skip
    assert {task for task, state in quiet_states.items() if state == "skipped"} >= skipped
    assert quiet_states["write_briefs"] == quiet_states["morning_after"] == "success"
    assert mart_checksums(warehouse) == before
    assert _airflow_rows(warehouse, "select count(*) from asset_event") == events_before
    quiet_night = night_status(warehouse.url, warehouse.settings)
    assert quiet_night is not None and quiet_night.unchanged and not quiet_night.needs_attention

    # The night after brings nothing either, but most of the history has vanished behind
    # ingestion's back, and the published build has reached the full-check age (0 days
    # here): the night builds and checks everything, and the mart gate must fail the run
    # and leave the marts exactly as they were.
    with psycopg.connect(warehouse.url) as conn:
        conn.execute("delete from raw.submission_value")
    monkeypatch.setenv("CHITIEU_FULL_CHECK_DAYS", "0")
    failed = run_airflow(
        ["dags", "test", "chitieu_nightly", "2024-12-22"],
        warehouse.settings, check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert mart_checksums(warehouse) == before
    states = _last_run_states(warehouse)
    assert states["gate_marts"] == "failed", states
    assert states["publish"] == "upstream_failed", states
    assert states["morning_after"] == "success", states
    failed_night = night_status(warehouse.url, warehouse.settings)
    assert failed_night is not None and failed_night.run_id != night.run_id
    assert failed_night.needs_attention and not failed_night.published
    assert [g.success for g in failed_night.gates if g.asset.endswith("fct_indicator_value")] == [
        False
    ]
    assert _airflow_rows(
        warehouse,
        "select state from dag_run where dag_id = 'chitieu_nightly' order by logical_date",
    ) == [("success",), ("success",), ("failed",)]
    output = failed.stdout + failed.stderr + _task_logs(warehouse, "gate_marts")
    assert "row count does not collapse" in output
    # A data error is not retried, and it leaves an alert for the people on call.
    tries = _airflow_rows(
        warehouse,
        "select max(try_number) from task_instance where task_id = 'gate_marts'"
        " and state = 'failed'",
    )
    assert tries == [(1,)]
    alerts = warehouse.query("select dag_id, task_id, message from audit.alert")
    assert [(d, t) for d, t, _ in alerts] == [("chitieu_nightly", "gate_marts")]
    assert "quality gate fct_indicator_value failed" in alerts[0][2]


def _last_run_states(wh: Warehouse) -> dict[str, str]:
    return dict(
        _airflow_rows(
            wh,
            "select task_id, state from task_instance where dag_id = 'chitieu_nightly'"
            " and run_id = (select run_id from dag_run where dag_id = 'chitieu_nightly'"
            " order by logical_date desc limit 1) and map_index = -1",
        )
    )


def _task_logs(wh: Warehouse, task_id: str) -> str:
    logs = wh.settings.airflow_home / "logs"
    return "".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in logs.rglob("*.log")
        if f"task_id={task_id}" in str(path)
    )


def _airflow_rows(wh: Warehouse, query: str) -> list[tuple]:
    from chitieu.db import airflow_url

    with psycopg.connect(airflow_url(wh.settings)) as conn:
        return conn.execute(query).fetchall()  # type: ignore[arg-type]


def test_airflow_commands_find_the_projects_airflow_first(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`airflow standalone` starts its components as `airflow` from PATH: `make airflow`
    (no activated environment) must find the project's own."""
    import os

    seen: dict[str, str] = {}

    def fake_run(args: list[str], env: dict[str, str], **_kwargs: object) -> None:
        seen.update(env)

    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setattr(subprocess, "run", fake_run)
    run_airflow(["version"], warehouse.settings)
    first = seen["PATH"].split(os.pathsep)[0]
    assert os.path.exists(os.path.join(first, "airflow"))
    assert Path(first) == Path(sys.executable).parent


def test_run_day_is_the_local_date_with_or_without_a_logical_date() -> None:
    """01:00 on 1 January in Hà Nội is still 31 December in UTC: the briefs of that night are
    December's. A run triggered without a logical date takes the day it was queued."""
    from types import SimpleNamespace

    import pendulum

    from chitieu.dbt_dag import run_day

    dag = SimpleNamespace(timezone=pendulum.timezone("Asia/Ho_Chi_Minh"))
    new_year = pendulum.datetime(2024, 12, 31, 18, tz="UTC")
    queued = SimpleNamespace(run_after=new_year)
    assert str(run_day({"logical_date": new_year, "dag_run": queued, "dag": dag})) == "2025-01-01"
    assert str(run_day({"logical_date": None, "dag_run": queued, "dag": dag})) == "2025-01-01"
    assert str(run_day({"dag_run": queued, "dag": dag})) == "2025-01-01"
