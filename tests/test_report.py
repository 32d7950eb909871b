"""The progress brief (issue 7): Vietnamese number formatting, escaping, and the brief of the
demo data opened in headless Chromium, its not-met table checked against marts.target_gap.

The rule a brief for period P follows (chitieu.report.queries): of the province's target_gap
rows whose period ends within P, the latest per (unit, indicator, target) — greatest
period_end, then the shorter period — and the not-met table lists exactly those whose status
is not_met, largest gap first. `_expected_not_met` below implements that rule on its own, in
Python, from every target_gap row of the province.
"""

from __future__ import annotations

import dataclasses
import struct
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg.rows import dict_row

from chitieu.ingest.parse import parse_period
from chitieu.report import formatting, queries
from chitieu.report.formatting import (
    fmt_date,
    fmt_gap,
    fmt_number,
    fmt_percent,
    fmt_value,
    fmt_vnd,
    gap_phrase,
    neutralize,
    parse_vn_number,
    period_label,
)
from chitieu.report.render import render_html, write_brief, write_briefs_for_period
from tests.conftest import Warehouse

# --- Vietnamese number formatting ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1068, 2, "1.068"),
        (Decimal("64.6667"), 2, "64,67"),
        (Decimal("53.80"), 2, "53,8"),
        (100, 2, "100"),
        (Decimal("0.42"), 2, "0,42"),
        (Decimal("1234567.891"), 2, "1.234.567,89"),
        (622839, 0, "622.839"),
        (Decimal("0.125"), 2, "0,13"),  # half up, not to even
        (2.675, 2, "2,68"),  # the float's decimal text, not its binary value
        (Decimal("-19.37"), 2, "\u221219,37"),
        (Decimal("-0.001"), 2, "0"),  # no negative zero
        (Decimal("999.999"), 2, "1.000"),
        (None, 2, "—"),
    ],
)
def test_fmt_number(value: object, decimals: int, expected: str) -> None:
    assert fmt_number(value, decimals) == expected  # type: ignore[arg-type]


def test_formats_as_the_meeting_reports_write_them() -> None:
    assert fmt_percent(Decimal("64.67")) == "64,67%"
    assert fmt_percent(Decimal("63.1600")) == "63,16%"
    assert fmt_percent(10) == "10%"
    assert fmt_vnd(33_200_000_000) == "33,2 tỷ đồng"
    assert fmt_vnd(850_000_000) == "850 triệu đồng"
    assert fmt_value(25, "count", 44) == "25/44"
    assert fmt_value(38, "rank", 63) == "thứ 38/63"
    assert fmt_value(23314, "count") == "23.314"
    assert fmt_value(4, "days") == "4 ngày"
    assert fmt_value(0, "milestone") == "Chưa hoàn thành"
    assert fmt_gap(90, "percent", ">=") == "90 điểm\u00a0%"
    assert gap_phrase(90, "percent", ">=").replace("\u00a0", " ") == "còn thiếu 90 điểm %"
    assert fmt_date(date(2024, 12, 31)) == "31/12/2024"
    assert period_label(parse_period("2024-Q3")) == "Quý III/2024"
    assert period_label(parse_period("2024-03")) == "Tháng 3/2024"
    assert period_label(parse_period("2024-H1")) == "6 tháng đầu năm 2024"
    assert period_label(parse_period("2024-10"), "en") == "October 2024"
    assert formatting.province_title("49", "Quảng Nam") == "tỉnh Quảng Nam"
    assert formatting.province_title("48", "Đà Nẵng") == "thành phố Đà Nẵng"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64,67%", Decimal("64.67")),
        ("1.068", Decimal("1068")),
        ("1.234.567,89", Decimal("1234567.89")),
        ("90 điểm\u00a0%", Decimal("90")),
        ("\u221219,37", Decimal("-19.37")),
        ("thứ 38/63", Decimal("38")),
    ],
)
def test_parse_vn_number(text: str, expected: Decimal) -> None:
    assert parse_vn_number(text) == expected


