"""The submission corpus (`tests/corpus/`): a file for every rule of the submission contract.

- `good/`: files that must be accepted, in each encoding, delimiter, header language, period
  form and number style the contract allows; every row is checked value by value.
- `bad/`: one file per rule, named after it, rejected with exactly the expected
  (rule, row, column), the row as a spreadsheet shows it (header = row 1).
- XLSX files are built here with openpyxl, so the corpus holds no binaries we cannot read.

Files go through `_validate_and_copy`, the function `ingest_file` streams every file with,
handed a stand-in cursor that collects what would be COPYed: no database. One test runs the
whole corpus through `ingest_landing` on a real warehouse.
"""

from __future__ import annotations

import ast
import re
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from chitieu.ingest.errors import SubmissionError
from chitieu.ingest.load import _validate_and_copy
from chitieu.ingest.report import ErrorSpool, read_report
from chitieu.ingest.run import ingest_landing
from chitieu.ingest.validate import Validator
from chitieu.reference import Reference, load_reference
from tests import clerk_files
from tests.conftest import Warehouse

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "dbt_project" / "seeds"
CORPUS = Path(__file__).parent / "corpus"
SUBMITTED_ON = date(2025, 1, 15)
# Indicators of each kind in the catalog (the unit allowed to report them in brackets).
RATE = "DVC_ONLINE_INTAKE_RATE"  # percent [any unit]
QR_RATE = "HI_QR_SCAN_SUCCESS_RATE"  # percent [SYT, BHXH]
CCCD_VISIT = "HI_CCCD_VISIT_RATE"  # percent [SYT]
MODELS = "MODELS_IMPLEMENTED"  # count [CA]
TEAM = "DIGITAL_TEAM_MEMBERS"  # count [STTTT]
VND = "SW_CASHLESS_AMOUNT"  # vnd [SLDTBXH]
DAYS = "LINKED_SERVICE_DAYS"  # days [STP]
RANK = "PROVINCE_SERVICE_INDEX_RANK"  # rank [VPUBND]
IOC = "IOC_OPERATIONAL"  # milestone [STTTT]
EMULATION = "EMULATION_CRITERIA_ADOPTED"  # milestone [SNV]
BILLION_33_2 = Decimal(33_200_000_000)

D = Decimal
# A loaded row, as COPYed: (row, province, unit, period, indicator, num, den, value, note).
Loaded = tuple[int, str, str, str, str, int | None, int | None, Decimal | None, str | None]
Expected = tuple[str, int | None, str | None]  # (rule, row, column)

