"""
### Đề án 06 nightly load

Every night at 01:00 (Asia/Ho_Chi_Minh): ingest every new file in the landing area (one
mapped task per file, so a bad file shows as its own task); when no file was accepted and
nothing else the marts depend on changed, stop there (`anything_new`: the published marts
and their Assets stay untouched); otherwise build staging with dbt, gate it
with Great Expectations, build the candidate marts (task group `dbt_marts`, rendered by
Cosmos: one task per dbt model, running the model and its tests), gate them, publish them as
schema `marts`, and write the progress brief of every province that reported last month.

What `chitieu run` does; each task is one call into the `chitieu` package or one dbt model.
A failed gate or dbt test stops the run before publication: yesterday's marts stay.

A backfill run (`airflow backfill create --dag-id chitieu_nightly --from-date … --to-date …`)
ingests nothing and rebuilds, from the files already loaded, the periods ending in the month
of its logical date; then gates and publishes as every night does.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule, dag, task

from chitieu.assets import PUBLISHED_MARTS, marts_asset
from chitieu.dbt_dag import marts_task_group

# Data errors (a failed gate or dbt test, an unusable landing area) fail at once: trying
# again would give the same answer. Everything else (a dropped connection, a restarting
# database) is retried with exponential backoff. Every data error derives from DataError,
# whose module imports nothing, so parsing this file stays cheap.
RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(
            exception="chitieu.exceptions.DataError",
            action=RetryAction.FAIL,
            reason="data error: a retry would fail the same way",
        ),
    ],
)


def alert_on_failure(context: dict) -> None:
    from chitieu.alerts import from_airflow_context, raise_alert

    raise_alert(from_airflow_context(context))


@dag(
    dag_id="chitieu_nightly",
    schedule="0 1 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    tags=["chitieu", "de-an-06", "nightly"],
    doc_md=__doc__,
    default_args={
        "owner": "chitieu",
        "retries": 3,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
        "retry_policy": RETRY_POLICY,
        "on_failure_callback": alert_on_failure,
    },
)
def chitieu_nightly() -> None:
    @task
    def discover_files(**context: object) -> list[str]:
        from chitieu.dbt_dag import backfill_months
        from chitieu.orchestration import discover_files

        return discover_files(backfill_months(context), dag_run=str(context["run_id"]))

    # The pool (created by `chitieu airflow`) bounds concurrent ingests across all runs.
    @task(pool="chitieu_ingest", max_active_tis_per_dagrun=4)
    def ingest_file(rel_path: str) -> dict[str, object]:
        from chitieu.orchestration import ingest_file

        return ingest_file(rel_path)

    # A night with nothing new (no file accepted, the marts' other inputs unchanged) skips
    # the build and publication; only the direct downstream task is skipped outright, so
    # the tasks after publication follow their own trigger rules.
    @task.short_circuit(trigger_rule="none_failed", ignore_downstream_trigger_rules=False)
    def anything_new(_results: list[dict[str, object]], **context: object) -> bool:
        from chitieu.dbt_dag import backfill_months
        from chitieu.orchestration import anything_new

        return anything_new(str(context["run_id"]), backfill_months(context))

    @task(trigger_rule="none_failed")
    def build_staging(results: list[dict[str, object]], **context: object) -> None:
        from chitieu.orchestration import build_staging

        build_staging(results, dag_run=str(context["run_id"]))

    @task
    def gate_staging(**context: object) -> str:
        from chitieu.orchestration import gate_staging

        return gate_staging(dag_run=str(context["run_id"]))

    @task
    def begin_marts(gate_run_id: str, **context: object) -> None:
        from chitieu.dbt_dag import backfill_months
        from chitieu.orchestration import begin_marts

        begin_marts(gate_run_id, backfill_months(context))

    @task
    def finish_marts(gate_run_id: str, **context: object) -> None:
        from chitieu.dbt_dag import backfill_months
        from chitieu.orchestration import finish_marts

        finish_marts(gate_run_id, backfill_months(context))

    @task
    def gate_marts(gate_run_id: str, **context: object) -> list[str]:
        from chitieu.orchestration import gate_marts

        return gate_marts(gate_run_id, dag_run=str(context["run_id"]))

    # Downstream DAGs (chitieu_bi_extract) are scheduled on these, not on a clock.
    @task(outlets=[marts_asset(name) for name in PUBLISHED_MARTS])
    def publish(gate_run_id: str, **context: object) -> dict[str, int]:
        from chitieu.orchestration import publish

        return publish(gate_run_id, dag_run=str(context["run_id"]))

    # Also after a night with nothing new: a new month's briefs may be due all the same.
    @task(trigger_rule="none_failed")
    def write_briefs(**context: object) -> list[str]:
        from chitieu.dbt_dag import run_day
        from chitieu.orchestration import write_briefs

        return write_briefs(run_day(context))

    # Whatever the other tasks did: the night report and the notices to departments. A
    # teardown, so that its success does not make a failed night's run succeed.
    @task
    def morning_after(**context: object) -> list[str]:
        from chitieu.orchestration import morning_after

        return morning_after(str(context["run_id"]))

    results = ingest_file.expand(rel_path=discover_files())
    gate = gate_staging()
    anything_new(results) >> build_staging(results) >> gate
    # Write, audit, publish: the models build into marts_candidate, finish_marts commits
    # their incremental state and stamps the build, and only a build the gate passed is
    # published.
    finished = finish_marts(gate)
    begin_marts(gate) >> marts_task_group() >> finished
    finished >> gate_marts(gate) >> publish(gate) >> write_briefs() >> morning_after().as_teardown()


chitieu_nightly()
