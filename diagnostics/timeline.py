"""The event timeline of one tunnel, whatever its cloud: its rows indexed by kind and time, and its drops.

Providers build it (`diagnostics.azure.timeline`, `diagnostics.aws.timeline`). Pairing disconnects with reconnects
happens here, in Python, rather than in KQL (`serialize`/`prev()` are not available locally, and the logic is
clearer as a state machine).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from diagnostics.model import Drop, Event, EventKind, Fetch, Investigation
from diagnostics.tunnels import Tunnel

TUNNEL_KINDS = (EventKind.TUNNEL_DOWN, EventKind.TUNNEL_UP)
#: An outage shorter than this is a quick reconnect: its negotiations succeeded, nothing to explain.
QUICK_OUTAGE = 60.0
#: How far around an empty window drops are looked up, to name the nearest ones.
LOOKAROUND_DAYS = 3


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
    #: When other tunnels of the gateway went down (epoch seconds): a gateway-wide row (a BGP peer's drop) at that
    #: moment may be theirs as well as this tunnel's.
    other_downs: list[float] = field(default_factory=list)
    ike_rows: int = 0  # IKE rows the sources returned (Azure keeps only those around state changes in `events`)
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


def primary_drop(drops: Sequence[Drop], anchor: float | None) -> Drop | None:
    """The drop a question is about: the one nearest to the asked instant (a tunnel drop before a BGP-only drop at
    the same distance), else the latest."""
    if not drops:
        return None
    if anchor is not None:
        return min(drops, key=lambda d: (abs(d.down_ts - anchor), d.down.kind is EventKind.BGP_DOWN))
    return drops[-1]


def answered_drop(inv: Investigation, drops: Sequence[Drop] | None = None) -> Drop | None:
    """The drop an answer is about, of `drops` (default: all of `inv`'s): the one a finding explains, else the one
    nearest the asked instant (`primary_drop`). The answer's traffic line and its story both tell this one."""
    drops = inv.drops if drops is None else drops
    for finding in inv.findings:
        if finding.drop is not None and finding.drop in drops:
            return finding.drop
    return primary_drop(drops, inv.anchor.timestamp() if inv.anchor else None)


def down_period(timeline: Timeline, start: float, end: float, anchor: float | None) -> tuple[float, float] | None:
    """When the tunnel was down in [start, end]: the primary drop's outage, or the whole window when the tunnel had
    no state change in it (it was down, or never up, before the window began); None for a quick reconnect."""
    drop = primary_drop(timeline.drops_between(start, end), anchor)
    if drop is not None:
        until = drop.up_ts if drop.up_ts is not None else end
        return (drop.down_ts, until) if drop.up is None or until - drop.down_ts >= QUICK_OUTAGE else None
    if not any(start <= r.ts <= end for r in timeline.tunnel_rows):
        return start, end
    return None


@dataclass
class Reading:
    """What one provider read for one window, for the rules: the tunnel's timeline and what the reads told.

    `window_drops` are the drops the question is about (each provider knows what counts: AWS includes a drop still
    going on when the window began); `lookaround` are drops from a wider look around an empty window, None when no
    such look was made (so nobody claims "no drop within 3 days" without having looked).
    """

    timeline: Timeline
    fetch: Fetch
    window_drops: list[Drop]
    rows_in_window: int = 0  # every row the sources returned for the window, before tunnel filtering
    latest_row: float | None = None  # the newest row the sources returned
    lookaround: list[Drop] | None = None
