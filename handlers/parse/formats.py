"""Matchers for the written forms of a time: clocks, dates and zones.

Clocks "14:02", "14:02:00", "2pm", "2:02 pm", "14h02", "14h", "14:02Z", "1402", "1402z", "14 02", "noon", "14 Uhr",
and "at 14" or "at 14.02" where a time is expected; dates "2026-11-21", "2026-11-21T14:02Z", "20 Nov",
"November 20th 2026", "on the 20th"; zones "UTC", "UTC+2", "Europe/Paris" anywhere, and abbreviations that are also
words ("EST", "CET", "PST") only next to a clock, "IST"/"CST"/"BST" left for `compose` to choose by the asker's
region. Each matcher looks at the lower-cased tokens from position `i` and returns how many tokens it read and what
they say, or None; a token written like one of these that is not a real one ("25:61", "2026-13-01",
"Europe/Pariss") raises `Unreadable`. `lexer` calls them in turn.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from datetime import date, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from handlers.parse.lexicon import (
    AMBIGUOUS_ZONES,
    COUNTED_NOUNS,
    DATE_HINT,
    HOUR_WORDS,
    MONTHS,
    OPENERS,
    REFERENCE_WORDS,
    REGIONS,
    SEPARATORS,
    TIME_HINT,
    TIME_PREPOSITIONS,
    ZONE_ABBREVIATIONS,
    ZONE_WORDS,
    BareHour,
    CalendarDate,
    Clock,
    DayOfMonth,
    Item,
    Lexeme,
    Unreadable,
    Zone,
    ZoneRef,
)

_MERIDIEM = r"(?P<mer>am|pm|a\.m\.?|p\.m\.?)"
_CLOCK_RE = re.compile(r"(?P<h>\d{1,2})(?::(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.\d{1,6})?)?)?" + _MERIDIEM + r"?(?P<z>z)?",
                       re.ASCII)
_H_CLOCK_RE = re.compile(r"(?P<h>\d{1,2})h(?P<m>\d{2})?(?:m|min)?", re.ASCII)  # 14h02 / 14h: 24-hour clock
_HHMM_RE = re.compile(r"(?P<h>\d{2})(?P<m>\d{2})(?P<z>z)?", re.ASCII)  # 1402, 0930, 1402z (military)
_DOTTED_RE = re.compile(r"(?P<h>\d{1,2})\.(?P<m>\d{2})", re.ASCII)  # 14.02 (where a time is expected)
_TWO_DIGITS_RE = re.compile(r"\d{2}", re.ASCII)
_HOUR_RE = re.compile(r"\d{1,2}", re.ASCII)
CLOCK_LIKE_RE = re.compile(r"\d{1,2}(?::\d{2})*(?:am|pm)?|\d{1,2}h\d{0,2}|\d{4}z?|noon|midnight", re.ASCII)
_YEARS = range(1970, 2101)
_AT_WORDS = {"at", "around", "about", "approx", "approximately", "~", "by", "circa"}
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
    """UTC, GMT, UTC+2, Europe/Paris anywhere; CET, EST… (and a lone "z") only next to a clock, where they cannot be
    the word they also are (French "est"); IST/CST/BST as a `ZoneRef` `compose` resolves by the asker's region."""
    token = low[i]
    if token in ZONE_ABBREVIATIONS or token in AMBIGUOUS_ZONES:
        if token not in ZONE_WORDS and not _next_to_a_clock(low, i, history):
            return None
        if token in AMBIGUOUS_ZONES:
            return 1, (ZoneRef("ambiguous", token),)
        return 1, (Zone(ZoneInfo(ZONE_ABBREVIATIONS[token])),)
    offset = _OFFSET_ZONE_RE.fullmatch(token)
    if offset:
        return 1, (Zone(_utc_offset_zone(offset, i)),)
    if "/" in token and token.split("/", 1)[0] in REGIONS:
        return 1, (Zone(_iana_zone(token, i)),)
    return None


def _next_to_a_clock(low: Sequence[str], i: int, history: list[Lexeme]) -> bool:
    """ "14:02 EST", "9am PST", "EST 14:02": the word right after a clock, or right before one."""
    if history and history[-1].last == i and (history[-1].is_clock or _has_iso_time(history[-1])):
        return True
    return i + 1 < len(low) and CLOCK_LIKE_RE.fullmatch(low[i + 1]) is not None


def _has_iso_time(lexeme: Lexeme) -> bool:
    return any(isinstance(item, Clock) for item in lexeme.items)


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
    region = token.split("/", 1)[0] + "/"  # "europe/pariss": Europe's ~60 zones, not all ~600
    close = difflib.get_close_matches(token, [z for z in zones if z.startswith(region)] or list(zones), n=1,
                                      cutoff=0.8)
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
    if k >= 0 and low[k] in ("of", "for"):  # "summary of the 20th", not "for the 3rd time"
        return i + 1 >= len(low) or low[i + 1] not in COUNTED_NOUNS
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
    """14:02, 14:02:00, 2pm, 2:02 pm, 14h02, 14h, 1402, 14 02, 14:02Z, noon, midnight, "14 Uhr"; "at 14" and
    "at 14.02" after a time preposition. A word like "Uhr" or "o'clock" after the clock is read with it."""
    following = low[i + 1] if i + 1 < len(low) else ""
    if _HOUR_RE.fullmatch(low[i]) and following in HOUR_WORDS:  # "14 Uhr", "9 h", "2 o'clock"
        hour = int(low[i])
        if hour > 23:
            raise Unreadable(i, i + 2, "can't read the time {raw}: " + TIME_HINT)
        twelve_hour = not HOUR_WORDS[following] and 1 <= hour <= 12
        return 2, (BareHour(hour) if twelve_hour else Clock(hour),)
    found = _clock_at(low, i, history)
    if found is None:
        return None
    consumed, items = found
    if i + consumed < len(low) and low[i + consumed] in HOUR_WORDS:  # "14:02 Uhr", "14.02 Uhr"
        consumed += 1
    return consumed, items


