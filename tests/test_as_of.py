"""What did we know, and when (issue 21): the versions of every value
(marts.fct_indicator_value_history), the revisions, and the brief as of a past day.

The demo's landing re-sends three quarters with revised figures (chitieu.demo.CORRECTIONS);
Quảng Nam's Office of the People's Committee re-sent 2024-Q3 on 11/10/2024."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date, datetime
from pathlib import Path

import psycopg
import pytest

from chitieu.as_of import SCHEMA_PREFIX, marts_as_of
from chitieu.demo import write_demo_landing
from chitieu.pipeline import run
from chitieu.report import queries
from chitieu.report.render import write_brief
from chitieu.vn_time import end_of_day, local_day
from tests.conftest import Warehouse

KEY = "province_code, unit_code, indicator_code, period"
FACT_COLUMNS = (
    f"{KEY}, value, numerator, denominator, submission_id, submitted_at, first_submitted_at,"
    " period_type, period_start, period_end, province_name_vi, unit_name_en, period_label"
)


def _quiet(_line: str) -> None:
    pass


def test_the_current_versions_are_exactly_the_facts(demo_warehouse: Warehouse) -> None:
    facts = demo_warehouse.query(f"select {FACT_COLUMNS} from marts.fct_indicator_value")
    current = demo_warehouse.query(
        f"select {FACT_COLUMNS} from marts.fct_indicator_value_history"
        " where known_to is null and is_current"
    )
    assert len(facts) > 3000
    assert sorted(map(str, current)) == sorted(map(str, facts))


def test_every_accepted_row_is_a_version(demo_warehouse: Warehouse) -> None:
    """One version per accepted row; each superseded one knows its successor."""
    accepted, versions, superseded, wrong_links = demo_warehouse.query(
        """
        select
            (select count(*) from raw.submission_value as v
             join raw.submission_file as f using (submission_id)
             where f.outcome = 'accepted'),
            (select count(*) from marts.fct_indicator_value_history),
            (select count(*) from marts.fct_indicator_value_history where known_to is not null),
            (select count(*) from marts.fct_indicator_value_history as old
             left join marts.fct_indicator_value_history as new
                on new.province_code = old.province_code and new.unit_code = old.unit_code
                and new.indicator_code = old.indicator_code and new.period = old.period
                and new.submission_id = old.superseded_by_submission_id
             where old.known_to is not null
                and (new.known_from is distinct from old.known_to
                     or new.previous_submission_id is distinct from old.submission_id))
        """
    )[0]
    assert versions == accepted
    assert superseded == versions - len(
        demo_warehouse.query("select 1 from marts.fct_indicator_value")
    )
    assert superseded > 0 and wrong_links == 0


def test_as_of_a_moment_the_filter_gives_one_value_per_key_reported_by_then(
    demo_warehouse: Warehouse,
) -> None:
    for day in (date(2024, 7, 20), date(2024, 10, 10), date(2024, 10, 11), date(2025, 6, 1)):
        moment = end_of_day(day)
        rows, keys, reported = demo_warehouse.query(
            f"""
            select count(*), count(distinct ({KEY})),
                (select count(distinct ({KEY})) from marts.fct_indicator_value_history
                 where known_from < %(t)s)
            from marts.fct_indicator_value_history
            where known_from < %(t)s and (known_to is null or known_to >= %(t)s)
            """.replace("%(t)s", "%s"),
            (moment, moment, moment),
        )[0]
        assert rows == keys == reported, day


def test_the_demo_corrections_are_the_revisions(demo_warehouse: Warehouse) -> None:
    revisions = demo_warehouse.query(
        "select province_code, unit_code, period, old_value, new_value, change,"
        " new_submitted_at > old_submitted_at, is_current"
        " from marts.fct_indicator_value_revision order by 1, 2, 3"
    )
    assert {(r[0], r[1]) for r in revisions} == {
        ("40", "SLDTBXH"),
        ("49", "VPUBND"),
        ("51", "BHXH"),
    }
    for *_, old, new, change, later, current in revisions:
        assert old != new and change == new - old and later and current
    # A figure re-sent unchanged is a new version but no revision.
    resent = demo_warehouse.query(
        "select count(*) from marts.fct_indicator_value_history"
        " where previous_submission_id is not null and value = previous_value"
    )[0][0]
    assert resent > 0


@pytest.mark.slow
def test_the_brief_as_of_a_day_is_the_brief_written_that_day(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """The files of 2024-Q2 and Q3 in two batches: those submitted by 10/10/2024, then the
    rest (late reports, and the Office's correction of 11/10). The brief as of 10/10 after
    both equals the brief written after the first batch alone."""
    source = tmp_path / "all"
    day = date(2024, 10, 10)
    files = [f for f in write_demo_landing(source) if "2024Q2" in f.name or "2024Q3" in f.name]
    moment = end_of_day(day).timestamp()
    first = [f for f in files if f.stat().st_mtime < moment]
    later = [f for f in files if f.stat().st_mtime >= moment]
    assert first and any("_dieuchinh" in f.name for f in later)

    def land(batch: list[Path]) -> None:
        for f in batch:
            target = warehouse.landing / f.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)  # keeps the modification time: the submitted_at
        run(warehouse.landing, warehouse.settings, progress=_quiet)

    land(first)
    with psycopg.connect(warehouse.url) as conn:
        written_then = queries.load_brief(conn, "49", "2024-Q3")
    land(later)
    with psycopg.connect(warehouse.url) as conn:
        now = queries.load_brief(conn, "49", "2024-Q3")
    with (
        marts_as_of(warehouse.settings, warehouse.url, day, _quiet) as schema,
        psycopg.connect(warehouse.url) as conn,
    ):
        as_of = queries.load_brief(conn, "49", "2024-Q3", marts=schema, as_of=day)

    assert as_of.as_of == day
    assert dataclasses.replace(as_of, as_of=None) == written_then
    # The day mattered: the later files changed the brief, the correction among them.
    assert now != written_then and now.revisions and not written_then.revisions
    assert not warehouse.query(
        "select nspname from pg_namespace where nspname like %s", (SCHEMA_PREFIX + "%",)
    )


@pytest.mark.slow
def test_the_demo_brief_lists_the_revision_and_the_report_command_writes_as_of(
    demo_warehouse: Warehouse, tmp_path: Path
) -> None:
    from chitieu.cli import main

    html = write_brief(demo_warehouse.url, "49", "2024-Q3", tmp_path).read_text()
    assert 'id="revisions"' in html and "Văn phòng UBND tỉnh" in html
    assert 'id="as-of"' not in html
    assert main(
        [
            "report", "--province", "49", "--period", "2024-Q3",
            "--as-of", "10/10/2024", "--out", str(tmp_path),
        ]
    ) == 0  # fmt: skip
    before = (tmp_path / "brief_49_2024-Q3_as_of_2024-10-10.html").read_text()
    assert 'id="as-of"' in before and 'id="revisions"' not in before
    assert "đến hết ngày 10/10/2024" in before
    # --revisions-since an earlier meeting: the same revision, listed since then.
    assert main(
        [
            "report", "--province", "49", "--period", "2024-Q3",
            "--revisions-since", "2024-10-12", "--out", str(tmp_path),
        ]
    ) == 0  # fmt: skip
    after = (tmp_path / "brief_49_2024-Q3.html").read_text()
    assert 'id="revisions"' not in after


def test_a_date_the_report_cannot_read_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from chitieu.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--period", "2024-Q3", "--as-of", "11-10-2024"])
    assert exit_info.value.code == 2
    assert "write 2024-10-11 or 11/10/2024" in capsys.readouterr().err


def test_a_day_ends_at_the_next_midnight_in_vietnam() -> None:
    assert end_of_day(date(2024, 10, 11)) == datetime.fromisoformat("2024-10-12T00:00:00+07:00")
    assert local_day(datetime.fromisoformat("2024-10-11T17:00:00+00:00")) == date(2024, 10, 12)
    assert local_day(datetime(2024, 10, 11, 16, 59)) == date(2024, 10, 11)  # naive: UTC


def test_marts_published_by_an_older_version_ask_for_a_run(
    demo_warehouse: Warehouse, tmp_path: Path
) -> None:
    from chitieu.report.queries import ReportError

    def rename(old: str, new: str) -> None:
        with psycopg.connect(demo_warehouse.url) as conn:
            conn.execute(f"alter table marts.target_gap rename column {old} to {new}")

    rename("progress_status", "older")
    try:
        with pytest.raises(ReportError, match=r"predate this version.*chitieu run"):
            write_brief(demo_warehouse.url, "49", "2024-Q3", tmp_path)
    finally:
        rename("older", "progress_status")
