"""Parsers for the cells of a submission: text folding, periods, numbers, codes.

Each parser takes a raw cell (text from a CSV, or the typed value of an XLSX cell) and
returns the canonical value or raises `ParseError` with a message a clerk can act on.
"""

from __future__ import annotations

import calendar
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation


class ParseError(ValueError):
    """A cell that does not hold what its column needs; `vi` and `en` say why."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi = vi
        self.en = en


def fold(text: str) -> str:
    """Lowercase, without diacritics, spaces collapsed: how headers and keywords compare."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


# Characters a cell may carry unseen (pasted from the web or a chat): zero-width space,
# non-joiner and joiner, word joiner, byte-order mark, soft hyphen. Removed from every cell.
INVISIBLE_CHARS = "\u200b-\u200d\u2060\ufeff\u00ad"  # a regex character class's inside
INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]")


def visible(text: str) -> str:
    """The text without the invisible characters of `INVISIBLE`."""
    return INVISIBLE.sub("", text) if INVISIBLE.search(text) else text


def shown(text: str) -> str:
    """The text with any non-printing character left in it escaped (`\\u200b`), so a message
    shows why a code that looks right is unknown."""
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} else c
        for c in text
    )


# A value cell holding only one of these is empty: forms print a dash or an x for "nothing".
EMPTY_MARKS = frozenset({"-", "\u2013", "\u2014", "x", "X"})


# --- periods -------------------------------------------------------------------------------

PERIOD_TYPES = ("month", "quarter", "half_year", "year")


@dataclass(frozen=True)
class Period:
    code: str
    type: str
    start: date
    end: date


def _month(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return Period(f"{year:04d}-{month:02d}", "month", date(year, month, 1), date(year, month, last))


def _span(code: str, kind: str, year: int, first_month: int, months: int) -> Period:
    last_month = first_month + months - 1
    last = calendar.monthrange(year, last_month)[1]
    return Period(code, kind, date(year, first_month, 1), date(year, last_month, last))


def _quarter(year: int, q: int) -> Period:
    return _span(f"{year:04d}-Q{q}", "quarter", year, 3 * q - 2, 3)


def _half(year: int, h: int) -> Period:
    return _span(f"{year:04d}-H{h}", "half_year", year, 6 * h - 5, 6)


def _year(year: int) -> Period:
    return _span(f"{year:04d}", "year", year, 1, 12)


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}

# Patterns over folded text (lowercase, no diacritics): "Quý III/2024" → "quy iii/2024".
_PERIOD_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^([0-9]{4})-([0-9]{2})$"), "month"),
    (re.compile(r"^([0-9]{4})-q([1-4])$"), "quarter"),
    (re.compile(r"^([0-9]{4})-h([12])$"), "half"),
    (re.compile(r"^([0-9]{4})$"), "year"),
    (re.compile(r"^(?:thang|t) ?([0-9]{1,2}) ?(?:/|nam) ?([0-9]{4})$"), "month_vi"),
    (re.compile(r"^([0-9]{1,2}) ?/ ?([0-9]{4})$"), "month_vi"),
    (re.compile(r"^q ?([1-4]) ?/ ?([0-9]{4})$"), "quarter_vi"),
    (re.compile(r"^quy ([0-9]|i{1,3}|iv) ?(?:/|nam) ?([0-9]{4})$"), "quarter_vi"),
    (re.compile(r"^6 thang (dau|cuoi) nam ([0-9]{4})$"), "half_vi"),
    (re.compile(r"^([0-9]{1,2}) thang dau nam ([0-9]{4})$"), "months_vi"),
    (re.compile(r"^nam ([0-9]{4})$"), "year"),
]