GOOD: dict[str, list[Loaded]] = {
    # English headers, ",", UTF-8 without BOM, canonical periods, English number style.
    "en_comma.csv": [
        (2, "40", "CA", "2024-03", RATE, 600, 1000, None, None),
        (3, "40", "CA", "2024-Q3", RATE, None, None, D("64.67"), "rate only"),
        (4, "40", "CA", "2024-H1", RATE, 1273, 1344, D("94.72"), "all three, 1,273 of 1,344"),
        (5, "40", "CA", "2024", RATE, None, None, D("70.5"), None),
        (6, "40", "CA", "2024-Q4", MODELS, 25, 44, D(25), "25 of 44 models"),
        (7, "40", "CA", "2024-Q3", MODELS, None, None, D(1068), None),
        (8, "40", "SLDTBXH", "2024-12", VND, None, None, BILLION_33_2, "33.2 billion VND"),
        (9, "40", "STP", "2024-Q4", DAYS, None, None, D(7), None),
        (10, "40", "VPUBND", "2024-Q4", RANK, None, 63, D(38), "38th of 63"),
        (11, "40", "STTTT", "2024-Q4", IOC, None, None, D(1), None),
        (12, "40", "SNV", "2024-Q4", EMULATION, None, None, D(0), None),
    ],
    # Vietnamese headers with an indicator-name column, ";", every Vietnamese period form,
    # Vietnamese number style, province "1", a blank row that still counts in the numbering.
    "vi_semicolon.csv": [
        (2, "01", "CA", "2024-03", RATE, None, None, D("64.67"), "mã tỉnh 1 là 01"),
        (3, "40", "CA", "2024-03", "DOSSIER_DIGITIZATION_RATE", 16923, 26794, D("63.16"), None),
        (4, "40", "CA", "2024-Q3", RATE, None, None, D("71.5"), None),
        (5, "49", "CA", "2024-Q3", RATE, None, None, D("71.5"), None),
        (7, "40", "CA", "2024-H1", "E_RESULT_RATE", None, None, D(55), None),
        (8, "40", "CA", "2024-H2", "E_RESULT_RATE", None, None, D("60.25"), None),
        (9, "40", "CA", "2024-09", "E_RESULT_RATE", None, None, D(58), None),
        (10, "40", "CA", "2024", "E_RESULT_RATE", None, None, D(61), None),
        (11, "40", "CA", "2024-Q4", MODELS, 25, 44, D(25), "25/44 mô hình"),
        (12, "40", "STTTT", "2024-Q4", TEAM, None, None, D(23314), None),
        (13, "40", "STTTT", "2024-Q4", IOC, None, None, D(1), None),
        (14, "40", "SNV", "2024-Q4", EMULATION, None, None, D(0), None),
    ],
    # UTF-8 with BOM, decomposed (NFD) text, headers in mixed case with and without diacritics.
    "vi_utf8_bom_nfd.csv": [
        (2, "51", "STTTT", "2024-Q4", IOC, None, None, D(1), "Đã vận hành IOC"),
        (3, "51", "SNV", "2024-Q4", EMULATION, None, None, D(0), None),
        (4, "51", "STTTT", "2024-Q4", TEAM, None, None, D(1068), "Tổ công nghệ số cộng đồng"),
        (5, "51", "SYT", "2024-12", QR_RATE, None, None, D("64.67"), None),
        (6, "51", "BHXH", "2024-12", QR_RATE, 1273, 1344, D("94.72"), "Bảo hiểm xã hội"),
    ],
    # UTF-16 LE with BOM, CRLF line ends, as Excel's "Unicode text" export writes it.
    "vi_utf16_bom.csv": [
        (2, "49", "SYT", "2024-11", CCCD_VISIT, None, None, D("45.5"), "Sở Y tế"),
        (3, "49", "SYT", "2024-Q3", "HEALTH_CASHLESS_FACILITY_RATE", 120, 150, D(80), None),
    ],
    # Built by `_good_xlsx`: typed cells as Excel stores them.
    "vi_typed_cells.xlsx": [
        (2, "01", "SYT", "2024-03", QR_RATE, None, None, D("64.67"), "ô định dạng %"),
        (3, "40", "SYT", "2024-03", CCCD_VISIT, 1273, 1344, D("94.72"), None),
        (4, "40", "CA", "2024-Q4", MODELS, 25, 44, D(25), None),
        (5, "40", "STTTT", "2024", TEAM, None, None, D(1068), None),
        (6, "40", "VPUBND", "2024-Q4", RANK, None, 63, D(38), "xếp thứ 38/63"),
        (7, "40", "STTTT", "2024-Q4", IOC, None, None, D(1), None),
        (8, "40", "SLDTBXH", "2024-12", VND, None, None, BILLION_33_2, "33,2 tỷ đồng"),
        (9, "40", "CA", "2024-12", RATE, None, None, D("64.67"), None),
        (10, "40", "STP", "2024-Q4", DAYS, None, None, D(7), None),
    ],
}  # fmt: skip

