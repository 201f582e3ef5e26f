"""Turning the text of a question into tokens, and the tokens into time words (`Lexeme`s).

`tokenize` splits the text; `lex` reads every time word left to right, trying the matchers in a fixed order: the
written forms of `formats` (dates, zones, clocks) and the word matchers here ("2 hours ago", "last 30 minutes",
"yesterday", "last monday", "this morning", "over the weekend", "this week", "down for 10 min", "3pm paris time",
"local time", the words that open, join or close a range). Tokens no matcher wants are skipped: they are the rest of
the question (`leftovers` refuses those that still look like a time). A token that looks like a time but cannot be
read raises `Unreadable`; `compose` reads the lexemes as a window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from datetime import timedelta
from functools import partial

from handlers.parse.formats import CLOCK_LIKE_RE, match_clock, match_iso, match_month_date, match_zone
from handlers.parse.lexicon import (
    DAY_WORDS,
    FILLERS,
    LOCAL_ZONE_WORDS,
    MARKER_WORDS,
    NOT_A_TIME_ATTEMPT,
    NUMBER_WORDS,
    PERIODS,
    REGIONS,
    SEPARATORS,
    TIME_HINT,
    UNITS,
    UNREAD_TRIGGERS,
    UNTIL_WORDS,
    WEEKDAYS,
    WEEKEND_WORDS,
    Ago,
    Ahead,
    DayOffset,
    Duration,
    Item,
    Lexeme,
    Lookback,
    Marker,
    ThisWeek,
    Unreadable,
    Weekday,
    Weekend,
    ZoneRef,
)

MAX_LOOKBACK = timedelta(days=400)  # past this no workspace still retains logs; also keeps arithmetic sane

_CLOCKISH_RE = re.compile(r"\d{1,4}(?::\d{0,4}){1,2}(?:\.\d*)?(?:am|pm|a\.m\.?|p\.m\.?)?z?|\d{1,4}h\d{1,4}"
                          r"|\d{1,4}(?:am|pm|a\.m\.?|p\.m\.?)", re.ASCII)
_NUMBER_RE = re.compile(r"\d{1,6}(?:\.\d{1,3})?", re.ASCII)
_HOURS_MINUTES_RE = re.compile(r"(?P<h>\d{1,2})h(?P<m>[0-5]\d)(?:m|min)?", re.ASCII)
_GLUED_AMOUNT_RE = re.compile(r"(?P<n>\d{1,6}(?:\.\d{1,3})?)(?P<unit>[a-z]+)", re.ASCII)
_CLOCK_RANGE_RE = re.compile(
    r"(?P<a>\d{1,2}(?::\d{2}|h\d{0,2})?(?:am|pm)?)[-–—](?P<b>\d{1,2}(?::\d{2}|h\d{0,2})?(?:am|pm)?)",
    re.ASCII | re.IGNORECASE,
)
_HALF_DAYS = {"am": "morning", "pm": "afternoon"}
_SPLIT_RE = re.compile(r"[\s,;]+")
_EDGE_PUNCTUATION = "\"'`()[]{}<>!?.:;*_~@#“”‘’«»…¿¡"
_DASHES = {"-", "–", "—", "--"}
_LIST_SLASH_RE = re.compile(r"[^\W\d][\w.-]*(?:/[^\W\d][\w.-]*)+")  # "paris/lyon", not "11/20" nor "Europe/Paris"
_ISH_BASE_RE = re.compile(r"\d{1,2}(?::\d{2})?(?:am|pm)?|\d{1,2}h(?:\d{2})?|noon|midnight|midday", re.ASCII)


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
            tokens.extend(_split_list(token) if "/" in token else _split_clock_range(token))
    return tokens


def _split_clock_range(token: str) -> list[str]:
    match = _CLOCK_RANGE_RE.fullmatch(token)
    if not match or not any(":" in p or "h" in p.lower() or p[-2:].lower() in ("am", "pm")
                            for p in match.group("a", "b")):
        return [token]
    return [match.group("a"), "-", match.group("b")]


def _split_list(token: str) -> list[str]:
    """ "paris/lyon" names two tunnels; "Europe/Paris" (a zone) and "11/20" (a date) stay whole."""
    if not _LIST_SLASH_RE.fullmatch(token) or token.split("/", 1)[0].lower() in REGIONS:
        return [token]
    return [part for part in token.split("/") if part]


# ---------------------------------------------------------------------------------------------- lexer


_Matcher = Callable[[Sequence[str], int, list[Lexeme]], tuple[int, tuple[Item, ...]] | None]


def lex(low: Sequence[str], places: Collection[str] = ()) -> list[Lexeme]:
    """The time words of the lower-cased tokens, without the range words that join no time. `places` are the words
    that may name a clock ("paris" in "3pm paris time"). Raises Unreadable."""
    low = [_without_ish(token) for token in low]
    return _keep_connecting_markers(_lex(low, places), low)


def _without_ish(token: str) -> str:
    """ "2pmish", "14:00-ish", "noonish": the time, read as "around" it (an instant is read ±15 min anyway)."""
    if token.endswith("ish") and _ISH_BASE_RE.fullmatch(base := token[:-3].rstrip("-")):
        return base
    return token


def _lex(low: Sequence[str], places: Collection[str]) -> list[Lexeme]:
    """Read every time word, left to right; tokens no matcher wants are simply skipped."""
    matchers: tuple[_Matcher, ...] = (
        match_iso, match_zone, match_month_date, _match_relative, _match_day_word, _match_lookback,
        _match_duration, partial(_match_place_time, places=places), match_clock, _match_marker,
    )
    lexemes: list[Lexeme] = []
    i = 0
    while i < len(low):
        found = next((f for f in (matcher(low, i, lexemes) for matcher in matchers) if f is not None), None)
        if found is None:
            if _CLOCKISH_RE.fullmatch(low[i]):
                raise Unreadable(i, i + 1, "can't read the time {raw}: " + TIME_HINT)
            i += 1
            continue
        consumed, items = found
        lexemes.append(Lexeme(i, i + consumed, items))
        i += consumed
    return lexemes

def _match_relative(low: Sequence[str], i: int, _h: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """ "2 hours ago", "an hour ago", "2h ago", "1h30 ago", "2 hours back", "3 days ago" (a whole day), "in 2 hours"
    (the future); "ago 2 hours" is how "il y a 2 heures", "vor 2 Stunden" and "hace 2 horas" read word for word."""
    if low[i] == "in":
        amount = _amount(low, i + 1)
        if amount and not (i + 1 + amount[1] < len(low) and low[i + 1 + amount[1]] == "ago"):
            return 1 + amount[1], (Ahead(amount[0]),)
        return None
    if low[i] == "ago":
        amount = _amount(low, i + 1)
        return None if amount is None else _ago(amount[0], i, 1 + amount[1])
    amount = _amount(low, i)
    if amount is None or i + amount[1] >= len(low) or low[i + amount[1]] not in _AGO_WORDS:
        return None
    return _ago(amount[0], i, amount[1] + 1)


_AGO_WORDS = {"ago", "back"}


def _ago(delta: timedelta, i: int, consumed: int) -> tuple[int, tuple[Item, ...]]:
    _check_reach(delta, i, i + consumed)
    if delta >= timedelta(days=1) and delta % timedelta(days=1) == timedelta(0):
        return consumed, (DayOffset(-(delta // timedelta(days=1))),)
    return consumed, (Ago(delta),)


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
        raise Unreadable(i, i + 1 + consumed, "can't read the time {raw}: try \"last 30 minutes\" or \"last 2h\"")
    _check_reach(delta, i, i + 1 + consumed)
    return 1 + consumed, (Lookback(delta),)


def _amount(low: Sequence[str], i: int) -> tuple[timedelta, int] | None:
    """A quantity and a unit starting at token i: "2 hours", "2h", "an hour", "a couple of hours"."""
    if i >= len(low):
        return None
    glued = _GLUED_AMOUNT_RE.fullmatch(low[i])
    if glued and glued["unit"] in UNITS:
        return float(glued["n"]) * UNITS[glued["unit"]], 1
    hours_minutes = _HOURS_MINUTES_RE.fullmatch(low[i])  # "1h30 ago", "last 1h30"
    if hours_minutes:
        return timedelta(hours=int(hours_minutes["h"]), minutes=int(hours_minutes["m"])), 1
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
        raise Unreadable(first, last, "{raw} reaches too far back: " + limit)


_DAY_PREPOSITIONS = {"on", "since", "last", "past", "previous", "before", "after", "from", "until", "till"}


def _match_day_word(low: Sequence[str], i: int, _h: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """today, yesterday, the day before yesterday, tomorrow, monday, on sat, last monday, this morning, yesterday
    evening, last night, tonight, (over) the weekend, last weekend, this week."""
    token, following = low[i], (low[i + 1] if i + 1 < len(low) else "")
    if token in DAY_WORDS:
        return 1, (DayOffset(DAY_WORDS[token]),)
    if token == "day" and list(low[i + 1:i + 3]) == ["before", "yesterday"]:
        return 3, (DayOffset(-2),)
    week = _match_week(token, following)
    if week is not None:
        return week
    if token in WEEKDAYS and (len(token) > 3 or (i and low[i - 1] in _DAY_PREPOSITIONS)
                              or following in PERIODS or CLOCK_LIKE_RE.fullmatch(following)):
        return 1, (Weekday(WEEKDAYS[token]),)  # "mon"/"sat" alone are too often other words; "on sat", "sat 14:02"
    if token in ("last", "past", "previous") and following in WEEKDAYS:
        return 2, (Weekday(WEEKDAYS[following], before_today=True),)
    if token == "last" and following in ("night", "evening"):
        return 2, (DayOffset(-1), PERIODS[following])
    if token == "this" and following in PERIODS:
        return 2, (DayOffset(0), PERIODS[following])
    if token == "this" and following in _HALF_DAYS:  # "this am", "this pm"
        return 2, (DayOffset(0), PERIODS[_HALF_DAYS[following]])
    if token == "tonight":
        return 1, (DayOffset(0), PERIODS["night"])
    if token in PERIODS:
        return 1, (PERIODS[token],)
    return None


def _match_week(token: str, following: str) -> tuple[int, tuple[Item, ...]] | None:
    if token in ("last", "past", "previous") and following in WEEKEND_WORDS:
        return 2, (Weekend(previous=True),)
    if token == "this" and following in WEEKEND_WORDS:
        return 2, (Weekend(),)
    if token == "this" and following == "week":
        return 2, (ThisWeek(),)
    if token in WEEKEND_WORDS:
        return 1, (Weekend(),)
    return None


def _match_duration(low: Sequence[str], i: int, _h: list[Lexeme]) -> tuple[int, tuple[Item, ...]] | None:
    """ "down for 10 min", "flapping for 2h": how long, not when."""
    if low[i] != "for":
        return None
    amount = _amount(low, i + 1)
    return None if amount is None else (1 + amount[1], (Duration(amount[0]),))


def _match_place_time(low: Sequence[str], i: int, history: list[Lexeme], places: Collection[str]
                      ) -> tuple[int, tuple[Item, ...]] | None:
    """ "3:02pm paris time", "14:02 new york time", "9h time in paris" (French "heure de paris"), "local time",
    "my time": next to a clock only, where they cannot be anything else."""
    if not _next_to_clock(low, i, history):
        return None
    kind = LOCAL_ZONE_WORDS.get(tuple(low[i:i + 2]))
    if kind is not None:
        return 2, (ZoneRef(kind),)
    if low[i] == "local" and history and history[-1].last == i:  # "9am local": the clock is the one right before
        return 1, (ZoneRef("local"),)
    for size in (2, 1):
        place = " ".join(low[i:i + size])
        if place in places and i + size < len(low) and low[i + size] in ("time", "timezone"):
            return size + 1, (ZoneRef("place", place),)
        after = " ".join(low[i + 2:i + 2 + size])
        if low[i] == "time" and i + 1 < len(low) and low[i + 1] == "in" and after in places:
            return size + 2, (ZoneRef("place", after),)
    return None


def _next_to_clock(low: Sequence[str], i: int, history: list[Lexeme]) -> bool:
    """Right after a clock ("3pm paris time", "3pm in paris time"), or two words before one ("paris time 3pm")."""
    if history and history[-1].is_clock and (history[-1].last == i or (history[-1].last == i - 1
                                                                      and low[i - 1] == "in")):
        return True
    following = low[i + 2] if i + 2 < len(low) else ""
    return bool(following) and _CLOCKISH_RE.fullmatch(following) is not None


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
    return all(token in FILLERS for token in low[first:last])


def unread_words(low: Sequence[str], original: Sequence[str], used: frozenset[int]) -> tuple[str, ...]:
    """Words right after "at"/"since"… that are not times ("at lunch"): the caller decides if they matter."""
    unread = [
        original[i + 1]
        for i, token in enumerate(low[:-1])
        if token in UNREAD_TRIGGERS and i + 1 not in used and low[i + 1] not in NOT_A_TIME_ATTEMPT
    ]
    return tuple(unread)
