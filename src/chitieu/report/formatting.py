"""Numbers, dates, periods and labels written the way Vietnamese reports write them.

`.` groups thousands and `,` is the decimal mark: `1.068` is one thousand and sixty-eight,
`64,67%` is 64.67 percent, `33,2 tỷ đồng` is 33.2 billion đồng. Trailing zeros of the
decimals are dropped, as the press reports do (`53,8%`, `100%`). Negative numbers take the
minus sign U+2212, so no formatted number starts with `-` (see `neutralize`).

`parse_vn_number` reads a formatted number back (the acceptance test uses it on the page).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from chitieu.ingest.parse import Period

MINUS = "\u2212"
NBSP = "\u00a0"

Number = Decimal | int | float


def _decimal(value: Number) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def fmt_number(value: Number | None, decimals: int = 2, *, trim: bool = True) -> str:
    """`1068` → `1.068`; `64.6667` → `64,67`; `53.80` → `53,8`; None → `—`."""
    if value is None:
        return "—"
    number = _decimal(value)
    quantum = Decimal(1).scaleb(-decimals)
    rounded = number.quantize(quantum, rounding=ROUND_HALF_UP)
    negative = rounded < 0
    text = f"{abs(rounded):.{decimals}f}"
    whole, _, fraction = text.partition(".")
    if trim:
        fraction = fraction.rstrip("0")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = ".".join(groups) + ("," + fraction if fraction else "")
    return (MINUS + out) if negative and out.strip("0.,") else out


def fmt_percent(value: Number | None, decimals: int = 2) -> str:
    """`64.6667` → `64,67%`."""
    return "—" if value is None else fmt_number(value, decimals) + "%"


def fmt_vnd(value: Number | None) -> str:
    """Money the way reports say it: `33,2 tỷ đồng`, `850 triệu đồng`, `120.000 đồng`."""
    if value is None:
        return "—"
    number = _decimal(value)
    if abs(number) >= 10**9:
        return fmt_number(number / 10**9, 2) + " tỷ đồng"
    if abs(number) >= 10**6:
        return fmt_number(number / 10**6, 1) + " triệu đồng"
    return fmt_number(number, 0) + " đồng"


def parse_vn_number(text: str) -> Decimal:
    """A Vietnamese-formatted number back to a Decimal: `1.068,5%` → 1068.5, `−3` → -3."""
    cleaned = text.replace(MINUS, "-").replace(NBSP, " ").strip()
    match = re.search(r"-?[0-9][0-9.]*(?:,[0-9]+)?", cleaned)
    if not match:
        raise ValueError(f"no number in {text!r}")
    return Decimal(match.group(0).replace(".", "").replace(",", "."))


def fmt_date(value: date | None) -> str:
    """`31/12/2024`."""
    return "—" if value is None else f"{value.day:02d}/{value.month:02d}/{value.year}"


_ROMAN = ("I", "II", "III", "IV")
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def period_label(period: Period, lang: Literal["vi", "en"] = "vi") -> str:
    """`Tháng 3/2024`, `Quý III/2024`, `6 tháng đầu năm 2024`, `Năm 2024` (or in English)."""
    year = period.start.year
    if period.type == "month":
        month = period.start.month
        return f"Tháng {month}/{year}" if lang == "vi" else f"{_MONTHS_EN[month - 1]} {year}"
    if period.type == "quarter":
        q = (period.start.month - 1) // 3 + 1
        return f"Quý {_ROMAN[q - 1]}/{year}" if lang == "vi" else f"Q{q} {year}"
    if period.type == "half_year":
        h = 1 if period.start.month == 1 else 2
        if lang == "vi":
            return f"6 tháng {'đầu' if h == 1 else 'cuối'} năm {year}"
        return f"H{h} {year}"
    return f"Năm {year}" if lang == "vi" else str(year)


def period_short(period: Period) -> str:
    """Compact label for a table cell: `11/2024`, `Q.IV/2024`, `6T đầu 2024`, `2024`."""
    year = period.start.year
    if period.type == "month":
        return f"{period.start.month:02d}/{year}"
    if period.type == "quarter":
        return f"Q.{_ROMAN[(period.start.month - 1) // 3]}/{year}"
    if period.type == "half_year":
        return f"6T {'đầu' if period.start.month == 1 else 'cuối'} {year}"
    return str(year)


# --- values by unit of measure ---------------------------------------------------------


def fmt_value(
    value: Number | None, unit_of_measure: str, denominator: Number | None = None, decimals: int = 2
) -> str:
    """An indicator's value in its unit: rate, count (`20/42`), money, days, rank, milestone."""
    if value is None:
        return "—"
    if unit_of_measure == "percent":
        return fmt_percent(value, decimals)
    if unit_of_measure == "vnd":
        return fmt_vnd(value)
    if unit_of_measure == "days":
        return fmt_number(value, 1) + " ngày"
    if unit_of_measure == "rank":
        out = "thứ " + fmt_number(value, 0)
        return out + ("/" + fmt_number(denominator, 0) if denominator else "")
    if unit_of_measure == "milestone":
        return "Đã hoàn thành" if _decimal(value) >= 1 else "Chưa hoàn thành"
    out = fmt_number(value, decimals)
    return out + ("/" + fmt_number(denominator, 0) if denominator else "")


