"""Times as people read them: in the asker's zone, with UTC beside it (support cases speak UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

UTC_NAMES = ("UTC", "Etc/UTC", "GMT", "Etc/GMT", "Zulu")


def is_utc(tz: ZoneInfo) -> bool:
    return tz.key in UTC_NAMES


def local_and_utc(ts: float | datetime, tz: ZoneInfo, seconds: bool = True, date: bool = False) -> str:
    """`15:02:03 CET (14:02:03 UTC)`, or `14:02:03 UTC` when the asker's zone is UTC."""
    utc = ts.astimezone(UTC) if isinstance(ts, datetime) else datetime.fromtimestamp(ts, UTC)
    pattern = ("%Y-%m-%d " if date else "") + ("%H:%M:%S" if seconds else "%H:%M")
    if is_utc(tz):
        return f"{utc.strftime(pattern)} UTC"
    local = utc.astimezone(tz)
    utc_part = utc.strftime(pattern if local.date() != utc.date() or not date else pattern.replace("%Y-%m-%d ", ""))
    return f"{local.strftime(pattern)} {local.tzname()} ({utc_part} UTC)"


def local_range(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """`13:47–14:17 CET (12:47–13:17 UTC)`, with dates when the range is not within today."""
    same_day = start.astimezone(tz).date() == end.astimezone(tz).date()
    fmt = "%H:%M" if same_day else "%Y-%m-%d %H:%M"
    s_utc, e_utc = start.astimezone(UTC), end.astimezone(UTC)
    prefix = start.astimezone(tz).strftime("%Y-%m-%d ") if same_day else ""
    if is_utc(tz):
        return f"{prefix}{s_utc.strftime(fmt)}–{e_utc.strftime(fmt)} UTC"
    s, e = start.astimezone(tz), end.astimezone(tz)
    return f"{prefix}{s.strftime(fmt)}–{e.strftime(fmt)} {e.tzname()} ({s_utc.strftime(fmt)}–{e_utc.strftime(fmt)} UTC)"
