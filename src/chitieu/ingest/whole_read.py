"""An .xls or .ods workbook read whole by python-calamine, in a child process of its own.

On some corrupt files calamine's Rust code panics, or asks for tens of gigabytes and aborts
the process. Either must reject the file, never take the run down: the child runs under an
address-space limit, and the parent (`read.py`) turns its death into the file's rejection.

    python -m chitieu.ingest.whole_read FILE   # writes the pickled result to stdout
"""

from __future__ import annotations

import pickle
import resource
import sys

# Far above what a real report needs (a few MB), far below what would hurt the machine.
ADDRESS_SPACE_LIMIT = 4 << 30

SheetData = tuple[str, bool, list[list[object]], list[tuple[tuple[int, int], tuple[int, int]]]]


def read_workbook(path: str) -> list[SheetData]:
    """(name, hidden, cell values from A1, merged ranges) of every sheet, in order; hidden
    sheets are not read."""
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    sheets: list[SheetData] = []
    with CalamineWorkbook.from_path(path) as workbook:
        for meta in workbook.sheets_metadata:
            if meta.visible != SheetVisibleEnum.Visible:
                sheets.append((meta.name, True, [], []))
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            values = sheet.to_python(skip_empty_area=False)
            sheets.append((meta.name, False, values, sheet.merged_cell_ranges or []))
    return sheets


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
    try:
        result: tuple[str, object] = ("ok", read_workbook(sys.argv[1]))
    except BaseException as exc:  # a pyo3 PanicException is a BaseException
        result = ("error", f"{type(exc).__name__}: {exc}"[:300])
    sys.stdout.buffer.write(pickle.dumps(result))


if __name__ == "__main__":
    main()
