"""Quality gates: Great Expectations suites (files under `expectations/suites/`) run as SQL
in the warehouse; a failed error-level expectation stops the run before publication."""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from chitieu.config import Settings
from chitieu.db import sqlalchemy_url
from chitieu.exceptions import DataError
from chitieu.gx_offline import make_offline
from chitieu.reference import load_reference

log = logging.getLogger(__name__)

_RESULTS_DDL = """
create schema if not exists audit;
create table if not exists audit.validation_result (
    run_id text not null,
    validated_at timestamptz not null default now(),
    suite text not null,
    asset text not null,
    expectation text not null,
    kwargs jsonb not null,
    level text not null,
    success boolean not null,
    observed jsonb
);
"""


@dataclass
class ExpectationOutcome:
    expectation: str
    description: str | None
    column: str | None
    level: str
    success: bool
    unexpected_count: int | None
    sample: list[Any]
    kwargs: dict[str, Any]
    observed: Any = None

    def describe(self) -> str:
        target = f" on {self.column}" if self.column else ""
        what = f" ({self.description})" if self.description else ""
        count = f": {self.unexpected_count} offending row(s)" if self.unexpected_count else ""
        if self.observed is not None and not self.unexpected_count and not self.sample:
            count = f": observed {self.observed}"
        sample = f", e.g. {self.sample[:5]}" if self.sample else ""
        return f"{self.expectation}{target}{what}{count}{sample}"


@dataclass
class GateResult:
    suite: str
    asset: str
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    docs: str | None = None

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.level == "error"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.level == "warning"]

    @property
    def success(self) -> bool:
        return not self.failures


class GateFailed(DataError):
    """One or more gates failed; the message names every failed expectation."""

    def __init__(self, *results: GateResult) -> None:
        lines: list[str] = []
        for result in results:
            lines.append(f"quality gate {result.suite} failed on {result.asset}:")
            lines += [f"  - {o.describe()}" for o in result.failures]
        docs = next((r.docs for r in results if r.docs), None)
        if docs:
            lines.append(f"  Data Docs: {docs}")
        super().__init__("\n".join(lines))
        self.results = results


# A candidate mart with fewer rows than this share of the published one is not published:
# facts are never deleted, so a collapse means lost data or a broken model, not news.
MIN_ROW_SHARE = 0.9


def _suite_parameters(settings: Settings, url: str) -> dict[str, Any]:
    reference = load_reference(settings.seeds_dir)
    parameters: dict[str, Any] = {
        "indicator_codes": sorted(reference.indicators),
        "unit_codes": sorted(reference.units),
        "province_codes": sorted(reference.provinces),
    }
    published = published_row_counts(url)
    for suite in settings.expectations_dir.glob("suites/*.json"):
        rows = published.get(suite.stem, 0)
        parameters[f"min_rows_{suite.stem}"] = int(rows * MIN_ROW_SHARE)
    return parameters


def published_row_counts(url: str) -> dict[str, int]:
    """Row counts of the published marts tables (estimates are not good enough here)."""
    with psycopg.connect(url) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'marts' and table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        counts = {}
        for name in tables:
            query = sql.SQL("select count(*) from marts.{}").format(sql.Identifier(name))
            row = conn.execute(query).fetchone()
            counts[name] = int(row[0]) if row else 0
    return counts


def _load_suite(settings: Settings, name: str) -> dict[str, Any]:
    """The suite's JSON, with `{"$QUERY": file}` replaced by that file of `queries/`:
    the SQL of unexpected-rows expectations is kept as readable .sql files."""
    path = settings.expectations_dir / "suites" / f"{name}.json"
    spec = json.loads(path.read_text(encoding="utf-8"))
    for expectation in spec["expectations"]:
        for key, value in expectation["kwargs"].items():
            if isinstance(value, dict) and "$QUERY" in value:
                query = settings.expectations_dir / "queries" / value["$QUERY"]
                expectation["kwargs"][key] = query.read_text(encoding="utf-8")
    return spec


def _exception_message(result: Any) -> str | None:
    info = getattr(result, "exception_info", None) or {}
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "unknown error").splitlines()[0]
    for nested in info.values() if isinstance(info, dict) else ():
        if isinstance(nested, dict) and nested.get("raised_exception"):
            return str(nested.get("exception_message") or "unknown error").splitlines()[0]
    return None


