"""Times and durations as people read them, and the calendar arithmetic the summaries share.

Times are shown in the asker's zone with UTC beside it (support cases speak UTC); local days are cut on the
calendar, so DST days are 23 or 25 h long.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

UTC_NAMES = ("UTC", "Etc/UTC", "GMT", "Etc/GMT", "Zulu")

#: Told one line at a time what a long piece of work is doing ("demo workspace: 412 rows").
Progress = Callable[[str], None]


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


def parse_iso(text: object) -> datetime | None:
    """An ISO 8601 time as stored or sent in a button (`Z` or an offset; naive means UTC); None for nothing."""
    if not text:
        return None
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def duration_text(seconds: float | None) -> str:
    """`12 s`, `4 min 05 s`, `2 h 03 min`; "not back yet" for an outage that has not ended."""
    if seconds is None:
        return "not back yet"
    seconds = round(seconds)
    if seconds < 90:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 90:
        return f"{minutes} min {sec:02d} s" if sec else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def short_instance(instance: str) -> str:
    """`GatewayTenantWorker_IN_1` -> `IN_1`: the part people compare."""
    return instance.rsplit("Worker_", 1)[-1] if instance else "?"


def local_midnights(day_start: datetime, zone: ZoneInfo, days_before: int) -> list[datetime]:
    """The UTC instants of local midnight from `days_before` days before `day_start`'s local date up to that date.
    Computed on the calendar, not by subtracting 24 h, so DST days are 23 or 25 h long."""
    local = day_start.astimezone(zone).date()
    return [datetime.combine(local - timedelta(days=n), datetime.min.time(), zone).astimezone(UTC)
            for n in range(days_before, -1, -1)]
