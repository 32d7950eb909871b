"""Inline SVG for the brief: a small trend chart per at-risk target and met-share bars.

No JavaScript and nothing fetched: each chart is an `<svg>` element written into the page.
The charts draw the numbers of the `Brief` (queries.py) and label them with the same
formatters as the text, so a figure in a chart is the figure in the table. Lines differ by
dash pattern as well as colour, so a black-and-white print stays readable.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

from chitieu.report.formatting import fmt_date, fmt_number, fmt_value, neutralize
from chitieu.report.queries import Trend

WIDTH, HEIGHT = 300, 172
LEFT, RIGHT, TOP, BOTTOM = 34, 52, 20, 22

INK = "#1f2937"
ACTUAL = "#1d4e89"
PROJECTION = "#b42318"
TARGET = "#287a3e"
GRID = "#d6d9de"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        ceiling = step * magnitude
        if ceiling >= value:
            return float(ceiling)
    return float(10 * magnitude)


def _text(x: float, y: float, content: str, anchor: str = "start", **attrs: str) -> str:
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'
    )


def _month_ticks(first: date, last: date, count: int = 4) -> list[date]:
    """First days of months between `first` and `last`, about `count` of them."""
    months = (last.year - first.year) * 12 + last.month - first.month
    step = max(1, -(-months // count))
    ticks = []
    year, month = first.year, first.month
    index = 0
    while (year, month) <= (last.year, last.month):
        if index % step == 0:
            ticks.append(date(year, month, 1))
        index += 1
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ticks


def _clip(
    a: tuple[float, float], b: tuple[float, float], low: float, high: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The segment a–b (x, value) cut to low ≤ value ≤ high (where it leaves the plot)."""

    def cut(p: tuple[float, float], q: tuple[float, float]) -> tuple[float, float]:
        (px, pv), (qx, qv) = p, q
        for bound in (low, high):
            if (pv - bound) * (qv - bound) < 0 and not low <= pv <= high:
                t = (bound - pv) / (qv - pv)
                return (px + t * (qx - px), bound)
        return p

    return cut(a, b), cut(b, a)


