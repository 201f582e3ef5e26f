"""Azure's side of a timeline: the rows of one tunnel's gateway streamed in, IKE rows kept only where rules look.

A day of a failing tunnel is a million IKE rows; the builder judges each on its time and category alone and only
normalises the ones it keeps, so memory stays flat whatever the window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from diagnostics.azure.outage import OutageCapture
from diagnostics.azure.parser.rows import RowLayout, parse_time
from diagnostics.model import Event, EventKind
from diagnostics.timeline import TUNNEL_KINDS, Timeline, pair_drops
from diagnostics.tunnels import Tunnel

#: IKE rows are kept only around this tunnel's state changes, where the rules read them: remote_initiated looks
#: 60 s before a disconnect, dpd_timeout and unknown up to 120 s after. A day of a failing tunnel is a million
#: IKE rows (docs/sources.md#azure-ike-log: "Azure keeps retrying every few seconds"); keeping them all would cost
#: ~0.5 GB.
IKE_BEFORE = 60.0
IKE_AFTER = 120.0
IKE_EACH_SIDE = 16  # rows kept at most on each side of one state change
#: IKE rows handed to the outage capture at a time (`OutageCapture.ike_batch`).
CAPTURE_BATCH = 4096
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
        self.other_downs: list[float] = []
        self.ike_rows = 0
        self.unreadable = 0  # rows whose time could not be read (counted, never fatal)
        self._tail: deque[Event] = deque(maxlen=IKE_TAIL)
        #: When set, every IKE row and state change streamed in also goes there: the outage a question is about
        #: is then explained from these rows, not read again.
        self.capture: OutageCapture | None = None

    def _mine(self, event: Event) -> bool:
        """On this tunnel's gateway and not about another of its tunnels."""
        if event.provider != "azure" or event.gateway.lower() != self._gateway:
            return False
        if self._remote and event.remote_ip and event.remote_ip != self._remote:
            if event.kind in TUNNEL_KINDS:
                self.other_tunnels.add(event.remote_ip)
                if event.kind is EventKind.TUNNEL_DOWN:
                    self.other_downs.append(event.ts)
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

    def feed(self, rows: Iterable[Sequence[Any]], columns: Sequence[str],
             normalise: Callable[[Sequence[Any]], Event]) -> int:
        """Consume one sorted stream of raw rows with these `columns`; returns how many rows it had. A row's time and
        category are read in place, not through a call per row (a million of them for a tunnel down all day); only
        the rows kept are normalised."""
        layout = RowLayout.of(columns)
        i_time, i_cat, i_msg = layout.time, layout.category, layout.message
        before: deque[tuple[float, Sequence[Any]]] = deque(maxlen=IKE_EACH_SIDE)
        keep_until, kept_after, count = float("-inf"), 0, 0
        capture = self.capture
        # IKE rows go to the capture a batch at a time, handed over before each state change (its order kept): a
        # tunnel down all day is a million of them, and a call per row was a tenth of the question.
        pending: list[tuple[float, str]] = []
        for row in rows:
            count += 1
            ts = row[i_time]
            if ts.__class__ is not float:
                try:
                    ts = parse_time(ts)
                except ValueError:
                    self.unreadable += 1
                    continue
            if i_cat < 0 or row[i_cat] != "IKEDiagnosticLog":
                if self.add(normalise(row)):
                    if capture is not None:
                        capture.ike_batch(pending)
                        pending.clear()
                        change = self.tunnel_rows[-1]
                        capture.state(change.ts, change.kind is EventKind.TUNNEL_DOWN)
                    for earlier_ts, earlier in before:
                        if earlier_ts >= ts - IKE_BEFORE:
                            self._add_ike(normalise(earlier))
                    before.clear()
                    keep_until, kept_after = ts + IKE_AFTER, 0
                continue
            self.ike_rows += 1
            if capture is not None:
                pending.append((ts, (row[i_msg] or "") if i_msg >= 0 else ""))
                if len(pending) >= CAPTURE_BATCH:
                    capture.ike_batch(pending)
                    pending.clear()
            if ts <= keep_until and kept_after < IKE_EACH_SIDE:
                kept_after += self._add_ike(normalise(row))
            else:
                before.append((ts, row))
        if capture is not None and pending:
            capture.ike_batch(pending)
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
                        self.other_tunnels, ike_rows=self.ike_rows, other_downs=sorted(self.other_downs))


def build_timeline(events: Iterable[Event], tunnel: Tunnel) -> Timeline:
    """A timeline from rows already normalised (tests, small sources): every row of the tunnel is kept."""
    builder = TimelineBuilder(tunnel)
    for event in sorted(events, key=lambda e: e.ts):
        builder.add(event)
        builder.ike_rows += event.kind is EventKind.IKE and builder._mine(event)
    return builder.build()
