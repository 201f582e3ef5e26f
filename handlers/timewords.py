"""Reading the time words of a question: "at 14:02", "yesterday around 2pm", "between 13:00 and 15:00 UTC".

Engineers in an incident channel type times the way they speak, in their own zone, and rarely give a
date. This module turns those words into a UTC window the log queries can use. It is deliberately
strict where a guess would silently query the wrong hour ("25:61", "at 3" without am/pm, a time in the
future, a range that ends before it starts): each of those raises `TimeWordsError` with one line that
says what to type instead. Everything else is lenient: any case, any order, zone names anywhere.

Only the standard library is used (datetime, zoneinfo, re); no user text is ever evaluated.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

AROUND = timedelta(minutes=15)  # "at 14:02" looks at 13:47..14:17: log timestamps and memories are fuzzy
DEFAULT_LOOKBACK = timedelta(hours=24)  # no time given: the last day, long enough to hold most incidents
MAX_LOOKBACK = timedelta(days=400)  # past this no workspace still retains logs; also keeps arithmetic sane
OVERNIGHT_LIMIT = timedelta(hours=12)  # "between 23:00 and 01:00" wraps midnight; "15:00 and 13:00" is a typo
TIME_HINT = 'try "at 14:02", "yesterday around 2pm" or "between 13:00 and 15:00 UTC"'
DATE_HINT = 'try "on 2026-11-20", "on 20 Nov" or "yesterday"'


class TimeWordsError(ValueError):
    """A time the user wrote that cannot be read; str() is one line saying what to type instead."""


@dataclass(frozen=True)
class TimeReading:
    """What the time words of a question mean, in UTC, plus which tokens were time words."""

    start: datetime
    end: datetime
    anchor: datetime | None  # the instant asked about; None for a range, a day or the default window
    explicit: bool  # False when the text held no time at all and the default window applies
    tz: ZoneInfo  # the zone the times were read in (a zone named in the text wins over the asker's)
    used: frozenset[int]  # indexes of the tokens that were read as time words
    unread: tuple[str, ...]  # words in a time position ("at lunch") that are not times; the caller decides


# ---------------------------------------------------------------------------------------------- items
# The lexer turns tokens into these small values; the composer then combines them into a window.


@dataclass(frozen=True)
class Clock:
    hour: int  # 0..23
    minute: int = 0
    second: int = 0
    meridiem: str | None = None  # "am"/"pm" when the user wrote one (helps read "between 2 and 4pm")


@dataclass(frozen=True)
class BareHour:
    """ "at 3": a 12-hour number without am/pm, resolved only when context says which half of the day."""

    hour: int


@dataclass(frozen=True)
class CalendarDate:
    month: int
    day: int
    year: int | None = None  # None: the latest such date that is not in the future


@dataclass(frozen=True)
class DayOfMonth:
    """ "on the 20th": this month's 20th, or the latest earlier month's when that is still to come."""

    day: int


@dataclass(frozen=True)
class DayOffset:
    days: int  # 0 today, -1 yesterday, +1 tomorrow


@dataclass(frozen=True)
class Weekday:
    index: int  # Monday 0
    before_today: bool = False  # "last monday" never means today


@dataclass(frozen=True)
class Period:
    name: str
    start_hour: int
    end_hour: int  # may exceed 24: "night" ends the next morning


@dataclass(frozen=True)
class Ago:
    delta: timedelta


@dataclass(frozen=True)
class Ahead:
    delta: timedelta  # "in 2 hours": always in the future, kept only to say so


@dataclass(frozen=True)
class Lookback:
    delta: timedelta  # "last 30 minutes"


@dataclass(frozen=True)
class Zone:
    zone: tzinfo


@dataclass(frozen=True)
class Marker:
    word: str  # between, from, and, to, since, until, before, …


Item = (Clock | BareHour | CalendarDate | DayOfMonth | DayOffset | Weekday | Period | Ago | Ahead | Lookback | Zone
        | Marker)


@dataclass(frozen=True)
class Lexeme:
    first: int  # index of its first token
    last: int  # index after its last token
    items: tuple[Item, ...]

    @property
    def is_marker(self) -> bool:
        return len(self.items) == 1 and isinstance(self.items[0], Marker)

    @property
    def word(self) -> str:
        item = self.items[0]
        return item.word if isinstance(item, Marker) and len(self.items) == 1 else ""

    @property
    def is_zone(self) -> bool:
        return all(isinstance(item, Zone) for item in self.items)

    @property
    def is_time(self) -> bool:
        """True when it says something about *when* (a zone alone or a connector word does not)."""
        return not self.is_marker and not self.is_zone


class _Unreadable(Exception):
    """Raised inside the lexer with the token span; turned into a TimeWordsError quoting the user's text."""

    def __init__(self, first: int, last: int, template: str):
        super().__init__(template)
        self.first, self.last, self.template = first, last, template


