"""Distributed mode: the nightly DAG under CeleryExecutor, with real processes on loopback.

An api-server (the Execution API workers report to), a scheduler, a dag-processor and two
Celery workers with Redis (127.0.0.1:6379) as the broker and the Airflow metadata database
as Celery's result backend. Skipped, saying why, when Redis does not answer.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import yaml

from chitieu.airflow_env import WORKER_NAME, celery_environment, prepare
from chitieu.config import REPO_ROOT
from chitieu.db import airflow_url
from tests.airflow_processes import Processes, free_port, http_ok
from tests.conftest import Warehouse
from tests.landing_files import INTAKE, at, write_submission

pytestmark = pytest.mark.airflow

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
WORKERS = ("worker-a", "worker-b")
RUN_ID = "celery_test"
RUN_TIMEOUT = 1200  # seconds; ~10 min measured (one task per dbt model) on a busy 2-core machine


def test_compose_uses_the_names_celery_environment_sets(warehouse: Warehouse) -> None:
    """docker-compose, docs/operations.md and the test below configure Celery alike."""
    compose = yaml.safe_load((REPO_ROOT / "docker" / "docker-compose.yml").read_text("utf-8"))
    names = set(celery_environment(warehouse.settings, jwt_secret="x"))
    # Paths the image fixes itself (Dockerfile ENV) or that only point at local folders.
    fixed_by_image = {"AIRFLOW_HOME", "CHITIEU_LANDING_DIR", "CHITIEU_QUARANTINE_DIR"}
    for service in ("airflow-scheduler", "airflow-worker", "airflow-apiserver"):
        env = compose["services"][service]["environment"]
        missing = names - fixed_by_image - set(env)
        assert not missing, (service, missing)
        assert env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "chitieu.airflow_env.worker_hostname"
    operations = (REPO_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for name in ("AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__API_AUTH__JWT_SECRET", WORKER_NAME):
        assert name in operations, name


def test_celery_environment_defaults_and_shared_secret(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    ):
        monkeypatch.delenv(name, raising=False)  # fmt: skip
    env = celery_environment(warehouse.settings)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/0"
    metadata = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+" + metadata
    # Every process started on this machine signs and checks task tokens with one secret.
    secret = env["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert (
        len(secret) >= 32
        and celery_environment(warehouse.settings)["AIRFLOW__API_AUTH__JWT_SECRET"] == secret
    )
    monkeypatch.setenv("AIRFLOW__CELERY__BROKER_URL", "redis://broker.internal:6379/3")
    assert celery_environment(warehouse.settings)["AIRFLOW__CELERY__BROKER_URL"].endswith("/3")
    from chitieu.airflow_env import worker_hostname

    monkeypatch.setenv(WORKER_NAME, "worker-7")
    assert worker_hostname() == "worker-7"


# --- Redis -----------------------------------------------------------------------------------


def _redis_answers() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def broker_url() -> Iterator[str]:
    """A Redis database of this test's own: claimed with SET NX on an empty one, so parallel
    runs (and whatever else uses this Redis) never share queues; flushed afterwards."""
    if not _redis_answers():
        pytest.skip(f"Celery test: no Redis answers at {REDIS_HOST}:{REDIS_PORT}")
    import redis

    token = secrets.token_hex(8)
    for db in secrets.SystemRandom().sample(range(4, 16), 12):
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db)
        if client.dbsize() == 0 and client.set("chitieu-test-claim", token, nx=True):
            break
        client.close()
    else:
        pytest.skip("Celery test: no free Redis database (4-15) to claim")
    try:
        yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
    finally:
        client.flushdb()
        client.close()


# --- helpers ----------------------------------------------------------------------------------


_PING = """
import json
from airflow.providers.celery.executors.celery_executor_utils import app
print(json.dumps(sorted((app.control.inspect(timeout=3).ping() or {}).keys())))
"""


def _celery_ping(env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PING], env=env, capture_output=True, text=True, timeout=120
    )
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if done.returncode == 0 and lines else []


def _airflow_rows(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()  # type: ignore[arg-type]


# --- the test --------------------------------------------------------------------------------


def _land_files(landing: Path) -> None:
    """Six units' reports (one mapped ingest task each, enough to keep two workers busy) and
    one bad file."""
    for number, unit in enumerate(("CA", "SYT", "STP", "BHXH", "SGTVT", "SLDTBXH")):
        write_submission(
            landing, f"40/{unit}/{unit}_40_2024-11.csv",
            [f"40,{unit},2024-11,{INTAKE},{600 + number * 10},1000,,"], at("2024-12-10"),
        )  # fmt: skip
    write_submission(
        landing, "40/STP/STP_40_bad.csv", ["40,STP,2024-11,KHONG_CO,1,2,,"], at("2024-12-12")
    )


@pytest.mark.slow
@pytest.mark.celery
@pytest.mark.timeout(1800)
def test_nightly_run_on_two_celery_workers(
    warehouse: Warehouse, broker_url: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    _land_files(warehouse.landing)
    prepare(warehouse.settings)
    port = free_port()
    env = {
        **os.environ,
        **celery_environment(
            warehouse.settings,
            broker_url=broker_url,
            execution_api_url=f"http://127.0.0.1:{port}/execution/",
            jwt_secret=secrets.token_urlsafe(32),
        ),
        # Only the run this test triggers: no catch-up run of the cron schedule.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }
    logs = tmp_path / "process-logs"
    logs.mkdir()
    procs = Processes(logs, env)
    metadata = airflow_url(warehouse.settings)
    try:
        procs.start("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(port),
                                   "--workers", "1"])  # fmt: skip
        procs.start("scheduler", ["scheduler"])
        procs.start("dag-processor", ["dag-processor"])
        for name in WORKERS:
            procs.start(
                name,
                ["celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", "1",
                 "--skip-serve-logs", "--without-gossip", "--without-mingle"],
                **{WORKER_NAME: name},
            )  # fmt: skip

        procs.wait_until(
            "the api-server", lambda: http_ok(f"http://127.0.0.1:{port}/api/v2/version"), 180
        )
        registered = procs.wait_until(
            "both Celery workers to answer a ping",
            lambda: (lambda names: names if len(names) == 2 else None)(_celery_ping(env)),
            180,
        )  # fmt: skip
        assert [name.split("@")[0] for name in registered] == list(WORKERS)  # type: ignore[union-attr]
        procs.wait_until(
            "the dag-processor to serialize chitieu_nightly",
            lambda: _airflow_rows(
                metadata, "select 1 from serialized_dag where dag_id = 'chitieu_nightly'"
            ),
            240,
        )  # fmt: skip
        airflow = str(Path(sys.executable).with_name("airflow"))
        for args in (
            ["dags", "unpause", "chitieu_nightly"],
            # No logical date, as Airflow 3 allows (the UI's and the REST API's default):
            # every task, the briefs' included, must do without one.
            ["dags", "trigger", "chitieu_nightly", "--run-id", RUN_ID],
        ):  # fmt: skip
            subprocess.run([airflow, *args], env=env, check=True, capture_output=True)

        state_query = (
            f"select state from dag_run where dag_id = 'chitieu_nightly' and run_id = '{RUN_ID}'"
        )
        state = procs.wait_until(
            "the triggered run to finish",
            lambda: (lambda rows: rows[0][0] if rows and rows[0][0] in ("success", "failed")
                     else None)(_airflow_rows(metadata, state_query)),
            RUN_TIMEOUT,
        )  # fmt: skip
        tasks = _airflow_rows(
            metadata,
            "select task_id, map_index, state, hostname from task_instance"
            f" where dag_id = 'chitieu_nightly' and run_id = '{RUN_ID}'"
            " order by task_id, map_index",
        )
        assert state == "success", f"{tasks}\n{procs.tails()}"
    finally:
        procs.stop()
    elapsed = time.monotonic() - started
    print(f"celery nightly run: {elapsed:.0f} s; tasks by host: {tasks}")

    # Published marts: the six accepted reports, nothing from the bad one.
    assert warehouse.query(
        "select unit_code, value from marts.fct_indicator_value order by unit_code"
    ) == [
        ("BHXH", Decimal("63.0000")), ("CA", Decimal("60.0000")), ("SGTVT", Decimal("64.0000")),
        ("SLDTBXH", Decimal("65.0000")), ("STP", Decimal("62.0000")), ("SYT", Decimal("61.0000")),
    ]  # fmt: skip
    assert warehouse.query(
        "select outcome, count(*) from raw.submission_file group by outcome order by outcome"
    ) == [("accepted", 6), ("rejected", 1)]
    assert all(state == "success" for _, _, state, _ in tasks), tasks
    # Every task ran on one of the two workers, and both of them got work.
    hosts = {host for *_, host in tasks}
    assert hosts == set(WORKERS), tasks
