"""The contract's columns and the header names that name them.

A header cell names a column when its text, compared as `header_key` folds it (case,
diacritics, spaces and brackets ignored), is one of the column's accepted names. Synonyms
are weaker: one names its column only when no accepted name for that column stands in the
same header (so a `Đơn vị` column beside `Mã đơn vị` is the unit's name, read as any other
column).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chitieu.ingest.parse import fold, is_blank, nfc

# Contract column → accepted headers.
HEADERS: dict[str, tuple[str, ...]] = {
    "province_code": ("province_code", "Mã tỉnh"),
    "unit_code": ("unit_code", "Mã đơn vị"),
    "period": ("period", "Kỳ báo cáo"),
    "indicator_code": ("indicator_code", "Mã chỉ tiêu"),
    "numerator": ("numerator", "Tử số"),
    "denominator": ("denominator", "Mẫu số"),
    "value": ("value", "Giá trị", "Tỷ lệ (%)"),
    "note": ("note", "Ghi chú"),
}
# Contract column → synonyms, used only where the header has no accepted name for it.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "period": ("Kỳ",),
    "unit_code": ("Đơn vị",),
    "value": ("Tỷ lệ", "Tỷ lệ %", "Kết quả (%)", "Số liệu"),
}
# The contract's columns by their English names, in the contract's order.
CONTRACT_COLUMNS = tuple(HEADERS)
REQUIRED = ("province_code", "unit_code", "period", "indicator_code")
KEY_CODES = ("province_code", "unit_code", "indicator_code")


def header_key(text: str) -> str:
    """How header names compare: `Tỷ lệ (%)`, `TỶ LỆ(%)` and `ty le %` are one name."""
    return re.sub(r"[\s()\[\]:*]+", "", fold(nfc(text)))


_ACCEPTED = {header_key(name): column for column, names in HEADERS.items() for name in names}
_SYNONYM = {header_key(name): column for column, names in SYNONYMS.items() for name in names}


def column_named(raw: object) -> tuple[str, bool] | None:
    """The contract column a header cell names and whether by a synonym, or None."""
    if is_blank(raw):
        return None
    key = header_key(str(raw))
    if key in _ACCEPTED:
        return _ACCEPTED[key], False
    if key in _SYNONYM:
        return _SYNONYM[key], True
    return None


@dataclass(frozen=True)
class HeaderColumns:
    """The columns one or two header rows name: contract column → cell index; `repeated`
    is the first header text naming a column already named (a `duplicate_column` error)."""

    columns: dict[str, int]
    repeated: str | None = None

    @property
    def complete(self) -> bool:
        return all(column in self.columns for column in REQUIRED)


def header_columns(names: Sequence[object]) -> HeaderColumns:
    """Map one header (a cell text per position) to contract columns."""
    found: dict[str, list[tuple[int, bool, object]]] = {}
    for index, raw in enumerate(names):
        named = column_named(raw)
        if named is not None:
            found.setdefault(named[0], []).append((index, named[1], raw))
    columns: dict[str, int] = {}
    repeated = None
    for column, places in found.items():
        strong = [place for place in places if not place[1]]
        chosen = strong or places
        columns[column] = chosen[0][0]
        if len(chosen) > 1 and repeated is None:
            repeated = str(chosen[1][2])
    return HeaderColumns(columns, repeated)


def sub_headings(top: Sequence[object], below: Sequence[object]) -> list[object] | None:
    """The header two rows make when `below` holds sub-headings under group headings of
    `top` (a merged `Kết quả thực hiện` over `Tử số / Mẫu số / Tỷ lệ`): each position takes
    the sub-heading where there is one, else the top row's name. None when `below` is not a
    row of sub-headings: it names no column, or holds something under one of the top
    row's key columns (a data row has its codes there), or the top row names no required
    column itself (a title or blank row above a one-row header)."""
    width = max(len(top), len(below))
    top = [*top, *[None] * (width - len(top))]
    below = [*below, *[None] * (width - len(below))]
    named_below = [column_named(cell) for cell in below]
    if not any(named_below) or not any(
        (named := column_named(cell)) is not None and named[0] in REQUIRED for cell in top
    ):
        return None
    pairs = list(zip(top, below, named_below, strict=True))
    for upper, lower, named in pairs:
        above = column_named(upper)
        key_column = above is not None and above[0] in REQUIRED
        if key_column and not is_blank(lower) and (named is None or named[0] != above[0]):
            return None
    return [lower if named else upper for upper, lower, named in pairs]


def last_named(names: Sequence[object]) -> int:
    """The index of the header's last non-empty cell (-1 for none)."""
    return max((i for i, cell in enumerate(names) if not is_blank(cell)), default=-1)