_FORMS_VI = (
    "dùng YYYY-MM, YYYY-Qn, YYYY-Hn, YYYY, 'Tháng 3/2024', '3/2024', 'Quý III/2024', "
    "'Q3/2024', '6 tháng đầu năm 2024' hoặc 'Năm 2024'"
)
_FORMS_EN = (
    "use YYYY-MM, YYYY-Qn, YYYY-Hn, YYYY, 'Tháng 3/2024', '3/2024', 'Quý III/2024', "
    "'Q3/2024', '6 tháng đầu năm 2024' or 'Năm 2024'"
)
_PERIOD_HELP = ParseError(f"Kỳ báo cáo không hợp lệ; {_FORMS_VI}", f"Malformed period; {_FORMS_EN}")


def _period_from_match(kind: str, groups: tuple[str, ...]) -> Period:
    year_group = groups[0] if kind in {"month", "quarter", "half", "year"} else groups[1]
    if not 1900 <= int(year_group) <= 2999:
        raise _PERIOD_HELP
    if kind == "month":
        year, month = int(groups[0]), int(groups[1])
    elif kind == "month_vi" or kind == "months_vi":
        month, year = int(groups[0]), int(groups[1])
        if kind == "months_vi" and month == 6:
            return _half(year, 1)
    elif kind == "quarter":
        return _quarter(int(groups[0]), int(groups[1]))
    elif kind == "quarter_vi":
        q = _ROMAN.get(groups[0]) or int(groups[0])
        if not 1 <= q <= 4:
            raise _PERIOD_HELP
        return _quarter(int(groups[1]), q)
    elif kind == "half":
        return _half(int(groups[0]), int(groups[1]))
    elif kind == "half_vi":
        return _half(int(groups[1]), 1 if groups[0] == "dau" else 2)
    else:
        return _year(int(groups[0]))
    if not 1 <= month <= 12:
        raise _PERIOD_HELP
    return _month(year, month)


def parse_period(raw: object) -> Period:
    """A reporting period in any accepted form → its canonical code, type and bounds."""
    if isinstance(raw, datetime | date):
        # Excel turns a typed "2024-03" or "9/2024" into the first day of that month. The
        # years typed periods may have, so that the canonical code reads back (Excel's dates
        # reach 9999).
        if raw.day != 1 or not 1900 <= raw.year <= 2999:
            day = f"{raw.day:02d}/{raw.month:02d}/{raw.year:04d}"
            raise ParseError(
                f"Kỳ báo cáo là ngày {day}, không phải một kỳ; {_FORMS_VI}",
                f"The period is the date {day}, not a period; {_FORMS_EN}",
            )
        return _month(raw.year, raw.month)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not math.isfinite(raw) or raw != int(raw):
            raise _PERIOD_HELP
        raw = str(int(raw))
    if not isinstance(raw, str):
        raise _PERIOD_HELP
    text = fold(nfc(raw))
    for pattern, kind in _PERIOD_PATTERNS:
        match = pattern.match(text)
        if match:
            return _period_from_match(kind, match.groups())
    raise _PERIOD_HELP


def period_bounds(code: str) -> Period:
    """Bounds of a period already in canonical form."""
    return parse_period(code)


# --- numbers -------------------------------------------------------------------------------

# Larger numbers are typing errors, and would not fit PostgreSQL's bigint.
MAX_DIGITS = 18

_DECIMAL = re.compile(r"^[+-]?[0-9]+(?:[.,][0-9]+)?$")
_PLAIN_INT = re.compile(r"^-?[0-9]+$")
# Thousands grouped in threes by one separator used consistently: 1.068 / 1,068 / 1 068.
_GROUPED_INT = re.compile(r"^-?[0-9]{1,3}(?P<sep>[., \u00a0\u202f])[0-9]{3}(?:(?P=sep)[0-9]{3})*$")


