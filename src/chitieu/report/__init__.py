"""The progress brief: the Working Group's meeting report, generated from the marts.

`write_brief(url, province, period)` writes one self-contained HTML file (Vietnamese, with
English alongside) under `$CHITIEU_HOME/reports`; `write_briefs_for_period` writes one for
every province that reported in the period. `chromium.print_pdf` / `chromium.screenshot`
print a brief with headless Chromium. Which rows a brief shows: see `chitieu.report.queries`.
"""

from chitieu.report.queries import Brief, ReportError, load_brief
from chitieu.report.render import render_html, write_brief, write_briefs_for_period

__all__ = [
    "Brief",
    "ReportError",
    "load_brief",
    "render_html",
    "write_brief",
    "write_briefs_for_period",
]
