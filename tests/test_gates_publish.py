"""Write-audit-publish: failed gates keep the published marts; BI never sees a missing table."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from chitieu.gates import GateFailed, run_gate
from chitieu.pipeline import build, build_marts, gate_marts, run
from chitieu.publish import BI_ROLE, PublishError, publish, rollback
from tests.conftest import Warehouse
from tests.landing_files import INTAKE, at, write_submission
from tests.test_demo import mart_checksums

pytestmark = pytest.mark.slow


def _quiet(_line: str) -> None:
    pass


def test_staging_gate_failure_names_the_rule_and_keeps_the_marts(published: Warehouse) -> None:
    before = mart_checksums(published)
    # A row that slipped past ingestion (say, loaded by hand): a rate of 150 %.
    with psycopg.connect(published.url) as conn:
        conn.execute(
            "insert into raw.submission_value (submission_id, row_number, province_code,"
            " unit_code, period, indicator_code, value)"
            " select min(submission_id), 99, '40', 'CA', '2024-09', %s, 150"
            " from raw.submission_file where outcome = 'accepted'",
            (INTAKE,),
        )
    with pytest.raises(GateFailed) as failure:
        build(published.settings, progress=_quiet)
    message = str(failure.value)
    assert "stg_raw__submission_values" in message
    assert "reported rate lies in [0, 100]" in message
    assert "'reported_value': '150" in message
    assert mart_checksums(published) == before
    stored = published.query(
        "select count(*) from audit.validation_result"
        " where suite = 'stg_raw__submission_values' and not success"
    )
    assert stored == [(1,)]


def test_mart_gate_stops_a_collapsed_build(published: Warehouse) -> None:
    before = mart_checksums(published)
    # History lost behind ingestion's back: the fact table would shrink to nothing.
    with psycopg.connect(published.url) as conn:
        conn.execute("delete from raw.submission_value")
    with pytest.raises(GateFailed) as failure:
        build(published.settings, progress=_quiet)
    message = str(failure.value)
    assert "fct_indicator_value" in message
    assert "row count does not collapse" in message
    assert mart_checksums(published) == before


def test_jump_is_a_warning_not_a_failure(warehouse: Warehouse) -> None:
    rows = [f"40,{unit},2024-{m:02d},{INTAKE},{v},1000,," for unit in ("CA", "STP", "SYT")
            for m, v in ((9, 500), (10, 520), (11, 540))]  # fmt: skip
    rows[-1] = f"40,SYT,2024-11,{INTAKE},990,1000,,"  # 52 % → 99 % in a month
    write_submission(warehouse.landing, "40/all.csv", rows, at("2024-12-10"))
    summary = run(warehouse.landing, warehouse.settings, progress=_quiet)
    assert any("implausible jump" in w and "SYT" in w for w in summary.build.gate_warnings)
    assert warehouse.query("select count(*) from marts.fct_indicator_value") == [(9,)]


def test_rollback_restores_the_previous_build(published: Warehouse) -> None:
    first = mart_checksums(published)
    write_submission(
        published.landing, "40/CA/CA_40_2024-12.csv",
        [f"40,CA,2024-12,{INTAKE},720,1000,,"], at("2025-01-05"),
    )  # fmt: skip
    run(published.landing, published.settings, progress=_quiet)
    second = mart_checksums(published)
    assert second != first
    rollback(published.url)
    assert mart_checksums(published) == first
    rollback(published.url)
    assert mart_checksums(published) == second


def test_a_suite_gates_any_schema_in_turn(published: Warehouse) -> None:
    # The night gates the candidate; an engineer may gate the published marts with the same
    # suite, and the night after must still work.
    build_marts(published.settings, published.url, _quiet)
    for schema in ("marts", "marts_candidate", "marts"):
        result = run_gate(published.settings, published.url, "target_gap", schema, "target_gap",
                          f"any-schema-{schema}")  # fmt: skip
        assert result.asset == f"{schema}.target_gap"
        assert result.success, result.failures
    assert published.query(
        "select distinct asset from audit.validation_result"
        " where starts_with(run_id, 'any-schema-') order by asset"
    ) == [("marts.target_gap",), ("marts_candidate.target_gap",)]


def _validated_candidate(wh: Warehouse) -> str:
    """A new candidate build that passed the mart gates; returns its build id."""
    build_id = build_marts(wh.settings, wh.url, _quiet)
    gate_marts(wh.settings, wh.url, build_id, _quiet)
    return build_id


def test_publish_refuses_an_unvalidated_candidate_and_is_idempotent(
    published: Warehouse,
) -> None:
    before = mart_checksums(published)
    build_id = build_marts(published.settings, published.url, _quiet)
    with pytest.raises(PublishError, match="not passed the quality gates"):
        publish(published.url)
    assert mart_checksums(published) == before
    gate_marts(published.settings, published.url, build_id, _quiet)
    assert publish(published.url, build_id) is True
    layout = mart_checksums(published)
    # A retried publish task must not rotate again (that would publish an older build).
    assert publish(published.url, build_id) is False
    assert mart_checksums(published) == layout
    assert published.query("select build_id from marts.build_info") == [(build_id,)]


def test_a_long_bi_query_survives_a_publish(published: Warehouse) -> None:
    _validated_candidate(published)
    outcome: dict[str, object] = {}

    def long_query() -> None:
        try:
            with psycopg.connect(published.url) as conn:
                conn.execute(f"set role {BI_ROLE}")
                outcome["rows"] = conn.execute(
                    "select count(*), pg_sleep(3) from marts.fct_indicator_value"
                ).fetchone()
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    reader = threading.Thread(target=long_query)
    reader.start()
    time.sleep(1)  # the query is running and holds its snapshot of marts
    publish(published.url)
    reader.join()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["rows"][0] == 2  # type: ignore[index]


def test_bi_reader_reads_marts_only(published: Warehouse) -> None:
    # Another build and publish, then a new candidate: every marts schema exists.
    publish(published.url, _validated_candidate(published))
    build_marts(published.settings, published.url, _quiet)
    with psycopg.connect(published.url, autocommit=True) as conn:
        conn.execute(f"set role {BI_ROLE}")
        assert conn.execute("select count(*) from marts.target_gap").fetchone() == (2,)
        forbidden = [
            "select * from staging.stg_raw__submission_values",
            "select * from raw.submission_value",
            "select * from marts_previous.fct_indicator_value",
            "select * from marts_candidate.fct_indicator_value",
            "delete from marts.fct_indicator_value",
            "update marts.target_gap set gap = 0",
            "create table marts.mine (x int)",
            "drop table marts.target_gap",
        ]
        for statement in forbidden:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_loader_and_transformer_roles_are_confined(published: Warehouse) -> None:
    from chitieu.roles import LOADER, TRANSFORMER

    def allowed(check: str, *args: str) -> bool:
        return bool(published.query(f"select {check}(%s, %s, %s)", args)[0][0])

    assert allowed("has_table_privilege", LOADER, "raw.submission_value", "INSERT")
    assert allowed("has_table_privilege", LOADER, "audit.submission_error", "INSERT")
    for schema in ("staging", "intermediate", "marts", "reference"):
        assert not allowed("has_schema_privilege", LOADER, schema, "USAGE"), schema
    assert allowed("has_table_privilege", TRANSFORMER, "raw.submission_value", "SELECT")
    assert not allowed("has_table_privilege", TRANSFORMER, "raw.submission_value", "INSERT")
    assert not allowed("has_table_privilege", TRANSFORMER, "raw.submission_file", "UPDATE")
    owners = dict(
        published.query(
            "select nspname, pg_get_userbyid(nspowner) from pg_namespace"
            " where nspname in ('staging', 'intermediate', 'marts', 'reference')"
        )
    )
    assert set(owners.values()) == {TRANSFORMER}, owners
    with psycopg.connect(published.url) as conn:
        conn.execute(f"set role {LOADER}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from marts.fct_indicator_value")
