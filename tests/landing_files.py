"""Writing submission files into a test landing area, with a chosen `submitted_at`."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from chitieu.ingest.header import CONTRACT_COLUMNS

VN = timezone(timedelta(hours=7))
HEADER = ",".join(CONTRACT_COLUMNS)


def write_submission(
    landing: Path, rel: str, rows: list[str], submitted: datetime, header: str = HEADER
) -> Path:
    """Write a CSV submission whose modification time (its submitted_at) is `submitted`."""
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    stamp = submitted.timestamp()
    os.utime(path, (stamp, stamp))
    return path


def at(day: str) -> datetime:
    """A submission time: noon, Vietnam time, on an ISO date."""
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=VN)


INTAKE = "DVC_ONLINE_INTAKE_RATE"  # percent, higher is better; target >= 70 by 2024-12-31


def land_intake_reports(landing: Path) -> None:
    """Two files of province 40's police: Oct 600/1000 and Nov 650/1000, then a
    correction sent later that supersedes November with 680/1000."""
    write_submission(
        landing,
        "40/CA/CA_40_2024Q4.csv",
        [f"40,CA,2024-10,{INTAKE},600,1000,,", f"40,CA,2024-11,{INTAKE},650,1000,,"],
        at("2024-12-10"),
    )
    write_submission(
        landing,
        "40/CA/CA_40_2024-11_bosung.csv",
        [f"40,CA,Tháng 11/2024,{INTAKE},680,1000,,đính chính"],
        at("2024-12-15"),
    )
