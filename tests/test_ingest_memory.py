"""The ingest's fast path and its bounded memory, checked against the plain Validator.

`chitieu.ingest.fastpath` answers for the rows it can prove valid and the loader checks
repeated keys for the whole file (in memory up to a limit, then in SQL behind a comparison
of key hashes). Whatever path a row takes, the result must be the Validator's: the same
loaded values, the same errors in the same order.
"""

from __future__ import annotations

import csv
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chitieu.ingest import load
from chitieu.ingest.errors import FileRejected, SubmissionError
from chitieu.ingest.fastpath import KeyFilter, RowChecker, clean_csv_rows, copy_tail
from chitieu.ingest.header import CONTRACT_COLUMNS
from chitieu.ingest.load import ingest_file
from chitieu.ingest.parse import is_blank
from chitieu.ingest.read import read_csv, read_rows
from chitieu.ingest.report import read_report
from chitieu.ingest.run import ensure_schema
from chitieu.ingest.validate import Observation, Validator
from chitieu.reference import Reference, load_reference
from tests.conftest import Warehouse
from tests.landing_files import at, write_submission
from tests.test_corpus import copy_fields

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "dbt_project" / "seeds"
CORPUS = Path(__file__).parent / "corpus"
SUBMITTED_ON = date(2025, 1, 15)
HEADER = list(CONTRACT_COLUMNS)
INTAKE = "DVC_ONLINE_INTAKE_RATE"  # percent, any unit


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(SEEDS)


def columns_of(reference: Reference, header: list[str]) -> dict[str, int]:
    validator = Validator(reference, SUBMITTED_ON)
    validator.header(1, list(header))
    return validator.columns


def validator_verdict(
    reference: Reference, columns: dict[str, int], cells: list[str]
) -> tuple[Observation | list[SubmissionError], tuple | None]:
    """What a fresh Validator says of the row, and the key it remembers for duplicates."""
    validator = Validator(reference, SUBMITTED_ON)
    validator.columns = columns
    result = validator.row(2, cells, [False] * len(cells))
    seen = list(validator._seen)  # the key it would compare later rows with
    return result, seen[0] if seen else None


def as_loaded(tail: str) -> tuple:
    """What PostgreSQL stores from the end of a COPY line: numerator, denominator (bigint),
    value (numeric: Decimal('64.670') and Decimal('64.67') differ there) and note."""
    fields = copy_fields(tail)
    numerator, denominator, value, note = fields
    return (
        None if numerator is None else int(numerator),
        None if denominator is None else int(denominator),
        None if value is None else repr(Decimal(value)),
        note,
    )


# --- the fast path against the Validator, row by row --------------------------------------

CATALOG = [
    "DVC_ONLINE_INTAKE_RATE",
    "ESSENTIAL_DVC_ONLINE_RATE",
    "HI_CCCD_VISIT_RATE",
    "MODELS_IMPLEMENTED",
    "SW_CASHLESS_AMOUNT",
    "LINKED_SERVICE_DAYS",
    "PROVINCE_SERVICE_INDEX_RANK",
    "IOC_OPERATIONAL",
    "dvc_online_intake_rate",
    " MODELS_IMPLEMENTED ",
    "KHONG_CO",
    "",
]
PROVINCES = ["01", "1", "40", " 40 ", "79", "99", "4O", "٤٠", "１", "40.0", "", "  "]
UNITS = ["CA", "ca", " CA ", "VPUBND", "SYT", "STP", "SLDTBXH", "STTTT", "XX", "", "Ｃａ"]
PERIODS = [
    "2024-10",
    "2024-Q3",
    "2024-H1",
    "2024",
    "Tháng 10/2024",
    "T9/2024",
    "Quý III/2024",
    "6 tháng đầu năm 2024",
    "Năm 2023",
    "2025-01",
    "2025-Q1",
    "2099-01",
    "2024-13",
    "2024-1",
    " 2024-10 ",
    "",
]
NUMBERS = ["", " ", "0", "1", "12", "63", "64", "600", "1000", "007", "1.068", "1 068", "-1"]
NUMBERS += ["1e3", "٣", "9" * 18, "9" * 19, "0" * 18 + "1", "12.5", "1000000"]
VALUES = ["", " ", "0", "1", "2", "12", "64.67", "64,67", "64.67%", "100", "100.0", "100.0001"]
VALUES += ["0.05", "064.50", "1.068", "Hoàn thành", "chưa", "yes", "-3", ".5", "5.", "1e2"]
NOTES = ["", " ", "ghi chú", "đi\u0301nh chi\u0301nh", "  x  ", "=1+1", "\u00a0"]


