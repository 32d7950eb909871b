"""The marts as a BI tool sees them, on the demo warehouse, through a login role in
`bi_reader`: every SQL query docs/bi.md offers runs and returns rows; one-table queries
answer what analysts ask first, and agree with a computation from the codes alone and with
the semantic layer's metrics; every column has a comment; the declared keys are in the
catalog after a publish and after a rollback."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import sql
from psycopg.conninfo import make_conninfo

from chitieu import pipeline, publish
from chitieu.metrics import MetricsQuery, query_metrics
from tests.conftest import Warehouse

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BI_DOC = REPO / "docs" / "bi.md"
MARTS_YML = REPO / "dbt_project" / "models" / "marts" / "_marts__models.yml"
SQL_BLOCK = re.compile(r"^```sql\n(.*?)^```", re.DOTALL | re.MULTILINE)


def bi_queries() -> list[str]:
    return SQL_BLOCK.findall(BI_DOC.read_text(encoding="utf-8"))


def bi_query_under(heading: str) -> str:
    """The first SQL block after the `### heading` of docs/bi.md."""
    text = BI_DOC.read_text(encoding="utf-8")
    found = SQL_BLOCK.search(text, text.index(f"### {heading}\n"))
    assert found, heading
    return found.group(1)


@pytest.fixture(scope="module")
def bi_login(demo_warehouse: Warehouse) -> Iterator[str]:
    """A URL of the demo warehouse for a login role that is a member of bi_reader, as
    docs/bi.md tells an administrator to create for a BI tool."""
    role = f"bi_test_{os.getpid()}"
    with psycopg.connect(demo_warehouse.url, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} login in role bi_reader").format(sql.Identifier(role)))
    yield make_conninfo(demo_warehouse.url, user=role, password="")
    with psycopg.connect(demo_warehouse.url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def as_bi(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        assert conn.execute("select pg_has_role('bi_reader', 'member')").fetchone() == (True,)
        return conn.execute(query).fetchall()  # type: ignore[arg-type]


def test_the_page_has_the_first_queries() -> None:
    queries = bi_queries()
    assert len(queries) >= 5
    for mart in (
        "target_gap",
        "fct_indicator_value_successor",
        "submission_completeness",
        "unit_scorecard",
        "province_ranking",
        "fct_indicator_value_history",
        "fct_indicator_value_revision",
    ):
        assert any(f"marts.{mart}" in query for query in queries), mart


@pytest.mark.parametrize("number", range(len(bi_queries())))
def test_bi_query_returns_rows(bi_login: str, number: int) -> None:
    query = bi_queries()[number]
    rows = as_bi(bi_login, query)
    assert rows, f"query {number + 1} of docs/bi.md returned no rows:\n{query}"


def test_bi_reader_reads_no_rows_outside_marts(bi_login: str) -> None:
    """What docs/bi.md says: the catalog lists other schemas' tables, their rows stay shut."""
    listed = as_bi(bi_login, "select count(*) from pg_catalog.pg_tables where schemaname = 'raw'")
    assert listed[0][0] > 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_bi(bi_login, "select * from raw.submission_value limit 1")


# --- one-table answers, against the codes and the semantic layer ------------------------


def _names(wh: Warehouse, seed: str, code: str, name: str) -> dict[str, str]:
    return dict(wh.query(f"select {code}, {name} from reference.{seed}"))