def _clock_at(low: Sequence[str], i: int, history: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    token = low[i]
    if token in ("noon", "midday"):
        return 1, (Clock(12),)
    if token == "midnight":
        return 1, (Clock(0),)
    for reader in (_h_clock, _military_clock, _spaced_clock, _dotted_clock):
        found = reader(low, i, history)
        if found is not None:
            return found
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


def _h_clock(low: Sequence[str], i: int, history: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """ "14h02", "14h": the 24-hour clock of French and German writing. A lone "2h" is a clock only where a time is
    expected ("à 2h", "13h-15h"); elsewhere it may be a duration ("down 2h") and is left to the caller."""
    match = _H_CLOCK_RE.fullmatch(low[i])
    if match is None:
        return None
    hour = int(match["h"])
    if match["m"] is None and hour <= 12 and hour != 0 and not _time_expected(low, i, history):
        return None
    return 1, (_checked_clock(hour, int(match["m"] or 0), 0, None, i),)


def _military_clock(low: Sequence[str], i: int, history: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """ "1402", "0930", "1402z": four digits are a clock, unless they could be a year ("2015") or count something
    ("1000 tunnels") and nothing says a time is meant."""
    match = _HHMM_RE.fullmatch(low[i])
    if match is None or _counts_something(low, i) or (i and low[i - 1] in REFERENCE_WORDS):
        return None  # "1000 tunnels", "ticket 4521"
    if int(low[i][:4]) in _YEARS and not match["z"] and (low[i - 1] if i else "") not in _AT_WORDS:
        return None  # "since 2026" is a year (refused as a leftover); "at 2015" is 20:15
    clock = _checked_clock(int(match["h"]), int(match["m"]), 0, None, i)
    return 1, (clock, *((Zone(ZoneInfo("UTC")),) if match["z"] else ()))


def _spaced_clock(low: Sequence[str], i: int, history: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """ "14 02": an hour then two-digit minutes, as typed without the colon."""
    if i + 1 >= len(low) or not _HOUR_RE.fullmatch(low[i]) or not _TWO_DIGITS_RE.fullmatch(low[i + 1]):
        return None
    if _counts_something(low, i + 1) or int(low[i]) > 23 or int(low[i + 1]) > 59:
        return None
    if len(low[i]) < 2 and not _time_expected(low, i, history):
        return None
    return 2, (Clock(int(low[i]), int(low[i + 1])),)


def _dotted_clock(low: Sequence[str], i: int, history: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """ "um 14.02 Uhr", "at 14.02": only where a time is expected ("14.02" alone may be a date or a number)."""
    match = _DOTTED_RE.fullmatch(low[i])
    if match is None:
        return None
    hour_word = i + 1 < len(low) and low[i + 1] in HOUR_WORDS
    if not hour_word and not _time_expected(low, i, history):
        return None
    return 1, (_checked_clock(int(match["h"]), int(match["m"]), 0, None, i),)


def _time_expected(low: Sequence[str], i: int, history: list[Lexeme]) -> bool:
    """After "at"/"since"/"between"…, in a range ("13h-15h"), or right after a day ("yesterday 9h")."""
    previous = low[i - 1] if i else ""
    following = low[i + 1] if i + 1 < len(low) else ""
    if previous in TIME_PREPOSITIONS or previous in OPENERS or previous in SEPARATORS or following in ("-", "to"):
        return True
    return bool(history) and history[-1].last == i and history[-1].is_time


def _counts_something(low: Sequence[str], i: int) -> bool:
    return i + 1 < len(low) and low[i + 1] in COUNTED_NOUNS - {"h"} - set(HOUR_WORDS)


def _meridiem(text: str | None) -> str | None:
    return None if text is None else text[0] + "m"


def _bare_hour(low: Sequence[str], i: int, history: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """A plain number is an hour only where a time is expected: after "at"/"since"…, or starting or ending a range
    ("2-3pm", "14-15h")."""
    before = i - 1
    while before > 0 and low[before] in _HEDGES:  # "at like 2", "at just 2"
        before -= 1
    previous = low[before] if before >= 0 else ""
    following = low[i + 1] if i + 1 < len(low) else ""
    if following in COUNTED_NOUNS:  # "about 3 times", "at 2 tunnels": a count, not an hour
        return None
    opens_range = following == "-" and i + 2 < len(low) and CLOCK_LIKE_RE.fullmatch(low[i + 2]) is not None
    if (previous not in TIME_PREPOSITIONS and previous not in OPENERS and not opens_range
            and not _ends_range(previous, i, history)):
        return None
    hour = int(low[i])
    if hour > 23:
        raise Unreadable(i, i + 1, "can't read the time {raw}: " + TIME_HINT)
    if hour == 0 or hour > 12:
        return 1, (Clock(hour),)
    return 1, (BareHour(hour),)


_HEDGES = {"like", "just", "maybe"}


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
