"""The ingest's fast path: clean CSV rows checked in a few dictionary lookups.

`chitieu.ingest.validate.Validator` is the rulebook; this module only answers quickly for
the rows it can prove valid and leaves every other row to the Validator:

- `clean_csv_rows` reads a CSV file exactly as `read.read_csv` does (encoding, delimiter,
  row numbers) once a first pass has shown the whole file decodes and passes read.py's text
  check, so the per-cell checks can be skipped. Otherwise it returns None and the loader
  uses `read_rows`, which reports those problems row by row.
- `RowChecker.fast` turns a row of text cells in the common shapes (codes, any period form,
  plain digits, `64.67` rates) into its key and the rest of the line to COPY (text format),
  when it breaks no rule; else None. The cells it accepts are already in a form PostgreSQL
  reads as the Validator's values (digits, `64.67`), so they go to COPY as they are, with no
  conversion to Python numbers and back. Periods, codes and milestones are parsed once per
  distinct text and cached.
- `RowChecker.key_of` is the (province, unit, period, indicator) key the Validator would
  compare for a duplicate, for rows it rejected: the loader checks repeated keys for the
  whole file itself (in memory up to a limit, then in SQL behind a `KeyFilter`), so that a
  file of any size takes bounded memory.

tests/test_ingest_memory.py checks `fast` and `key_of` against the Validator row by row.
"""

from __future__ import annotations

import codecs
import csv
import re
import sys
import unicodedata
from array import array
from collections.abc import Hashable, Iterator
from datetime import date
from decimal import Decimal
from itertools import count, repeat
from operator import itemgetter
from pathlib import Path

import numpy as np

from chitieu.ingest.header import HEADERS
from chitieu.ingest.parse import (
    ParseError,
    Period,
    is_blank,
    parse_code,
    parse_milestone,
    parse_period,
    parse_province_code,
)
from chitieu.ingest.read import (
    MAX_LINE_CHARS,
    _csv_encoding,
    csv_delimiter,
    is_plain_text,
    read_csv,
)
from chitieu.ingest.validate import RATE_TOLERANCE
from chitieu.reference import Indicator, Reference

Key = tuple[str, str, str, str]  # province_code, unit_code, period, indicator_code
# numerator, denominator, value, note: the checked row without its key
Values = tuple[int | None, int | None, Decimal | None, str | None]

# COPY's text format: fields separated by tabs, \N for NULL, backslash escapes.
NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_field(value: object) -> str:
    """One value as a field of a COPY text line."""
    return NULL if value is None else str(value).translate(_COPY_ESCAPES)


def copy_tail(values: Values) -> str:
    """The values as the end of a COPY text line (what `RowChecker.fast` gives)."""
    return "\t".join(map(copy_field, values))


_CHUNK = 1 << 20
_CACHE_LIMIT = 50_000  # distinct texts per cache: a file of garbage cannot grow it further
_RATE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_HUNDRED = Decimal(100)
# The rate check in integers gives the Validator's Decimal answer whenever the exact
# difference is not within Decimal's rounding (~1e-25) of the tolerance: so for rates with
# at most 6 decimals and denominators below 10^15 (a non-zero gap is then ≥ 1/(t·10^21),
# t the tolerance's denominator: 20 for 0.05). Otherwise the Decimal check runs.
_TOLERANCE, _TOLERANCE_DENOMINATOR = RATE_TOLERANCE.as_integer_ratio()
_POW10 = {places: 10**places for places in range(7)} if _TOLERANCE_DENOMINATOR <= 100 else {}
_EXACT_BELOW = 10**15
_NFC = unicodedata.normalize


# --- reading -------------------------------------------------------------------------------