def _outcome(result: Any, levels: dict[str, str]) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    details = result.result or {}
    level = levels.get(config.id or "", (config.meta or {}).get("level", "error"))
    description = config.description
    failure = _exception_message(result)
    if failure:
        # An expectation that could not run (bad SQL, missing table) fails at error level:
        # an unchecked rule is not a passed one.
        level = "error"
        description = f"{description or config.type} could not run: {failure}"
    return ExpectationOutcome(
        expectation=config.type,
        description=description,
        column=kwargs.get("column")
        or kwargs.get("column_A")
        or (",".join(kwargs["column_list"]) if "column_list" in kwargs else None),
        level=level,
        success=bool(result.success),
        unexpected_count=details.get("unexpected_count"),
        sample=list(details.get("partial_unexpected_list") or [])[:20],
        kwargs=kwargs,
        observed=details.get("observed_value"),
    )


def _store(url: str, run_id: str, result: GateResult) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(_RESULTS_DDL)
        with conn.cursor().copy(
            "copy audit.validation_result (run_id, suite, asset, expectation, kwargs, level,"
            " success, observed) from stdin"
        ) as copy:
            for o in result.outcomes:
                observed = {
                    "unexpected_count": o.unexpected_count,
                    "sample": o.sample,
                    "observed_value": o.observed,
                }
                copy.write_row(
                    (
                        run_id,
                        result.suite,
                        result.asset,
                        o.expectation,
                        json.dumps(o.kwargs, default=str),
                        o.level,
                        o.success,
                        json.dumps(observed, default=str),
                    )
                )


def run_gate(
    settings: Settings, url: str, suite_name: str, schema: str, table: str, run_id: str
) -> GateResult:
    """Validate `schema.table` with the suite of that name; store and return the outcome."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.data_context.types.base import ProgressBarsConfig

    warnings.filterwarnings("ignore", message=".*generic SQLDatasource.*")
    context = gx.get_context(mode="file", project_root_dir=str(settings.home))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    # The URL reaches GX through the environment, so no credential is written into the
    # GX project files; a generic SQL source because GX's Postgres one rejects socket URLs.
    os.environ["CHITIEU_GX_URL"] = sqlalchemy_url(url)
    source = context.data_sources.add_or_update_sql(
        name="warehouse", connection_string="${CHITIEU_GX_URL}"
    )
    asset_name = f"{schema}.{table}"
    try:
        asset = source.get_asset(asset_name)
    except LookupError:
        asset = source.add_table_asset(name=asset_name, table_name=table, schema_name=schema)
    try:
        batch = asset.get_batch_definition("whole_table")
    except KeyError:
        batch = asset.add_batch_definition_whole_table("whole_table")

    spec = _load_suite(settings, suite_name)
    suite = context.suites.add_or_update(
        gx.ExpectationSuite(
            name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta")
        )
    )
    levels = {e.id: (e.meta or {}).get("level", "error") for e in suite.expectations if e.id}
    # One definition and checkpoint per (suite, asset): `add_or_update_sql` above re-creates
    # the source with this asset only, and GX cannot even load (to replace) a stored
    # definition whose asset is gone, so one shared by two assets breaks on the second.
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"{suite_name}__{asset_name}", data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"{suite_name}__{asset_name}__checkpoint",
            validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="update_data_docs")],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20},
        )
    )
    run = checkpoint.run(expectation_parameters=_suite_parameters(settings, url))
    result = GateResult(suite=suite_name, asset=asset_name)
    for validation in run.run_results.values():
        result.outcomes += [_outcome(r, levels) for r in validation.results]
    for outcome in result.outcomes:
        can_sample = "could not run" not in (outcome.description or "")
        if not outcome.success and can_sample and "unexpected_rows_query" in outcome.kwargs:
            outcome.unexpected_count = outcome.observed
            outcome.sample = _offending_rows(
                url, outcome.kwargs["unexpected_rows_query"], asset_name
            )
    docs = settings.home / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    if docs.exists():
        make_offline(docs.parent)  # the site renders with no network
    result.docs = str(docs) if docs.exists() else None
    _store(url, run_id, result)
    return result


def _offending_rows(url: str, query: str, asset: str, limit: int = 10) -> list[dict[str, Any]]:
    """A few of the rows an unexpected-rows expectation found, to name them in the report."""
    schema, table = asset.split(".", 1)
    batch = sql.Identifier(schema, table).as_string()
    # query: an expectation's SQL from the repo's suite files; the table by sql.Identifier;
    # limit an int. Nothing here comes from a submission.
    statement = f"select * from ({query.replace('{batch}', batch)}) as offending limit {limit}"  # noqa: S608
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return [
            {k: str(v) if v is not None else None for k, v in row.items()}
            for row in conn.execute(statement.encode()).fetchall()
        ]


def require(result: GateResult) -> GateResult:
    """Raise `GateFailed` when an error-level expectation failed."""
    for warning in result.warnings:
        log.warning("gate %s warning: %s", result.suite, warning.describe())
    if not result.success:
        raise GateFailed(result)
    return result
