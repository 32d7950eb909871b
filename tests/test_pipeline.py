"""`chitieu run` end to end on hand-made submissions whose marts can be worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chitieu.pipeline import run
from tests.conftest import Warehouse
from tests.landing_files import INTAKE, at, land_intake_reports, write_submission
from tests.test_demo import mart_checksums

pytestmark = [pytest.mark.slow, pytest.mark.external_pg]


def _quiet(_line: str) -> None:
    pass


def _land_intake_reports(wh: Warehouse) -> None:
    land_intake_reports(wh.landing)


def test_run_computes_values_gaps_and_risk(warehouse: Warehouse) -> None:
    _land_intake_reports(warehouse)
    summary = run(warehouse.landing, warehouse.settings, progress=_quiet)

    assert summary.ingest.counts["accepted"] == 2
    assert summary.build.mart_rows["fct_indicator_value"] == 2
    facts = warehouse.query(
        "select period, value, numerator from marts.fct_indicator_value order by period"
    )
    assert facts == [("2024-10", Decimal("60.0000"), 600), ("2024-11", Decimal("68.0000"), 680)]

    gaps = warehouse.query(
        "select period, target_value, gap, status, risk, projected_value from marts.target_gap"
        f" where indicator_code = '{INTAKE}' order by period"
    )
    october, november = gaps
    assert october[:5] == (
        "2024-10",
        Decimal("70"),
        Decimal("10.0000"),
        "not_met",
        "insufficient_data",
    )
    assert october[5] is None
    assert november[:5] == ("2024-11", Decimal("70"), Decimal("2.0000"), "not_met", "on_track")
    # Line through (Oct 31, 60) and (Nov 30, 68), projected 31 days on to Dec 31.
    assert abs(november[5] - (Decimal(68) + Decimal(8) / 30 * 31)) < Decimal("0.001")


def test_run_twice_changes_nothing(published: Warehouse) -> None:
    """`published` is the warehouse after the first run of the same files."""
    before = published.query("select count(*) from raw.submission_value")
    marts = mart_checksums(published)
    second = run(published.landing, published.settings, progress=_quiet)
    assert second.ingest.counts["unchanged"] == 2
    assert published.query("select count(*) from raw.submission_value") == before
    assert mart_checksums(published) == marts


def test_rejected_file_is_quarantined_with_its_report(warehouse: Warehouse) -> None:
    _land_intake_reports(warehouse)
    write_submission(
        warehouse.landing,
        "40/STP/STP_40_2024-11.csv",
        [f"40,STP,2024-11,{INTAKE},1200,1000,,", "40,STP,2024-11,KHONG_CO,1,2,,"],
        at("2024-12-12"),
    )
    summary = run(warehouse.landing, warehouse.settings, progress=_quiet)

    assert summary.ingest.counts == {"accepted": 2, "rejected": 1}
    assert not (warehouse.landing / "40/STP/STP_40_2024-11.csv").exists()
    quarantined = sorted(p.name for p in (warehouse.quarantine / "40/STP").iterdir())
    assert len(quarantined) == 2
    data, report = quarantined
    assert data.startswith("STP_40_2024-11.") and data.endswith(".csv")
    assert report == data + ".errors.csv"
    errors = warehouse.query(
        "select e.row_number, e.rule from audit.submission_error e"
        " join raw.submission_file f using (submission_id)"
        " where f.outcome = 'rejected' order by e.row_number, e.rule"
    )
    assert errors == [
        (2, "numerator_gt_denominator"),
        (3, "unknown_indicator"),
    ]
    assert warehouse.query(
        "select count(*) from marts.fct_indicator_value where unit_code = 'STP'"
    ) == [(0,)]
