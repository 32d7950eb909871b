"""Security: secrets only from the environment, never printed or written; paths confined to
the landing area; SQL only with parameters or psycopg.sql.

- A whole `chitieu run` (the CLI, debug logging on) with a password in CHITIEU_DB_URL: the
  password appears nowhere in what it prints or logs, in any file under CHITIEU_HOME (dbt
  logs, GX project and Data Docs, quarantine reports) or in dbt's target folder.
- Nothing secret in the repository's dbt profile: every connection setting is an env_var.
- The landing path cannot be escaped: tests/test_hostile.py
  (test_a_symlink_out_of_the_landing_area_is_refused,
  test_ingest_one_refuses_paths_out_of_the_landing_area).
- SQL: ruff's S608 (pyproject.toml) flags any query built from strings; `make test` runs
  ruff, and the check below makes sure the rule stays on.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from chitieu.cli import main
from chitieu.config import load_settings
from chitieu.db import display_url
from chitieu.transform import dbt_target_dir
from tests.conftest import Warehouse
from tests.landing_files import land_intake_reports

REPO = Path(__file__).resolve().parents[1]


def _with_login(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


@pytest.fixture
def secret_login(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A login role with a password, and CHITIEU_DB_URL carrying it. (The embedded server
    trusts local connections, so the password is not checked there: it only has to travel
    as a real one does, and never show.)"""
    password = f"Pw{uuid.uuid4().hex}"
    user = f"ct_secret_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create role {} login superuser password {}").format(
                sql.Identifier(user), sql.Literal(password)
            )
        )
    monkeypatch.setenv("CHITIEU_DB_URL", _with_login(warehouse.url, user, password))
    try:
        yield password
    finally:
        with psycopg.connect(warehouse.url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("reassign owned by {} to current_user").format(sql.Identifier(user))
            )
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(user)))
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(user)))


def _files_holding(folder: Path, secret: bytes) -> list[str]:
    return [
        str(path)
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink() and secret in path.read_bytes()
    ]


@pytest.mark.slow
def test_a_run_never_shows_the_database_password(
    warehouse: Warehouse,
    secret_login: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = load_settings()
    assert secret_login in (settings.db_url or "")  # the run really gets the password
    land_intake_reports(warehouse.landing)
    caplog.set_level("DEBUG")

    assert main(["--verbose", "run", "--landing", str(warehouse.landing)]) == 0
    assert main(["db", "up"]) == 0

    out, err = capfd.readouterr()
    assert "files: 2 accepted" in out  # the run did run, and its output was captured
    assert "***" in out  # `db up` names the database, masked
    assert secret_login not in out
    assert secret_login not in err
    assert secret_login not in caplog.text
    assert not [r for r in caplog.records if secret_login in str(r.args)]
    assert (settings.home / "logs" / "dbt").is_dir() and (settings.home / "gx").is_dir()
    assert _files_holding(settings.home, secret_login.encode()) == []
    assert _files_holding(dbt_target_dir(settings), secret_login.encode()) == []
    assert _files_holding(settings.dbt_project_dir / "target", secret_login.encode()) == []


def test_display_url_masks_the_password() -> None:
    assert display_url("postgresql://etl:s3cret@db:5432/dw") == "postgresql://etl:***@db:5432/dw"
    assert display_url("postgresql://etl@db/dw") == "postgresql://etl@db/dw"
    shown = display_url("postgresql://etl:p%40ss@/dw?host=/run/pg")
    assert "p%40ss" not in shown and shown.endswith("@/dw?host=/run/pg")


def test_the_dbt_profile_takes_every_connection_setting_from_the_environment() -> None:
    profile = (REPO / "dbt_project" / "profiles.yml").read_text(encoding="utf-8")
    settings = re.findall(r"^\s+(host|port|user|password|dbname|role):\s*(.+)$", profile, re.M)
    assert {name for name, _ in settings} == {"host", "port", "user", "password", "dbname", "role"}
    for name, value in settings:
        assert "env_var('CHITIEU_PG" in value, name
    assert re.search(r"password:\s*\"\{\{ env_var\('CHITIEU_PGPASSWORD', ''\) \}\}\"", profile)


def test_no_credentials_are_committed() -> None:
    """Every URL with a password in a tracked file takes it from the environment
    (`${CHITIEU_DB_PASSWORD}` in docker compose) or is a placeholder (`…` in the docs), and
    no `.env` file is tracked (docker/.env.example holds `change-me`)."""
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    assert not [name for name in tracked if Path(name).name == ".env"]
    url_with_password = re.compile(
        r"postgres(?:ql)?(?:\+\w+)?://(?:\$\{[^}]*\}|[^:/\s'\"@]+):([^@\s'\"/]+)@"
    )
    leaks = []
    for name in filter(None, tracked):
        path = REPO / name
        if not path.is_file() or name == "tests/test_security.py":  # its examples are made up
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for match in url_with_password.finditer(text):
            password = match.group(1)
            if not (password.startswith("${") or password in {"…", "***"}):
                leaks.append(f"{name}: {match.group(0)}")
    assert leaks == []
    assert url_with_password.search("postgresql://etl:hunter2@db/dw")  # the pattern bites


def test_sql_injection_rule_stays_on() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    lint = config["tool"]["ruff"]["lint"]
    assert "S608" in lint["select"]
    ignored_in = [
        glob for glob, rules in lint.get("per-file-ignores", {}).items() if "S608" in rules
    ]
    assert not [glob for glob in ignored_in if glob.startswith(("src", "dags"))]
