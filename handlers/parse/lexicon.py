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
class ZoneRef:
    """A zone that depends on who asks or about what, resolved by `compose`: "paris time" (`kind` "place", `word`
    the place or tunnel), "local time" ("local": the tunnel's zone), "my time" ("mine"), "14:02 IST" ("ambiguous",
    `word` the abbreviation)."""

    kind: str
    word: str = ""


@dataclass(frozen=True)
class Weekend:
    """ "the weekend" / "over the weekend": the latest Saturday 00:00 - Monday 00:00 that has begun; "last weekend"
    (`previous`) is the one before when today is itself a weekend day."""

    previous: bool = False


@dataclass(frozen=True)
class ThisWeek:
    """ "this week": from Monday 00:00 (local) to now."""


@dataclass(frozen=True)
class Duration:
    """ "down for 10 min": how long something lasted, not when; understood, and it leaves the window alone."""

    delta: timedelta


@dataclass(frozen=True)
class Marker:
    word: str  # between, from, and, to, since, until, before, …


Item = (Clock | BareHour | CalendarDate | DayOfMonth | DayOffset | Weekday | Weekend | ThisWeek | Period | Ago | Ahead
        | Lookback | Zone | ZoneRef | Duration | Marker)


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
        return all(isinstance(item, Zone | ZoneRef) for item in self.items)

    @property
    def is_time(self) -> bool:
        """True when it says something about *when* (a zone alone, a duration or a connector word does not)."""
        return not self.is_marker and not self.is_zone and not all(isinstance(i, Duration) for i in self.items)

    @property
    def is_clock(self) -> bool:
        return any(isinstance(item, Clock | BareHour) for item in self.items)


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
         ("friday", "fri"), ("saturday", "sat"), ("sunday", "sun")]
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
    **dict.fromkeys(("fortnight", "fortnights"), timedelta(weeks=2)),
}
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "few": 3, "several": 3, "couple": 2,
}
# Common abbreviations people type after a time. They name the place, not a fixed offset: "14:02 CET"
# in July is read with Paris' summer offset, which is what people who type CET year-round mean. Most are also words
# ("est" is French for "is"), so they count only next to a time ("14:02 EST", "9am PST"); those in ZONE_WORDS
# are no ordinary word in any language we read and count anywhere ("yesterday UTC").
ZONE_ABBREVIATIONS = {
    "utc": "UTC", "gmt": "UTC", "z": "UTC", "zulu": "UTC",
    "cet": "Europe/Paris", "cest": "Europe/Paris", "mez": "Europe/Berlin", "mesz": "Europe/Berlin",
    "eet": "Europe/Athens", "eest": "Europe/Athens",
    "est": "America/New_York", "edt": "America/New_York",
    "cdt": "America/Chicago",
    "mst": "America/Denver", "mdt": "America/Denver",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "jst": "Asia/Tokyo", "sgt": "Asia/Singapore", "aest": "Australia/Sydney", "aedt": "Australia/Sydney",
}
ZONE_WORDS = {"utc", "gmt"}
# Abbreviations that name several zones: read as the one of the asker's region (their zone is in its list, or in a
# region ending in "/"), else refused with the choices. The first zone of each choice is the one used.
AMBIGUOUS_ZONES = {
    "ist": {"India": ("Asia/Kolkata", "Asia/Calcutta", "Asia/Colombo"), "Israel": ("Asia/Jerusalem", "Asia/Tel_Aviv"),
            "Ireland": ("Europe/Dublin",)},
    "cst": {"US Central": ("America/Chicago", "America/"), "China": ("Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin",
            "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei", "PRC"), "Cuba": ("America/Havana", "Cuba")},
    "bst": {"British Summer": ("Europe/London", "Europe/"), "Bangladesh": ("Asia/Dhaka", "Asia/Dacca")},
}
# "3:02pm paris time", "14:02 new york time": cities (and a few countries) people name a clock by. A tunnel's own
# configured `timezone` wins over a city of the same name.
PLACE_ZONES = {
    "paris": "Europe/Paris", "lyon": "Europe/Paris", "nice": "Europe/Paris", "marseille": "Europe/Paris",
    "france": "Europe/Paris", "london": "Europe/London", "uk": "Europe/London", "dublin": "Europe/Dublin",
    "berlin": "Europe/Berlin", "munich": "Europe/Berlin", "hamburg": "Europe/Berlin", "frankfurt": "Europe/Berlin",
    "germany": "Europe/Berlin", "amsterdam": "Europe/Amsterdam", "brussels": "Europe/Brussels",
    "madrid": "Europe/Madrid", "spain": "Europe/Madrid", "milan": "Europe/Rome", "rome": "Europe/Rome",
    "zurich": "Europe/Zurich", "stockholm": "Europe/Stockholm", "warsaw": "Europe/Warsaw",
    "new york": "America/New_York", "nyc": "America/New_York", "ny": "America/New_York", "boston": "America/New_York",
    "chicago": "America/Chicago", "dallas": "America/Chicago", "denver": "America/Denver",
    "seattle": "America/Los_Angeles", "los angeles": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles", "sf": "America/Los_Angeles", "toronto": "America/Toronto",
    "sao paulo": "America/Sao_Paulo", "mexico city": "America/Mexico_City",
    "tokyo": "Asia/Tokyo", "osaka": "Asia/Tokyo", "japan": "Asia/Tokyo", "singapore": "Asia/Singapore",
    "hong kong": "Asia/Hong_Kong", "shanghai": "Asia/Shanghai", "beijing": "Asia/Shanghai",
    "mumbai": "Asia/Kolkata", "bangalore": "Asia/Kolkata", "bengaluru": "Asia/Kolkata", "india": "Asia/Kolkata",
    "dubai": "Asia/Dubai", "tel aviv": "Asia/Jerusalem", "sydney": "Australia/Sydney",
    "melbourne": "Australia/Melbourne",
}
LOCAL_ZONE_WORDS = {("local", "time"): "local", ("my", "time"): "mine", ("our", "time"): "mine",
                    ("my", "timezone"): "mine", ("local", "timezone"): "local"}