def _is_clean_text(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes in `encoding`, passes `read.py`'s text check (whose
    rules are about single characters, so checking the text checks every cell), holds no
    invisible character for the reader to remove, and has no line over `MAX_LINE_CHARS`
    (stopping at the first: a 1 GB line is not decoded whole)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    run = 0  # characters since the last line break
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                text = decoder.decode(chunk)
                if not is_plain_text(text):
                    return False
                run = _line_run(run, text)
                if run >= MAX_LINE_CHARS:
                    return False
            if not is_plain_text(decoder.decode(b"", final=True)):
                return False
    except UnicodeDecodeError:
        return False
    return True


def _line_run(run: int, text: str) -> int:
    """The length of the line still open after `text`, or at least MAX_LINE_CHARS when a
    line ending in `text` was longer. Lines inside one chunk are shorter than the limit
    (_CHUNK ≤ MAX_LINE_CHARS), so only the ends of a chunk need looking at."""
    first = min((i for i in (text.find("\n"), text.find("\r")) if i >= 0), default=-1)
    if first < 0:
        return run + len(text)
    if run + first >= MAX_LINE_CHARS:
        return run + first
    last = max(text.rfind("\n"), text.rfind("\r"))
    return len(text) - last - 1


def clean_csv_rows(path: Path) -> Iterator[tuple[int, list[str], None]] | None:
    """(row number, cells, None) of every row, as `read_csv` gives them (the None: no cell is
    an XLSX percent); None unless the file is clean text, where `read_csv`'s per-cell checks
    could not find anything."""
    encoding = _csv_encoding(path)
    if not _is_clean_text(path, encoding):
        return None
    return _csv_rows(path, encoding)


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list[str], None]]:
    # Opened, sniffed and parsed as read_csv does (tests/test_ingest_memory.py compares them).
    try:
        with path.open(encoding=encoding, errors="strict", newline="") as handle:
            reader = csv.reader(handle, delimiter=csv_delimiter(handle), strict=True)
            # zip and count build the tuples in C: this loop runs once per row.
            yield from zip(count(1), reader, repeat(None))
    except (csv.Error, UnicodeDecodeError):
        # read_csv fails at the same record; let it word the error, with the row.
        for _row in read_csv(path):
            pass
        raise


# --- checking ------------------------------------------------------------------------------


def _integer(text: str) -> int | None:
    """Plain ASCII digits (what `parse_integer` reads the same way), else None."""
    if len(text) <= 18 and text.isdigit() and text.isascii():
        return int(text)
    return None


