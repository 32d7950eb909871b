"""The night report: what a night did (`chitieu.night.Night`) as one self-contained HTML file
beside the briefs, `reports/night_<date>_<run id>.html`: no script and no stylesheet
fetched from anywhere, so it opens on a machine with no network."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment

from chitieu.night import Night
from chitieu.report.render import environment as report_environment
from chitieu.vn_time import VN_TZ


def environment() -> Environment:
    # The notices quote cells as the clerk typed them (`-5`): no apostrophe before them.
    env = report_environment("chitieu.morning", formula_safe=False)
    env.filters["local_time"] = local_time
    return env


def local_time(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(VN_TZ):%Y-%m-%d %H:%M:%S}"


def render_night(night: Night) -> str:
    return (
        environment()
        .get_template("night.html.j2")
        .render(
            n=night,
            started=local_time(night.started_at),
            finished=local_time(night.finished_at),
            published=local_time(night.published_at),
            units=night.by_reporter(),
            rejected_files=[f for f in night.files if f.outcome == "rejected"],
            rows_loaded=sum(f.rows for f in night.files if f.outcome == "accepted"),
        )
    )


def night_report_path(reports_dir: Path, night: Night) -> Path:
    return reports_dir / f"night_{night.date}_{night.run_id}.html"


def write_night_report(night: Night, reports_dir: Path) -> Path:
    path = night_report_path(reports_dir, night)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_night(night), encoding="utf-8")
    tmp.replace(path)
    return path
