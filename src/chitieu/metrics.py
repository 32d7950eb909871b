"""The metrics of dbt's semantic layer (dbt_project/models/semantic), queried with MetricFlow.

The metrics are defined once, in the dbt project; MetricFlow turns a request ("share of
targets met by unit and quarter") into SQL over the published marts, which this module runs
read-only. `chitieu metrics` is its command line.

MetricFlow's own CLI (`mf`) reads the semantic manifest from the project's `target/` and
connects through a dbt adapter; here the manifest is parsed into the warehouse's own dbt
folder (with the published schema, `marts`) and the SQL runs on a plain connection.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg

from chitieu.config import Settings
from chitieu.exceptions import DataError
from chitieu.publish import PUBLISHED
from chitieu.transform import dbt_args, dbt_env, dbt_target_dir, raise_for_failure


class MetricsError(DataError):
    pass


@dataclass(frozen=True)
class MetricsResult:
    sql: str
    columns: list[str]
    rows: list[tuple[Any, ...]]


def _semantic_target(settings: Settings) -> Path:
    return dbt_target_dir(settings).parent / "semantic"


def semantic_manifest_path(settings: Settings, url: str) -> Path:
    """`dbt parse` of the project with the marts at their published schema, writing
    semantic_manifest.json (no database is read); parsed again only when the project's
    files or the database changed since."""
    from dbt.cli.main import dbtRunner

    from chitieu.db import database_of
    from chitieu.manifest import newest_source

    target = _semantic_target(settings)
    manifest = target / "semantic_manifest.json"
    stamp = target / "parsed_for.txt"
    key = f"{database_of(url)} {newest_source(settings.dbt_project_dir)}"
    if manifest.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == key:
        return manifest
    os.environ.update(dbt_env(url, ""))
    args = ["parse", "--quiet", "--target-path", str(target), "--no-partial-parse"]
    result = dbtRunner().invoke(dbt_args(settings, args, {"marts_schema": PUBLISHED}))
    if not result.success:
        raise_for_failure(result, ["parse"])
    stamp.write_text(key, encoding="utf-8")
    return manifest


@lru_cache(maxsize=2)
def _engine(manifest_path: Path, modified: float) -> Any:
    from metricflow.engine.metricflow_engine import MetricFlowEngine
    from metricflow_semantics.model.dbt_manifest_parser import (
        parse_manifest_from_dbt_generated_manifest,
    )
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    manifest = parse_manifest_from_dbt_generated_manifest(
        manifest_json_string=manifest_path.read_text(encoding="utf-8")
    )
    return MetricFlowEngine(SemanticManifestLookup(manifest), _PostgresSqlRenderer())


class _PostgresSqlRenderer:
    """What MetricFlow needs of a SQL client to write PostgreSQL (its `explain`): the
    queries themselves run through psycopg."""

    @property
    def sql_engine_type(self) -> Any:
        from metricflow.protocols.sql_client import SqlEngine

        return SqlEngine.POSTGRES

    @property
    def sql_plan_renderer(self) -> Any:
        from metricflow.sql.render.postgres import PostgresSQLSqlPlanRenderer

        return PostgresSQLSqlPlanRenderer()

    def query(self, *_args: object, **_kwargs: object) -> Any:
        raise NotImplementedError("chitieu runs MetricFlow's SQL itself")

    execute = dry_run = query

    def close(self) -> None:
        return None

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"%({bind_parameter_key})s"


@dataclass(frozen=True)
class MetricsQuery:
    """Metrics grouped by `group_by` (e.g. `unit__name_vi`, `metric_time__quarter`),
    filtered by `where` (MetricFlow's Jinja: `{{ Dimension('period__period_type') }} =
    'month'`), ordered by `order_by` (a name, `-` first for descending)."""

    metrics: Sequence[str]
    group_by: Sequence[str] = ()
    where: Sequence[str] = ()
    order_by: Sequence[str] = ()


def metrics_sql(settings: Settings, url: str, query: MetricsQuery) -> str:
    """MetricFlow's SQL for the query, over the published marts."""
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    path = semantic_manifest_path(settings, url)
    request = MetricFlowQueryRequest.create(
        metric_names=list(query.metrics),
        group_by_names=list(query.group_by),
        where_constraints=list(query.where) or None,
        order_by_names=list(query.order_by) or None,
    )
    try:
        explained = _engine(path, path.stat().st_mtime).explain(request)
    except Exception as error:  # MetricFlow's query errors name the unknown metric or dimension
        raise MetricsError(f"MetricFlow cannot answer this query: {error}") from error
    return explained.sql_statement.without_descriptions.sql


def query_metrics(settings: Settings, url: str, query: MetricsQuery) -> MetricsResult:
    """The metrics over the published marts, in a read-only transaction."""
    statement = metrics_sql(settings, url, query)
    with psycopg.connect(url) as conn:
        conn.execute("set transaction read only")
        cursor = conn.execute(statement)  # type: ignore[arg-type]  # MetricFlow's SQL
        columns = [column.name for column in cursor.description or []]
        return MetricsResult(statement, columns, cursor.fetchall())
