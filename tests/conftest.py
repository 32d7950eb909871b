"""Shared fixtures: one embedded PostgreSQL for the whole session, a fresh database per test.

The server's data directory is a short folder under the system temp dir (the Unix socket
path must stay under ~107 bytes, which pytest's own temp paths exceed). Each test that needs
the warehouse gets its own database on that server through `CHITIEU_DB_URL`, its own
`CHITIEU_HOME` (GX context, Airflow home, logs) and its own landing and quarantine folders,
so tests never see each other's data.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from chitieu.config import Settings, load_settings
from chitieu.db import ensure_database, with_database

_counter = itertools.count()


@dataclass(frozen=True)
class Warehouse:
    url: str
    settings: Settings

    @property
    def landing(self) -> Path:
        return self.settings.landing_dir

    @property
    def quarantine(self) -> Path:
        return self.settings.quarantine_dir

    def query(self, statement: str, params: tuple[object, ...] = ()) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(statement, params).fetchall()  # type: ignore[arg-type]


# `CHITIEU_TEST_PG=postgresql://user@host:port/postgres` runs the suite against that server
# instead of an embedded one (CI does, with the PostgreSQL 15 server on 127.0.0.1:5432).
EXTERNAL_SERVER = os.environ.get("CHITIEU_TEST_PG")
_created: list[str] = []


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """URL of the `postgres` database on the test server (embedded unless CHITIEU_TEST_PG)."""
    if EXTERNAL_SERVER:
        yield EXTERNAL_SERVER
        _drop_created(EXTERNAL_SERVER)
        return
    from chitieu.db import stop_embedded, warehouse_url

    home = Path(tempfile.mkdtemp(prefix="ct-"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHITIEU_HOME", str(home))
        mp.delenv("CHITIEU_DB_URL", raising=False)
        settings = load_settings()
        url = warehouse_url(settings)
    try:
        yield with_database(url, "postgres")
    finally:
        stop_embedded(settings)
        shutil.rmtree(home, ignore_errors=True)


def _drop_created(server_url: str) -> None:
    """Leave a shared server as it was: drop the databases the tests created."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        for database in _created:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
            )


def _environment(home: Path, db_url: str) -> dict[str, str]:
    return {
        "CHITIEU_HOME": str(home),
        "CHITIEU_DB_URL": db_url,
        "CHITIEU_LANDING_DIR": str(home / "landing"),
        "CHITIEU_QUARANTINE_DIR": str(home / "quarantine"),
        # Tests write their files before the run starts: nothing to wait for.
        "CHITIEU_SETTLE_SECONDS": "0",
    }


def make_warehouse(mp: pytest.MonkeyPatch, server_url: str, home: Path, name: str) -> Warehouse:
    """A fresh database on `server_url` and the CHITIEU_* environment pointing at it."""
    # The xdist worker's id keeps parallel workers' databases apart on a shared server.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    database = f"t{worker}_{next(_counter)}_{name}"[:60].lower()
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(database)))
    url = with_database(server_url, database)
    ensure_database(url, database)
    _created.extend([database, f"{database}_airflow"])
    for key, value in _environment(home, url).items():
        mp.setenv(key, value)
    mp.delenv("CHITIEU_AIRFLOW_DB_URL", raising=False)
    settings = load_settings()
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    return Warehouse(url, settings)


@pytest.fixture
def warehouse(
    pg_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Warehouse:
    """An empty warehouse database of its own, with landing/quarantine under tmp_path."""
    return make_warehouse(monkeypatch, pg_server, tmp_path / "home", request.node.name)


@pytest.fixture(scope="module")
def demo_warehouse(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The demo landing area, run once through `chitieu run` for a whole test module."""
    from chitieu.demo import write_demo_landing
    from chitieu.pipeline import run

    home = tmp_path_factory.mktemp("demo") / "home"
    with pytest.MonkeyPatch.context() as mp:
        wh = make_warehouse(mp, pg_server, home, "demo")
        write_demo_landing(wh.landing)
        run(wh.landing, wh.settings, progress=lambda _line: None)
        yield wh
