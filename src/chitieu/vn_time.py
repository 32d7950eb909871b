"""Vietnam's time: UTC+7, without daylight saving since 1975 (so a fixed offset). The
calendar day a file was submitted on, a report was due on or a meeting took place on is a
day here, whatever the server's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "+07")


def local_day(moment: datetime) -> date:
    """The day in Vietnam at `moment` (a naive moment is taken as UTC, as PostgreSQL gives
    timestamps without a zone)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VN_TZ).date()


def end_of_day(day: date) -> datetime:
    """The first instant after `day` in Vietnam: "by 11/10/2024" is before this."""
    return datetime.combine(day + timedelta(days=1), time.min, VN_TZ)
