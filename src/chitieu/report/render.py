"""The brief as one self-contained HTML file: styles inline, charts as inline SVG, no script,
nothing fetched. Jinja2 autoescapes every value, and text a spreadsheet would read as a
formula gets a leading apostrophe (`formatting.neutralize`). The template only formats what
`queries.load_brief` read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psycopg
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from chitieu.config import Settings, load_settings
from chitieu.ingest.parse import Period, parse_period
from chitieu.report import charts, formatting
from chitieu.report.queries import MARTS, Brief, ReportError, load_brief, provinces_reporting

Progress = Callable[[str], None]

# The brief `chitieu demo` renders: Quảng Nam, which the demo makes lag, at the end of the
# third quarter of 2024, when most targets (due 31/12/2024) are at risk.
DEMO_PROVINCE, DEMO_PERIOD = "49", "2024-Q3"


def _finalize(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, Markup):
        return formatting.neutralize(value)
    return value


def environment(package: str = "chitieu.report", formula_safe: bool = True) -> Environment:
    """The Jinja environment of the brief (and of the other pages, from `package`'s
    templates): autoescaped, strict, with the brief's filters; `formula_safe`: text a
    spreadsheet would read as a formula gets a leading apostrophe (tables a reader may copy
    into Excel)."""
    env = Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize if formula_safe else None,
    )
    env.filters.update(
        num=formatting.fmt_number,
        pct=formatting.fmt_percent,
        value=formatting.fmt_value,
        target=formatting.fmt_target,
        gap=formatting.fmt_gap,
        gap_phrase=formatting.gap_phrase,
        change=formatting.fmt_change,
        date=formatting.fmt_date,
        period_label=formatting.period_label,
        period_short=formatting.period_short,
        risk_label=formatting.risk_label,
        progress_label=formatting.progress_label,
        issuer_label=formatting.issuer_label,
        lower_first=formatting.lower_first,
        province_title=formatting.province_title,
        trend_chart=charts.trend_chart,
        share_bar=charts.share_bar,
    )
    env.globals["chart_legend"] = charts.legend
    return env


def render_html(brief: Brief) -> str:
    """The brief's HTML (a complete document)."""
    template = environment().get_template("brief.html.j2")
    title = formatting.province_title(brief.province_code, brief.province_vi)
    return template.render(b=brief, h=brief.headline, province_title=title)


def brief_filename(province: str, period: Period, as_of: date | None = None) -> str:
    suffix = f"_as_of_{as_of.isoformat()}" if as_of else ""
    return f"brief_{province}_{period.code}{suffix}.html"


def _snapshot(url: str) -> psycopg.Connection:
    """A read-only repeatable-read connection: every section of a brief reads the same
    build of the marts, even if a publish happens while the brief is being read."""
    conn = psycopg.connect(url)
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    return conn


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


@contextmanager
def _marts_schema(
    settings: Settings, url: str, as_of: date | None, progress: Progress | None
) -> Iterator[str]:
    """The schema a brief reads: the published marts, or the marts as of a past day."""
    if as_of is None:
        yield MARTS
        return
    from chitieu.as_of import marts_as_of

    with marts_as_of(settings, url, as_of, progress or (lambda _line: None)) as schema:
        yield schema


def _write_one(
    url: str,
    schema: str,
    province: str,
    period: Period,
    out_dir: Path | None,
    settings: Settings,
    as_of: date | None,
    revisions_since: date | None,
) -> Path:
    try:
        with _snapshot(url) as conn:
            brief = load_brief(
                conn,
                province,
                period,
                settings.due_days,
                marts=schema,
                as_of=as_of,
                revisions_since=revisions_since,
            )
    except (psycopg.errors.UndefinedColumn, psycopg.errors.UndefinedTable) as exc:
        # Marts published by an older version than this code: the next run rebuilds them.
        raise ReportError(
            f"the published marts predate this version of chitieu ({exc.diag.message_primary}):"
            " run `chitieu run` (or wait for the nightly run) to rebuild them"
        ) from exc
    path = (out_dir or settings.reports_dir) / brief_filename(province, period, as_of)
    _write_atomic(path, render_html(brief))
    return path


def write_brief(
    url: str,
    province: str,
    period: Period | str,
    out_dir: Path | None = None,
    *,
    pdf: bool = False,
    png: bool = False,
    settings: Settings | None = None,
    as_of: date | None = None,
    revisions_since: date | None = None,
    progress: Progress | None = None,
) -> Path:
    """Write `brief_<province>_<period>.html` into `out_dir` (default
    `$CHITIEU_HOME/reports`); with `pdf`/`png` also print it with headless Chromium, next to
    it. `as_of`: the brief as it would have been written at the end of that day, from the
    files submitted by then (`…_as_of_<day>.html`; chitieu.as_of). `revisions_since`: the
    last meeting's day (default: the day the previous period's reports were due). Returns
    the HTML file."""
    settings = settings or load_settings()
    period = period if isinstance(period, Period) else parse_period(period)
    with _marts_schema(settings, url, as_of, progress) as schema:
        path = _write_one(url, schema, province, period, out_dir, settings, as_of, revisions_since)
    if pdf or png:
        from chitieu.report import chromium

        if pdf:
            chromium.print_pdf(path)
        if png:
            chromium.screenshot(path)
    return path


def write_briefs_for_period(
    url: str,
    period: Period | str,
    out_dir: Path | None = None,
    *,
    pdf: bool = False,
    settings: Settings | None = None,
    progress: Progress | None = None,
    as_of: date | None = None,
    revisions_since: date | None = None,
) -> list[Path]:
    """A brief for every province that reported anything for a period belonging to
    `period` (see queries), as `write_brief` writes them (one as-of build for all);
    returns the HTML files in province order."""
    settings = settings or load_settings()
    period = period if isinstance(period, Period) else parse_period(period)
    if pdf:
        from chitieu.report import chromium
    paths = []
    with _marts_schema(settings, url, as_of, progress) as schema:
        with psycopg.connect(url) as conn:
            provinces = provinces_reporting(conn, period, schema)
        for province in provinces:
            path = _write_one(
                url, schema, province, period, out_dir, settings, as_of, revisions_since
            )
            if pdf:
                chromium.print_pdf(path)
            if progress:
                progress(f"brief written: {path}")
            paths.append(path)
    return paths


def write_demo_brief(
    url: str, settings: Settings | None = None, progress: Progress = print
) -> None:
    """The demo's brief as HTML and, when Chromium is installed, as a PNG; never raises
    (a machine without Chromium still finishes the demo, and is told how to get it)."""
    from chitieu.report import chromium

    try:
        html = write_brief(url, DEMO_PROVINCE, DEMO_PERIOD, settings=settings)
    except (ReportError, psycopg.Error) as exc:
        progress(f"progress brief not written: {exc}")
        return
    progress(f"progress brief (Quảng Nam, quý III/2024): {html}")
    html.with_suffix(".png").unlink(missing_ok=True)  # never leave an older image beside it
    try:
        progress(f"  as an image: {chromium.screenshot(html)}")
    except chromium.ChromiumMissing:
        progress(f"  no image: Chromium is not installed; {chromium.INSTALL_HINT}")
    except chromium.ChromiumFailed as exc:
        progress(f"  no image: {exc}")
