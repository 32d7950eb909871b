"""The embedded server killed with SIGKILL (as the OOM killer or a power cut would) at 20
points of a `chitieu run`: `chitieu db up` then `chitieu run` must succeed and publish the
marts an uninterrupted run publishes.

A killed postmaster leaves `postmaster.pid` behind, saying `ready`; where nothing reaps
orphans (as in many containers) its pid lives on as a zombie, and its backends may outlive
it holding its shared memory. Once, every later command then failed with "connection
refused" (`chitieu.db.clear_dead_server`).

Everything goes through the command line on the embedded default (no CHITIEU_DB_URL), in
one short temporary home whose warehouse is dropped between tries.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from chitieu.db import with_database
from tests.conftest import short_home
from tests.generated_landing import write_unit_reports
from tests.test_crash import WAIT_S, portable_checksums

pytestmark = pytest.mark.slow

# Progress lines of `chitieu run` that start its phases, in order.
PHASES = (
    ("ingest", "ingesting "),
    ("build", "dbt: reference seeds and staging models"),
    ("publish", "publish: swapping"),
)
# (phase, fraction of that phase's length in the uninterrupted run): 20 kill points.
POINTS = (
    [("start", 0.0), ("start", 0.5)]
    + [("ingest", f) for f in (0.0, 0.3, 0.6)]
    + [("build", i / 12) for i in range(12)]
    + [("publish", f) for f in (0.0, 0.2, 0.4)]
)


@dataclass
class Home:
    path: Path
    url: str = ""

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHITIEU_")}
        return {**env, "CHITIEU_HOME": str(self.path), "CHITIEU_SETTLE_SECONDS": "0"}

    def chitieu(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "chitieu.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=WAIT_S,
            check=False,
        )

    def start(self, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.path / "run.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "chitieu.cli", *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return proc, log

    def query(self, statement: str, params: tuple[object, ...] = ()) -> list[tuple]:
        self.url = self.url or self.chitieu("db", "url").stdout.strip()
        with psycopg.connect(self.url) as conn:
            return conn.execute(statement, params).fetchall()  # type: ignore[arg-type]

    def reset(self) -> None:
        """A new warehouse and landing area; the server and its data folder stay."""
        self.url = self.url or self.chitieu("db", "url").stdout.strip()
        postgres = with_database(self.url, "postgres")
        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute("drop database if exists chitieu with (force)")
            conn.execute("drop database if exists chitieu_airflow with (force)")
        for child in self.path.iterdir():
            if child.name != "pg":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        write_unit_reports(self.path / "landing", provinces=2, files_per_province=3)


@contextmanager
def _home() -> Iterator[Home]:
    folder = short_home()  # short: the socket lives in it
    home = Home(folder)
    try:
        yield home
    finally:
        home.chitieu("db", "down")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def home() -> Iterator[Home]:
    with _home() as made:
        yield made


@pytest.fixture(scope="module")
def second_home() -> Iterator[Home]:
    """Another server: the kill points run on both at once, halving the test's time."""
    with _home() as made:
        yield made


def _phase_starts(log: Path, started: float, seen: dict[str, float]) -> None:
    text = log.read_text(encoding="utf-8", errors="replace")
    for name, marker in PHASES:
        if name not in seen and marker in text:
            seen[name] = time.monotonic() - started


def _run_watching(home: Home) -> tuple[dict[str, float], float]:
    """An uninterrupted `chitieu run`: when each phase started, and when it ended."""
    started = time.monotonic()
    proc, log = home.start("run")
    seen: dict[str, float] = {"start": 0.0}
    while proc.poll() is None:
        _phase_starts(log, started, seen)
        time.sleep(0.01)
    _phase_starts(log, started, seen)
    assert proc.returncode == 0, log.read_text()[-3000:]
    return seen, time.monotonic() - started


def _kill_postmaster(home: Home) -> None:
    pid = int((home.path / "pg" / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)


def _kill_at(home: Home, phase: str, delay: float) -> tuple[int, str]:
    """Start `chitieu run`, kill the postmaster `delay` s into `phase`; the run's exit status
    and output."""
    proc, log = home.start("run")
    started = time.monotonic()
    seen: dict[str, float] = {"start": 0.0}
    while phase not in seen and proc.poll() is None:
        _phase_starts(log, started, seen)
        time.sleep(0.005)
    if phase in seen:
        time.sleep(delay)
        _kill_postmaster(home)
    try:
        proc.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the run did not end after the kill:\n{log.read_text()[-3000:]}")
    return proc.returncode, log.read_text(encoding="utf-8", errors="replace")


def test_a_killed_embedded_server_comes_back_at_any_point_of_a_run(
    home: Home, second_home: Home
) -> None:
    for each in (home, second_home):
        each.path.mkdir(exist_ok=True)
        assert each.chitieu("db", "up").returncode == 0
    home.reset()
    starts, total = _run_watching(home)
    assert set(starts) == {"start", *(name for name, _ in PHASES)}, starts
    expected = portable_checksums(home)  # type: ignore[arg-type]
    ends = {"start": starts["ingest"], "ingest": starts["build"], "build": starts["publish"]}
    ends["publish"] = total

    def kill_points(on: Home, points: list[tuple[int, tuple[str, float]]]) -> None:
        for number, (phase, fraction) in points:
            on.reset()
            delay = fraction * (ends[phase] - starts[phase])
            returncode, output = _kill_at(on, phase, delay)
            where = f"kill {number}: {delay:.2f} s into {phase}"
            if phase in ("ingest", "build") and fraction == 0:
                # As the phase starts, the kill lands mid-run (later ones may find a faster
                # run done): the run stops and says so.
                assert returncode != 0, f"{where}: exit {returncode}\n{output[-2000:]}"
            up = on.chitieu("db", "up")
            assert up.returncode == 0, f"{where}\n{up.stdout}{up.stderr}\n{output[-2000:]}"
            again = on.chitieu("run")
            assert again.returncode == 0, f"{where}\n{again.stdout[-3000:]}{again.stderr[-2000:]}"
            assert portable_checksums(on) == expected, where  # type: ignore[arg-type]

    numbered = list(enumerate(POINTS, start=1))
    with ThreadPoolExecutor(max_workers=2) as pool:
        halves = [
            pool.submit(kill_points, on, numbered[i::2]) for i, on in enumerate((home, second_home))
        ]
        for half in halves:
            half.result()


def test_a_server_killed_again_while_it_recovers_comes_back(home: Home) -> None:
    """Killed, then killed again while `chitieu db up` has it replaying its WAL: the next
    `db up` still starts it."""
    home.path.mkdir(exist_ok=True)
    assert home.chitieu("db", "up").returncode == 0
    _kill_postmaster(home)
    pidfile = home.path / "pg" / "postmaster.pid"
    dead = int(pidfile.read_text().split()[0])
    recovering = subprocess.Popen(
        [sys.executable, "-m", "chitieu.cli", "db", "up"],
        env=home.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:  # the new postmaster's pid, as soon as it has one
        try:
            pid = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid = dead
        if pid != dead:
            break
        time.sleep(0.005)
    _kill_postmaster(home)
    recovering.wait(timeout=WAIT_S)
    up = home.chitieu("db", "up")
    assert up.returncode == 0, up.stdout + up.stderr
    assert home.query("select 1") == [(1,)]
