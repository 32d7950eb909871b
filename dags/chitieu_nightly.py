"""
### Đề án 06 nightly load

Every night at 01:00 (Asia/Ho_Chi_Minh): ingest every new file in the landing area (one
mapped task per file, so a bad file shows as its own task), build staging with dbt, gate it
with Great Expectations, build the candidate marts, gate them, and publish them as schema
`marts`.

Exactly what `chitieu run` does; each task is one call into the `chitieu` package.
A failed gate or dbt test stops the run before publication: yesterday's marts stay.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="chitieu_nightly",
    schedule="0 1 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    tags=["chitieu", "de-an-06", "nightly"],
    doc_md=__doc__,
    default_args={"owner": "chitieu", "retries": 0},
)
def chitieu_nightly() -> None:
    @task
    def discover_files() -> list[str]:
        from chitieu.orchestration import discover_files

        return discover_files()

    # The pool (created by `chitieu airflow`) bounds concurrent ingests across all runs.
    @task(pool="chitieu_ingest", max_active_tis_per_dagrun=4)
    def ingest_file(rel_path: str) -> dict[str, object]:
        from chitieu.orchestration import ingest_file

        return ingest_file(rel_path)

    @task(trigger_rule="none_failed")
    def build_staging(results: list[dict[str, object]]) -> None:
        from chitieu.orchestration import build_staging

        build_staging(results)

    @task
    def gate_staging() -> str:
        from chitieu.orchestration import gate_staging

        return gate_staging()

    @task
    def build_marts(gate_run_id: str) -> None:
        from chitieu.orchestration import build_marts

        build_marts(gate_run_id)

    @task
    def gate_marts(gate_run_id: str) -> list[str]:
        from chitieu.orchestration import gate_marts

        return gate_marts(gate_run_id)

    @task
    def publish() -> dict[str, int]:
        from chitieu.orchestration import publish

        return publish()

    results = ingest_file.expand(rel_path=discover_files())
    gate = gate_staging()
    build_staging(results) >> gate
    build_marts(gate) >> gate_marts(gate) >> publish()


chitieu_nightly()