DAY_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1, "today's": 0, "todays": 0, "yesterday's": -1,
             "yesterdays": -1, "yday": -1, "yest": -1, "ystd": -1, "tdy": 0}
WEEKEND_WORDS = {"weekend", "week-end", "weekends"}
# Words after a number that make it an hour on the 24-hour clock ("14 Uhr", "9 h") or on the 12-hour one.
HOUR_WORDS = {"uhr": True, "h": True, "o'clock": False, "oclock": False}
# Words for a time of day we do not read: refused with an example rather than skipped.
VAGUE_TIME_WORDS = {"lunch", "lunchtime", "eod", "cob", "eow", "breakfast", "dinner", "teatime", "dawn", "dusk",
                    "sunrise", "sunset", "brunch", "standup"}
# Words that may follow a number without it being an hour: "3 times", "2 tunnels".
COUNT_NOUNS = {"time", "times", "x", "tunnel", "tunnels", "drop", "drops", "flap", "flaps", "outage", "outages",
               "disconnect", "disconnects", "vpn", "vpns", "site", "sites", "link", "links", "of", "more", "or",
               "users", "user", "people", "customers", "clients", "offices", "branches", "sessions", "connections",
               "packets", "pings", "calls", "tickets", "errors", "%", "percent"}
# Words a number after which is a reference, not a time: "ticket 4521", "INC 0012345", "vlan 1402".
REFERENCE_WORDS = {"ticket", "case", "incident", "inc", "id", "ref", "sr", "chg", "change", "issue", "bug", "pr",
                   "vlan", "port", "asn", "ticket#", "jira", "sev", "p1", "p2", "priority", "room", "ext"}
OPENERS = {"between", "from"}
SEPARATORS = {"and", "to", "till", "until", "-", "through", "thru"}
SINCE_WORDS = {"since"}
UNTIL_WORDS = {"until", "till"}
# "after 2pm" / "before 9am" look at the hour after / before that time (a day or a part of one: the day after /
# before it), not at everything since then.
AFTER_WORDS = {"after"}
BEFORE_WORDS = {"before"}
MARKER_WORDS = OPENERS | SEPARATORS | SINCE_WORDS | UNTIL_WORDS | AFTER_WORDS | BEFORE_WORDS
# After these a number is an hour ("at 14") and an unknown word is reported as an unreadable time.
TIME_PREPOSITIONS = {"at", "around", "about", "since", "until", "till", "before", "after", "between", "by",
                     "approx", "approximately", "roughly", "circa", "near", "~"}
UNREAD_TRIGGERS = {"at", "around", "since", "until", "till", "before", "after", "between"}
NOT_A_TIME_ATTEMPT = {
    "the", "a", "an", "all", "least", "most", "once", "first", "that", "this", "these", "those", "it",
    "its", "which", "what", "when", "my", "our", "your", "their", "his", "her", "some", "any", "each",
    "every", "about", "around", "approx", "approximately", "roughly", "exactly", "precisely", "then",
    "tunnel", "vpn", "gateway", "site", "link", "connection", "now", "earlier", "later", "like", "approx.", "just",
}
COUNTED_NOUNS = set(UNITS) | COUNT_NOUNS
FILLERS = {"the", "at", "around", "about", "approx", "approximately", "roughly", "on", "~", "like", "just"}
REGIONS = {"africa", "america", "antarctica", "arctic", "asia", "atlantic", "australia", "brazil",
           "canada", "chile", "etc", "europe", "indian", "mexico", "pacific", "us"}
# Every word the time parser reads, for callers that must not mistake them for tunnel names.
VOCABULARY = frozenset(
    set(MONTHS) | set(WEEKDAYS) | set(PERIODS) | set(UNITS) | set(NUMBER_WORDS) | set(ZONE_ABBREVIATIONS)
    | set(AMBIGUOUS_ZONES) | set(DAY_WORDS) | MARKER_WORDS | TIME_PREPOSITIONS | WEEKEND_WORDS | set(HOUR_WORDS)
    | {"ago", "in", "last", "past", "previous", "prior", "this", "tonight", "noon", "midnight", "am", "pm",
       "of", "on", "half", "time", "times", "earlier", "later", "now", "the", "week", "hour", "minute", "local",
       "timezone", "over", "for", "day", "midday", "ish"}
)
