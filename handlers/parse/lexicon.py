"""What the time words of a question mean: the word tables and the small values a run of words reads as.

The tables (month and day names, periods of the day, units, number words, zone abbreviations, the words that open,
join or close a range) are what `lexer` and `formats` look words up in; the values (`Clock`, `CalendarDate`,
`Ago`, …, grouped per run of words in a `Lexeme`) are what they hand to `compose`, which turns them into a window.
Only the standard library is used; no user text is ever evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, tzinfo

TIME_HINT = 'try "at 14:02", "yesterday around 2pm" or "between 13:00 and 15:00 UTC"'
DATE_HINT = 'try "on 2026-11-20", "on 20 Nov" or "yesterday"'


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
    """A run of tokens the lexer read, and what they say (one value, or several: "last night" is a day and a
    period)."""

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


class Unreadable(Exception):
    """Raised by a matcher with the token span; `compose` turns it into a TimeWordsError quoting the user's text."""

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
UNREAD_TRIGGERS = {"at", "around", "since", "until", "till", "before", "after", "between"}
NOT_A_TIME_ATTEMPT = {
    "the", "a", "an", "all", "least", "most", "once", "first", "that", "this", "these", "those", "it",
    "its", "which", "what", "when", "my", "our", "your", "their", "his", "her", "some", "any", "each",
    "every", "about", "around", "approx", "approximately", "roughly", "exactly", "precisely", "then",
    "tunnel", "vpn", "gateway", "site", "link", "connection", "now", "earlier", "later",
}
COUNTED_NOUNS = set(UNITS) | {"times", "time", "x", "tunnel", "tunnels", "drops", "flaps", "outages"}
FILLERS = {"the", "at", "around", "about", "approx", "approximately", "roughly", "on", "~"}
REGIONS = {"africa", "america", "antarctica", "arctic", "asia", "atlantic", "australia", "brazil",
           "canada", "chile", "etc", "europe", "indian", "mexico", "pacific", "us"}
# Every word the time parser reads, for callers that must not mistake them for tunnel names.
VOCABULARY = frozenset(
    set(MONTHS) | set(WEEKDAYS) | set(PERIODS) | set(UNITS) | set(NUMBER_WORDS) | set(ZONE_ABBREVIATIONS)
    | set(DAY_WORDS) | MARKER_WORDS | TIME_PREPOSITIONS
    | {"ago", "in", "last", "past", "previous", "prior", "this", "tonight", "noon", "midnight", "am", "pm",
       "of", "on", "half", "time", "times", "earlier", "later", "now", "the", "week", "hour", "minute"}
)