class RowChecker:
    """The contract's row rules for the rows they certainly pass, with cached lookups."""

    def __init__(
        self,
        reference: Reference,
        submitted_on: date,
        columns: dict[str, int],
        header_width: int | None = None,
    ) -> None:
        self.reference = reference
        self.submitted_on = submitted_on
        self._index = [columns.get(column) for column in HEADERS]
        present = [index for index in self._index if index is not None]
        self._width = max(present) + 1 if present else 0
        # Cells past the header's last name are the Validator's (`extra_cells`) unless blank.
        self._header_width = header_width if header_width is not None else sys.maxsize
        # `fast` picks the eight cells at once; an absent column reads a "" appended last.
        self._absent = len(present) < len(HEADERS)
        self._pick = itemgetter(*(-1 if i is None else i for i in self._index))
        self._provinces: dict[Hashable, str | bool] = {}
        self._periods: dict[Hashable, Period | bool] = {}
        self._units: dict[Hashable, str | bool] = {}
        self._indicators: dict[Hashable, Indicator | bool] = {}
        self._allowed: dict[tuple[str, str], tuple[str, Indicator] | bool] = {}
        self._milestones: dict[str, int | bool] = {}

    # The key's parts, each exactly as the Validator reads it (False: the cell breaks a rule).

    def _province(self, raw: object) -> str | bool:
        if is_blank(raw):
            return False
        try:
            code = parse_province_code(raw)
        except ParseError:
            return False
        return code if code in self.reference.provinces else False

    def _unit(self, raw: object) -> str | bool:
        if is_blank(raw):
            return False
        code = parse_code(raw)
        return code if code in self.reference.units else False

    def _indicator(self, raw: object) -> Indicator | bool:
        if is_blank(raw):
            return False
        return self.reference.indicators.get(parse_code(raw)) or False

    def _period(self, raw: object) -> Period | bool:
        if is_blank(raw):
            return False
        try:
            period = parse_period(raw)
        except ParseError:
            return False
        return period if period.end <= self.submitted_on else False

    def _cached(self, cache: dict, parse, raw: object):  # type: ignore[no-untyped-def]
        # Only text is cached: 1, 1.0 and True are equal dict keys but different cells.
        if type(raw) is not str:
            return parse(raw)
        found = cache.get(raw)
        if found is None:
            found = parse(raw)
            if len(cache) < _CACHE_LIMIT:
                cache[raw] = found
        return found

    def _cells(self, cells: list) -> list:
        """The eight contract columns' cells in HEADERS order; None for an absent column."""
        width = len(cells)
        return [None if i is None or i >= width else cells[i] for i in self._index]

    def key_of(self, cells: list) -> Key | None:
        """The key the Validator compares for duplicates; None when it would not compare any
        (a key cell missing, unknown, malformed, or a period in the future)."""
        province_raw, unit_raw, period_raw, indicator_raw = self._cells(cells)[:4]
        province = self._cached(self._provinces, self._province, province_raw)
        unit = self._cached(self._units, self._unit, unit_raw)
        period = self._cached(self._periods, self._period, period_raw)
        indicator = self._cached(self._indicators, self._indicator, indicator_raw)
        if province and unit and period and indicator:
            return (province, unit, period.code, indicator.code)  # type: ignore[union-attr]
        return None

    def _unit_indicator(self, pair: tuple[str, str]) -> tuple[str, Indicator] | bool:
        unit = self._cached(self._units, self._unit, pair[0])
        indicator = self._cached(self._indicators, self._indicator, pair[1])
        if unit and indicator and indicator.may_be_reported_by(unit):  # type: ignore[union-attr]
            return unit, indicator  # type: ignore[return-value]
        return False

    def _milestone(self, text: str) -> int | bool:
        try:
            return parse_milestone(text)
        except ParseError:
            return False

    def fast(self, cells: list[str]) -> tuple[Key, str] | None:
        """The key of a CSV row that breaks no row rule (duplicates aside), and the rest of its
        COPY line: numerator, denominator, value and note as PostgreSQL reads them into the
        Validator's Observation. None when only the Validator can tell."""
        if len(cells) < self._width:
            cells = cells + [""] * (self._width - len(cells))
        elif len(cells) > self._header_width and any(
            not cell.isspace() for cell in cells[self._header_width :] if cell
        ):
            return None
        if self._absent:
            cells = [*cells, ""]
        p, u, per, ind, n, d, v, note = self._pick(cells)
        province = self._provinces.get(p)
        if province is None:
            province = self._cached(self._provinces, self._province, p)
        period = self._periods.get(per)
        if period is None:
            period = self._cached(self._periods, self._period, per)
        pair = (u, ind)
        unit_indicator = self._allowed.get(pair)
        if unit_indicator is None:
            unit_indicator = self._unit_indicator(pair)
            if len(self._allowed) < _CACHE_LIMIT:
                self._allowed[pair] = unit_indicator
        if not (province and period and unit_indicator):
            return None
        unit, indicator = unit_indicator  # type: ignore[misc]
        unit_of_measure = indicator.unit_of_measure

        # numerator and denominator: empty or plain digits (COPY reads "007" as 7, as int()
        # does); the rules every unit shares.
        numerator = denominator = None
        if n:
            if not (len(n) <= 18 and n.isdigit() and n.isascii()):
                return None
            numerator = int(n)
        if d:
            if not (len(d) <= 18 and d.isdigit() and d.isascii()):
                return None
            denominator = int(d)
            if not denominator:
                return None
            if numerator is not None and numerator > denominator and unit_of_measure != "rank":
                return None

        value: str  # as COPY reads it into a numeric: "064.50" is 64.50, as Decimal reads it
        if unit_of_measure == "percent":
            if (numerator is None) != (denominator is None):
                return None
            if v:
                if not _RATE.fullmatch(v):
                    return None
                whole, _, fraction = v.partition(".")
                scale = _POW10.get(len(fraction))
                if scale is None or (numerator is not None and denominator >= _EXACT_BELOW):
                    rate = Decimal(v)
                    if rate > _HUNDRED:
                        return None
                    if numerator is not None:
                        computed = _HUNDRED * numerator / denominator  # type: ignore[operator]
                        if abs(rate - computed) > RATE_TOLERANCE:
                            return None
                else:
                    # The same rules in integers: value = scaled / scale, tolerance = a / b,
                    # |value - 100·n/d| > a/b  ⇔  b·|d·scaled - 100·n·scale| > a·d·scale.
                    scaled = int(whole + fraction)
                    if scaled > 100 * scale:
                        return None
                    if numerator is not None:
                        den = denominator
                        gap = abs(den * scaled - 100 * numerator * scale)
                        if _TOLERANCE_DENOMINATOR * gap > _TOLERANCE * den * scale:
                            return None
                value = v
            elif numerator is None:
                return None
            else:
                value = NULL
        elif unit_of_measure == "rank":
            rank = _integer(v)
            if not rank or (denominator is not None and rank > denominator):
                return None
            value = v
        elif unit_of_measure == "milestone":
            done = self._milestones.get(v)
            if done is None:
                done = self._cached(self._milestones, self._milestone, v)
            if done is False:
                return None
            value = "1" if done else "0"
        else:  # count, vnd, days: a whole number, or the numerator of "x of y"
            if v:
                if _integer(v) is None:
                    return None
                value = v
            elif numerator is not None and denominator is not None:
                value = n
            else:
                return None

        if not note or note.isspace():
            note = NULL
        else:
            if not note.isascii():
                note = _NFC("NFC", note)
            note = note.translate(_COPY_ESCAPES)
        key = (province, unit, period.code, indicator.code)  # type: ignore[union-attr]
        return key, f"{n or NULL}\t{d or NULL}\t{value}\t{note}"


