"""The marts build as an Airflow task group rendered by astronomer-cosmos.

One task per dbt model of `intermediate`, `marts` and `semantic`, each running `dbt run` of
its model, then one task running every dbt test of those models once all are built (Cosmos'
TestBehavior.AFTER_ALL: a test reading several models sees them all current). The graph
comes from the manifest compiled ahead of time (chitieu.manifest), so the DAG file parses in
milliseconds without dbt. Every task runs dbt in-process (dbtRunner) with the project's
profiles.yml and exactly the connection, role and vars `chitieu build` uses
(`pipeline.marts_dbt_context`), filled in when the task runs: nothing about the warehouse is
resolved while the DAG file is parsed.

This module is imported by the DAG file: it imports only Cosmos and chitieu.config at the top.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chitieu.config import load_settings
from chitieu.manifest import manifest_path

GROUP_ID = "dbt_marts"
SELECT = ["path:models/intermediate", "path:models/marts", "path:models/semantic"]


class ManifestMissing(RuntimeError):
    pass


def backfill_months(context: Any) -> tuple[str, str] | None:
    """The months a run rebuilds beyond what is new: for a backfill run, the month of its
    logical date (in the DAG's timezone); None for a scheduled or manual run."""
    run_type = getattr(context["dag_run"], "run_type", None)
    if getattr(run_type, "value", run_type) != "backfill":
        return None
    logical = context["logical_date"].in_timezone(context["dag"].timezone)
    month = date(logical.year, logical.month, 1).strftime("%Y-%m")
    return month, month


def run_day(context: Any) -> date:
    """The run's date in the DAG's timezone: its logical date, or, for a run triggered
    without one (Airflow 3 allows it, from the UI or the REST API), when it was queued."""
    when = context.get("logical_date") or context["dag_run"].run_after
    return when.astimezone(context["dag"].timezone).date()  # type: ignore[no-any-return]


def prepare_dbt_task(context: Any, operator: Any) -> None:
    """Cosmos interceptor, run in the worker just before dbt: the warehouse connection, the
    transformer role and the vars, and failures classified as `chitieu build` classifies them
    (a lost connection is retried, a failed model or test is a data error and is not)."""
    from chitieu import pipeline
    from chitieu.db import warehouse_url
    from chitieu.transform import raise_for_failure

    settings = load_settings()
    dbt = pipeline.marts_dbt_context(settings, warehouse_url(settings), backfill_months(context))
    operator.env = {**(operator.env or {}), **dbt.env}
    operator.vars = dbt.vars

    def handle_exception(result: Any) -> None:
        if not result.success:
            raise_for_failure(result, [f"build {operator.task_id}"])

    # Cosmos calls this method with dbt's result; the instance attribute takes precedence.
    operator.handle_exception_dbt_runner = handle_exception


def marts_task_group(**task_group_args: Any) -> Any:
    """The DbtTaskGroup building intermediate and candidate marts, one task per model."""
    from cosmos import (
        DbtTaskGroup,
        ExecutionConfig,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
    )
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    settings = load_settings()
    manifest = manifest_path(settings)
    if not manifest.exists():
        raise ManifestMissing(
            f"no dbt manifest at {manifest}: run `chitieu manifest` (every `chitieu airflow` "
            "command also writes it) and the DAG will load on the next parse"
        )
    project = settings.dbt_project_dir
    project_config = ProjectConfig(
        dbt_project_path=project,
        manifest_path=manifest,
        project_name="chitieu",
        install_dbt_deps=False,  # the project has no packages
    )
    # Cosmos wraps every manifest path in Airflow's ObjectStoragePath, whose first open loads
    # every Airflow plugin (seconds, at each parse in a fresh process); the manifest is a
    # local file, read as one.
    project_config.manifest_path = manifest
    return DbtTaskGroup(
        group_id=GROUP_ID,
        project_config=project_config,
        profile_config=ProfileConfig(
            profile_name="chitieu",
            target_name="default",
            profiles_yml_filepath=project / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=SELECT,
            # One task per model, then one task for every dbt test of the group: a test
            # reading several models must see them all current, not some still holding the
            # older build the candidate started from; and each task is a process with dbt to
            # start, so 30 test tasks (BUILD, with multi-parent tests detached) doubled a run.
            test_behavior=TestBehavior.AFTER_ALL,
            # The marts' Assets are emitted by publish, once they are validated. (Cosmos
            # takes this from RenderConfig, overriding operator_args; emitted per model, the
            # URIs of a Unix-socket database have no host and fail every task.)
            emit_datasets=False,
        ),
        operator_args={"interceptors": [prepare_dbt_task]},
        **task_group_args,
    )
