"""The run journal: when each step of a run started and ended, and how (`audit.run_step`,
created with the other audit tables by `sql/warehouse.sql`).

`chitieu run` and the nightly DAG's tasks record their steps under one run id (the
command's own, or the Airflow DAG run's), so that `chitieu status` can tell the next
morning what a night did and how long each step took. Recording never hides the step's own
outcome: when the journal cannot be written (the database is what failed), the step's
exception is what propagates.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg

log = logging.getLogger(__name__)


class Step:
    """What a step tells the journal besides its timing (`detail`, JSON)."""

    def __init__(self) -> None:
        self.detail: dict[str, object] = {}


def _record(
    url: str,
    run_id: str,
    name: str,
    started: datetime,
    outcome: str,
    detail: dict[str, object],
) -> None:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute(
                "insert into audit.run_step"
                " (run_id, step, started_at, finished_at, outcome, detail)"
                " values (%s, %s, %s, now(), %s, %s)",
                (run_id, name, started, outcome, json.dumps(detail, default=str)),
            )
    except psycopg.Error as exc:
        log.warning("run journal: could not record step %s of run %s: %s", name, run_id, exc)


@contextmanager
def step(url: str, run_id: str, name: str) -> Iterator[Step]:
    """Record the step `name` of run `run_id`: its timing, and `failed` with the error's
    message when it raises."""
    started = datetime.now(UTC)
    recorded = Step()
    try:
        yield recorded
    except BaseException as exc:
        detail = {**recorded.detail, "error": f"{type(exc).__name__}: {exc}"[:2000]}
        _record(url, run_id, name, started, "failed", detail)
        raise
    _record(url, run_id, name, started, "ok", recorded.detail)