# Denominators whose rates 100·n/d are short decimals, so that value - rate can be exactly
# the tolerance.
_EXACT_DENOMINATORS = [1, 2, 4, 5, 8, 16, 20, 25, 32, 40, 50, 64, 80, 125, 200, 625, 10**4]


@st.composite
def rate_near_tolerance(draw: st.DrawFn) -> tuple[str, str, str]:
    """numerator, denominator, value with the value close to (or exactly) 100·n/d ± 0.05."""
    if draw(st.booleans()):
        denominator = draw(st.sampled_from(_EXACT_DENOMINATORS)) * 10 ** draw(st.integers(0, 3))
    else:
        denominator = draw(st.integers(1, 10**16))
    numerator = draw(st.integers(0, denominator))
    offset = draw(st.sampled_from(["-0.0501", "-0.05", "-0.0499", "0", "0.0499", "0.05", "0.051"]))
    value = Decimal(100) * numerator / denominator + Decimal(offset)
    places = draw(st.integers(0, 8) | st.none())
    text = f"{value:f}" if places is None else f"{value:.{places}f}"
    return str(numerator), str(denominator), text


def _often(draw: st.DrawFn, usual: st.SearchStrategy, odd: st.SearchStrategy) -> object:
    """Mostly a plausible cell, sometimes an odd one: most rows are then valid or nearly."""
    return draw(usual if draw(st.integers(0, 9)) < 7 else odd)


@st.composite
def value_cells(draw: st.DrawFn, kind: str) -> list[str]:
    """numerator, denominator, value for an indicator of this kind."""
    small = st.integers(0, 10**6).map(str)
    if kind == "percent":
        n, d, v = draw(rate_near_tolerance())
        shape = draw(st.sampled_from(["all", "fraction", "rate"]))
        return [n, d, v] if shape == "all" else [n, d, ""] if shape == "fraction" else ["", "", v]
    if kind == "rank":
        return ["", draw(st.sampled_from(["", "63", "10"])), str(draw(st.integers(0, 70)))]
    if kind == "milestone":
        return ["", "", draw(st.sampled_from(["1", "0", "Hoàn thành", "Chưa", "yes", "2"]))]
    if draw(st.booleans()):
        return ["", "", draw(small)]
    return [draw(small), draw(small), draw(st.sampled_from(["", "7"]))]


_REFERENCE = load_reference(SEEDS)
_ALLOWED = sorted(
    (unit, indicator.code)
    for indicator in _REFERENCE.indicators.values()
    for unit in _REFERENCE.units
    if indicator.may_be_reported_by(unit)
)


@st.composite
def rows(draw: st.DrawFn) -> list[str]:
    unit, indicator = _often(
        draw,
        st.sampled_from(_ALLOWED),
        st.tuples(st.sampled_from(UNITS), st.sampled_from(CATALOG)),
    )
    kind = _REFERENCE.indicators.get(indicator.strip().upper())
    numbers = st.sampled_from(NUMBERS) | st.integers(0, 10**6).map(str)
    odd_values = st.lists(numbers, min_size=2, max_size=2).flatmap(
        lambda nd: (st.sampled_from(VALUES) | st.integers(0, 10**6).map(str)).map(
            lambda v: [*nd, v]
        )
    )
    values = _often(draw, value_cells(kind.unit_of_measure if kind else "count"), odd_values)
    cells = [
        _often(draw, st.sampled_from(["01", "40", "79", "1", " 40 "]), st.sampled_from(PROVINCES)),
        unit,
        _often(draw, st.sampled_from(PERIODS[:9]), st.sampled_from(PERIODS)),
        indicator,
        *values,
        draw(st.sampled_from(NOTES)),
    ]
    return cells[: draw(st.integers(3, 8))] if draw(st.integers(0, 9)) == 0 else cells