@given(
    st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, places=4)
)
def test_formatted_numbers_read_back(number: Decimal) -> None:
    rounded = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = fmt_number(number)
    assert parse_vn_number(text) == rounded
    assert not text.startswith("-")
    whole = text.replace("\u2212", "").split(",")[0]
    assert all(len(group) == 3 for group in whole.split(".")[1:])


def test_formula_like_text_is_neutralized() -> None:
    assert neutralize("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert neutralize("+1") == "'+1"
    assert neutralize("@SUM(A1)") == "'@SUM(A1)"
    assert neutralize("-2") == "'-2"
    assert neutralize("Sở Y tế") == "Sở Y tế"


# --- rendering without a database ----------------------------------------------------------


def _tiny_brief(unit_name: str = "Sở Giao thông vận tải") -> queries.Brief:
    unit = queries.Unit("SGTVT", unit_name, "Department of Transport")
    indicator = queries.Indicator(
        "DRIVING_LICENSE_ONLINE_RATE",
        "Tỷ lệ cấp đổi cấp lại giấy phép lái xe trực tuyến",
        "Share of driving-licence renewals done online",
        "percent",
        "higher_better",
        ("SGTVT",),
        "monthly",
    )
    period = parse_period("2024-03")
    row = queries.TargetRow(
        unit=unit,
        indicator=indicator,
        period=period,
        value=Decimal("10"),
        numerator=120,
        denominator=1200,
        issuer="province",
        comparator=">=",
        target_value=Decimal("100"),
        deadline=date(2024, 12, 31),
        gap=Decimal("90"),
        attainment_pct=Decimal("10"),
        status="not_met",
        risk="at_risk",
        projected_value=Decimal("31.5"),
    )
    points = tuple(
        queries.TrendPoint(parse_period(f"2024-0{m}"), Decimal(v))
        for m, v in ((1, "4"), (2, "7"), (3, "10"))
    )
    trend = queries.Trend(
        row, points, ((date(2024, 1, 31), Decimal("4")), (date(2024, 12, 31), Decimal("31.5")))
    )
    return queries.Brief(
        province_code="49",
        province_vi="Quảng Nam",
        province_en="Quang Nam",
        period=period,
        data_as_of=date(2024, 4, 5),
        targets=(row,),
        not_met=(row,),
        unit_scores=(queries.UnitScore(1, unit, 1, 0, 1, Decimal(0), 1),),
        trends=(trend,),
        completeness=(queries.UnitCompleteness(unit, 1, 1, 1, (), ()),),
        province_ranks=(),
        provinces_compared=0,
        key_figures=(),
        overdue=(),
        shared_targets=(),
        headline=queries.Headline(1, 0, 1, {"at_risk": 1}, 1, 1, 1, 1, 1, 0),
    )


def test_brief_is_self_contained_and_phrased_like_the_reports() -> None:
    html = render_html(_tiny_brief())
    assert "<script" not in html
    assert "://" not in html  # no CDN, no font or image fetched
    assert "src=" not in html and "<link" not in html
    text = html.replace("\u00a0", " ")
    assert (
        "<b>Sở Giao thông vận tải</b>: tỷ lệ cấp đổi cấp lại giấy phép lái xe trực tuyến 10%, "
        "chỉ tiêu 100%, còn thiếu 90 điểm %" in text
    )
    assert '<svg class="trend"' in html


def test_markup_and_formulas_in_names_are_escaped() -> None:
    html = render_html(_tiny_brief('=HYPERLINK("x")<script>alert(1)</script>'))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "=HYPERLINK" in html
    # Every occurrence of the name starts with the apostrophe, never with the bare "=".
    assert html.count("&#39;=HYPERLINK") == html.count("=HYPERLINK")


# --- the demo brief in headless Chromium ---------------------------------------------------


@pytest.fixture(scope="module")
def chromium_binary() -> str:
    """Chromium, installed first (apt-get, as root) when missing: the project's setup."""
    from chitieu.report.chromium import ChromiumMissing, ensure_chromium

    try:
        return ensure_chromium(install=True)
    except ChromiumMissing as exc:
        pytest.skip(str(exc))


class _Table(HTMLParser):
    """The body rows of `<table id=...>`: each row's attributes, and per cell (under each of
    its classes) the cell's text and the texts of the spans of class `figure` in it."""

    def __init__(self, table_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.table_id = table_id
        self.in_table = self.in_body = False
        self.rows: list[dict] = []
        self.cell: dict | None = None
        self.figure_depth = 0
        self.span_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table" and a.get("id") == self.table_id:
            self.in_table = True
        elif self.in_table and tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append({"attrs": a, "cells": {}})
        elif self.in_body and tag == "td":
            self.cell = {"text": "", "figures": [], "spans": {}}
            cells = self.rows[-1]["cells"]
            for name in (a.get("class") or "").split() or [f"td{len(cells)}"]:
                cells[name] = self.cell
        elif self.cell is not None and tag == "span":
            self.span_depth += 1
            classes = (a.get("class") or "").split()
            if "figure" in classes:
                self.cell["figures"].append("")
                self.figure_depth = self.span_depth
            for c in classes:
                self.cell["spans"].setdefault(c, "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.in_table:
            self.in_table = self.in_body = False
        elif tag == "td":
            self.cell = None
        elif tag == "span" and self.cell is not None:
            if self.span_depth == self.figure_depth:
                self.figure_depth = 0
            self.span_depth -= 1

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell["text"] += data
            if self.figure_depth:
                self.cell["figures"][-1] += data


def _table(dom: str, table_id: str) -> list[dict]:
    parser = _Table(table_id)
    parser.feed(dom)
    return parser.rows


def _round(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _expected_not_met(wh: Warehouse, province: str, period: str) -> list[dict]:
    """The rule of the module docstring, applied in Python to all of the province's rows."""
    p = parse_period(period)
    with psycopg.connect(wh.url) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "select g.unit_code, g.indicator_code, g.period, g.period_end, f.period_start,"
            " g.value, g.target_issuer, g.comparator, g.target_value, g.target_deadline,"
            " g.gap, g.status, g.risk, g.projected_value"
            " from marts.target_gap as g join marts.fct_indicator_value as f"
            " on f.province_code = g.province_code and f.unit_code = g.unit_code"
            " and f.indicator_code = g.indicator_code and f.period = g.period"
            " where g.province_code = %s",
            (province,),
        )
        rows = cur.fetchall()
    latest: dict[tuple, dict] = {}
    for r in sorted(rows, key=lambda r: (r["period_end"], r["period_start"])):
        if p.start <= r["period_end"] <= p.end:
            key = (
                r["unit_code"],
                r["indicator_code"],
                r["target_issuer"],
                r["comparator"],
                r["target_value"],
                r["target_deadline"],
            )
            latest[key] = r  # sorted ascending: the last one is the latest
    return [r for r in latest.values() if r["status"] == "not_met"]


def _key(unit: str, indicator: str, issuer: str, deadline: str, comparator: str) -> tuple:
    return (unit, indicator, issuer, deadline, comparator)


BRIEFS = [("49", "2024-Q3"), ("40", "2024-12"), ("49", "2025-03"), ("51", "2024-10")]


@pytest.mark.slow
@pytest.mark.parametrize(("province", "period"), BRIEFS)
def test_not_met_table_lists_exactly_the_not_met_targets(
    demo_warehouse: Warehouse,
    chromium_binary: str,
    tmp_path: Path,
    province: str,
    period: str,
) -> None:
    from chitieu.report.chromium import dump_dom

    html = write_brief(demo_warehouse.url, province, period, tmp_path)
    assert html == tmp_path / f"brief_{province}_{period}.html"
    dom = dump_dom(html)
    expected = _expected_not_met(demo_warehouse, province, period)
    assert expected, "pick a province and period with targets not met"
    names = dict(demo_warehouse.query("select unit_code, name_vi from reference.units"))
    units_of_measure = dict(
        demo_warehouse.query(
            "select indicator_code, unit_of_measure from reference.indicator_catalog"
        )
    )

    shown = _table(dom, "not-met")
    assert len(shown) == len(expected)
    by_key = {
        _key(
            r["unit_code"],
            r["indicator_code"],
            r["target_issuer"],
            r["target_deadline"].isoformat(),
            r["comparator"],
        ): r
        for r in expected
    }
    seen = set()
    for row in shown:
        a = row["attrs"]
        key = _key(
            a["data-unit"], a["data-indicator"], a["data-issuer"], a["data-deadline"],
            a["data-comparator"],
        )  # fmt: skip
        assert key in by_key, f"row not in marts.target_gap by the rule: {key}"
        assert key not in seen
        seen.add(key)
        want = by_key[key]
        cells = row["cells"]
        assert a["data-period"] == want["period"]
        assert a["data-risk"] == want["risk"]
        assert cells["unit"]["text"].startswith(names[want["unit_code"]])
        unit_of_measure = units_of_measure[want["indicator_code"]]
        if unit_of_measure == "milestone":
            assert cells["value"]["figures"][0] == fmt_value(want["value"], unit_of_measure)
        else:
            assert parse_vn_number(cells["value"]["figures"][0]) == _round(want["value"])
            assert parse_vn_number(cells["target"]["figures"][0]) == want["target_value"]
            assert parse_vn_number(cells["gap"]["figures"][0]) == _round(want["gap"])
        assert cells["risk"]["text"].startswith(formatting.risk_label(want["risk"]))
        if want["projected_value"] is not None:
            assert parse_vn_number(cells["risk"]["figures"][0]) == _round(want["projected_value"])
        else:
            assert not cells["risk"]["figures"]
    # Largest gap first.
    gaps = [parse_vn_number(r["cells"]["gap"]["figures"][0]) for r in shown]
    assert gaps == sorted(gaps, reverse=True)
    # The headline counts the same rows, and every at-risk row has its chart.
    assert f'data-figure="targets-not-met">{len(expected)}<' in dom
    charts = {
        (a.split('data-unit="')[1].split('"')[0], a.split('data-indicator="')[1].split('"')[0])
        for a in dom.split('<figure class="chart"')[1:]
    }
    assert charts == {
        (r["unit_code"], r["indicator_code"]) for r in expected if r["risk"] == "at_risk"
    }


@pytest.mark.slow
def test_demo_brief_prints_to_png_and_pdf(
    demo_warehouse: Warehouse, chromium_binary: str, tmp_path: Path
) -> None:
    from chitieu.report.chromium import print_pdf, screenshot
    from chitieu.report.render import DEMO_PERIOD, DEMO_PROVINCE

    html = write_brief(demo_warehouse.url, DEMO_PROVINCE, DEMO_PERIOD, tmp_path)
    text = html.read_text(encoding="utf-8")
    assert "<script" not in text and "://" not in text
    png = screenshot(html)
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    assert width == 1000 and height > 3000  # the whole document, not one screenful
    pdf = print_pdf(html)
    assert pdf.read_bytes()[:5] == b"%PDF-"


@pytest.mark.slow
def test_briefs_for_every_province_that_reported(demo_warehouse: Warehouse, tmp_path: Path) -> None:
    paths = write_briefs_for_period(demo_warehouse.url, "2024-10", tmp_path)
    assert [p.name for p in paths] == [f"brief_{c}_2024-10.html" for c in ("40", "48", "49", "51")]
    # Default folder: $CHITIEU_HOME/reports.
    default = write_brief(demo_warehouse.url, "40", "Tháng 10/2024")
    assert default == demo_warehouse.settings.reports_dir / "brief_40_2024-10.html"


@pytest.mark.slow
def test_unit_ranking_agrees_with_unit_scorecard(demo_warehouse: Warehouse) -> None:
    """For a month whose rows are all monthly, the units' met shares are the mart's."""
    # The demo publishes every mart: a missing one is a regression, not a reason to skip.
    assert demo_warehouse.query("select to_regclass('marts.unit_scorecard') is not null")[0][0]
    with psycopg.connect(demo_warehouse.url) as conn:
        brief = queries.load_brief(conn, "49", "2024-10")
    assert {t.period.code for t in brief.targets} == {"2024-10"}
    mart = {
        unit: (share, rank)
        for unit, share, rank in demo_warehouse.query(
            "select unit_code, met_share, rank_in_province from marts.unit_scorecard"
            " where province_code = '49' and period = '2024-10'"
        )
    }
    for score in brief.unit_scores:
        share, rank = mart[score.unit.code]
        assert (score.met_share is None) == (share is None)
        if share is not None:
            assert round(score.met_share, 2) == round(share, 2)
        assert score.rank == rank


@pytest.mark.slow
def test_report_command(demo_warehouse: Warehouse, tmp_path: Path) -> None:
    from chitieu.cli import main

    assert (
        main(["report", "--province", "49", "--period", "Quý III/2024", "--out", str(tmp_path)])
        == 0
    )
    assert (tmp_path / "brief_49_2024-Q3.html").exists()
    assert main(["report", "--period", "2024-10", "--out", str(tmp_path)]) == 0
    assert len(list(tmp_path.glob("brief_*_2024-10.html"))) == 4
    assert main(["report", "--province", "49", "--period", "2023-01", "--out", str(tmp_path)]) == 1
    assert main(["report", "--province", "49", "--period", "2024-13"]) == 2


@pytest.mark.slow
def test_demo_hook_without_chromium_still_writes_the_brief(
    demo_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chitieu.report.render import write_demo_brief

    monkeypatch.setenv("CHITIEU_CHROMIUM", str(demo_warehouse.settings.home / "no-chromium"))
    said: list[str] = []
    write_demo_brief(demo_warehouse.url, demo_warehouse.settings, progress=said.append)
    html = demo_warehouse.settings.reports_dir / "brief_49_2024-Q3.html"
    assert html.exists() and not html.with_suffix(".png").exists()
    assert str(html) in said[0]
    assert "no image" in said[1] and "apt-get install" in said[1]


def test_revisions_render_as_a_section_with_words_for_the_change() -> None:
    """The brief's revisions section (only when there are revisions) and the as-of line."""
    brief = _tiny_brief()
    assert 'id="revisions"' not in render_html(brief)
    assert 'id="as-of"' not in render_html(brief)
    row = brief.targets[0]
    revision = queries.Revision(
        unit=row.unit,
        indicator=row.indicator,
        period=row.period,
        old_value=Decimal("8"),
        new_value=Decimal("10"),
        change=Decimal("2"),
        old_submitted=date(2024, 4, 3),
        new_submitted=date(2024, 4, 12),
    )
    html = render_html(
        dataclasses.replace(
            brief, revisions=(revision,), revisions_since=date(2024, 4, 5), as_of=date(2024, 4, 20)
        )
    )
    assert "Số liệu điều chỉnh kể từ kỳ họp trước" in html
    assert "Sau ngày 05/04/2024" in html
    assert "tăng 2 điểm\u00a0%" in html  # a word, not a "+" a spreadsheet reads as a formula
    assert "gửi 12/04/2024" in html
    assert "đến hết ngày 20/04/2024" in html


@pytest.mark.parametrize(
    ("change", "unit_of_measure", "expected"),
    [
        (Decimal("5.84"), "percent", "tăng 5,84 điểm\u00a0%"),
        (Decimal("-2"), "count", "giảm 2"),
        (Decimal("-1"), "rank", "giảm 1 bậc"),
        (Decimal("0"), "count", "không đổi"),
        (Decimal("1"), "milestone", "chuyển sang đã hoàn thành"),
        (Decimal("-1"), "milestone", "chuyển sang chưa hoàn thành"),
        (None, "count", "—"),
    ],
)
def test_fmt_change(change: Decimal | None, unit_of_measure: str, expected: str) -> None:
    assert formatting.fmt_change(change, unit_of_measure) == expected


def test_the_last_meeting_is_when_the_previous_periods_reports_were_due() -> None:
    assert queries.last_meeting_day(parse_period("2024-Q3"), 5) == date(2024, 7, 5)
    assert queries.last_meeting_day(parse_period("2024-03"), 5) == date(2024, 3, 5)
    assert queries.last_meeting_day(parse_period("2025"), 10) == date(2025, 1, 10)
