"""Airflow pointed at the project: metadata in the warehouse's PostgreSQL server (embedded by
default, never SQLite), the repo's `dags/`, and the same CHITIEU_* settings as the CLI."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
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
        # A ministry's warehouse reports nothing to third parties (Airflow's and Cosmos'
        # usage statistics are on by default; on our machines they only time out).
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "CHITIEU_HOME": str(settings.home),
        "CHITIEU_LANDING_DIR": str(settings.landing),
        "CHITIEU_QUARANTINE_DIR": settings.quarantine_url or str(settings.quarantine_dir),
    }
    if settings.db_url:
        env["CHITIEU_DB_URL"] = settings.db_url
    return env


CELERY_EXECUTOR = "CeleryExecutor"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
DEFAULT_EXECUTION_API_URL = "http://127.0.0.1:8080/execution/"
WORKER_NAME = "CHITIEU_WORKER_NAME"


def worker_hostname() -> str:
    """The name task instances record as their host (Airflow's `hostname_callable`):
    CHITIEU_WORKER_NAME when set, so that several workers on one machine stay apart,
    else the machine's FQDN, Airflow's own default."""
    return os.environ.get(WORKER_NAME) or socket.getfqdn()


def _jwt_secret(settings: Settings) -> str:
    """The secret the scheduler signs task tokens with and the api-server checks them with.
    Taken from the environment when set (several machines must share it); otherwise one is
    kept in the Airflow home, so every `chitieu airflow` process on this machine agrees."""
    given = os.environ.get("AIRFLOW__API_AUTH__JWT_SECRET")
    if given:
        return given
    path = settings.airflow_home / "jwt_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def celery_environment(
    settings: Settings | None = None,
    *,
    broker_url: str | None = None,
    execution_api_url: str | None = None,
    jwt_secret: str | None = None,
) -> dict[str, str]:
    """`airflow_environment` for CeleryExecutor: Redis as the broker, Celery's results in
    Airflow's metadata database, and workers running tasks through the api-server's
    Execution API (Airflow 3 tasks never open the metadata database). The compose deployment
    and the Celery test use exactly these names; arguments win over the environment, which
    wins over the loopback defaults."""
    settings = settings or load_settings()
    env = airflow_environment(settings)
    result_backend = "db+" + sqlalchemy_url(airflow_url(settings))
    secret = jwt_secret or _jwt_secret(settings)
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": CELERY_EXECUTOR,
            "AIRFLOW__CELERY__BROKER_URL": broker_url
            or os.environ.get("AIRFLOW__CELERY__BROKER_URL", DEFAULT_BROKER_URL),
            "AIRFLOW__CELERY__RESULT_BACKEND": os.environ.get(
                "AIRFLOW__CELERY__RESULT_BACKEND", result_backend
            ),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": execution_api_url
            or os.environ.get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", DEFAULT_EXECUTION_API_URL),
            "AIRFLOW__API_AUTH__JWT_SECRET": secret,
            # Signs the api-server's requests for a running task's log to a worker.
            "AIRFLOW__API__SECRET_KEY": os.environ.get("AIRFLOW__API__SECRET_KEY", secret),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "chitieu.airflow_env.worker_hostname",
        }
    )
    return env


def _airflow_bin() -> str:
    local = os.path.join(os.path.dirname(sys.executable), "airflow")
    return local if os.path.exists(local) else (shutil.which("airflow") or "airflow")


def run_airflow(
    args: list[str], settings: Settings | None = None, check: bool = True, **kwargs: object
) -> subprocess.CompletedProcess:
    # `AIRFLOW__CORE__EXECUTOR=CeleryExecutor chitieu airflow celery worker` just works.
    chosen = os.environ.get("AIRFLOW__CORE__EXECUTOR")
    build = celery_environment if chosen == CELERY_EXECUTOR else airflow_environment
    env = {**os.environ, **build(settings)}
    airflow = _airflow_bin()
    # `airflow standalone` starts its scheduler, api-server… as `airflow` from PATH: the
    # project's environment comes first, activated or not (`make airflow` does not activate).
    env["PATH"] = os.pathsep.join([os.path.dirname(os.path.abspath(airflow)), env.get("PATH", "")])
    return subprocess.run([airflow, *args], env=env, check=check, **kwargs)  # type: ignore[call-overload]


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