HEADERS = [
    HEADER,
    ["Mã tỉnh", "Mã đơn vị", "Kỳ báo cáo", "Mã chỉ tiêu", "Tử số", "Mẫu số", "Tỷ lệ (%)",
     "Ghi chú"],
    ["note", "value", "indicator_code", "period", "unit_code", "province_code", "ten", "x"],
    ["province_code", "unit_code", "period", "indicator_code", "value"],
]  # fmt: skip


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=rows(), header=st.sampled_from(range(len(HEADERS))))
def test_fast_path_and_key_agree_with_the_validator(cells: list[str], header: int) -> None:
    reference = load_reference(SEEDS)
    columns = columns_of(reference, HEADERS[header])
    if header == 2:  # the same cells in that header's order, with two ignored columns
        source = cells + [""] * (8 - len(cells))
        cells = [source[7], source[6], source[3], source[2], source[1], source[0], "x", ""]
    checker = RowChecker(reference, SUBMITTED_ON, columns)
    expected, expected_key = validator_verdict(reference, columns, cells)

    assert checker.key_of(cells) == expected_key
    fast = checker.fast(cells)
    if fast is None:
        return
    assert isinstance(expected, Observation), (cells, expected)
    key, tail = fast
    assert key == expected_key
    expected_value = None if expected.value is None else repr(expected.value)
    assert as_loaded(tail) == (
        expected.numerator,
        expected.denominator,
        expected_value,
        expected.note,
    )
    # The Validator's values, written by the loader's own formatter, read back the same.
    assert as_loaded(
        copy_tail((expected.numerator, expected.denominator, expected.value, expected.note))
    ) == as_loaded(tail)


def test_fast_path_takes_the_common_rows(reference: Reference) -> None:
    checker = RowChecker(reference, SUBMITTED_ON, columns_of(reference, HEADER))
    common = [
        ["40", "CA", "2024-10", INTAKE, "600", "1000", "", ""],
        ["40", "CA", "2024-10", INTAKE, "600", "1000", "60.00", "ghi chú"],
        ["1", "ca", "Tháng 10/2024", INTAKE, "", "", "64.67", ""],
        ["40", "CA", "2024-Q3", "MODELS_IMPLEMENTED", "", "", "12", ""],
        ["40", "CA", "2024-Q3", "MODELS_IMPLEMENTED", "25", "44", "", ""],
        ["40", "VPUBND", "2024-Q3", "PROVINCE_SERVICE_INDEX_RANK", "", "63", "12", ""],
        ["40", "STTTT", "Quý III/2024", "IOC_OPERATIONAL", "", "", "Hoàn thành", ""],
        ["40", "SLDTBXH", "2024-10", "SW_CASHLESS_AMOUNT", "", "", "33200000000", ""],
    ]
    for cells in common:
        assert checker.fast(cells) is not None, cells


# --- the fast reader against read_csv ------------------------------------------------------


def _read_csv_or_error(path: Path) -> tuple[list[tuple[int, list]], SubmissionError | None]:
    rows: list[tuple[int, list]] = []
    try:
        for row in read_csv(path):
            rows.append((row.number, row.cells))
    except FileRejected as exc:
        return rows, exc.error
    return rows, None


def _fast_rows_or_error(path: Path) -> tuple[list[tuple[int, list]], SubmissionError | None]:
    found = clean_csv_rows(path)
    if found is None:
        return [], None
    rows: list[tuple[int, list]] = []
    try:
        for number, cells, percent in found:
            assert percent is None
            rows.append((number, cells))
    except FileRejected as exc:
        return rows, exc.error
    return rows, None


