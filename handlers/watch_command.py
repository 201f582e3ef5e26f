"""The watch commands, parsed: `watch [tunnels…|all]`, `unwatch`, `watching` (docs/watch.md).

"/vpn watch paris, lyon" or "@vpnbot watch all": the tunnels resolved through the registry (aliases; a typo gets the
closest names), as the daily subscriptions' are. It only parses: nothing is stored and no Slack is involved
(bot/slack/watches.py acts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from diagnostics.tunnels import TunnelRegistry
from handlers.help import example_tunnel
from handlers.parse.question import clean_text
from handlers.subscribe import SubscriptionError, tunnel_names, words_of

WATCH, UNWATCH, WATCHING, MUTE, UNMUTE = "watch", "unwatch", "watching", "mute", "unmute"

_VERBS = {"watch": WATCH, "unwatch": UNWATCH, "watching": WATCHING, "watches": WATCHING, "mute": MUTE,
          "unmute": UNMUTE}
_DURATION = re.compile(r"^(\d{1,3})(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)$")
_UNITS = {"m": 60, "h": 3600, "d": 86400}
#: The longest mute: a forgotten one must not hide drops for weeks.
MAX_MUTE = timedelta(days=7)
_FILLER = {"the", "tunnel", "tunnels", "please", "and", "for", "this", "channel", "here", "drops", "of", "in"}


@dataclass(frozen=True)
class WatchCommand:
    action: str  # WATCH | UNWATCH | WATCHING
    tunnels: tuple[str, ...] = ()  # the tunnels' registry names; () = all (the channel's, when it is limited)
    duration: timedelta | None = None  # MUTE: for how long
    note: str = ""  # MUTE: why, as typed ("planned maintenance CHG-42")


class WatchCommandError(SubscriptionError):
    """A watch command we cannot act on as written; str() is one line, with an example that works."""


def is_watch_command(text: str) -> bool:
    """True for the texts this module handles (so the question parser never sees them)."""
    words = words_of(text)
    return bool(words) and words[0] in _VERBS


def parse_watch(text: str, registry: TunnelRegistry) -> WatchCommand:
    """The command in `text`. Against a view of the registry (`TunnelRegistry.only`), a tunnel outside it raises
    OutsideTunnel."""
    words = words_of(text)
    if not words or words[0] not in _VERBS:
        raise WatchCommandError(f"Not a watch command: try {example(registry)}")
    action, rest = _VERBS[words[0]], [w for w in words[1:] if w not in _FILLER or registry.is_known_word(w)]
    if action == WATCHING:
        return WatchCommand(WATCHING)
    if action in (MUTE, UNMUTE):
        return _mute(action, words[1:], text, registry)
    if action == UNWATCH:
        if rest:
            raise WatchCommandError("`/vpn unwatch` stops all of this channel's watching; to change which tunnels "
                                    f"it watches, watch again with the ones to keep, e.g. {example(registry)}")
        return WatchCommand(UNWATCH)
    try:
        return WatchCommand(WATCH, tunnel_names(rest, registry, example(registry)))
    except SubscriptionError as exc:
        raise WatchCommandError(str(exc)) from None


def _mute(action: str, words: list[str], text: str, registry: TunnelRegistry) -> WatchCommand:
    """`mute paris 2h planned maintenance`: one tunnel, a duration, a note (the rest, as typed)."""
    usage = f"`/vpn mute {example_tunnel(registry)} 2h planned maintenance` (`/vpn unmute {example_tunnel(registry)}`)"
    if not words:
        raise WatchCommandError(f"Name the tunnel to {action}, e.g. {usage}")
    (name,) = tunnel_names(words[:1], registry, usage) or (None,)
    if name is None:
        raise WatchCommandError(f"Name one tunnel, e.g. {usage}")
    if action == UNMUTE:
        return WatchCommand(UNMUTE, (name,))
    match = _DURATION.match(words[1]) if len(words) > 1 else None
    if match is None:
        raise WatchCommandError(f"Say for how long (30m, 2h, 1d), e.g. {usage}")
    duration = timedelta(seconds=int(match[1]) * _UNITS[match[2][0]])
    if not timedelta(0) < duration <= MAX_MUTE:
        raise WatchCommandError(f"A mute lasts 1 minute to 7 days, e.g. {usage}")
    typed = clean_text(text).split(None, 3)  # the note as typed: its case and punctuation kept
    return WatchCommand(MUTE, (name,), duration, typed[3] if len(typed) > 3 else "")


def example(registry: TunnelRegistry | None = None) -> str:
    """`/vpn watch <first tunnel>`: an example that works in this workspace."""
    return f"`/vpn watch {example_tunnel(registry)}` (or `/vpn watch all`)"
