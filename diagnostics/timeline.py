"""The event timeline of one tunnel: which rows are its own, and the drops they describe.

Pairing disconnects with reconnects happens here, in Python, rather than in KQL (`serialize`/`prev()` are not
available locally, and the logic is clearer as a state machine).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .azure.negotiation import IkeSummary
from .events import Event, EventKind
from .findings import Drop
from .tunnels import Tunnel

TUNNEL_KINDS = (EventKind.TUNNEL_DOWN, EventKind.TUNNEL_UP)


@dataclass
class Timeline:
    """Rows of one tunnel's gateway, sorted, split into what the rules look at, and indexed by kind and time
    so that a rule looking around a drop costs a bisection, not a scan of a million IKE rows."""

    tunnel: Tunnel
    events: list[Event]  # every row of the gateway that concerns this tunnel or the whole gateway
    tunnel_rows: list[Event]  # this tunnel's connect/disconnect rows
    drops: list[Drop]
    unattributed: int = 0  # tunnel rows without remoteIP_s, counted as this tunnel's
    other_tunnels: set[str] = field(default_factory=set)  # remote IPs of other tunnels seen on the gateway
    ike_rows: int = 0  # IKE rows the sources returned (only those around state changes are in `events`)
    ike: IkeSummary | None = None  # the negotiations of the outage the rules ask about (set by the drill-down)
    _by_kind: dict[EventKind, tuple[list[float], list[Event]]] = field(default_factory=dict, repr=False)
    _times: list[float] = field(default_factory=list, repr=False)
    _drop_times: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for event in self.events:
            times, rows = self._by_kind.setdefault(event.kind, ([], []))
            times.append(event.ts)
            rows.append(event)
        self._times = [e.ts for e in self.events]
        self._drop_times = [d.down.ts for d in self.drops]

    def drops_between(self, start: float, end: float) -> list[Drop]:
        return self.drops[bisect_left(self._drop_times, start):bisect_right(self._drop_times, end)]

    def between(self, start: float, end: float, kinds: Iterable[EventKind] | None = None) -> list[Event]:
        """Rows with start <= ts <= end (of the given kinds), oldest first."""
        if kinds is None:
            return self.events[bisect_left(self._times, start):bisect_right(self._times, end)]
        found: list[Event] = []
        wanted = tuple(kinds)
        for kind in wanted:
            times, rows = self._by_kind.get(kind, ((), ()))
            found += rows[bisect_left(times, start):bisect_right(times, end)]
        return sorted(found, key=lambda e: e.ts) if len(wanted) > 1 else found

    def count(self, kind: EventKind) -> int:
        return len(self._by_kind.get(kind, ((), ()))[1])


#: IKE rows are kept only around this tunnel's state changes, where the rules read them: remote_initiated looks
#: 60 s before a disconnect, dpd_timeout and unknown up to 120 s after. A day of a failing tunnel is a million
#: IKE rows (seed 000: "Azure keeps retrying every few seconds"); keeping them all would cost ~0.5 GB.
IKE_BEFORE = 60.0
IKE_AFTER = 120.0
IKE_EACH_SIDE = 16  # rows kept at most on each side of one state change
IKE_TAIL = 50  # the latest IKE rows are kept too, for a window with no state change at all


class TimelineBuilder:
    """Builds a `Timeline` from row streams without holding every IKE row.

    Each stream must be sorted by time (the bot's query sorts); IKE rows are judged on their time and category
    alone and only normalised when kept, so discarding one costs a fraction of a microsecond.
    """

    def __init__(self, tunnel: Tunnel):
        self.tunnel = tunnel
        self._remote = tunnel.azure_remote_ip
        self._gateway = tunnel.azure_gateway.lower()
        self.kept: list[Event] = []
        self.tunnel_rows: list[Event] = []
        self.unattributed = 0
        self.other_tunnels: set[str] = set()
        self.ike_rows = 0
        self.unreadable = 0  # rows whose time could not be read (counted, never fatal)
        self._tail: deque[Event] = deque(maxlen=IKE_TAIL)

    def _mine(self, event: Event) -> bool:
        """On this tunnel's gateway and not about another of its tunnels."""
        if event.provider != "azure" or event.gateway.lower() != self._gateway:
            return False
        if self._remote and event.remote_ip and event.remote_ip != self._remote:
            if event.kind in TUNNEL_KINDS:
                self.other_tunnels.add(event.remote_ip)
            return False
        return True

    def add(self, event: Event) -> bool:
        """Keep one normalised row if it concerns this tunnel; True when it is one of its state changes."""
        if not self._mine(event):
            return False
        self.kept.append(event)
        if event.kind not in TUNNEL_KINDS:
            return False
        if self._remote and not event.remote_ip:
            self.unattributed += 1
        self.tunnel_rows.append(event)
        return True

    def feed(self, rows: Iterable[Sequence[Any]], peek: Callable[[Sequence[Any]], tuple[float, str | None]],
             normalise: Callable[[Sequence[Any]], Event]) -> int:
        """Consume one sorted stream of raw rows; returns how many rows it had. `peek(row)` is (ts, the Message
        of an IKE row, or None for any other row)."""
        before: deque[tuple[float, Sequence[Any]]] = deque(maxlen=IKE_EACH_SIDE)
        keep_until, kept_after, count = float("-inf"), 0, 0
        for row in rows:
            count += 1
            try:
                ts, ike_message = peek(row)
            except ValueError:
                self.unreadable += 1
                continue
            if ike_message is None:
                if self.add(normalise(row)):
                    for earlier_ts, earlier in before:
                        if earlier_ts >= ts - IKE_BEFORE:
                            self._add_ike(normalise(earlier))
                    before.clear()
                    keep_until, kept_after = ts + IKE_AFTER, 0
                continue
            self.ike_rows += 1
            if ts <= keep_until and kept_after < IKE_EACH_SIDE:
                kept_after += self._add_ike(normalise(row))
            else:
                before.append((ts, row))
        self._tail.extend(normalise(r) for _, r in before)
        return count

    def _add_ike(self, event: Event) -> int:
        if self._mine(event):
            self.kept.append(event)
            return 1
        return 0

    def build(self) -> Timeline:
        seen = {id(e) for e in self.kept}
        events = self.kept + [e for e in self._tail if id(e) not in seen and self._mine(e)]
        events.sort(key=lambda e: e.ts)  # linear when the streams were sorted
        self.tunnel_rows.sort(key=lambda e: e.ts)
        return Timeline(self.tunnel, events, self.tunnel_rows, pair_drops(self.tunnel_rows), self.unattributed,
                        self.other_tunnels, ike_rows=self.ike_rows)


def build_timeline(events: Iterable[Event], tunnel: Tunnel) -> Timeline:
    """A timeline from rows already normalised (tests, small sources): every row of the tunnel is kept."""
    builder = TimelineBuilder(tunnel)
    for event in sorted(events, key=lambda e: e.ts):
        builder.add(event)
        builder.ike_rows += event.kind is EventKind.IKE and builder._mine(event)
    return builder.build()


def pair_drops(tunnel_rows: Iterable[Event]) -> list[Drop]:
    """Disconnect -> the next connect is one drop. Repeated disconnects while down are the same drop (both
    instances may log one), and a connect with no disconnect before it only tells the starting state."""
    drops: list[Drop] = []
    down: Event | None = None
    for event in tunnel_rows:
        if event.kind is EventKind.TUNNEL_DOWN:
            if down is None:
                down = event
        elif down is not None:
            drops.append(Drop(down, event))
            down = None
    if down is not None:
        drops.append(Drop(down, None))
    return drops