def pg_round(value: Decimal) -> Decimal:
    """PostgreSQL's round(numeric, 4): halves away from zero."""
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _quarter(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def test_share_of_targets_met_by_unit_per_quarter(demo_warehouse: Warehouse, bi_login: str) -> None:
    query = bi_query_under("Share of targets met by unit, per quarter")
    assert " join " not in query.lower()
    shown = as_bi(bi_login, query)

    # From the codes alone: the unit's Vietnamese name from the seed, the quarter from the
    # period, met from the status.
    units = _names(demo_warehouse, "units", "unit_code", "name_vi")
    counts: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for unit_code, start, status in demo_warehouse.query(
        "select unit_code, period_start, status from marts.target_gap where period_type = 'month'"
    ):
        tally = counts[(_quarter(start), units[unit_code])]
        tally[0] += status == "met"
        tally[1] += 1
    expected = [
        (quarter, unit, pg_round(Decimal(100 * met) / total))
        for (quarter, unit), (met, total) in sorted(counts.items())
    ]
    assert shown == expected
    assert len({quarter for quarter, _, _ in shown}) > 1

    metric = query_metrics(
        demo_warehouse.settings,
        demo_warehouse.url,
        MetricsQuery(
            ["targets_met_share"],
            ["metric_time__quarter", "unit__name_vi"],
            ["{{ Dimension('period__period_type') }} = 'month'"],
            ["metric_time__quarter", "unit__name_vi"],
        ),
    )
    assert [(when.date(), unit, share) for when, unit, share in metric.rows] == expected


def test_average_gap_in_points_by_indicator(demo_warehouse: Warehouse, bi_login: str) -> None:
    query = bi_query_under("Average gap by indicator, in percentage points")
    assert " join " not in query.lower()
    shown = {name: (gap, targets) for name, gap, targets in as_bi(bi_login, query)}

    catalog = demo_warehouse.query(
        "select indicator_code, name_en, unit_of_measure from reference.indicator_catalog"
    )
    percent = {
        code: name for code, name, unit_of_measure in catalog if unit_of_measure == "percent"
    }
    gaps: dict[str, list[Decimal]] = defaultdict(list)
    for code, gap in demo_warehouse.query("select indicator_code, gap from marts.target_gap"):
        if code in percent:
            gaps[percent[code]].append(gap)
    expected = {
        name: (pg_round(sum(values) / len(values)), len(values)) for name, values in gaps.items()
    }
    assert shown == expected
    # Milestones (0/1) have targets in the demo: they are not averaged with percentages.
    assert any(u == "milestone" for _, _, u in catalog)

    metric = query_metrics(
        demo_warehouse.settings,
        demo_warehouse.url,
        MetricsQuery(
            ["average_gap_pp"],
            ["indicator__name_en"],
            ["{{ Dimension('indicator__unit_of_measure') }} = 'percent'"],
        ),
    )
    assert {name: pg_round(gap) for name, gap in metric.rows} == {
        name: gap for name, (gap, _) in expected.items()
    }


@pytest.mark.parametrize(
    ("metric", "source", "numerator", "denominator"),
    [
        ("targets_met_share", "target_gap", "status = 'met'", "true"),
        ("targets_at_risk", "target_gap", "risk = 'at_risk'", None),
        ("completeness_pct", "submission_completeness", "submitted", "true"),
        ("on_time_rate_pct", "submission_completeness", "coalesce(on_time, false)", "true"),
    ],
)
@pytest.mark.parametrize(
    ("group_by", "code", "seed", "name"),
    [
        ("province__name_vi", "province_code", "provinces", "name_vi"),
        ("unit__name_en", "unit_code", "units", "name_en"),
        ("indicator__name_en", "indicator_code", "indicator_catalog", "name_en"),
        ("period__period_label", "period", None, None),
    ],
)
def test_metrics_equal_an_independent_count(
    demo_warehouse: Warehouse,
    metric: str,
    source: str,
    numerator: str,
    denominator: str | None,
    group_by: str,
    code: str,
    seed: str | None,
    name: str | None,
) -> None:
    """Each metric by province, unit, indicator and period, computed from the mart's codes
    and flags in Python, equals the semantic layer's answer."""
    names = _names(demo_warehouse, seed, code, name) if seed and name else None
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, hit in demo_warehouse.query(f"select {code}, ({numerator}) from marts.{source}"):
        label = names[key] if names else key
        tallies[label][0] += bool(hit)
        tallies[label][1] += 1
    if denominator is None:
        expected = {label: hits for label, (hits, _) in tallies.items()}
    else:
        expected = {
            label: pg_round(Decimal(100 * hits) / total) for label, (hits, total) in tallies.items()
        }

    result = query_metrics(
        demo_warehouse.settings, demo_warehouse.url, MetricsQuery([metric], [group_by])
    )
    if group_by == "period__period_label":  # the label begins with the canonical period
        got = {label.split(" · ")[0]: value for label, value in result.rows}
    else:
        got = dict(result.rows)
    assert got == expected


# --- comments and keys ----------------------------------------------------------------


def test_every_marts_column_has_a_comment(demo_warehouse: Warehouse) -> None:
    missing = demo_warehouse.query(
        """
        select c.relname, a.attname
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        inner join pg_attribute as a on a.attrelid = c.oid
        where n.nspname = 'marts' and c.relkind in ('r', 'v', 'p', 'm')
            and a.attnum > 0 and not a.attisdropped
            and coalesce(col_description(c.oid, a.attnum), '') = ''
        order by 1, 2
        """
    )
    assert missing == []
    uncommented = demo_warehouse.query(
        "select c.relname from pg_class c join pg_namespace n on c.relnamespace = n.oid"
        " where n.nspname = 'marts' and c.relkind in ('r', 'v')"
        " and coalesce(obj_description(c.oid, 'pg_class'), '') = ''"
    )
    assert uncommented == []


def declared_keys() -> set[tuple[str, str, str]]:
    """(table, constraint type, name) of every key the marts' contracts declare."""
    models = yaml.safe_load(MARTS_YML.read_text(encoding="utf-8"))["models"]
    keys = set()
    for model in models:
        for constraint in model.get("constraints", []):
            if constraint["type"] == "primary_key":
                keys.add((model["name"], "PRIMARY KEY", f"{model['name']}_pkey"))
            elif constraint["type"] == "foreign_key":
                keys.add((model["name"], "FOREIGN KEY", constraint["name"]))
    return keys


def keys_in_marts(url: str) -> set[tuple[str, str, str]]:
    """As information_schema lists them to the warehouse's owner (it shows a table's
    constraints only to roles with more than SELECT on it)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select table_name, constraint_type, constraint_name"
            " from information_schema.table_constraints"
            " where table_schema = 'marts'"
            " and constraint_type in ('PRIMARY KEY', 'FOREIGN KEY')"
        ).fetchall()
    return {(table, kind, name) for table, kind, name in rows}


def keys_a_bi_tool_reads(url: str) -> set[tuple[str, str, str]]:
    """As a BI tool connected as a bi_reader login reads them: from pg_catalog, as
    SQLAlchemy's inspector (Superset) and the JDBC driver (Metabase) do."""
    rows = as_bi(
        url,
        "select c.relname, case k.contype when 'p' then 'PRIMARY KEY' else 'FOREIGN KEY' end,"
        " k.conname from pg_constraint k join pg_class c on k.conrelid = c.oid"
        " join pg_namespace n on c.relnamespace = n.oid"
        " where n.nspname = 'marts' and k.contype in ('p', 'f')",
    )
    return {(table, kind, name) for table, kind, name in rows}


def test_declared_keys_hold_after_publish_and_rollback(
    demo_warehouse: Warehouse, bi_login: str
) -> None:
    declared = declared_keys()
    assert ("target_gap", "FOREIGN KEY", "target_gap_unit_code_fkey") in declared
    assert ("dim_unit", "PRIMARY KEY", "dim_unit_pkey") in declared
    assert keys_in_marts(demo_warehouse.url) == declared
    assert keys_a_bi_tool_reads(bi_login) == declared

    # Another night's build: dimensions rebuilt as new tables, facts caught up incrementally.
    pipeline.build(demo_warehouse.settings, progress=lambda _line: None)
    assert keys_in_marts(demo_warehouse.url) == declared
    fk_target = demo_warehouse.query(
        "select table_schema, table_name, column_name"
        " from information_schema.constraint_column_usage"
        " where constraint_schema = 'marts' and constraint_name = 'target_gap_unit_code_fkey'"
    )
    assert fk_target == [("marts", "dim_unit", "unit_code")]

    publish.rollback(demo_warehouse.url)
    assert keys_in_marts(demo_warehouse.url) == declared
    assert keys_a_bi_tool_reads(bi_login) == declared
    publish.rollback(demo_warehouse.url)  # and back to the newest build
    assert keys_in_marts(demo_warehouse.url) == declared