BAD: dict[str, list[Expected]] = {
    # Row rules: each file breaks one (a valid row and blank rows around it keep numbering honest).
    "required.csv": [("required", 4, "period")],
    "unknown_province.csv": [("unknown_province", 3, "province_code")],
    "unknown_unit.csv": [("unknown_unit", 3, "unit_code")],
    "unknown_indicator.csv": [("unknown_indicator", 3, "indicator_code")],
    "unit_not_allowed.csv": [("unit_not_allowed", 3, "indicator_code")],
    "period_format.csv": [("period_format", 3, "period")],
    "period_future.csv": [("period_future", 3, "period")],
    "value_format.csv": [("value_format", 3, "value")],
    "value_missing.csv": [("value_missing", 3, "value")],
    "fraction_incomplete.csv": [("fraction_incomplete", 3, "denominator")],
    "rate_out_of_range.csv": [("rate_out_of_range", 2, "value")],
    "numerator_gt_denominator.csv": [("numerator_gt_denominator", 3, "numerator")],
    "rate_mismatch.csv": [("rate_mismatch", 3, "value")],
    "negative.csv": [("negative", 2, "value"), ("negative", 3, "numerator")],
    "denominator_not_positive.csv": [("denominator_not_positive", 3, "denominator")],
    "rank_not_positive.csv": [("rank_not_positive", 2, "value")],
    "rank_gt_denominator.csv": [("rank_gt_denominator", 2, "value")],
    "duplicate_key.csv": [("duplicate_key", 3, "indicator_code")],
    "several_errors.csv": [
        ("unknown_province", 3, "province_code"),
        ("period_format", 3, "period"),
        ("numerator_gt_denominator", 3, "numerator"),
        ("unit_not_allowed", 4, "indicator_code"),
        ("negative", 4, "value"),
        ("period_future", 6, "period"),
        ("rank_gt_denominator", 6, "value"),
        ("duplicate_key", 7, "indicator_code"),
        ("required", 8, "period"),
        ("unknown_unit", 8, "unit_code"),
        ("unknown_indicator", 8, "indicator_code"),
    ],
    # Whole-file rules.
    "missing_column.csv": [("missing_column", 3, None)],  # header after two blank lines
    "duplicate_column.csv": [("duplicate_column", 1, None)],  # "Giá trị" and "Tỷ lệ (%)"
    "empty_file.csv": [("empty_file", None, None)],
    "empty_file_blank_lines.csv": [("empty_file", None, None)],
    "no_rows.csv": [("no_rows", None, None)],
    # A quote left open in row 3's note: without strict parsing it swallowed row 4 and the
    # file was accepted with one row fewer.
    "malformed_csv.csv": [("malformed_csv", 3, None)],
    "unreadable.xlsx": [("unreadable", None, None)],  # a CSV saved under an .xlsx name
    "too_large.csv": [("too_large", 1, None)],  # more header columns than MAX_COLUMNS
    "unsupported_format.txt": [("unsupported_format", None, None)],
    # Encodings: legacy bytes are undecodable; legacy text re-saved as UTF-8 is caught by its
    # garbled characters, on the row where they appear.
    "encoding_windows1258.csv": [("encoding", None, None)],
    "encoding_tcvn3.csv": [("encoding", None, None)],
    "encoding_vni.csv": [("encoding", None, None)],
    "encoding_tcvn3_resaved_utf8.csv": [("encoding", 3, None)],
    "encoding_windows1258_resaved_utf8.csv": [("encoding", 4, None)],
    "encoding_utf16_without_bom.csv": [("encoding", 1, None)],
    # Built by `_bad_xlsx`.
    "rate_out_of_range_percent_cell.xlsx": [("rate_out_of_range", 3, "value")],
    "period_format_date_cell.xlsx": [("period_format", 2, "period")],
    "unreadable_corrupt_sheet.xlsx": [("unreadable", None, None)],
    # v1.1: an unquoted decimal comma splits the rate into the note and one cell more.
    "extra_cells.csv": [("extra_cells", 3, None)],
    # Built by `_bad_workbooks`: what .xls and .ods through calamine cannot say.
    "rate_ambiguous.xls": [("rate_ambiguous", 3, "value")],  # 0.65: 65 % or 0.65 %?
    "unsupported_layout.ods": [("unsupported_layout", None, None)],  # merged cells
}

# Clearly not submissions: discovery lists them as ignored and leaves them in the landing
# area. Every other file (unsupported_format.txt too) gets a ledger entry and a report.
NOT_SUBMISSIONS = {"~$báo cáo.xlsx", "Thumbs.db", ".DS_Store"}


# --- XLSX files, built at test time ------------------------------------------------------

VI_HEADER = [
    "Mã tỉnh",
    "Mã đơn vị",
    "Kỳ báo cáo",
    "Mã chỉ tiêu",
    "Tên chỉ tiêu",
    "Tử số",
    "Mẫu số",
    "Giá trị",
    "Ghi chú",
]
VALUE_COLUMN = VI_HEADER.index("Giá trị") + 1


