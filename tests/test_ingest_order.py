"""Supersession depends on the files, not on the order they are ingested in.

Submission contract: an accepted file supersedes earlier values of the same (province, unit,
period, indicator), the latest by submitted_at (the file's modification time) then by path;
earlier values stay in history; a byte-identical file is a duplicate and changes nothing; and
"loading the same set of files in any order, any number of times, gives the same marts".

One set of files (corrections, a correction of a correction, an older file whose path sorts
later, two files with the same submitted_at, a byte-identical copy sent again) goes one file
at a time (`ingest_one`, as the DAG's mapped tasks do) into one warehouse in path order, into
another in the reverse order, and once more into the first.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from chitieu.ingest.load import FileResult
from chitieu.ingest.run import ingest_one
from tests.conftest import Warehouse, make_warehouse
from tests.landing_files import at, write_submission

pytestmark = pytest.mark.external_pg

INTAKE = "DVC_ONLINE_INTAKE_RATE"  # percent, any unit
ESSENTIAL = "ESSENTIAL_DVC_ONLINE_RATE"  # percent, VPUBND or CA
MODELS = "MODELS_IMPLEMENTED"  # count, CA
FULL_ONLINE = "DVC_FULL_ONLINE_SHARE"  # percent, VPUBND
RANK = "PROVINCE_SERVICE_INDEX_RANK"  # rank, VPUBND
CCCD_VISIT = "HI_CCCD_VISIT_RATE"  # percent, SYT

ORIGINAL = "40/CA/CA_40_2024-10.csv"
SENT_AGAIN = "40/CA/gui_lai/CA_40_2024-10.csv"  # the same bytes as ORIGINAL, sent later
CORRECTION = "40/CA/2024-10_bosung.csv"  # sorts before ORIGINAL, submitted after it
SECOND_CORRECTION = "40/CA/2024-10_bosung_lan2.csv"
TIE_A = "79/SYT/SYT_79_2024-09_a.csv"  # TIE_A and TIE_B: the same submitted_at
TIE_B = "79/SYT/SYT_79_2024-09_b.csv"
VPUBND = "01/VPUBND/VPUBND_01_2024Q3.csv"
OLDER = "01/VPUBND/zz_ban_cu.csv"  # sorts after VPUBND but was submitted before it

ORIGINAL_ROWS = [
    f"40,CA,2024-10,{INTAKE},600,1000,,",
    f"40,CA,2024-10,{ESSENTIAL},,,71.5,",
    f"40,CA,2024-Q3,{MODELS},,,12,",
]
# (path, submitted_at, rows)
FILES: list[tuple[str, datetime, list[str]]] = [
    (ORIGINAL, at("2024-11-05"), ORIGINAL_ROWS),
    (
        CORRECTION,
        at("2024-11-20"),
        [f"40,CA,Tháng 10/2024,{INTAKE},640,1000,,đính chính", f"40,CA,2024-10,{ESSENTIAL},,,73,"],
    ),
    (SENT_AGAIN, at("2024-11-22"), ORIGINAL_ROWS),
    (SECOND_CORRECTION, at("2024-11-25"), [f"40,CA,2024-10,{INTAKE},655,1000,65.5,lần 2"]),
    (
        VPUBND,
        at("2024-10-10"),
        [
            f"01,VPUBND,2024-Q3,{FULL_ONLINE},45,60,,",
            f"01,VPUBND,2024-Q3,{RANK},,63,12,",
            f"1,VPUBND,T9/2024,{INTAKE},,,\"55,25%\",",
        ],
    ),
    (OLDER, at("2024-10-05"), [f"01,VPUBND,2024-Q3,{FULL_ONLINE},40,60,,bản cũ"]),
    (
        TIE_A,
        at("2024-10-20"),
        [f"79,SYT,2024-09,{CCCD_VISIT},300,1000,,", f"79,SYT,2024-09,{INTAKE},,,81,"],
    ),
    (TIE_B, at("2024-10-20"), [f"79,SYT,2024-09,{CCCD_VISIT},350,1000,,"]),
]  # fmt: skip

# The current value of each key, and the file it comes from.
EXPECTED_CURRENT = {
    ("01", "VPUBND", "2024-09", INTAKE): (None, None, Decimal("55.25"), VPUBND),
    ("01", "VPUBND", "2024-Q3", FULL_ONLINE): (45, 60, None, VPUBND),  # not OLDER
    ("01", "VPUBND", "2024-Q3", RANK): (None, 63, Decimal(12), VPUBND),
    ("40", "CA", "2024-10", ESSENTIAL): (None, None, Decimal(73), CORRECTION),  # not SENT_AGAIN
    ("40", "CA", "2024-10", INTAKE): (655, 1000, Decimal("65.5"), SECOND_CORRECTION),
    ("40", "CA", "2024-Q3", MODELS): (None, None, Decimal(12), ORIGINAL),
    ("79", "SYT", "2024-09", CCCD_VISIT): (350, 1000, None, TIE_B),  # the path breaks the tie
    ("79", "SYT", "2024-09", INTAKE): (None, None, Decimal(81), TIE_A),
}

# The contract's rule, as int_indicator_values_current applies it: per key, the row of the
# accepted file with the latest submitted_at, then the greatest path.
CURRENT = """
select province_code, unit_code, period, indicator_code, numerator, denominator, value, note,
       path, submitted_at