# --- duplicate keys ------------------------------------------------------------------------


class KeyFilter:
    """The 64-bit hashes of a file's keys: when no two are equal, the file certainly has no
    duplicate key and the exact check (SQL) is skipped; equal hashes (a repeated key, or a
    collision) mean "maybe", and SQL decides. Past `MAX_HASHES` keys it stops keeping them
    and always answers "maybe", so memory stays bounded whatever the row count.

    Hashes are appended to an `array` and compared once, by numpy, at the end: cheaper per
    row than a pure-Python Bloom filter, which cost more than reading and checking the row."""

    MAX_HASHES = 8_000_000  # 64 MB

    def __init__(self) -> None:
        self._hashes: array[int] | None = array("q")

    def add(self, key: Key) -> None:
        hashes = self._hashes
        if hashes is not None:
            hashes.append(hash(key))
            if len(hashes) > self.MAX_HASHES:
                self.give_up()

    @property
    def hashes(self) -> array[int] | None:
        """Where `add` appends (None once past MAX_HASHES): the loader's loop over a clean
        file appends to it directly, checking the limit as `add` does."""
        return self._hashes

    def give_up(self) -> None:
        """Past MAX_HASHES: from now on the answer is "maybe"."""
        self._hashes = None

    @property
    def maybe_duplicate(self) -> bool:
        if self._hashes is None:
            return True
        hashes = np.sort(np.frombuffer(self._hashes, dtype=np.int64))  # sorting beats np.unique
        return bool((hashes[1:] == hashes[:-1]).any())
