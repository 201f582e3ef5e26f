"""Matchers for the written forms of a time: clocks, dates and zones.

Clocks "14:02", "14:02:00", "2pm", "2:02 pm", "14h02", "14:02Z", "noon", and "at 14" where a time is expected;
dates "2026-11-21", "2026-11-21T14:02Z", "20 Nov", "November 20th 2026", "on the 20th"; zones "UTC", "CET",
"UTC+2", "Europe/Paris". Each matcher looks at the lower-cased tokens from position `i` and returns how many tokens
it read and what they say, or None; a token written like one of these that is not a real one ("25:61",
"2026-13-01", "Europe/Pariss") raises `Unreadable`. `lexer` calls them in turn.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from datetime import date, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from handlers.parse.lexicon import (
    COUNTED_NOUNS,
    DATE_HINT,
    MONTHS,
    OPENERS,
    REGIONS,
    SEPARATORS,
    TIME_HINT,
    TIME_PREPOSITIONS,
    ZONE_ABBREVIATIONS,
    BareHour,
    CalendarDate,
    Clock,
    DayOfMonth,
    Item,
    Lexeme,
    Unreadable,
    Zone,
)

_MERIDIEM = r"(?P<mer>am|pm|a\.m\.?|p\.m\.?)"
_CLOCK_RE = re.compile(r"(?P<h>\d{1,2})(?::(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.\d{1,6})?)?)?" + _MERIDIEM + r"?(?P<z>z)?",
                       re.ASCII)
_FRENCH_CLOCK_RE = re.compile(r"(?P<h>\d{1,2})h(?P<m>\d{2})", re.ASCII)
_ISO_RE = re.compile(
    r"(?P<y>\d{4})[-/](?P<mo>\d{1,2})[-/](?P<d>\d{1,2})"
    r"(?:t(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d{1,9})?)?(?P<off>z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)
_DATEISH_RE = re.compile(r"\d{4}[-/]\d{1,4}[-/]\d{1,4}\S*|\d{1,2}/\d{1,2}(?:/\d{2,4})?", re.ASCII)
_DAY_OF_MONTH_RE = re.compile(r"(?P<d>\d{1,2})(?P<ordinal>st|nd|rd|th)?", re.ASCII)
_YEAR_RE = re.compile(r"(19[7-9]\d|20\d\d|2100)", re.ASCII)
_OFFSET_ZONE_RE = re.compile(r"(?:utc|gmt)(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?", re.ASCII)


def match_iso(low: Sequence[str], i: int, _h: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """2026-11-21, 2026/11/21, 2026-11-21T14:02:00Z, 2026-11-21t14:02+01:00; refuses 11/20 (which order?)."""
    token = low[i]
    match = _ISO_RE.fullmatch(token)
    if match is None:
        if _DATEISH_RE.fullmatch(token):
            raise Unreadable(i, i + 1, "can't read the date {raw}: " + DATE_HINT)
        return None
    day = _checked_date(int(match["y"]), int(match["mo"]), int(match["d"]), i)
    items: list[Item] = [day]
    if match["h"] is not None:
        items.append(_checked_clock(int(match["h"]), int(match["mi"]), int(match["s"] or 0), None, i))
    if match["off"]:
        items.append(Zone(_offset_zone(match["off"], i)))
    return 1, tuple(items)


def _offset_zone(text: str, i: int) -> tzinfo:
    if text == "z":
        return ZoneInfo("UTC")
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 14 or minutes > 59:
        raise Unreadable(i, i + 1, "can't read the time zone offset in {raw}: " + TIME_HINT)
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def match_zone(low: Sequence[str], i: int, history: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """UTC, GMT, CET…, UTC+2, Europe/Paris; a lone "z" only right after a clock (otherwise it is a word)."""
    token = low[i]
    if token == "z" and not (history and history[-1].last == i and not history[-1].is_marker):
        return None
    if token in ZONE_ABBREVIATIONS:
        return 1, (Zone(ZoneInfo(ZONE_ABBREVIATIONS[token])),)
    offset = _OFFSET_ZONE_RE.fullmatch(token)
    if offset:
        return 1, (Zone(_utc_offset_zone(offset, i)),)
    if "/" in token and token.split("/", 1)[0] in REGIONS:
        return 1, (Zone(_iana_zone(token, i)),)
    return None


def _utc_offset_zone(match: re.Match[str], i: int) -> tzinfo:
    hours, minutes = int(match["h"]), int(match["m"] or 0)
    if hours > 14 or minutes > 59:
        raise Unreadable(i, i + 1, "can't read the time zone {raw}: try UTC, UTC+2 or Europe/Paris")
    sign = -1 if match["sign"] == "-" else 1
    if minutes == 0:
        return ZoneInfo(f"Etc/GMT{-sign * hours:+d}" if hours else "UTC")  # POSIX signs are inverted
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _iana_zone(token: str, i: int) -> ZoneInfo:
    zones = _zones_by_lower_name()
    if token in zones:
        return ZoneInfo(zones[token])
    close = difflib.get_close_matches(token, list(zones), n=1, cutoff=0.8)
    hint = f"did you mean {zones[close[0]]}?" if close else "try UTC or a name like Europe/Paris"
    raise Unreadable(i, i + 1, "unknown time zone {raw}: " + hint)


def match_month_date(low: Sequence[str], i: int, _h: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """ "20 Nov", "20th of November 2026", "Nov 20", "November 20th 2026"."""
    day_first = _DAY_OF_MONTH_RE.fullmatch(low[i])
    if day_first:
        j = i + 1 + (i + 1 < len(low) and low[i + 1] == "of")
        if j < len(low) and low[j] in MONTHS:
            return _with_year(low, i, j + 1, MONTHS[low[j]], int(day_first["d"]))
        if day_first["ordinal"] and _introduces_a_day(low, i):
            return _day_of_month(i, int(day_first["d"]))
        return None
    if low[i] in MONTHS and i + 1 < len(low):
        day_after = _DAY_OF_MONTH_RE.fullmatch(low[i + 1])
        if day_after:
            return _with_year(low, i, i + 2, MONTHS[low[i]], int(day_after["d"]))
    return None


def _introduces_a_day(low: Sequence[str], i: int) -> bool:
    """ "on the 20th", "since the 3rd": an ordinal is a date only after such a word ("the 3rd drop" is not)."""
    k = i - 1 - (i > 0 and low[i - 1] == "the")
    return k >= 0 and low[k] in {"on", "since", "after", "before", "until", "till", "from", "between"}


def _day_of_month(i: int, day: int) -> tuple[int, tuple[Item, ...]]:
    if not 1 <= day <= 31:
        raise Unreadable(i, i + 1, "can't read the date {raw}: " + DATE_HINT)
    return 1, (DayOfMonth(day),)


def _with_year(low: Sequence[str], i: int, j: int, month: int, day: int) -> tuple[int, tuple[Item, ...]]:
    year = int(low[j]) if j < len(low) and _YEAR_RE.fullmatch(low[j]) else None
    end = j + (year is not None)
    try:
        date(year or 2024, month, day)  # 2024 is a leap year: "29 Feb" without a year is a real date
    except ValueError:
        raise Unreadable(i, end, "can't read the date {raw}: " + DATE_HINT) from None
    return end - i, (CalendarDate(month, day, year),)

def match_clock(low: Sequence[str], i: int, history: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """14:02, 14:02:00, 2pm, 2:02 pm, 14h02, 14:02Z, noon, midnight; "at 14" after a time preposition."""
    token = low[i]
    if token in ("noon", "midday"):
        return 1, (Clock(12),)
    if token == "midnight":
        return 1, (Clock(0),)
    french = _FRENCH_CLOCK_RE.fullmatch(token)
    if french:
        return 1, (_checked_clock(int(french["h"]), int(french["m"]), 0, None, i),)
    match = _CLOCK_RE.fullmatch(token)
    if match is None:
        return None
    meridiem, consumed = _meridiem(match["mer"]), 1
    if meridiem is None and i + 1 < len(low) and low[i + 1].rstrip(".") in ("am", "pm", "a.m", "p.m"):
        meridiem, consumed = low[i + 1][0] + "m", 2
    if match["m"] is None and meridiem is None:
        return _bare_hour(low, i, history)
    clock = _checked_clock(int(match["h"]), int(match["m"] or 0), int(match["s"] or 0), meridiem, i, consumed)
    zone = (Zone(ZoneInfo("UTC")),) if match["z"] else ()
    return consumed, (clock, *zone)


def _meridiem(text: str | None) -> str | None:
    return None if text is None else text[0] + "m"


def _bare_hour(low: Sequence[str], i: int, history: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """A plain number is an hour only where a time is expected: after "at"/"since"…, or ending a range."""
    previous = low[i - 1] if i else ""
    following = low[i + 1] if i + 1 < len(low) else ""
    if following in COUNTED_NOUNS:  # "about 3 times", "at 2 tunnels": a count, not an hour
        return None
    if previous not in TIME_PREPOSITIONS and previous not in OPENERS and not _ends_range(previous, i, history):
        return None
    hour = int(low[i])
    if hour > 23:
        raise Unreadable(i, i + 1, "can't read the time {raw}: " + TIME_HINT)
    if hour == 0 or hour > 12:
        return 1, (Clock(hour),)
    return 1, (BareHour(hour),)


def _ends_range(previous: str, i: int, history: list[Lexeme]) -> bool:
    """True for the "4" of "between 2pm and 4": a range word that follows a clock."""
    if previous not in SEPARATORS or len(history) < 2:
        return False
    marker, before = history[-1], history[-2]
    return (marker.is_marker and marker.first == i - 1 and before.last == i - 1
            and any(isinstance(item, Clock | BareHour) for item in before.items))


def _checked_clock(hour: int, minute: int, second: int, meridiem: str | None, i: int, consumed: int = 1) -> Clock:
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise Unreadable(i, i + consumed, "can't read the time {raw}: " + TIME_HINT)
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise Unreadable(i, i + consumed, "can't read the time {raw}: " + TIME_HINT)
    return Clock(hour, minute, second, meridiem)


def _checked_date(year: int, month: int, day: int, i: int) -> CalendarDate:
    if not 1970 <= year <= 2100:
        raise Unreadable(i, i + 1, "can't read the date {raw}: " + DATE_HINT)
    try:
        date(year, month, day)
    except ValueError:
        raise Unreadable(i, i + 1, "can't read the date {raw}: " + DATE_HINT) from None
    return CalendarDate(month, day, year)