from (
    select
        v.*,
        f.path,
        f.submitted_at,
        row_number() over (
            partition by v.province_code, v.unit_code, v.period, v.indicator_code
            order by f.submitted_at desc, f.path desc
        ) as recency
    from raw.submission_value as v
    inner join raw.submission_file as f on v.submission_id = f.submission_id
    where f.outcome = 'accepted'
) as ranked
where recency = 1
order by province_code, unit_code, period, indicator_code
"""
# Every loaded row (accepted files), by its file's path rather than its ledger id.
HISTORY = """
select f.path, v.row_number, v.province_code, v.unit_code, v.period, v.indicator_code,
       v.numerator, v.denominator, v.value, v.note
from raw.submission_value as v
inner join raw.submission_file as f on v.submission_id = f.submission_id
order by f.path, v.row_number
"""
LEDGER = """
select f.path, f.outcome, f.row_count, original.path
from raw.submission_file as f
left join raw.submission_file as original on f.duplicate_of = original.submission_id
order by f.path, f.submission_id
"""


def land_files(landing: Path) -> list[str]:
    for rel, submitted, rows in FILES:
        write_submission(landing, rel, rows, submitted)
    assert (landing / ORIGINAL).read_bytes() == (landing / SENT_AGAIN).read_bytes()
    return sorted(rel for rel, _, _ in FILES)


def ingest_in_order(paths: list[str], landing: Path, wh: Warehouse) -> dict[str, FileResult]:
    return {rel: ingest_one(rel, landing, wh.settings) for rel in paths}


def state(wh: Warehouse) -> dict[str, list[tuple]]:
    return {name: wh.query(sql) for name, sql in [("current", CURRENT), ("history", HISTORY)]}


@pytest.fixture
def two_warehouses(
    warehouse: Warehouse, pg_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Warehouse, Warehouse, Path, list[str]]:
    other = make_warehouse(monkeypatch, pg_server, tmp_path / "other", "order_reverse")
    landing = tmp_path / "landing"
    return warehouse, other, landing, land_files(landing)


def test_any_order_any_number_of_times_gives_the_same_current_values(
    two_warehouses: tuple[Warehouse, Warehouse, Path, list[str]],
) -> None:
    forward_wh, reverse_wh, landing, paths = two_warehouses

    forward = ingest_in_order(paths, landing, forward_wh)
    reverse = ingest_in_order(paths[::-1], landing, reverse_wh)
    assert all(
        r.outcome in {"accepted", "duplicate"} for r in [*forward.values(), *reverse.values()]
    )
    first = state(forward_wh)
    again = ingest_in_order(paths[::-1], landing, forward_wh)  # the re-run
    assert {r.outcome for r in again.values()} == {"unchanged"}

    assert first == state(forward_wh) == state(reverse_wh)
    current = {row[:4]: (*row[4:7], row[8]) for row in first["current"]}
    assert current == EXPECTED_CURRENT
    # The 2024-10 intake rate of CA 40 was corrected twice: every version stays in history.
    versions = [
        (path, numerator, note)
        for path, _, province, unit, period, indicator, numerator, *_, note in first["history"]
        if (province, unit, period, indicator) == ("40", "CA", "2024-10", INTAKE)
    ]
    assert sorted(versions) == [
        (CORRECTION, 640, "đính chính"),
        (SECOND_CORRECTION, 655, "lần 2"),
        (ORIGINAL, 600, None),
    ]  # fmt: skip


def test_a_file_sent_again_is_a_duplicate_of_its_earliest_copy_in_any_order(
    two_warehouses: tuple[Warehouse, Warehouse, Path, list[str]],
) -> None:
    forward_wh, reverse_wh, landing, paths = two_warehouses

    forward = ingest_in_order(paths, landing, forward_wh)
    assert forward[ORIGINAL].outcome == "accepted"
    assert forward[SENT_AGAIN].outcome == "duplicate"
    assert forward[SENT_AGAIN].rows == 0
    # Reversed, the copy comes first and is accepted; the original (submitted earlier) then
    # takes its content over, so the ledgers end up the same.
    reverse = ingest_in_order(paths[::-1], landing, reverse_wh)
    assert reverse[ORIGINAL].outcome == "accepted"

    for wh in (forward_wh, reverse_wh):
        ledger = {
            path: (outcome, rows, original) for path, outcome, rows, original in wh.query(LEDGER)
        }
        assert ledger[SENT_AGAIN] == ("duplicate", 0, ORIGINAL)
        assert ledger[ORIGINAL] == ("accepted", 3, None)
        assert {outcome for outcome, _, _ in ledger.values()} == {"accepted", "duplicate"}
        assert wh.query(
            "select count(*) from raw.submission_value v join raw.submission_file f"
            " using (submission_id) where f.outcome = 'duplicate'"
        ) == [(0,)]
    assert forward_wh.query(LEDGER) == reverse_wh.query(LEDGER)


@pytest.mark.slow
def test_the_dbt_model_agrees_in_any_order(
    two_warehouses: tuple[Warehouse, Warehouse, Path, list[str]],
) -> None:
    """int_indicator_values_current (dbt) picks the same values in both warehouses, and the
    ones the contract's rule picks."""
    from chitieu.transform import run_dbt

    forward_wh, reverse_wh, landing, paths = two_warehouses
    ingest_in_order(paths, landing, forward_wh)
    ingest_in_order(paths[::-1], landing, reverse_wh)
    results = []
    for wh in (forward_wh, reverse_wh):
        run_dbt(wh.settings, wh.url, ["seed", "--select", "indicator_catalog"])
        run_dbt(wh.settings, wh.url, ["run", "--select", "+int_indicator_values_current"])
        results.append(
            wh.query(
                "select c.province_code, c.unit_code, c.period, c.indicator_code, c.numerator,"
                " c.denominator, f.path, f.submitted_at"
                " from intermediate.int_indicator_values_current as c"
                " inner join raw.submission_file as f on c.submission_id = f.submission_id"
                " order by 1, 2, 3, 4"
            )
        )
    forward, reverse = results
    assert forward == reverse
    picked = {row[:4]: row[6] for row in forward}
    assert picked == {key: expected[3] for key, expected in EXPECTED_CURRENT.items()}