def fmt_target(target: Number, comparator: str, unit_of_measure: str) -> str:
    """`100%`, `≤ 10 ngày`, `thứ 30 trở lên`, `Hoàn thành`."""
    if unit_of_measure == "milestone":
        return "Hoàn thành"
    if unit_of_measure == "rank":
        return f"thứ {fmt_number(target, 0)} trở lên" if comparator == "<=" else fmt_number(target)
    text = fmt_value(target, unit_of_measure)
    return ("≤ " + text) if comparator == "<=" else text


def fmt_gap(gap: Number | None, unit_of_measure: str, comparator: str) -> str:
    """How far short, in the indicator's unit: `90 điểm %`, `3 ngày`, `5 bậc`, `12`."""
    if gap is None:
        return "—"
    if unit_of_measure == "percent":
        return fmt_number(gap) + " điểm" + NBSP + "%"
    if unit_of_measure == "milestone":
        return "chưa hoàn thành"
    if unit_of_measure == "rank":
        return fmt_number(gap, 0) + " bậc"
    if unit_of_measure == "days":
        return fmt_number(gap, 1) + " ngày"
    if unit_of_measure == "vnd":
        return fmt_vnd(gap)
    return fmt_number(gap)


def fmt_change(change: Number | None, unit_of_measure: str) -> str:
    """A revision's change in words and the indicator's unit: `tăng 5,84 điểm %`, `giảm 2`
    (words, not a sign: a leading + reads as a formula when the table is pasted into Excel)."""
    if change is None:
        return "—"
    amount = _decimal(change)
    if amount == 0:
        return "không đổi"
    if unit_of_measure == "milestone":
        return "chuyển sang đã hoàn thành" if amount > 0 else "chuyển sang chưa hoàn thành"
    word = "tăng " if amount > 0 else "giảm "
    return word + fmt_gap(abs(amount), unit_of_measure, ">=")


def gap_phrase(gap: Number | None, unit_of_measure: str, comparator: str) -> str:
    """The words before the gap, as the meeting reports put them: `còn thiếu 90 điểm %`."""
    if gap is None:
        return "chưa xác định được khoảng cách"
    if unit_of_measure == "milestone":
        return "chưa hoàn thành"
    if comparator == "<=":
        return "còn vượt " + fmt_gap(gap, unit_of_measure, comparator)
    return "còn thiếu " + fmt_gap(gap, unit_of_measure, comparator)


RISK_LABELS: dict[str, tuple[str, str]] = {
    "met": ("Đạt", "Met"),
    "on_track": ("Dự báo đạt đúng hạn", "On track"),
    "at_risk": ("Nguy cơ không hoàn thành", "At risk"),
    "missed": ("Không hoàn thành đúng hạn", "Missed"),
    "insufficient_data": ("Chưa đủ số liệu để dự báo", "Insufficient data"),
}

# Open SDG's progress categories (docs/marts-contract.md, target_gap.progress_status).
PROGRESS_LABELS: dict[str, tuple[str, str]] = {
    "target_achieved": ("Đã đạt chỉ tiêu", "Target achieved"),
    "substantial_progress": ("Tiến bộ rõ rệt", "Substantial progress"),
    "moderate_progress": ("Tiến bộ vừa phải", "Moderate progress"),
    "limited_progress": ("Tiến bộ hạn chế", "Limited progress"),
    "deterioration": ("Đi xuống", "Deterioration"),
    "insufficient_data": ("Chưa đủ số liệu", "Insufficient data"),
}

ISSUER_LABELS: dict[str, tuple[str, str]] = {
    "central": ("Chính phủ giao", "set by the Government"),
    "ministry": ("Bộ, ngành giao", "set by a ministry"),
    "province": ("UBND tỉnh giao", "set by the province"),
}


def risk_label(risk: str, lang: Literal["vi", "en"] = "vi") -> str:
    vi, en = RISK_LABELS.get(risk, (risk, risk))
    return vi if lang == "vi" else en


def progress_label(status: str, lang: Literal["vi", "en"] = "vi") -> str:
    vi, en = PROGRESS_LABELS.get(status, (status, status))
    return vi if lang == "vi" else en


def issuer_label(issuer: str, lang: Literal["vi", "en"] = "vi") -> str:
    vi, en = ISSUER_LABELS.get(issuer, (issuer, issuer))
    return vi if lang == "vi" else en


def lower_first(text: str) -> str:
    """`Tỷ lệ hồ sơ…` → `tỷ lệ hồ sơ…` inside a sentence (acronyms such as `DVC` stay)."""
    if not text:
        return text
    head = text.split(" ", 1)[0]
    if len(head) > 1 and head[1:].isupper():
        return text
    return text[0].lower() + text[1:]


# Centrally-run cities ("thành phố trực thuộc trung ương") among the GSO codes of 2024.
CENTRAL_CITIES = frozenset({"01", "31", "48", "79", "92"})


def province_title(code: str, name: str) -> str:
    """`tỉnh Quảng Nam`, `thành phố Đà Nẵng` (a name that says what it is stays as it is)."""
    if name.casefold().startswith(("thành phố", "tỉnh")):
        return name
    return ("thành phố " if code in CENTRAL_CITIES else "tỉnh ") + name


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(text: str) -> str:
    """Text that a spreadsheet would read as a formula (`=`, `+`, `-`, `@` first) gets a
    leading apostrophe, so copying the brief's tables into Excel can never run one."""
    return "'" + text if text.startswith(_FORMULA_START) else text