def _write_xlsx(
    path: Path, rows: list[list[object] | None], formats: dict[tuple[int, int], str]
) -> Path:
    """Rows from row 1 (None leaves the row empty); `formats` maps (row, column) → format."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for number, cells in enumerate(rows, start=1):
        for column, value in enumerate(cells or [], start=1):
            if value is not None:
                sheet.cell(row=number, column=column, value=value)
    for (row, column), number_format in formats.items():
        sheet.cell(row=row, column=column).number_format = number_format
    workbook.save(path)
    return path


def _good_xlsx(folder: Path) -> Path:
    rows: list[list[object] | None] = [
        VI_HEADER,
        [1, "SYT", "Tháng 3/2024", QR_RATE, "Quét QR", None, None, 0.6467, "ô định dạng %"],
        [40, "SYT", datetime(2024, 3, 1), CCCD_VISIT, None, 1273, 1344, 0.9472],
        [40, "CA", "2024-Q4", MODELS, None, 25, 44],
        [40, "STTTT", 2024, TEAM, None, None, None, 1068],
        [40, "VPUBND", "Quý IV/2024", RANK, None, None, 63, 38, "xếp thứ 38/63"],
        [40, "STTTT", "Quý IV/2024", IOC, None, None, None, "Hoàn thành"],
        [40, "SLDTBXH", "2024-12", VND, None, None, None, "33.200.000.000", "33,2 tỷ đồng"],
        [40, "CA", "2024-12", RATE, None, None, None, 64.67],
        [40, "STP", "Quý IV/2024", DAYS, None, None, None, 7.0],
    ]  # fmt: skip
    formats = {
        (2, VALUE_COLUMN): "0.00%",  # Excel shows 64,67 % and stores 0.6467
        (3, VALUE_COLUMN): "0.00%",
        (3, 3): "mm/yyyy",  # "03/2024" typed into a cell Excel turned into a date
        (5, VALUE_COLUMN): "#,##0",
    }
    return _write_xlsx(folder / "vi_typed_cells.xlsx", rows, formats)


def _corrupt_sheet(source: Path, target: Path) -> Path:
    """A well-formed zip whose worksheet XML is cut in half, as an interrupted copy leaves it."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            zout.writestr(name, data)
    return target


def _bad_xlsx(folder: Path) -> list[Path]:
    rate = [
        None,  # a blank first row: the header is the first non-empty one
        VI_HEADER,
        [40, "SYT", "2024-03", CCCD_VISIT, None, None, None, 1.2],  # 120 %
        [40, "SYT", "2024-04", CCCD_VISIT, None, None, None, 0.5],
    ]
    date_cell = [VI_HEADER, [40, "SYT", datetime(2024, 3, 15), CCCD_VISIT, None, 1, 2]]
    dated = _write_xlsx(folder / "period_format_date_cell.xlsx", date_cell, {(2, 3): "dd/mm/yyyy"})
    percent = {(3, VALUE_COLUMN): "0%", (4, VALUE_COLUMN): "0%"}
    return [
        _write_xlsx(folder / "rate_out_of_range_percent_cell.xlsx", rate, percent),
        dated,
        _corrupt_sheet(dated, folder / "unreadable_corrupt_sheet.xlsx"),
    ]


def corpus_files(folder: Path) -> dict[str, Path]:
    """Every corpus file by name: the committed ones, and the XLSX built into `folder`."""
    (folder / "good").mkdir(parents=True, exist_ok=True)
    (folder / "bad").mkdir(parents=True, exist_ok=True)
    files = {p.name: p for kind in ("good", "bad") for p in sorted((CORPUS / kind).iterdir())}
    files[_good_xlsx(folder / "good").name] = folder / "good" / "vi_typed_cells.xlsx"
    files.update({p.name: p for p in _bad_xlsx(folder / "bad")})
    files.update({p.name: p for p in _bad_workbooks(folder / "bad")})
    return files


def _bad_workbooks(folder: Path) -> list[Path]:
    rows = [
        ["40", "SYT", "2024-03", CCCD_VISIT, None, None, 64.5, None],
        ["40", "SYT", "2024-04", CCCD_VISIT, None, None, 0.65, None],
    ]
    merged = [
        ["40", "SYT", "2024-03", CCCD_VISIT, None, None, 64.5, None],
        [None, "SYT", "2024-04", CCCD_VISIT, None, None, 65, None],
    ]
    return [
        clerk_files.xls(folder / "rate_ambiguous.xls", rows),
        clerk_files.ods(folder / "unsupported_layout.ods", merged, merged_down=[(1, 0, 2)]),
    ]


