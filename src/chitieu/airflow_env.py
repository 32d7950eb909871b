"""Airflow pointed at the project: metadata in the warehouse's PostgreSQL server (embedded by
default, never SQLite), the repo's `dags/`, and the same CHITIEU_* settings as the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from chitieu.config import REPO_ROOT, Settings, load_settings
from chitieu.db import airflow_url, sqlalchemy_url

INGEST_POOL = "chitieu_ingest"
INGEST_POOL_SLOTS = 4


def airflow_environment(settings: Settings | None = None) -> dict[str, str]:
    settings = settings or load_settings()
    env = {
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(airflow_url(settings)),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "AIRFLOW__CORE__EXECUTOR": os.environ.get("AIRFLOW__CORE__EXECUTOR", "LocalExecutor"),
        "CHITIEU_HOME": str(settings.home),
        "CHITIEU_LANDING_DIR": str(settings.landing_dir),
        "CHITIEU_QUARANTINE_DIR": str(settings.quarantine_dir),
    }
    if settings.db_url:
        env["CHITIEU_DB_URL"] = settings.db_url
    return env


def _airflow_bin() -> str:
    local = os.path.join(os.path.dirname(sys.executable), "airflow")
    return local if os.path.exists(local) else (shutil.which("airflow") or "airflow")


def run_airflow(
    args: list[str], settings: Settings | None = None, check: bool = True, **kwargs: object
) -> subprocess.CompletedProcess:
    env = {**os.environ, **airflow_environment(settings)}
    return subprocess.run([_airflow_bin(), *args], env=env, check=check, **kwargs)  # type: ignore[call-overload]


def prepare(settings: Settings | None = None) -> None:
    """Migrate Airflow's metadata database, create the ingest pool and write the dbt manifest
    the nightly DAG renders its marts task group from (idempotent)."""
    from chitieu.manifest import ensure_manifest

    settings = settings or load_settings()
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    ensure_manifest(settings)
    run_airflow(["db", "migrate"], settings, stdout=subprocess.DEVNULL)
    run_airflow(
        [
            "pools",
            "set",
            INGEST_POOL,
            str(INGEST_POOL_SLOTS),
            "Concurrent submission files being ingested",
        ],
        settings,
        stdout=subprocess.DEVNULL,
    )