def _tricky_csv_files(folder: Path) -> list[Path]:
    files = {
        "unterminated_quote.csv": f'{",".join(HEADER)}\n40,CA,2024-10,{INTAKE},1,2,,"open\n',
        "quoted_newline.csv": f'{",".join(HEADER)}\n40,CA,2024-10,{INTAKE},1,2,,"a\nb"\n',
        "blank_first_lines.csv": f"\n;;\n{';'.join(HEADER)}\n40;CA;2024-10;{INTAKE};1;2;;\n",
        "cr_only.csv": f"{','.join(HEADER)}\r40,CA,2024-10,{INTAKE},1,2,,\r",
        "nul.csv": f"{','.join(HEADER)}\n40,CA,2024-10,{INTAKE},1,2,,a\x00b\n",
    }
    paths = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8", newline="")
        paths.append(path)
    return paths


def test_fast_reader_reads_what_read_csv_reads(tmp_path: Path) -> None:
    paths = sorted(CORPUS.glob("*/*.csv")) + _tricky_csv_files(tmp_path)
    fast_files = 0
    for path in paths:
        fast = _fast_rows_or_error(path)
        if fast == ([], None) and clean_csv_rows(path) is None:
            continue  # not clean text: the loader reads it with read_csv itself
        fast_files += 1
        assert fast == _read_csv_or_error(path), path.name
    assert fast_files >= len(paths) // 2


# --- duplicate keys in SQL, against one Validator over the whole file ----------------------


def validator_errors(path: Path, reference: Reference, submitted_on: date) -> list[tuple]:
    """Every error one Validator finds in the file, in order (the loader's oracle)."""
    validator = Validator(reference, submitted_on)
    errors: list[SubmissionError] = []
    header = False
    for row in read_rows(path):
        if all(is_blank(cell) for cell in row.cells):
            continue
        if not header:
            validator.header(row.number, row.cells)
            header = True
            continue
        result = validator.row(row.number, row.cells, row.percent)
        if not isinstance(result, Observation):
            errors.extend(result)
    return [(e.row, e.column, e.rule, e.en, e.raw_value) for e in errors]


def _recorded_errors(wh: Warehouse, submission_id: int) -> list[tuple]:
    return wh.query(
        "select row_number, column_name, rule, message_en, raw_value from audit.submission_error"
        " where submission_id = %s order by error_number",
        (submission_id,),
    )


def _rows_with_repeats() -> list[str]:
    rows = [f"40,CA,2024-{month:02d},{INTAKE},{month},100,," for month in range(1, 5)]
    rows.append(f"40,CA,2023-01,{INTAKE},abc,100,,")  # row 6: malformed numerator, a key
    rows += [f"40,CA,2024-{month:02d},{INTAKE},{month},100,," for month in range(5, 13)]
    rows += [
        f"40,CA,2024-01,{INTAKE},5,100,,",  # repeats row 2
        f"40,CA,Tháng 2/2024,{INTAKE},5,100,,",  # repeats row 3, another spelling
        f"40,CA,2024-03,{INTAKE},500,100,,",  # repeats row 4 and breaks a value rule
        f"40,CA,2023-01,{INTAKE},1,100,,",  # repeats the invalid row 6
        f"40,CA,2024-Q1,{INTAKE},abc,100,,",  # malformed numerator, a new key
        f"40,CA,2024-Q1,{INTAKE},1,100,,",  # repeats that invalid row
        f"99,CA,2024-Q1,{INTAKE},1,100,,",  # unknown province: no key
        f"40,CA,2024-12,{INTAKE},1,100,,",  # repeats row 14
        f"40,CA,2024-12,{INTAKE},2,100,,",  # and again
        f"40,CA,2024-Q2,{INTAKE},2,100,,",
    ]
    return rows