# ------------------------------------------------------------------------------------------ vocabulary

MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")],
        start=1,
    )
    for name in names
}
WEEKDAYS = {
    name: index
    for index, names in enumerate(
        [("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"), ("thursday", "thu", "thurs"),
         ("friday", "fri"), ("saturday",), ("sunday",)]
    )
    for name in names
}
PERIODS = {
    "morning": Period("morning", 6, 12),
    "afternoon": Period("afternoon", 12, 18),
    "evening": Period("evening", 18, 24),
    "night": Period("night", 18, 30),
    "overnight": Period("night", 18, 30),
}
UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), timedelta(seconds=1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), timedelta(minutes=1)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("d", "day", "days"), timedelta(days=1)),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), timedelta(weeks=1)),
}
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "few": 3, "several": 3, "couple": 2,
}
# Common abbreviations people type after a time. They name the place, not a fixed offset: "14:02 CET"
# in July is read with Paris' summer offset, which is what people who type CET year-round mean.
ZONE_ABBREVIATIONS = {
    "utc": "UTC", "gmt": "UTC", "z": "UTC", "zulu": "UTC",
    "cet": "Europe/Paris", "cest": "Europe/Paris",
    "bst": "Europe/London", "eet": "Europe/Athens", "eest": "Europe/Athens",
    "est": "America/New_York", "edt": "America/New_York",
    "cst": "America/Chicago", "cdt": "America/Chicago",
    "mst": "America/Denver", "mdt": "America/Denver",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "jst": "Asia/Tokyo", "sgt": "Asia/Singapore", "aest": "Australia/Sydney", "aedt": "Australia/Sydney",
}
DAY_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1}
OPENERS = {"between", "from"}
SEPARATORS = {"and", "to", "till", "until", "-", "through", "thru"}
SINCE_WORDS = {"since", "after"}
UNTIL_WORDS = {"until", "till", "before"}
MARKER_WORDS = OPENERS | SEPARATORS | SINCE_WORDS | UNTIL_WORDS
# After these a number is an hour ("at 14") and an unknown word is reported as an unreadable time.
TIME_PREPOSITIONS = {"at", "around", "about", "since", "until", "till", "before", "after", "between", "by",
                     "approx", "approximately", "roughly", "circa", "near", "~"}
_UNREAD_TRIGGERS = {"at", "around", "since", "until", "till", "before", "after", "between"}
_NOT_A_TIME_ATTEMPT = {
    "the", "a", "an", "all", "least", "most", "once", "first", "that", "this", "these", "those", "it",
    "its", "which", "what", "when", "my", "our", "your", "their", "his", "her", "some", "any", "each",
    "every", "about", "around", "approx", "approximately", "roughly", "exactly", "precisely", "then",
    "tunnel", "vpn", "gateway", "site", "link", "connection", "now", "earlier", "later",
}
_COUNTED_NOUNS = set(UNITS) | {"times", "time", "x", "tunnel", "tunnels", "drops", "flaps", "outages"}
_FILLERS = {"the", "at", "around", "about", "approx", "approximately", "roughly", "on", "~"}
REGIONS = {"africa", "america", "antarctica", "arctic", "asia", "atlantic", "australia", "brazil",
           "canada", "chile", "etc", "europe", "indian", "mexico", "pacific", "us"}
# Words this module reads, for callers that must not mistake them for tunnel names.
VOCABULARY = frozenset(
    set(MONTHS) | set(WEEKDAYS) | set(PERIODS) | set(UNITS) | set(NUMBER_WORDS) | set(ZONE_ABBREVIATIONS)
    | set(DAY_WORDS) | MARKER_WORDS | TIME_PREPOSITIONS
    | {"ago", "in", "last", "past", "previous", "prior", "this", "tonight", "noon", "midnight", "am", "pm",
       "of", "on", "half", "time", "times", "earlier", "later", "now", "the", "week", "hour", "minute"}
)

_MERIDIEM = r"(?P<mer>am|pm|a\.m\.?|p\.m\.?)"
_CLOCK_RE = re.compile(r"(?P<h>\d{1,2})(?::(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.\d{1,6})?)?)?" + _MERIDIEM + r"?(?P<z>z)?",
                       re.ASCII)
