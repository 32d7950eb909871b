"""Airflow services (api-server, scheduler, workers) run as real processes for a test.

Each service gets a process group of its own, so stopping reaches the task processes and
server workers Airflow forks; a service that does not stop on SIGTERM within the grace
period is killed rather than failing the test that has already made its assertions.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

STOP_GRACE = 30  # seconds for all services together to exit on SIGTERM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class Processes:
    logs: Path
    env: dict[str, str]
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, args: list[str], **extra_env: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.running[name] = subprocess.Popen(
            [str(Path(sys.executable).with_name("airflow")), *args],
            env={**self.env, **extra_env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.running.items() if p.poll() is not None}
        assert not dead, f"exited: {dead}\n{self.tails()}"

    def tails(self, chars: int = 3000) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-chars:]}"
            for path in sorted(self.logs.glob("*.log"))
        )

    def wait_until(self, what: str, ready: Callable[[], object], timeout: float) -> object:
        """Polls `ready` until it returns something true; fails early if a service died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            value = ready()
            if value:
                return value
            time.sleep(2)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.tails()}")

    def stop(self) -> None:
        for process in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process in self.running.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            # Also the group's stragglers (task supervisors, gunicorn/uvicorn children).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
