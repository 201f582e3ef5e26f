"""Reading the time words of a question as a window: "at 14:02", "yesterday around 2pm", "between 13:00 and 15:00
UTC", "just after 2pm", "over the weekend", "3:02pm paris time".

Engineers in an incident channel type times the way they speak, in their own zone, and rarely give a date.
`read_time` turns those words (read by `lexer`) into a UTC window the log queries can use. It is deliberately strict
where a guess would silently query the wrong hour ("25:61", "at 3" without am/pm, a time in the future, a range
that ends before it starts): each of those raises `TimeWordsError` with one line that says what to type instead.
Everything else is lenient: any case, any order, zone names anywhere. Only the standard library is used
(datetime, zoneinfo, re); no user text is ever evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from handlers.parse.lexer import lex, unread_words
from handlers.parse.lexicon import (
    AFTER_WORDS,
    AMBIGUOUS_ZONES,
    BEFORE_WORDS,
    OPENERS,
    SEPARATORS,
    SINCE_WORDS,
    TIME_HINT,
    UNTIL_WORDS,
    Ago,
    Ahead,
    BareHour,
    CalendarDate,
    Clock,
    DayOffset,
    DayOfMonth,
    Item,
    Lexeme,
    Lookback,
    Period,
    ThisWeek,
    Unreadable,
    Weekday,
    Weekend,
    Zone,
    ZoneRef,
)

AROUND = timedelta(minutes=15)  # "at 14:02" looks at 13:47..14:17: log timestamps and memories are fuzzy
NEXT_TO = timedelta(hours=1)  # "just after 2pm" looks at 14:00..15:00, "before 9am" at 08:00..09:00
DEFAULT_LOOKBACK = timedelta(hours=24)  # no time given: the last day, long enough to hold most incidents
OVERNIGHT_LIMIT = timedelta(hours=12)  # "between 23:00 and 01:00" wraps midnight; "15:00 and 13:00" is a typo


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
    notes: tuple[str, ...] = ()  # what the answer should say about the reading ("dc2 has no timezone configured…")
    local: bool = False  # "local time" was read: the caller may read again with the tunnel's zone


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
    clock24: bool = False  # a bare "at 9" is 09:00 (the question's language writes the 24-hour clock)

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


def read_time(tokens: Sequence[str], now: datetime, tz: ZoneInfo, *, places: Mapping[str, str] | None = None,
              local: tzinfo | None = None, clock24: bool = False, region: bool = True) -> TimeReading:
    """Read the time words among `tokens` (from `tokenize`) relative to `now`, in `tz` unless a zone is named.

    `places` maps the words that may name a clock ("paris" in "3pm paris time") to an IANA zone, "" for a tunnel
    without one (read in `tz`, with a note); `local` is the zone "local time" means (the tunnel's), else `tz`;
    `clock24` reads a bare "at 9" as 09:00 (French, German and Japanese write the 24-hour clock); `region` False
    when `tz` is not known to be the asker's (then "IST", "CST", "BST" are refused with the choices).
    Raises TimeWordsError for times that cannot be read, lie in the future, or form a reversed range.
    """
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    low = [token.lower() for token in tokens]
    try:
        lexemes = lex(low, places or {})
    except Unreadable as problem:
        raw = '"' + " ".join(tokens[problem.first:problem.last]) + '"'
        raise TimeWordsError(problem.template.format(raw=raw)) from None
    refs = _ZoneRefs(tz, places or {}, local, tokens, region)
    lexemes = [refs.resolve(lexeme) for lexeme in lexemes]
    zones = [item.zone for lx in lexemes for item in lx.items if isinstance(item, Zone)]
    named = next((z for z in zones if isinstance(z, ZoneInfo)), tz)
    context = _Context(now=now, zone=zones[0] if zones else tz, original=tokens, clock24=clock24)
    used = frozenset(i for lx in lexemes for i in range(lx.first, lx.last))
    window = _window(lexemes, context)
    unread = unread_words(low, tokens, used)
    if window is None:
        return TimeReading(now - DEFAULT_LOOKBACK, now, None, False, named, used, unread, refs.notes, refs.local)
    start, end, anchor = window
    return TimeReading(start, end, anchor, True, named, used, unread, refs.notes, refs.local)


class _ZoneRefs:
    """Resolves the zones that depend on who asks or about what ("paris time", "local time", "my time", "IST")."""

    def __init__(self, tz: ZoneInfo, places: Mapping[str, str], local: tzinfo | None, tokens: Sequence[str],
                 region: bool = True):
        self.tz, self.places, self.local_zone, self.tokens, self.region = tz, places, local, tokens, region
        self.notes: tuple[str, ...] = ()
        self.local = False

    def resolve(self, lexeme: Lexeme) -> Lexeme:
        if not any(isinstance(item, ZoneRef) for item in lexeme.items):
            return lexeme
        raw = '"' + " ".join(self.tokens[lexeme.first:lexeme.last]) + '"'
        items = tuple(Zone(self._zone(item, raw)) if isinstance(item, ZoneRef) else item for item in lexeme.items)
        return replace(lexeme, items=items)

    def _zone(self, ref: ZoneRef, raw: str) -> tzinfo:
        if ref.kind == "ambiguous":
            return ambiguous_zone(ref.word, self.tz if self.region else None)
        if ref.kind == "local":
            self.local = True
            if self.local_zone is not None:
                return self.local_zone
            self._note(f"{raw} is read in your zone ({_zone_name(self.tz)}): no tunnel asked about has a timezone")
            return self.tz
        if ref.kind == "place" and self.places.get(ref.word):
            return ZoneInfo(self.places[ref.word])
        if ref.kind == "place":
            self._note(f"{ref.word} has no timezone configured: {raw} is read in your zone ({_zone_name(self.tz)})")
        return self.tz

    def _note(self, note: str) -> None:
        self.notes = (*self.notes, note)


def ambiguous_zone(word: str, asker: tzinfo | None) -> ZoneInfo:
    """ "IST", "CST", "BST": the zone of the asker's region (None: not known), else TimeWordsError listing the
    choices."""
    choices = AMBIGUOUS_ZONES[word]
    key = _zone_name(asker) if asker is not None else ""
    for matches in (lambda z: z == key, lambda z: z.endswith("/") and key.startswith(z)):
        found = [zones[0] for zones in choices.values() if any(matches(z) for z in zones)]
        if len(found) == 1:
            return ZoneInfo(found[0])
    listed = ", ".join(f"{name} ({zones[0]})" for name, zones in choices.items())
    first = next(iter(choices.values()))[0]
    raise TimeWordsError(f'"{word.upper()}" may mean {listed}: write the zone, e.g. "at 14:02 {first}"')


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
        if word in AFTER_WORDS | BEFORE_WORDS:
            return _next_to(lexemes, word in AFTER_WORDS, ctx)
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
    period = start_slots.get("period") or end_slots.get("period")  # "between 2 and 4 this afternoon": both ends
    start = _resolve(start_part, ctx, day=start_slots.get("day") or end_slots.get("day"),
                     meridiem=_partner_meridiem(start_slots, end_slots, is_start=True), period=period)
    end_meridiem = _partner_meridiem(end_slots, start_slots, is_start=False)
    end = _range_end(end_part, end_slots, start, end_meridiem, ctx, period)
    if end.end <= start.start:
        raise TimeWordsError(
            f"the range {ctx.raw(everything)} ends before it starts: put the earlier time first,"
            ' e.g. "between 13:00 and 15:00"'
        )
    return start.start, min(end.end, ctx.now), None


def _range_end(part: list[Lexeme], slots: dict[str, Item], start: _Moment, meridiem: str | None,
               ctx: _Context, period: Item | None) -> _Moment:
    """The end of a range; without its own day it is on the start's day, or the next if that wraps midnight."""
    if "day" in slots or not ({"clock", "period"} & set(slots)):
        return _resolve(part, ctx, meridiem=meridiem, future_ok=True, period=period)
    zone = _group_zone(slots, ctx)
    start_day = start.start.astimezone(zone).date()
    end = _resolve(part, ctx, day=_as_date_item(start_day), meridiem=meridiem, future_ok=True, period=period)
    if end.end <= start.start:
        wrapped = _resolve(part, ctx, day=_as_date_item(start_day + timedelta(days=1)), meridiem=meridiem,
                           future_ok=True, period=period)
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
    """ "until 15:00": the default-length window that ends there."""
    part = [lx for lx in lexemes if not lx.is_marker]
    moment = _resolve(part, ctx, future_ok=True)
    end = min(moment.start if moment.instant else moment.end, ctx.now)
    return end - DEFAULT_LOOKBACK, end, None


def _next_to(lexemes: list[Lexeme], after: bool, ctx: _Context) -> _Window:
    """ "just after 2pm": the hour after it; "before 9am": the hour before; after / before a day or a part of one:
    the day after / before it. Not "since 2pm" (until now), which people write when they mean it."""
    part = [lx for lx in lexemes if not lx.is_marker]
    moment = _resolve(part, ctx, future_ok=not after)
    span = NEXT_TO if moment.instant else DEFAULT_LOOKBACK
    if after:
        start = moment.start if moment.instant else moment.end
        if start >= ctx.now:
            raise ctx.future(part, _group_zone(_slots(part, ctx), ctx))
        return start, min(start + span, ctx.now), None
    end = min(moment.start, ctx.now)
    return end - span, end, None


def _point(lexemes: list[Lexeme], ctx: _Context) -> _Window:
    part = [lx for lx in lexemes if not lx.is_marker]
    moment = _resolve(part, ctx)
    if moment.instant:
        return moment.start - AROUND, min(moment.end + AROUND, ctx.now), moment.start
    return moment.start, min(moment.end, ctx.now), None


_SLOT_OF = {
    CalendarDate: "day", DayOfMonth: "day", DayOffset: "day", Weekday: "day", Weekend: "day", ThisWeek: "day",
    Clock: "clock", BareHour: "clock", Period: "period", Ago: "ago", Ahead: "ahead", Zone: "zone", Lookback: "lookback",
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
             future_ok: bool = False, period: Item | None = None) -> _Moment:
    """Turn one group of time words into a moment: the latest matching one that is not in the future. `day` and
    `period` apply when the group names none (the other end of a range named them)."""
    slots = _slots(part, ctx)
    zone = _group_zone(slots, ctx)
    if "ahead" in slots:
        raise ctx.future(part, zone)
    ago = slots.get("ago")
    if isinstance(ago, Ago):
        return _Moment(ctx.now - ago.delta, ctx.now - ago.delta, True)
    day_item = slots.get("day") or day
    period = slots.get("period") or period
    clock = _clock_of(slots.get("clock"), period, meridiem, part, ctx)
    if day_item is None and clock is None and period is None:
        raise TimeWordsError(f"can't read the time {ctx.raw(part)}: {TIME_HINT}")
    if isinstance(slots.get("clock"), Clock) and isinstance(period, Period) and not _within(clock, period):
        raise TimeWordsError(f"{ctx.raw(part)} holds two different times ({clock.hour:02d}:{clock.minute:02d} is not in"
                             f' the {period.name}): ask about one time, e.g. "at 14:02"')
    today = ctx.now.astimezone(zone).date()
    if isinstance(day_item, Weekend | ThisWeek):
        return _week_part(day_item, clock, period, today, zone, part, ctx)
    for candidate in _candidate_days(day_item, today):
        moment = _moment_on(candidate, clock, period if isinstance(period, Period) else None, zone)
        if future_ok or moment.start <= ctx.now:
            return moment
    raise ctx.future(part, zone)


def _within(clock: Clock | None, period: Period) -> bool:
    """ "14:02 in the morning" is not; an hour's slack either side ("evening at 17:30")."""
    if clock is None:
        return True
    return any(period.start_hour - 1 <= hour < period.end_hour + 1 for hour in (clock.hour, clock.hour + 24))


def _week_part(item: Weekend | ThisWeek, clock: Clock | None, period: Item | None, today: date, zone: tzinfo,
               part: list[Lexeme], ctx: _Context) -> _Moment:
    """The weekend (Saturday 00:00 to Monday 00:00) or this week (Monday 00:00 on): a span, never one time."""
    if clock is not None or period is not None:
        raise TimeWordsError(f'which day of {ctx.raw(part)}? try "saturday at 14:02" or "sunday evening"')
    if isinstance(item, ThisWeek):
        monday = today - timedelta(days=today.weekday())
        return _Moment(_local(monday, 0, 0, 0, zone), _local(monday + timedelta(days=7), 0, 0, 0, zone), False)
    saturday = today - timedelta(days=(today.weekday() - 5) % 7)
    if item.previous and today.weekday() >= 5:
        saturday -= timedelta(days=7)
    return _Moment(_local(saturday, 0, 0, 0, zone), _local(saturday + timedelta(days=2), 0, 0, 0, zone), False)


def _clock_of(item: Item | None, period: Item | None, meridiem: str | None, part: list[Lexeme],
              ctx: _Context) -> Clock | None:
    if not isinstance(item, BareHour):
        return item if isinstance(item, Clock) else None
    if meridiem is None and isinstance(period, Period):
        meridiem = "am" if period.name == "morning" else "pm"
    if meridiem is None and ctx.clock24:
        return Clock(item.hour)
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
    if clock is not None and period is not None and period.end_hour > 24 and clock.hour < period.start_hour - 1:
        day += timedelta(days=1)  # "last night at 2am": the night ends the next morning
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
