"""The event timeline of one tunnel: which rows are its own, and the drops they describe.

Pairing disconnects with reconnects happens here, in Python, rather than in KQL (`serialize`/`prev()` are not
available locally, and the logic is clearer as a state machine).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

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
    _by_kind: dict[EventKind, tuple[list[float], list[Event]]] = field(default_factory=dict, repr=False)
    _times: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for event in self.events:
            times, rows = self._by_kind.setdefault(event.kind, ([], []))
            times.append(event.ts)
            rows.append(event)
        self._times = [e.ts for e in self.events]

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


def build_timeline(events: Iterable[Event], tunnel: Tunnel) -> Timeline:
    """Keep the gateway's rows that are not about another tunnel, and pair this tunnel's drops."""
    gateway = tunnel.azure_gateway.lower()
    rows = [e for e in events if e.gateway.lower() == gateway and e.provider == "azure"]
    rows.sort(key=lambda e: e.ts)  # backends answer sorted (then this is linear); merged sources may not be
    remote = tunnel.azure_remote_ip
    kept: list[Event] = []
    tunnel_rows: list[Event] = []
    unattributed = 0
    others: set[str] = set()
    for event in rows:
        about_other = bool(remote and event.remote_ip and event.remote_ip != remote)
        if event.kind in TUNNEL_KINDS:
            if about_other:
                others.add(event.remote_ip)
                continue
            if remote and not event.remote_ip:
                unattributed += 1
            tunnel_rows.append(event)
        elif about_other:
            continue  # an IKE row of another tunnel on the same gateway
        kept.append(event)
    return Timeline(tunnel, kept, tunnel_rows, pair_drops(tunnel_rows), unattributed, others)


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