# --- the ingest's own validation pass, without a database ---------------------------------


_UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def copy_fields(line: str) -> list[str | None]:
    """The fields of a COPY text line, as PostgreSQL reads them (\\N: NULL)."""
    return [
        None if text == r"\N" else re.sub(r"\\(.)", lambda m: _UNESCAPE[m.group(1)], text)
        for text in line.split("\t")
    ]


def _typed(fields: list[str | None]) -> tuple[object, ...]:
    """A submission_value line's fields as the table's types hold them."""
    submission_id, _sheet_index, _sheet, row, province, unit, period, indicator, *rest = fields
    num, den, value, note = rest
    whole = [None if text is None else int(text) for text in (submission_id, row, num, den)]
    decimal = None if value is None else Decimal(value)
    return (
        whole[0],
        whole[1],
        province,
        unit,
        period,
        indicator,
        whole[2],
        whole[3],
        decimal,
        note,
    )


@dataclass
class _CopyStandIn:
    rows: list[tuple[object, ...]] = field(default_factory=list)

    sheets: list[str | None] = field(default_factory=list)

    def write(self, text: str) -> None:
        lines = [copy_fields(line) for line in text.splitlines()]
        self.rows += [_typed(fields) for fields in lines]
        self.sheets += [fields[2] for fields in lines]


@dataclass
class _CursorStandIn:
    """Just what `_validate_and_copy` uses of a psycopg cursor: `copy()`."""

    copied: _CopyStandIn = field(default_factory=_CopyStandIn)

    @contextmanager
    def copy(self, statement: str) -> Iterator[_CopyStandIn]:
        assert statement.startswith("copy raw.submission_value")
        yield self.copied


@dataclass(frozen=True)
class Checked:
    loaded: list[Loaded]
    errors: list[SubmissionError]

    @property
    def found(self) -> list[Expected]:
        return [(e.rule, e.row, e.column) for e in self.errors]


def check_file(path: Path, reference: Reference, scratch: Path) -> Checked:
    """The file through the same read → validate → COPY pass `ingest_file` runs."""
    cursor = _CursorStandIn()
    spool = ErrorSpool(scratch / "spool" / f"{path.name}.csv")
    try:
        _validate_and_copy(cursor, path, 1, Validator(reference, SUBMITTED_ON), spool)  # type: ignore[arg-type]
    finally:
        spool.close()
    loaded = [row[1:] for row in cursor.copied.rows]
    return Checked(loaded, list(spool))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(SEEDS)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return corpus_files(tmp_path_factory.mktemp("corpus"))


def test_corpus_has_exactly_the_files_listed(corpus: dict[str, Path]) -> None:
    assert sorted(corpus) == sorted([*GOOD, *BAD])


def _rules_the_ingest_can_report() -> set[str]:
    """Rule codes written as literals in the ingest package's error constructors."""
    constructors = {"add", "file_error", "SubmissionError"}
    rules = set()
    for source in (REPO / "src" / "chitieu" / "ingest").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            first = node.args[0]
            if name in constructors and isinstance(first, ast.Constant):
                rules.add(first.value)
    return rules


def test_every_rule_has_a_bad_file() -> None:
    """A new rule in the ingest code fails here until the corpus has a file breaking it."""
    rules = _rules_the_ingest_can_report()
    assert len(rules) >= 25  # the scan found the rule literals at all
    covered = {rule for expected in BAD.values() for rule, _, _ in expected}
    assert rules - covered == set()
    assert covered - rules == set()


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_file_is_accepted_row_by_row(
    name: str, corpus: dict[str, Path], reference: Reference, tmp_path: Path
) -> None:
    checked = check_file(corpus[name], reference, tmp_path)
    assert checked.found == []
    assert checked.loaded == GOOD[name]


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_is_rejected_with_exact_errors(
    name: str, corpus: dict[str, Path], reference: Reference, tmp_path: Path
) -> None:
    checked = check_file(corpus[name], reference, tmp_path)
    assert checked.found == BAD[name]
    for error in checked.errors:
        assert error.vi and error.en and error.vi != error.en  # a message in each language