# 2: the check moves to SQL while the file is still clean; 8: after its first error (row 6);
# 13: after four repeats were found in memory (row 19); 100000: it stays in memory.
@pytest.mark.parametrize("memory_keys", [2, 8, 13, 100_000])
def test_repeated_keys_are_reported_as_the_validator_does(
    warehouse: Warehouse, reference: Reference, monkeypatch: pytest.MonkeyPatch, memory_keys: int
) -> None:
    monkeypatch.setattr(load._DuplicateKeys, "MEMORY_KEYS", memory_keys)
    queries = []
    real_duplicates = load._Sink.duplicates

    def duplicates(sink: load._Sink, after_row: int):  # type: ignore[no-untyped-def]
        queries.append(after_row)
        return real_duplicates(sink, after_row)

    monkeypatch.setattr(load._Sink, "duplicates", duplicates)
    rel = "40/CA/lap.csv"
    path = write_submission(warehouse.landing, rel, _rows_with_repeats(), at("2025-01-15"))
    expected = validator_errors(path, reference, SUBMITTED_ON)
    assert sum(rule == "duplicate_key" for _, _, rule, _, _ in expected) == 7

    ensure_schema(warehouse.url)
    result = ingest_file(warehouse.url, warehouse.landing, rel, reference, warehouse.quarantine)

    assert len(queries) == (0 if memory_keys == 100_000 else 1)
    assert result.outcome == "rejected"
    assert result.errors == len(expected)
    assert _recorded_errors(warehouse, result.submission_id) == expected
    report = read_report(Path(result.report))[1]
    assert [(int(r["row"]), r["rule"]) for r in report] == [(e[0], e[2]) for e in expected]


def test_a_false_alarm_of_the_filter_loads_the_file(
    warehouse: Warehouse, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the hashes cannot tell (too many keys), SQL checks and finds no repeated key."""
    monkeypatch.setattr(load._DuplicateKeys, "MEMORY_KEYS", 2)
    monkeypatch.setattr(KeyFilter, "MAX_HASHES", 2)  # past it: every file "maybe" repeats
    rows = [f"{p},CA,2024-{m:02d},{INTAKE},{m},100,," for p in ("01", "40") for m in range(1, 13)]
    write_submission(warehouse.landing, "ok.csv", rows, at("2025-01-15"))
    ensure_schema(warehouse.url)
    result = ingest_file(
        warehouse.url, warehouse.landing, "ok.csv", reference, warehouse.quarantine
    )
    assert (result.outcome, result.rows) == ("accepted", 24)


# --- memory ------------------------------------------------------------------------------


def _large_submission(path: Path, rows: int) -> None:
    reference = load_reference(SEEDS)
    provinces = sorted(reference.provinces)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        written = 0
        for year in range(2024, 1900, -1):
            for month in range(12, 0, -1):
                for province in provinces:
                    for unit in sorted(reference.units):
                        writer.writerow(
                            (province, unit, f"{year}-{month:02d}", INTAKE, 7, 10, "", "")
                        )
                        written += 1
                        if written == rows:
                            return


def _peak_while_ingesting(wh: Warehouse, reference: Reference, rows: int) -> int:
    rel = f"large_{rows}.csv"
    _large_submission(wh.landing / rel, rows)
    tracemalloc.start()
    try:
        result = ingest_file(wh.url, wh.landing, rel, reference, wh.quarantine)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.outcome, result.rows) == ("accepted", rows)
    return peak


@pytest.mark.slow
def test_memory_does_not_grow_with_the_rows(
    warehouse: Warehouse, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the in-memory limit, four times the rows take no more memory (past the hashes'
    limit, held low here; the benchmark measures the real thing, RSS at 1M rows)."""
    monkeypatch.setattr(load._DuplicateKeys, "MEMORY_KEYS", 1_000)
    monkeypatch.setattr(KeyFilter, "MAX_HASHES", 1_000)
    ensure_schema(warehouse.url)
    small = _peak_while_ingesting(warehouse, reference, 15_000)
    large = _peak_while_ingesting(warehouse, reference, 60_000)
    assert large < small + 1_000_000, (small, large)
