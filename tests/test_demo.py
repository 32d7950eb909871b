"""The demo landing area through `chitieu run`: what `make demo` shows a new user."""

from __future__ import annotations

import subprocess
import sys

import pytest

from chitieu.demo import EXPECTED_REJECTIONS, NOT_SUBMISSIONS
from chitieu.pipeline import MARTS, run
from tests.conftest import Warehouse

pytestmark = [pytest.mark.slow, pytest.mark.external_pg]

# Columns the marts contract names for each table (it allows more, never fewer).
CONTRACT_COLUMNS = {
    "fct_indicator_value": {
        "province_code", "unit_code", "indicator_code", "period", "period_type",
        "period_start", "period_end", "value", "numerator", "denominator",
        "submission_id", "submitted_at",
    },
    "target_gap": {
        "province_code", "unit_code", "indicator_code", "period", "period_end", "value",
        "target_issuer", "comparator", "target_value", "target_deadline", "gap",
        "attainment_pct", "status", "risk", "projected_value",
    },
}  # fmt: skip


def mart_checksums(wh: Warehouse, schema: str = "marts") -> dict[str, str]:
    """md5 over every row of every published mart (or of `schema`), in a stable order."""
    return {
        name: wh.query(
            "select count(*) || ':' || "
            f"md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {schema}.{name} t"
        )[0][0]
        for name in MARTS
    }


def test_demo_files_are_accepted_or_rejected_as_designed(demo_warehouse: Warehouse) -> None:
    outcomes = dict(
        demo_warehouse.query("select outcome, count(*) from raw.submission_file group by 1")
    )
    assert outcomes["rejected"] == len(EXPECTED_REJECTIONS)
    assert outcomes["accepted"] > 200
    rules = demo_warehouse.query(
        "select f.path, array_agg(distinct e.rule order by e.rule)"
        " from raw.submission_file f join audit.submission_error e using (submission_id)"
        " group by f.path"
    )
    assert {path: frozenset(codes) for path, codes in rules} == EXPECTED_REJECTIONS
    for rel in EXPECTED_REJECTIONS:
        assert not (demo_warehouse.landing / rel).exists()
    reports = list(demo_warehouse.quarantine.rglob("*.errors.csv"))
    assert len(reports) == len(EXPECTED_REJECTIONS)
    for name in NOT_SUBMISSIONS:
        assert (demo_warehouse.landing / name).exists()


def test_demo_publishes_the_contract_marts(demo_warehouse: Warehouse) -> None:
    for name, expected in CONTRACT_COLUMNS.items():
        columns = {
            row[0]
            for row in demo_warehouse.query(
                "select column_name from information_schema.columns"
                " where table_schema = 'marts' and table_name = %s",
                (name,),
            )
        }
        assert expected <= columns, f"marts.{name} lacks {expected - columns}"
    provinces = demo_warehouse.query(
        "select distinct province_code from marts.target_gap order by 1"
    )
    assert [p for (p,) in provinces] == ["40", "48", "49", "51"]
    risks = {r for (r,) in demo_warehouse.query("select distinct risk from marts.target_gap")}
    assert {"met", "on_track", "at_risk"} <= risks


def test_second_run_leaves_the_marts_identical(demo_warehouse: Warehouse) -> None:
    before = mart_checksums(demo_warehouse)
    summary = run(demo_warehouse.landing, demo_warehouse.settings, progress=lambda _l: None)
    assert summary.ingest.counts["accepted"] == 0
    assert summary.ingest.rows_loaded == 0
    assert mart_checksums(demo_warehouse) == before


def test_db_url_works_with_psql(demo_warehouse: Warehouse) -> None:
    url = subprocess.run(
        [sys.executable, "-m", "chitieu.cli", "db", "url"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert url == demo_warehouse.url
    out = subprocess.run(
        ["psql", url, "-At", "-c", "select count(*) from marts.target_gap"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert int(out) > 0


def test_dbt_docs_generate_documents_the_marts(demo_warehouse: Warehouse) -> None:
    import json

    from chitieu.pipeline import generate_docs

    index = generate_docs(demo_warehouse.settings, progress=lambda _l: None)
    assert index.exists()
    catalog = json.loads((index.parent / "catalog.json").read_text(encoding="utf-8"))
    nodes = {node["metadata"]["schema"] + "." + node["metadata"]["name"]: node
             for node in catalog["nodes"].values()}  # fmt: skip
    assert "marts.target_gap" in nodes
    # persist_docs: the column descriptions reached PostgreSQL's comments.
    gap = nodes["marts.target_gap"]["columns"]["gap"]
    assert gap["comment"]