def test_several_errors_are_all_reported_with_raw_values(
    corpus: dict[str, Path], reference: Reference, tmp_path: Path
) -> None:
    checked = check_file(corpus["several_errors.csv"], reference, tmp_path)
    assert len(checked.errors) == 11
    raw = {(e.row, e.rule): e.raw_value for e in checked.errors}
    assert raw[(3, "unknown_province")] == "99"
    assert raw[(3, "period_format")] == "2024-13"
    assert raw[(4, "negative")] == "-3"
    assert raw[(7, "duplicate_key")] == RATE
    assert "dòng 2" in next(e.vi for e in checked.errors if e.rule == "duplicate_key")


def test_encoding_errors_name_the_problem(
    corpus: dict[str, Path], reference: Reference, tmp_path: Path
) -> None:
    for name in [n for n in BAD if n.startswith("encoding_")]:
        (error,) = check_file(corpus[name], reference, tmp_path).errors
        assert "UTF-8" in error.vi and "UTF-8" in error.en, name
        for legacy in ("Windows-1258", "TCVN3", "VNI"):
            assert legacy in error.vi and legacy in error.en, name


def test_spools_of_identical_files_never_share_a_file(tmp_path: Path) -> None:
    """Parallel workers given byte-identical files name their spools by the same hash."""
    first, second = (ErrorSpool(tmp_path / ".spool" / "same-sha.csv") for _ in range(2))
    first.add(SubmissionError("required", "vi", "en", 2, "period"))
    first.close()
    first.path.unlink()  # the first worker finishes and cleans up
    second.add(SubmissionError("unknown_unit", "vi", "en", 3, "unit_code"))
    second.close()
    assert first.path != second.path
    assert [(e.rule, e.row) for e in second] == [("unknown_unit", 3)]


# --- the whole corpus through a warehouse --------------------------------------------------


def _report_rows(path: Path) -> list[Expected]:
    return [
        (line["rule"], int(line["row"]) if line["row"] else None, line["column"] or None)
        for line in read_report(path)[1]
    ]


def test_landing_with_the_whole_corpus(warehouse: Warehouse, tmp_path: Path) -> None:
    """Good and bad files in one run: each bad file is rejected, loads nothing, lands in
    quarantine beside its report and leaves its errors in audit; the good ones still load."""
    for name, source in corpus_files(tmp_path / "built").items():
        kind = "good" if name in GOOD else "bad"
        (warehouse.landing / kind).mkdir(exist_ok=True)
        shutil.copy(source, warehouse.landing / kind / name)  # mtime now: 2999-12 is future
    for name in NOT_SUBMISSIONS:
        (warehouse.landing / "bad" / name).write_bytes(b"\x00junk")

    summary = ingest_landing(warehouse.landing, warehouse.settings, progress=lambda _: None)

    assert summary.ignored == sorted(f"bad/{name}" for name in NOT_SUBMISSIONS)
    for name in NOT_SUBMISSIONS:
        assert (warehouse.landing / "bad" / name).exists(), name
    results = {Path(r.path).name: r for r in summary.results}
    assert sorted(results) == sorted(set(GOOD) | set(BAD) - NOT_SUBMISSIONS)
    for name, rows in GOOD.items():
        assert (results[name].outcome, results[name].rows) == ("accepted", len(rows)), name

    rejected = {name: results[name] for name in BAD if name not in NOT_SUBMISSIONS}
    for name, result in rejected.items():
        assert result.outcome == "rejected", name
        assert not (warehouse.landing / "bad" / name).exists(), name
        report = Path(result.report or "")
        assert report.name.endswith(".errors.csv"), name
        assert report.with_name(report.name.removesuffix(".errors.csv")).is_file(), name
        assert _report_rows(report) == BAD[name], name
        audit = warehouse.query(
            "select rule, row_number, column_name from audit.submission_error"
            " where submission_id = %s order by error_number",
            (result.submission_id,),
        )
        assert audit == BAD[name], name

    ids = [r.submission_id for r in rejected.values()]
    assert warehouse.query(
        "select count(*) from raw.submission_value where submission_id = any(%s)", (ids,)
    ) == [(0,)]
    assert warehouse.query("select count(*) from raw.submission_value") == [
        (sum(len(rows) for rows in GOOD.values()),)
    ]
