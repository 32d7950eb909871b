"""Writing submission files into a test landing area, with a chosen `submitted_at`."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

VN = timezone(timedelta(hours=7))
HEADER = "province_code,unit_code,period,indicator_code,numerator,denominator,value,note"


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
