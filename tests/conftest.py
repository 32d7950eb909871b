"""Shared fixtures: one embedded PostgreSQL for the whole session, a fresh database per test.

The server's data directory is a short folder under the system temp dir (the Unix socket
path must stay under ~107 bytes, which pytest's own temp paths exceed). Each test that needs
the warehouse gets its own database on that server through `CHITIEU_DB_URL`, its own
`CHITIEU_HOME` (GX context, Airflow home, logs) and its own landing and quarantine folders,
so tests never see each other's data.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import psycopg
import pytest
from psycopg import sql

from chitieu.config import Settings, load_settings
from chitieu.db import ensure_database, with_database
from chitieu.roles import ensure_roles

_counter = itertools.count()

# This run's mark on the short folders of the embedded servers its tests start: the xdist
# workers inherit it from the controller, which checks at the end that none is left running.
RUN_TOKEN = os.environ.setdefault("CHITIEU_TEST_RUN", uuid.uuid4().hex[:6])


def short_home() -> Path:
    """A new folder for an embedded server, short enough for its Unix socket (~107 bytes)."""
    return Path(tempfile.mkdtemp(prefix=f"ct-{RUN_TOKEN}-"))


def servers_left(basetemp: Path | None) -> list[psutil.Process]:
    """Postmasters still running whose data folder is one of this run's (a `short_home` or
    under pytest's temporary folder)."""
    marks = [f"/ct-{RUN_TOKEN}-"] + ([str(basetemp)] if basetemp else [])
    left = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] != "postgres" or "-D" not in cmdline:
            continue
        folder = cmdline[cmdline.index("-D") + 1] if cmdline.index("-D") + 1 < len(cmdline) else ""
        if any(mark in folder for mark in marks):
            left.append(process)
    return left


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`db`: every test that needs the PostgreSQL server (its fixtures start one), so that
    `make check` can leave them out."""
    for item in items:
        if "pg_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when it leaves an embedded server of its own running (each would live on,
    its folder deleted, on a machine that runs the suite again and again), and stop them."""
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: its servers are stopped by its fixtures; the controller checks
    factory = getattr(session.config, "_tmp_path_factory", None)
    basetemp = factory.getbasetemp() if factory is not None else None
    deadline = time.monotonic() + 15  # a server being stopped as the session ends
    while (left := servers_left(basetemp)) and time.monotonic() < deadline:
        time.sleep(0.5)
    if not left:
        return
    for process in left:
        with contextlib.suppress(psutil.Error):
            process.kill()
    names = ", ".join(" ".join(p.info["cmdline"][:3]) for p in left)
    print(f"\nFAILED: the run left {len(left)} embedded PostgreSQL server(s) running: {names}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


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

    home = short_home()
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


def _publish_intake_reports(wh: Warehouse) -> None:
    from chitieu.pipeline import run
    from tests.landing_files import land_intake_reports

    land_intake_reports(wh.landing)
    run(wh.landing, wh.settings, progress=lambda _line: None)


@pytest.fixture
def published(warehouse_from: Callable[[str, Build], Warehouse]) -> Warehouse:
    """A warehouse after one `chitieu run` of the intake reports (tests/landing_files.py)."""
    return warehouse_from("intake_published", _publish_intake_reports)


def _run_demo(wh: Warehouse) -> None:
    from chitieu.demo import write_demo_landing
    from chitieu.pipeline import run

    write_demo_landing(wh.landing)
    run(wh.landing, wh.settings, progress=lambda _line: None)


@pytest.fixture(scope="module")
def demo_warehouse(
    templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouse]:
    """The demo landing area, run once through `chitieu run`, for a whole test module."""
    home = tmp_path_factory.mktemp("demo") / "home"
    with pytest.MonkeyPatch.context() as mp:
        yield templates.copy(mp, "demo", _run_demo, home, "demo")


Build = Callable[[Warehouse], object]


class Templates:
    """Warehouses built once per session (per xdist worker), which tests copy: a copy of the
    database (CREATE DATABASE … TEMPLATE) and of the home folder (landing files with their
    modification times, quarantine, reports), so an expensive state is built once and each
    test may still change its copy freely."""

    def __init__(self, server_url: str, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.server_url = server_url
        self.tmp_path_factory = tmp_path_factory
        self.built: dict[str, Warehouse] = {}

    def copy(
        self, mp: pytest.MonkeyPatch, name: str, build: Build, home: Path, test_name: str
    ) -> Warehouse:
        """A warehouse in `home` holding what `build` made of an empty one."""
        template = self.built.get(name)
        if template is None:
            folder = self.tmp_path_factory.mktemp(f"template_{name}") / "home"
            with pytest.MonkeyPatch.context() as template_mp:
                template = make_warehouse(template_mp, self.server_url, folder, f"template_{name}")
                build(template)
            self.built[name] = template
        return _copy(mp, self.server_url, template, home, test_name)


@pytest.fixture(scope="session")
def templates(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(pg_server, tmp_path_factory)


@pytest.fixture
def warehouse_from(
    templates: Templates,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Callable[[str, Build], Warehouse]:
    """`warehouse_from(name, build)`: this test's own copy of the warehouse `build` makes."""

    def copy(name: str, build: Build) -> Warehouse:
        return templates.copy(monkeypatch, name, build, tmp_path / "home", request.node.name)

    return copy


def _copy(
    mp: pytest.MonkeyPatch, server_url: str, template: Warehouse, home: Path, name: str
) -> Warehouse:
    source = urlsplit(template.url).path.lstrip("/")
    wh = make_warehouse(mp, server_url, home, name)
    database = urlsplit(wh.url).path.lstrip("/")
    with psycopg.connect(server_url, autocommit=True) as conn:
        # A template must have no sessions (the build's pooled GX connections, say).
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where datname = %s and pid <> pg_backend_pid()",
            (source,),
        )
        conn.execute(sql.SQL("drop database {}").format(sql.Identifier(database)))
        conn.execute(
            sql.SQL("create database {} template {}").format(
                sql.Identifier(database), sql.Identifier(source)
            )
        )
    # Privileges on the database itself are not part of the copy.
    ensure_roles(wh.url)
    # copytree keeps modification times (the ledger's submitted_at); dbt's target holds
    # the template's parse, made for another database, so it is left behind.
    shutil.copytree(
        template.settings.home,
        home,
        symlinks=True,
        dirs_exist_ok=True,
        ignore=lambda folder, _names: ["dbt"] if Path(folder) == template.settings.home else [],
    )
    return wh