def _number_cell(raw: object) -> Decimal | None:
    """The value of a numeric XLSX cell, or None for text."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        return None
    try:
        number = Decimal(str(raw))
    except InvalidOperation as exc:
        raise ParseError("Số không hợp lệ", "Not a finite number") from exc
    if not number.is_finite():
        raise ParseError("Số không hợp lệ", "Not a finite number")
    return number


def parse_rate(raw: object, percent_format: bool = False) -> Decimal:
    """A rate on the 0–100 scale: `64,67%`, `64.67`, or an XLSX percent cell holding 0.6467."""
    number = _number_cell(raw)
    if number is not None:
        return number * 100 if percent_format else number
    if not isinstance(raw, str):
        raise ParseError("Tỷ lệ không hợp lệ", "Malformed rate")
    text = raw.strip().removesuffix("%").strip()
    if not _DECIMAL.match(text):
        raise ParseError(
            f"Tỷ lệ không hợp lệ: '{raw}' "
            "(dùng dạng 64,67 hoặc 64,67%, không phân cách hàng nghìn)",
            f"Malformed rate: '{raw}' (write 64.67 or 64,67%, no thousands separators)",
        )
    return Decimal(text.replace(",", "."))


def parse_integer(raw: object) -> int:
    """An integer, with thousands optionally grouped by `.`, `,` or a space (`1.068` = 1068)."""
    number = _number_cell(raw)
    if number is not None:
        if number != number.to_integral_value():
            raise ParseError(f"Phải là số nguyên: {raw}", f"Must be a whole number: {raw}")
        if abs(number) >= 10**MAX_DIGITS:
            raise ParseError(f"Số quá lớn: {raw}", f"Number too large: {raw}")
        return int(number)
    if not isinstance(raw, str):
        raise ParseError("Số không hợp lệ", "Malformed number")
    text = raw.strip()
    digits = re.sub(r"[., \u00a0\u202f]", "", text)
    if _PLAIN_INT.match(text) or _GROUPED_INT.match(text):
        if len(digits.lstrip("-")) > MAX_DIGITS:
            raise ParseError(f"Số quá lớn: '{raw[:40]}'", f"Number too large: '{raw[:40]}'")
        return int(digits)
    raise ParseError(
        f"Số nguyên không hợp lệ: '{raw}' (ví dụ 1.068 hoặc 1068)",
        f"Malformed whole number: '{raw}' (e.g. 1.068 or 1068)",
    )


_MILESTONE = {
    "1": 1,
    "hoan thanh": 1,
    "da": 1,
    "yes": 1,
    "0": 0,
    "chua hoan thanh": 0,
    "chua": 0,
    "no": 0,
}


def parse_milestone(raw: object) -> int:
    """Done (1) or not (0): `1`/`0`, `Hoàn thành`/`Chưa hoàn thành`, `Đã`/`Chưa`, `yes`/`no`."""
    number = _number_cell(raw)
    if number is not None and number in (0, 1):
        return int(number)
    if isinstance(raw, str) and fold(raw) in _MILESTONE:
        return _MILESTONE[fold(raw)]
    raise ParseError(
        f"Giá trị mốc không hợp lệ: '{raw}' (dùng 1/0, Hoàn thành/Chưa hoàn thành, Đã/Chưa)",
        f"Malformed milestone: '{raw}' (use 1/0, Hoàn thành/Chưa hoàn thành, Đã/Chưa, yes/no)",
    )


def parse_province_code(raw: object) -> str:
    """A 2-digit GSO province code; `1` means `01` because Excel drops leading zeros."""
    number = _number_cell(raw)
    if number is not None:
        if number != number.to_integral_value() or number < 0:
            raise ParseError(f"Mã tỉnh không hợp lệ: {raw}", f"Malformed province code: {raw}")
        text = str(int(number))
    elif isinstance(raw, str):
        text = raw.strip()
    else:
        raise ParseError("Mã tỉnh không hợp lệ", "Malformed province code")
    if not re.fullmatch(r"[0-9]{1,2}", text):
        raise ParseError(f"Mã tỉnh không hợp lệ: '{raw}'", f"Malformed province code: '{raw}'")
    return text.zfill(2)


def parse_code(raw: object) -> str:
    """A unit or indicator code: trimmed, upper case."""
    return nfc(str(raw)).strip().upper()
