"""What a run leaves for the morning: the night report page and the notices to departments
(written, and e-mailed when SMTP is configured). `chitieu run` and the nightly DAG's last
task call `write_morning_after`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from chitieu.config import Settings
from chitieu.morning.notices import build_notices, send_notices, write_notices
from chitieu.morning.page import write_night_report
from chitieu.night import night_status

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class MorningAfter:
    page: Path
    notices: list[Path] = field(default_factory=list)
    mailed: list[str] = field(default_factory=list)
    needs_attention: bool = False

    def lines(self) -> list[str]:
        lines = [f"night report: {self.page}"]
        if self.notices:
            folders = sorted({str(path.parent) for path in self.notices})
            lines.append(f"notices to departments ({len(folders)} unit(s)): {folders[0]} …")
        if self.mailed:
            lines.append(f"notices e-mailed to: {', '.join(sorted(set(self.mailed)))}")
        return lines


def write_morning_after(
    settings: Settings, url: str, run_id: str, progress: Progress = log.info
) -> MorningAfter | None:
    """The night report and the notices of run `run_id`; None when they cannot be written
    (the run's failure was the database: `chitieu status` tells it once it is back)."""
    try:
        night = night_status(url, settings, run_id=run_id)
        if night is None:
            return None
        after = MorningAfter(write_night_report(night, settings.reports_dir))
        notices = build_notices(url, night)
        after.notices = write_notices(notices, settings.notices_dir, run_id)
        after.mailed = send_notices(notices, settings)
        after.needs_attention = night.needs_attention
    except (psycopg.Error, OSError) as exc:
        log.warning("could not write the night report of run %s: %s", run_id, exc)
        return None
    for line in after.lines():
        progress(line)
    return after
