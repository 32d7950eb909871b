"""Every SQL query docs/bi.md offers analysts runs on the demo marts and returns rows, as
`bi_reader` would run it."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import Warehouse

pytestmark = pytest.mark.slow

BI_DOC = Path(__file__).resolve().parents[1] / "docs" / "bi.md"
SQL_BLOCK = re.compile(r"^```sql\n(.*?)^```", re.DOTALL | re.MULTILINE)


def bi_queries() -> list[str]:
    return SQL_BLOCK.findall(BI_DOC.read_text(encoding="utf-8"))


def test_the_page_has_the_first_queries() -> None:
    queries = bi_queries()
    assert len(queries) >= 5
    for mart in (
        "target_gap",
        "fct_indicator_value_successor",
        "submission_completeness",
        "unit_scorecard",
        "province_ranking",
    ):
        assert any(f"marts.{mart}" in query for query in queries), mart


@pytest.mark.parametrize("number", range(len(bi_queries())))
def test_bi_query_returns_rows(demo_warehouse: Warehouse, number: int) -> None:
    query = bi_queries()[number]
    with psycopg.connect(demo_warehouse.url) as conn:
        # Read-only and with bi_reader's privileges: what a BI tool connected as it can do.
        conn.execute("set transaction read only")
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier("bi_reader")))
        rows = conn.execute(query).fetchall()  # type: ignore[arg-type]
    assert rows, f"query {number + 1} of docs/bi.md returned no rows:\n{query}"
