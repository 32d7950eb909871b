"""How long Airflow takes to parse each DAG file: the DAG integrity test asserts on it and
the benchmarks report it.

Each file is parsed in a fresh interpreter that has already imported Airflow, as the
dag-processor has: `first` includes importing what the file imports (Cosmos, chitieu) and
`best` is the fastest of the parses after it, the file's own top-level work, which is what
the dag-processor pays on every re-parse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from chitieu.config import REPO_ROOT

DAGS_DIR = REPO_ROOT / "dags"

_PROBE = """
import json, sys, time
import airflow.sdk  # noqa: F401  (the dag-processor has Airflow imported already)
from airflow.dag_processing.dagbag import DagBag
path, repeats = sys.argv[1], int(sys.argv[2])
times, cpu, errors = [], [], {}
for _ in range(repeats):
    started = time.process_time()
    bag = DagBag(dag_folder=path)
    cpu.append(time.process_time() - started)
    errors.update({k: str(v) for k, v in bag.import_errors.items()})
    times += [stat.duration.total_seconds() for stat in bag.dagbag_stats]
print(json.dumps({"times": times, "cpu": cpu, "errors": errors, "dags": sorted(bag.dag_ids)}))
"""


@dataclass(frozen=True)
class ParseTime:
    """Seconds of wall-clock time (`first`, `best`) and of CPU time (`first_cpu`,
    `best_cpu`: what the parse costs without waiting for a busy machine's cores)."""

    file: str
    first: float
    best: float
    first_cpu: float
    best_cpu: float
    dag_ids: list[str]
    errors: dict[str, str]


def _parse_file(path: Path, repeats: int, env: dict[str, str]) -> ParseTime:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), str(repeats)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    times = result["times"] or [float("nan")]
    cpu = result["cpu"]
    return ParseTime(
        file=path.name,
        first=times[0],
        best=min(times[1:] or times),
        first_cpu=cpu[0],
        best_cpu=min(cpu[1:] or cpu),
        dag_ids=result["dags"],
        errors=result["errors"],
    )


def dag_parse_seconds(
    dags_dir: Path = DAGS_DIR, repeats: int = 4, env: dict[str, str] | None = None
) -> dict[str, ParseTime]:
    """Parse every DAG file in `dags_dir` `repeats` times, each file in its own interpreter.

    `env` defaults to this process's environment with example DAGs off; the nightly DAG
    needs its dbt manifest (`chitieu manifest`), or it reports an import error."""
    env = env or {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    return {path.name: _parse_file(path, repeats, env) for path in sorted(dags_dir.glob("*.py"))}