def trend_chart(trend: Trend) -> Markup:
    """The unit's values of the indicator, the target, and the projection to the deadline."""
    row = trend.target
    unit_of_measure = row.indicator.unit_of_measure
    points = trend.points
    values = [float(p.value) for p in points] + [float(row.target_value)]
    if row.projected_value is not None:
        values.append(float(row.projected_value))
    top = (
        100.0 if unit_of_measure == "percent" and max(values) <= 100 else _nice_ceiling(max(values))
    )
    bottom = 0.0 if min(values) >= 0 else -_nice_ceiling(-min(values))
    first = min([p.period.end for p in points] or [row.period.end])
    last = max(row.deadline, row.period.end)
    span = max((last - first).days, 1)
    x0, x1 = LEFT, WIDTH - RIGHT
    y0, y1 = HEIGHT - BOTTOM, TOP

    def x(day: date) -> float:
        return x0 + (x1 - x0) * ((day - first).days + span * 0.03) / (span * 1.03)

    def y(value: float | Decimal) -> float:
        v = min(max(float(value), bottom), top)
        return y0 - (y0 - y1) * (v - bottom) / (top - bottom or 1)

    parts: list[str] = []
    # Grid and y axis labels.
    for i in range(5):
        v = bottom + (top - bottom) * i / 4
        yy = y(v)
        parts.append(
            f'<line x1="{x0}" y1="{_num(yy)}" x2="{x1}" y2="{_num(yy)}" stroke="{GRID}" '
            f'stroke-width="0.6"/>'
        )
        label = fmt_number(v, 0) + ("%" if unit_of_measure == "percent" else "")
        parts.append(_text(x0 - 3, yy + 3, label, "end", class_="tick"))
    # x axis: month ticks.
    parts.append(
        f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="{INK}" stroke-width="0.8"/>'
    )
    for tick in _month_ticks(first, last):
        xx = x(tick)
        if xx < x0 or xx > x1:
            continue
        parts.append(
            f'<line x1="{_num(xx)}" y1="{y0}" x2="{_num(xx)}" y2="{y0 + 3}" stroke="{INK}" '
            f'stroke-width="0.8"/>'
        )
        parts.append(_text(xx, y0 + 13, f"{tick.month:02d}/{tick.year}", "middle", class_="tick"))
    # Deadline, labelled above the plot.
    xd = x(row.deadline)
    parts.append(
        f'<line x1="{_num(xd)}" y1="{y1 - 3}" x2="{_num(xd)}" y2="{y0}" stroke="{INK}" '
        f'stroke-width="0.8" stroke-dasharray="1.5 2"/>'
    )
    parts.append(_text(xd, y1 - 7, "Hạn " + fmt_date(row.deadline), "middle", class_="tick"))
    # Target.
    yt = y(row.target_value)
    parts.append(
        f'<line x1="{x0}" y1="{_num(yt)}" x2="{x1}" y2="{_num(yt)}" stroke="{TARGET}" '
        f'stroke-width="1.2" stroke-dasharray="6 3"/>'
    )
    target_y = yt - 3 if yt - 3 > y1 + 9 or yt > y0 - 12 else yt + 10
    parts.append(
        _text(
            x0 + 3,
            target_y,
            "Chỉ tiêu " + fmt_value(row.target_value, unit_of_measure),
            "start",
            class_="label",
            fill=TARGET,
        )
    )
    # The least-squares line to the deadline, ending at the projection.
    if trend.fit:
        (d_a, v_a), (d_b, v_b) = trend.fit
        (xa, va), (xb, vb) = _clip((x(d_a), float(v_a)), (x(d_b), float(v_b)), bottom, top)
        parts.append(
            f'<line x1="{_num(xa)}" y1="{_num(y(va))}" x2="{_num(xb)}" y2="{_num(y(vb))}" '
            f'stroke="{PROJECTION}" stroke-width="1.3" stroke-dasharray="3 2.5"/>'
        )
    # The values reported.
    if points:
        path = " ".join(f"{_num(x(p.period.end))},{_num(y(p.value))}" for p in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{ACTUAL}" stroke-width="1.8" '
            f'stroke-linejoin="round"/>'
        )
        for p in points:
            parts.append(
                f'<circle cx="{_num(x(p.period.end))}" cy="{_num(y(p.value))}" r="1.9" '
                f'fill="{ACTUAL}"/>'
            )
        lastp = points[-1]
        rising = float(lastp.value) >= float(points[0].value)
        ly = y(lastp.value) + (-6 if rising else 12)
        if abs(ly - yt) < 8:
            ly = y(lastp.value) + (12 if rising else -6)
        parts.append(
            _text(
                x(lastp.period.end) - 3,
                ly,
                fmt_value(lastp.value, unit_of_measure),
                "end",
                class_="label",
                fill=ACTUAL,
            )
        )
    # The projection at the deadline, labelled in the right margin.
    if row.projected_value is not None:
        yp = y(row.projected_value)
        parts.append(
            f'<circle cx="{_num(xd)}" cy="{_num(yp)}" r="2.8" fill="#fff" '
            f'stroke="{PROJECTION}" stroke-width="1.3"/>'
        )
        ly = min(max(yp, y1 + 6), y0 - 12)
        parts.append(_text(xd + 6, ly - 1, "Dự báo", "start", class_="label", fill=PROJECTION))
        parts.append(
            _text(
                xd + 6,
                ly + 9,
                fmt_value(row.projected_value, unit_of_measure),
                "start",
                class_="label",
                fill=PROJECTION,
            )
        )
    description = (
        f"{row.unit.name_vi}: {row.indicator.name_vi}; "
        f"{len(points)} kỳ báo cáo, chỉ tiêu {fmt_value(row.target_value, unit_of_measure)}, "
        f"dự báo đến {fmt_date(row.deadline)}: {fmt_value(row.projected_value, unit_of_measure)}"
    )
    return Markup(
        f'<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(neutralize(description))}">' + "".join(parts) + "</svg>"
    )


def share_bar(share: Decimal | None, width: int = 110, height: int = 10) -> Markup:
    """A horizontal bar of a 0–100 share (met targets of a unit)."""
    if share is None:
        return Markup("")
    filled = width * min(max(float(share), 0.0), 100.0) / 100
    return Markup(
        f'<svg class="bar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(fmt_number(share))}%">'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#eef0f3" '
        f'stroke="#9aa1ab" stroke-width="0.6"/>'
        f'<rect x="0" y="0" width="{_num(filled)}" height="{height}" fill="{ACTUAL}"/>'
        "</svg>"
    )


def legend() -> Markup:
    """The legend shared by the trend charts."""
    items = [
        (f'stroke="{ACTUAL}" stroke-width="1.8"', "Số liệu báo cáo", "reported"),
        (
            f'stroke="{PROJECTION}" stroke-width="1.3" stroke-dasharray="3 2.5"',
            "Xu hướng (bình phương tối thiểu) đến hạn",
            "least-squares trend to the deadline",
        ),
        (f'stroke="{TARGET}" stroke-width="1.2" stroke-dasharray="6 3"', "Chỉ tiêu", "target"),
    ]
    cells = []
    for stroke, vi, en in items:
        cells.append(
            '<span class="legend-item"><svg viewBox="0 0 26 8" width="26" height="8">'
            f'<line x1="1" y1="4" x2="25" y2="4" {stroke}/></svg> '
            f'{escape(vi)} <span class="en">{escape(en)}</span></span>'
        )
    return Markup("".join(cells))