_FRENCH_CLOCK_RE = re.compile(r"(?P<h>\d{1,2})h(?P<m>\d{2})", re.ASCII)
_CLOCKISH_RE = re.compile(r"\d{1,4}(?::\d{0,4}){1,2}(?:\.\d*)?(?:am|pm|a\.m\.?|p\.m\.?)?z?|\d{1,4}h\d{1,4}"
                          r"|\d{1,4}(?:am|pm|a\.m\.?|p\.m\.?)", re.ASCII)
_ISO_RE = re.compile(
    r"(?P<y>\d{4})[-/](?P<mo>\d{1,2})[-/](?P<d>\d{1,2})"
    r"(?:t(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d{1,9})?)?(?P<off>z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)
_DATEISH_RE = re.compile(r"\d{4}[-/]\d{1,4}[-/]\d{1,4}\S*|\d{1,2}/\d{1,2}(?:/\d{2,4})?", re.ASCII)
_DAY_OF_MONTH_RE = re.compile(r"(?P<d>\d{1,2})(?P<ordinal>st|nd|rd|th)?", re.ASCII)
_YEAR_RE = re.compile(r"(19[7-9]\d|20\d\d|2100)", re.ASCII)
_NUMBER_RE = re.compile(r"\d{1,6}(?:\.\d{1,3})?", re.ASCII)
_GLUED_AMOUNT_RE = re.compile(r"(?P<n>\d{1,6}(?:\.\d{1,3})?)(?P<unit>[a-z]+)", re.ASCII)
_OFFSET_ZONE_RE = re.compile(r"(?:utc|gmt)(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?", re.ASCII)
_CLOCK_RANGE_RE = re.compile(
    r"(?P<a>\d{1,2}(?::\d{2})?(?:am|pm)?)[-–—](?P<b>\d{1,2}(?::\d{2})?(?:am|pm)?)", re.ASCII | re.IGNORECASE
)
_SPLIT_RE = re.compile(r"[\s,;]+")
_EDGE_PUNCTUATION = "\"'`()[]{}<>!?.:;*_~@#“”‘’«»…"
_DASHES = {"-", "–", "—", "--"}


# ----------------------------------------------------------------------------------------- tokenising


def tokenize(text: str) -> list[str]:
    """Split on blanks and commas, strip surrounding punctuation, keep dots/dashes/colons inside tokens.

    IPs ("203.0.113.10"), ids ("vpn-0123…"), clocks ("14:02") and zones ("Europe/Paris") stay whole;
    "13:00-15:00" becomes three tokens so the range reads like "13:00 - 15:00".
    """
    tokens: list[str] = []
    for piece in _SPLIT_RE.split(text):
        if piece in _DASHES:
            tokens.append("-")
            continue
        token = piece.strip(_EDGE_PUNCTUATION)
        if token:
            tokens.extend(_split_clock_range(token))
    return tokens


def _split_clock_range(token: str) -> list[str]:
    match = _CLOCK_RANGE_RE.fullmatch(token)
    if not match or not any(":" in p or p[-2:].lower() in ("am", "pm") for p in match.group("a", "b")):
        return [token]
    return [match.group("a"), "-", match.group("b")]


# ---------------------------------------------------------------------------------------------- lexer


def _lex(low: Sequence[str]) -> list[Lexeme]:
    """Read every time word, left to right; tokens no matcher wants are simply skipped."""
    lexemes: list[Lexeme] = []
    i = 0
    while i < len(low):
        found = _match_at(low, i, lexemes)
        if found is None:
            if _CLOCKISH_RE.fullmatch(low[i]):
                raise _Unreadable(i, i + 1, "can't read the time {raw}: " + TIME_HINT)
            i += 1
            continue
        consumed, items = found
        lexemes.append(Lexeme(i, i + consumed, items))
        i += consumed
    return lexemes


def _match_at(low: Sequence[str], i: int, history: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    for matcher in (_match_iso, _match_zone, _match_month_date, _match_relative, _match_day_word,
                    _match_lookback, _match_clock, _match_marker):
        found = matcher(low, i, history)
        if found is not None:
            return found
    return None


def _match_iso(low: Sequence[str], i: int, _h: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """2026-11-21, 2026/11/21, 2026-11-21T14:02:00Z, 2026-11-21t14:02+01:00; refuses 11/20 (which order?)."""
    token = low[i]
    match = _ISO_RE.fullmatch(token)
    if match is None:
        if _DATEISH_RE.fullmatch(token):
            raise _Unreadable(i, i + 1, "can't read the date {raw}: " + DATE_HINT)
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
        raise _Unreadable(i, i + 1, "can't read the time zone offset in {raw}: " + TIME_HINT)
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _match_zone(low: Sequence[str], i: int, history: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
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
        raise _Unreadable(i, i + 1, "can't read the time zone {raw}: try UTC, UTC+2 or Europe/Paris")
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
    raise _Unreadable(i, i + 1, "unknown time zone {raw}: " + hint)


def _match_month_date(low: Sequence[str], i: int, _h: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
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
        raise _Unreadable(i, i + 1, "can't read the date {raw}: " + DATE_HINT)
    return 1, (DayOfMonth(day),)


def _with_year(low: Sequence[str], i: int, j: int, month: int, day: int) -> tuple[int, tuple[Item, ...]]:
    year = int(low[j]) if j < len(low) and _YEAR_RE.fullmatch(low[j]) else None
    end = j + (year is not None)
    try:
        date(year or 2024, month, day)  # 2024 is a leap year: "29 Feb" without a year is a real date
    except ValueError:
        raise _Unreadable(i, end, "can't read the date {raw}: " + DATE_HINT) from None
    return end - i, (CalendarDate(month, day, year),)


def _match_relative(low: Sequence[str], i: int, _h: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """ "2 hours ago", "an hour ago", "2h ago", "3 days ago" (a whole day), "in 2 hours" (the future)."""
    if low[i] == "in":
        amount = _amount(low, i + 1)
        if amount and not (i + 1 + amount[1] < len(low) and low[i + 1 + amount[1]] == "ago"):
            return 1 + amount[1], (Ahead(amount[0]),)
        return None
    amount = _amount(low, i)
    if amount is None or i + amount[1] >= len(low) or low[i + amount[1]] != "ago":
        return None
    delta, consumed = amount
    _check_reach(delta, i, i + consumed + 1)
    if delta >= timedelta(days=1) and delta % timedelta(days=1) == timedelta(0):
        return consumed + 1, (DayOffset(-(delta // timedelta(days=1))),)
    return consumed + 1, (Ago(delta),)


def _match_lookback(low: Sequence[str], i: int, _h: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """ "last hour", "last 30 minutes", "past 2h", "previous 3 days", "last couple of hours"."""
    if low[i] not in ("last", "past", "previous", "prior") or i + 1 >= len(low):
        return None
    if low[i + 1] in UNITS and len(low[i + 1]) > 1:  # "last hour"; never "past m"
        delta, consumed = UNITS[low[i + 1]], 1
    else:
        amount = _amount(low, i + 1)
        if amount is None:
            return None
        delta, consumed = amount
    if delta <= timedelta(0):
        raise _Unreadable(i, i + 1 + consumed, "can't read the time {raw}: try \"last 30 minutes\" or \"last 2h\"")
    _check_reach(delta, i, i + 1 + consumed)
    return 1 + consumed, (Lookback(delta),)


def _amount(low: Sequence[str], i: int) -> tuple[timedelta, int] | None:
    """A quantity and a unit starting at token i: "2 hours", "2h", "an hour", "a couple of hours"."""
    if i >= len(low):
        return None
    glued = _GLUED_AMOUNT_RE.fullmatch(low[i])
    if glued and glued["unit"] in UNITS:
        return float(glued["n"]) * UNITS[glued["unit"]], 1
    quantity = _quantity(low, i)
    if quantity is None:
        return None
    value, consumed = quantity
    unit = low[i + consumed] if i + consumed < len(low) else ""
    if unit not in UNITS:
        return None
    return value * UNITS[unit], consumed + 1


def _quantity(low: Sequence[str], i: int) -> tuple[float, int] | None:
    if low[i] == "half" and i + 1 < len(low) and low[i + 1] in ("a", "an"):
        return 0.5, 2
    if low[i] in ("a", "an") and i + 1 < len(low) and low[i + 1] in ("few", "couple"):
        return float(NUMBER_WORDS[low[i + 1]]), 2 + (i + 2 < len(low) and low[i + 2] == "of")
    if low[i] in NUMBER_WORDS:
        return float(NUMBER_WORDS[low[i]]), 1 + (low[i] == "couple" and i + 1 < len(low) and low[i + 1] == "of")
    if _NUMBER_RE.fullmatch(low[i]):
        return float(low[i]), 1
    return None


def _check_reach(delta: timedelta, first: int, last: int) -> None:
    if delta > MAX_LOOKBACK:
        limit = f"ask about the last {MAX_LOOKBACK.days} days at most"
        raise _Unreadable(first, last, "{raw} reaches too far back: " + limit)


def _match_day_word(low: Sequence[str], i: int, _h: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """today, yesterday, tomorrow, monday, last monday, this morning, yesterday evening, last night, tonight."""
    token, following = low[i], (low[i + 1] if i + 1 < len(low) else "")
    if token in DAY_WORDS:
        return 1, (DayOffset(DAY_WORDS[token]),)
    if token in WEEKDAYS and len(token) > 3:  # "mon"/"wed" alone are too often other words
        return 1, (Weekday(WEEKDAYS[token]),)
    if token in ("last", "past", "previous") and following in WEEKDAYS:
        return 2, (Weekday(WEEKDAYS[following], before_today=True),)
    if token == "last" and following in ("night", "evening"):
        return 2, (DayOffset(-1), PERIODS[following])
    if token == "this" and following in PERIODS:
        return 2, (DayOffset(0), PERIODS[following])
    if token == "tonight":
        return 1, (DayOffset(0), PERIODS["night"])
    if token in PERIODS:
        return 1, (PERIODS[token],)
    return None


def _match_clock(low: Sequence[str], i: int, history: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
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
    if following in _COUNTED_NOUNS:  # "about 3 times", "at 2 tunnels": a count, not an hour
        return None
    if previous not in TIME_PREPOSITIONS and previous not in OPENERS and not _ends_range(previous, i, history):
        return None
    hour = int(low[i])
    if hour > 23:
        raise _Unreadable(i, i + 1, "can't read the time {raw}: " + TIME_HINT)
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
            raise _Unreadable(i, i + consumed, "can't read the time {raw}: " + TIME_HINT)
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise _Unreadable(i, i + consumed, "can't read the time {raw}: " + TIME_HINT)
    return Clock(hour, minute, second, meridiem)


def _checked_date(year: int, month: int, day: int, i: int) -> CalendarDate:
    if not 1970 <= year <= 2100:
        raise _Unreadable(i, i + 1, "can't read the date {raw}: " + DATE_HINT)
    try:
        date(year, month, day)
    except ValueError:
        raise _Unreadable(i, i + 1, "can't read the date {raw}: " + DATE_HINT) from None
    return CalendarDate(month, day, year)


def _match_marker(low: Sequence[str], i: int, _h: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    return (1, (Marker(low[i]),)) if low[i] in MARKER_WORDS else None


def _keep_connecting_markers(lexemes: list[Lexeme], low: Sequence[str]) -> list[Lexeme]:
    """Drop "to"/"and"/"from"… that do not sit next to a time ("what happened to paris" is not a range)."""
    kept: list[Lexeme] = []
    for k, lexeme in enumerate(lexemes):
        if not lexeme.is_marker:
            kept.append(lexeme)
            continue
        before = k > 0 and not lexemes[k - 1].is_marker and _only_fillers(low, lexemes[k - 1].last, lexeme.first)
        after = (k + 1 < len(lexemes) and not lexemes[k + 1].is_marker
                 and _only_fillers(low, lexeme.last, lexemes[k + 1].first))
        needs_before = lexeme.word in SEPARATORS and lexeme.word not in UNTIL_WORDS
        if after and (before or not needs_before):
            kept.append(lexeme)
    return kept


def _only_fillers(low: Sequence[str], first: int, last: int) -> bool:
    """True when tokens first..last-1 are words like "the"/"at" that may sit between a range word and a time."""
    return all(token in _FILLERS for token in low[first:last])


def _unread_words(low: Sequence[str], original: Sequence[str], used: frozenset[int]) -> tuple[str, ...]:
    """Words right after "at"/"since"… that are not times ("at lunch"): the caller decides if they matter."""
    unread = [
        original[i + 1]
        for i, token in enumerate(low[:-1])
        if token in _UNREAD_TRIGGERS and i + 1 not in used and low[i + 1] not in _NOT_A_TIME_ATTEMPT
    ]
    return tuple(unread)


# ------------------------------------------------------------------------------------------- composer


@dataclass(frozen=True)
class _Moment:
    """A resolved group of time words: an instant (start == first occurrence) or a span, in UTC."""

    start: datetime
    end: datetime  # for an instant: its second occurrence when the clock fell back, else == start
    instant: bool


@dataclass(frozen=True)
class _Context:
    now: datetime  # UTC
    zone: tzinfo  # the zone for groups that do not name one
    original: Sequence[str]

    def raw(self, lexemes: Sequence[Lexeme]) -> str:
        if not lexemes:
            return '""'
        first = min(lx.first for lx in lexemes)
        last = max(lx.last for lx in lexemes)
        return '"' + " ".join(self.original[first:last]) + '"'

    def future(self, lexemes: Sequence[Lexeme], zone: tzinfo) -> TimeWordsError:
        local = self.now.astimezone(zone)
        return TimeWordsError(
            f"{self.raw(lexemes)} is in the future (it is now {local:%H:%M} on {local:%a %d %b %Y}"
            f" in {_zone_name(zone)}): ask about a past time"
        )


def _zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def read_time(tokens: Sequence[str], now: datetime, tz: ZoneInfo) -> TimeReading:
    """Read the time words among `tokens` (from `tokenize`) relative to `now`, in `tz` unless a zone is named.

    Raises TimeWordsError for times that cannot be read, lie in the future, or form a reversed range.
    """
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    low = [token.lower() for token in tokens]
    try:
        lexemes = _keep_connecting_markers(_lex(low), low)
    except _Unreadable as problem:
        raw = '"' + " ".join(tokens[problem.first:problem.last]) + '"'
        raise TimeWordsError(problem.template.format(raw=raw)) from None
    zones = [item.zone for lx in lexemes for item in lx.items if isinstance(item, Zone)]
    named = next((z for z in zones if isinstance(z, ZoneInfo)), tz)
    context = _Context(now=now, zone=zones[0] if zones else tz, original=tokens)
    used = frozenset(i for lx in lexemes for i in range(lx.first, lx.last))
    window = _window(lexemes, context)
    if window is None:
        return TimeReading(now - DEFAULT_LOOKBACK, now, None, False, named, used, _unread_words(low, tokens, used))
    start, end, anchor = window
    return TimeReading(start, end, anchor, True, named, used, _unread_words(low, tokens, used))


_Window = tuple[datetime, datetime, datetime | None]  # start, end, anchor (UTC)


def _window(lexemes: list[Lexeme], ctx: _Context) -> _Window | None:
    timed = [lx for lx in lexemes if lx.is_time]
    if not timed:
        return None
    lookbacks = [item for lx in timed for item in lx.items if isinstance(item, Lookback)]
    if lookbacks:
        if len(timed) > 1:
            raise _conflict(ctx, timed[0], timed[1])
        return ctx.now - lookbacks[0].delta, ctx.now, None
    markers = [(k, lx.word) for k, lx in enumerate(lexemes) if lx.is_marker]
    for k, word in markers:
        if word in OPENERS:
            return _opened_range(lexemes, k, word, ctx)
    for k, word in markers:
        if word in SEPARATORS - {"and"} and any(lx.is_time for lx in lexemes[:k]):
            return _range(lexemes[:k], lexemes[k + 1:], lexemes, ctx)
    for _k, word in markers:
        if word in SINCE_WORDS:
            return _since(lexemes, ctx)
        if word in UNTIL_WORDS:
            return _until(lexemes, word, ctx)
    return _point(lexemes, ctx)


def _opened_range(lexemes: list[Lexeme], k: int, word: str, ctx: _Context) -> _Window:
    """ "between A and B" / "from A to B"; words before the opener ("yesterday between…") join A."""
    separator = next((j for j in range(k + 2, len(lexemes)) if lexemes[j].word in SEPARATORS), None)
    if separator is None:
        if word == "from":  # "from 13:00" on its own means since then
            return _since(lexemes, ctx)
        raise TimeWordsError(f"{ctx.raw(lexemes[k:])} needs an end: try \"between 13:00 and 15:00\"")
    start = lexemes[:k] + lexemes[k + 1:separator]
    return _range(start, lexemes[separator + 1:], lexemes, ctx)


def _range(start_part: list[Lexeme], end_part: list[Lexeme], everything: list[Lexeme], ctx: _Context) -> _Window:
    start_part = [lx for lx in start_part if not lx.is_marker]
    end_part = [lx for lx in end_part if not lx.is_marker]
    if not any(lx.is_time for lx in end_part) or not any(lx.is_time for lx in start_part):
        raise TimeWordsError(f"{ctx.raw(everything)} needs a start and an end: try \"between 13:00 and 15:00\"")
    start_slots, end_slots = _slots(start_part, ctx), _slots(end_part, ctx)
    start = _resolve(start_part, ctx, day=start_slots.get("day") or end_slots.get("day"),
                     meridiem=_partner_meridiem(start_slots, end_slots, is_start=True))
    end_meridiem = _partner_meridiem(end_slots, start_slots, is_start=False)
    end = _range_end(end_part, end_slots, start, end_meridiem, ctx)
    if end.end <= start.start:
        raise TimeWordsError(
            f"the range {ctx.raw(everything)} ends before it starts: put the earlier time first,"
            ' e.g. "between 13:00 and 15:00"'
        )
    return start.start, min(end.end, ctx.now), None


def _range_end(part: list[Lexeme], slots: dict[str, Item], start: _Moment, meridiem: str | None,
               ctx: _Context) -> _Moment:
    """The end of a range; without its own day it is on the start's day, or the next if that wraps midnight."""
    if "day" in slots or not ({"clock", "period"} & set(slots)):
        return _resolve(part, ctx, meridiem=meridiem, future_ok=True)
    zone = _group_zone(slots, ctx)
    start_day = start.start.astimezone(zone).date()
    end = _resolve(part, ctx, day=_as_date_item(start_day), meridiem=meridiem, future_ok=True)
    if end.end <= start.start:
        wrapped = _resolve(part, ctx, day=_as_date_item(start_day + timedelta(days=1)), meridiem=meridiem,
                           future_ok=True)
        if wrapped.end - start.start <= OVERNIGHT_LIMIT:
            return wrapped
    return end


def _as_date_item(day: date) -> CalendarDate:
    return CalendarDate(day.month, day.day, day.year)


def _partner_meridiem(own: dict[str, Item], other: dict[str, Item], *, is_start: bool) -> str | None:
    """ "between 2 and 4pm" is 2pm; "between 11 and 1pm" is 11am: the half of day that keeps the order."""
    mine, theirs = own.get("clock"), other.get("clock")
    if not isinstance(mine, BareHour) or not isinstance(theirs, Clock) or theirs.meridiem is None:
        return None
    ordered = mine.hour % 12 <= theirs.hour % 12 if is_start else mine.hour % 12 >= theirs.hour % 12
    if ordered:
        return theirs.meridiem
    return "am" if theirs.meridiem == "pm" else "pm"


def _since(lexemes: list[Lexeme], ctx: _Context) -> _Window:
    part = [lx for lx in lexemes if not lx.is_marker]
    moment = _resolve(part, ctx)
    return moment.start, ctx.now, None


def _until(lexemes: list[Lexeme], word: str, ctx: _Context) -> _Window:
    """ "until 15:00" / "before 15:00": the default-length window that ends there."""
    part = [lx for lx in lexemes if not lx.is_marker]
    moment = _resolve(part, ctx, future_ok=True)
    end = moment.start if word == "before" or moment.instant else moment.end
    end = min(end, ctx.now)
    return end - DEFAULT_LOOKBACK, end, None


def _point(lexemes: list[Lexeme], ctx: _Context) -> _Window:
    part = [lx for lx in lexemes if not lx.is_marker]
    moment = _resolve(part, ctx)
    if moment.instant:
        return moment.start - AROUND, min(moment.end + AROUND, ctx.now), moment.start
    return moment.start, min(moment.end, ctx.now), None


_SLOT_OF = {
    CalendarDate: "day", DayOfMonth: "day", DayOffset: "day", Weekday: "day", Clock: "clock", BareHour: "clock",
    Period: "period", Ago: "ago", Ahead: "ahead", Zone: "zone", Lookback: "lookback",
}


def _slots(part: list[Lexeme], ctx: _Context) -> dict[str, Item]:
    """One value per kind (day, clock, period, …); two clocks in one point is a question we cannot answer."""
    slots: dict[str, Item] = {}
    owner: dict[str, Lexeme] = {}
    for lexeme in part:
        for item in lexeme.items:
            slot = _SLOT_OF.get(type(item))
            if slot is None:
                continue
            if slot in slots and slots[slot] != item:
                raise _conflict(ctx, owner[slot], lexeme)
            slots[slot], owner[slot] = item, lexeme
    if "ago" in slots and len(set(slots) - {"zone"}) > 1:
        others = [lx for lx in part if lx is not owner["ago"] and lx.is_time]
        raise _conflict(ctx, owner["ago"], others[0])
    return slots


def _conflict(ctx: _Context, first: Lexeme, second: Lexeme) -> TimeWordsError:
    return TimeWordsError(
        f"I read two different times, {ctx.raw([first])} and {ctx.raw([second])}: ask about one time,"
        ' or a range like "between 13:00 and 15:00"'
    )


def _group_zone(slots: dict[str, Item], ctx: _Context) -> tzinfo:
    zone = slots.get("zone")
    return zone.zone if isinstance(zone, Zone) else ctx.zone


def _resolve(part: list[Lexeme], ctx: _Context, *, day: Item | None = None, meridiem: str | None = None,
             future_ok: bool = False) -> _Moment:
    """Turn one group of time words into a moment: the latest matching one that is not in the future."""
    slots = _slots(part, ctx)
    zone = _group_zone(slots, ctx)
    if "ahead" in slots:
        raise ctx.future(part, zone)
    ago = slots.get("ago")
    if isinstance(ago, Ago):
        return _Moment(ctx.now - ago.delta, ctx.now - ago.delta, True)
    day_item = slots.get("day") or day
    period = slots.get("period")
    clock = _clock_of(slots.get("clock"), period, meridiem, part, ctx)
    if day_item is None and clock is None and period is None:
        raise TimeWordsError(f"can't read the time {ctx.raw(part)}: {TIME_HINT}")
    today = ctx.now.astimezone(zone).date()
    for candidate in _candidate_days(day_item, today):
        moment = _moment_on(candidate, clock, period if isinstance(period, Period) else None, zone)
        if future_ok or moment.start <= ctx.now:
            return moment
    raise ctx.future(part, zone)


def _clock_of(item: Item | None, period: Item | None, meridiem: str | None, part: list[Lexeme],
              ctx: _Context) -> Clock | None:
    if not isinstance(item, BareHour):
        return item if isinstance(item, Clock) else None
    if meridiem is None and isinstance(period, Period):
        meridiem = "am" if period.name == "morning" else "pm"
    if meridiem is None:
        h = item.hour
        raise TimeWordsError(
            f'is {ctx.raw(part)} {h}am or {h}pm? try "at {h}pm" or "at {h + 12 if h < 12 else 12}:00"'
        )
    return Clock(item.hour % 12 + (12 if meridiem == "pm" else 0), meridiem=meridiem)


def _candidate_days(day: Item | None, today: date) -> list[date]:
    """The dates a day reference may mean, newest first; the caller takes the first one not in the future."""
    if isinstance(day, DayOffset):
        return [today + timedelta(days=day.days)]
    if isinstance(day, Weekday):
        back = (today.weekday() - day.index) % 7 or (7 if day.before_today else 0)
        return [today - timedelta(days=back), today - timedelta(days=back + 7)]
    if isinstance(day, CalendarDate):
        if day.year is not None:
            return [date(day.year, day.month, day.day)]
        return [d for d in (_valid_date(today.year - k, day.month, day.day) for k in range(9)) if d]
    if isinstance(day, DayOfMonth):
        months = [(today.year * 12 + today.month - 1 - k) for k in range(4)]
        return [d for d in (_valid_date(m // 12, m % 12 + 1, day.day) for m in months) if d]
    return [today, today - timedelta(days=1)]


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _moment_on(day: date, clock: Clock | None, period: Period | None, zone: tzinfo) -> _Moment:
    if clock is not None:
        first = _local(day, clock.hour, clock.minute, clock.second, zone, fold=0)
        second = _local(day, clock.hour, clock.minute, clock.second, zone, fold=1)
        # fold=1 is later only when the wall clock fell back and this time happened twice; in the
        # spring-forward gap fold=0 reads the missing time with the old offset (02:30 -> 03:30 summer).
        return _Moment(first, max(first, second), True)
    if period is not None:
        return _Moment(_hours_into(day, period.start_hour, zone), _hours_into(day, period.end_hour, zone), False)
    return _Moment(_local(day, 0, 0, 0, zone), _local(day + timedelta(days=1), 0, 0, 0, zone), False)


def _hours_into(day: date, hours: int, zone: tzinfo) -> datetime:
    """Wall-clock `hours` o'clock counted from the start of `day` (past 24 for a night that ends next day)."""
    extra_days, hour = divmod(hours, 24)
    return _local(day + timedelta(days=extra_days), hour, 0, 0, zone)


def _local(day: date, hour: int, minute: int, second: int, zone: tzinfo, fold: int = 0) -> datetime:
    """A wall-clock time in `zone`, as UTC; zoneinfo applies the right offset on DST days."""
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone, fold=fold).astimezone(UTC)
