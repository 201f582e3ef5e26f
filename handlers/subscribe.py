"""The daily-summary commands, parsed: `subscribe daily 09:00 [tunnels…|all]`, `unsubscribe`, `subscriptions`.

People type "/vpn subscribe daily 9am paris, lyon" or "@vpnbot subscribe at 21:30 all"; the parser accepts the usual
ways of writing a time of day (09:00, 9:00, 9am, 9:30 pm, 21h30), resolves tunnel names and aliases through the
registry (a typo gets the closest names), and, when it cannot make sense of the text, raises one line that ends with
an example that works. It only parses: nothing is stored and no Slack is involved (bot/slack/subscriptions.py acts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from diagnostics.tunnels import AmbiguousTunnel, OutsideTunnel, TunnelRegistry, UnknownTunnel
from handlers.help import example_tunnel
from handlers.parse.question import clean_text

SUBSCRIBE, UNSUBSCRIBE, LIST = "subscribe", "unsubscribe", "list"


@dataclass(frozen=True)
class SubscriptionCommand:
    action: str  # SUBSCRIBE | UNSUBSCRIBE | LIST
    time: str = ""  # "HH:MM" (24-hour), for SUBSCRIBE
    tunnels: tuple[str, ...] = ()  # the tunnels' registry names; () = all (the channel's, when it is limited)


class SubscriptionError(ValueError):
    """A command we cannot act on as written; str() is one line, with an example that works."""


_FILLER = {"daily", "every", "day", "each", "at", "to", "me", "us", "this", "channel", "a", "the", "summary",
           "summaries", "of", "for", "on", "please", "and", "in", "here", "tunnel", "tunnels", "with"}
_OTHER_PERIODS = {"weekly", "hourly", "monthly", "week", "hour", "month", "weekday", "weekdays", "weekend"}
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?h?(am|pm)?$")
_SPLIT = re.compile(r"[\s,;+&]+")


def is_subscription_command(text: str) -> bool:
    """True for the texts this module handles (so the question parser never sees them)."""
    words = words_of(text)
    if not words:
        return False
    if words[0] in ("list", "show", "my") and len(words) > 1:
        words = words[1:]
    return words[0] in ("subscribe", "unsubscribe", "subscriptions", "subscription")


def parse_subscription(text: str, registry: TunnelRegistry) -> SubscriptionCommand:
    """The command in `text` (a /vpn text, mention or DM, with or without the mention). Against a view of the
    registry (`TunnelRegistry.only`), a tunnel outside it raises OutsideTunnel."""
    words = words_of(text)
    if words and words[0] in ("list", "show", "my") and len(words) > 1:
        words = words[1:]
    if not words or words[0] not in ("subscribe", "unsubscribe", "subscriptions", "subscription"):
        raise SubscriptionError(f"Not a subscription command: try {example(registry)}")
    verb, rest = words[0], words[1:]
    if verb in ("subscriptions", "subscription"):
        return SubscriptionCommand(LIST)
    if verb == "unsubscribe":
        named = [w for w in rest if w not in _FILLER and registry.is_known_word(w)]
        if named:
            raise SubscriptionError(
                f"`/vpn unsubscribe` stops this channel's whole daily summary; to change which tunnels it covers, "
                f"subscribe again with the ones to keep, e.g. {example(registry)}")
        return SubscriptionCommand(UNSUBSCRIBE)
    return _subscribe(rest, registry)


def example(registry: TunnelRegistry | None = None, time: str = "09:00") -> str:
    """`/vpn subscribe daily 09:00 <first tunnel>`: an example that works in this workspace."""
    return f"`/vpn subscribe daily {time} {example_tunnel(registry)}` (or `… {time} all`)"


def parse_time_of_day(word: str) -> str | None:
    """"9am" → "09:00", "21:30" → "21:30", "9.30pm" → "21:30", "21h" → "21:00"; None when `word` is not written
    like a time; SubscriptionError when it is written like one but is not one ("25:00", "13pm")."""
    match = _TIME.match(word.lower().replace("a.m.", "am").replace("p.m.", "pm"))
    if not match or (match[2] is None and match[3] is None and not word.lower().endswith("h")):
        return None
    hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
    if half:
        if not 1 <= hour <= 12:
            raise SubscriptionError(f"{word!r} is not a time of day: with am/pm the hour is 1 to 12, e.g. 9am")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise SubscriptionError(f"{word!r} is not a time of day: use 00:00 to 23:59 (or 9am, 9:30pm)")
    return f"{hour:02d}:{minute:02d}"


def _subscribe(rest: list[str], registry: TunnelRegistry) -> SubscriptionCommand:
    rest = _join_meridiem(rest)
    period = next((w for w in rest if w in _OTHER_PERIODS), None)
    if period:
        raise SubscriptionError(f"Only daily summaries exist (not {period}): try {example(registry)}")
    at: str | None = None
    words: list[str] = []
    for word in rest:  # the time and the tunnels, in any order: "9am paris", "paris at 09:00"
        try:
            reading = parse_time_of_day(word)
        except SubscriptionError as exc:
            raise SubscriptionError(f"{exc}; try {example(registry)}") from None
        if reading is not None:
            if at is not None:
                raise SubscriptionError(f"One time a day ({at} or {reading}?): {example(registry)}")
            at = reading
        elif word.isdigit():
            raise SubscriptionError(f"{word!r}: give the time as 09:00 or 9am, e.g. {example(registry)}")
        elif word not in _FILLER or registry.is_known_word(word):
            words.append(word)
    if at is None:
        raise SubscriptionError(f"Give the time of day for the summary, e.g. {example(registry)}")
    return SubscriptionCommand(SUBSCRIBE, at, tunnel_names(words, registry, example(registry, at)))


def tunnel_names(words: list[str], registry: TunnelRegistry, for_example: str) -> tuple[str, ...]:
    """The registry names of the tunnels `words` name (aliases, typos with the closest names); () for `all` or
    none. Raises SubscriptionError ending with `for_example`; OutsideTunnel for a tunnel outside the view."""
    wants_all = "all" in words and not registry.is_known_word("all")
    names: list[str] = []
    for word in words:
        if word == "all" and wants_all:
            continue
        try:
            name = registry.resolve(word).name
        except OutsideTunnel:
            raise  # a tunnel the channel may not see (a view of the registry): the caller refuses it
        except (UnknownTunnel, AmbiguousTunnel) as exc:
            sep = " " if str(exc).endswith(("?", ".")) else ". "
            raise SubscriptionError(f"{exc}{sep}For example {for_example}") from None
        if name not in names:
            names.append(name)
    if wants_all and names:
        raise SubscriptionError(f"Say either `all` or the tunnels' names, not both: {for_example}")
    return tuple(names)


def _join_meridiem(words: list[str]) -> list[str]:
    """"9 am" → "9am", "9:30 p.m." → "9:30pm"."""
    out: list[str] = []
    for word in words:
        if word in ("am", "pm", "a.m.", "p.m.") and out and re.match(r"^\d{1,2}([:.]\d{2})?$", out[-1]):
            out[-1] += word.replace(".", "")
        else:
            out.append(word)
    return out


def words_of(text: str) -> list[str]:
    return [w for w in _SPLIT.split(clean_text(text).lower().rstrip(".!?")) if w]
