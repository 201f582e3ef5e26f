"""The negotiations of the outage a question is about, taken from the tunnel query's own rows as they stream past.

The rules explain an outage from its IKE negotiations (`diagnostics.azure.negotiation`), and which outage that is is
only known once every state change of the window has been read. Reading its IKE rows again with a second query
read every row twice when the outage is the whole window: a tunnel down, or never up, all day is a million rows of
retries. The tunnel query already returns every IKE row of the window (and `IKE_MARGIN` around it), so while they
stream past, the rows of each outage that may still turn out to be the one asked about are set aside:

* the whole window, for a tunnel with no state change in it (`diagnostics.timeline.down_period`): given up at the
  first state change in the window;
* each drop in the window, from `LEAD` seconds before its disconnect to its reconnect (or the window's end), while
  it may still be the drop nearest the asked instant (the latest, when no instant was asked).

A candidate holds its rows as they came up to `HOLD` rows (a flapping tunnel's outages are a few hundred), then
feeds them to a `NegotiationTracker`, and so on every `HOLD` rows (one call per batch, not per row: the tracker's
loop is the hot path of a tunnel down all day): memory stays flat however long the outage lasts, and a short outage
that is not the one asked about costs an append per row. `summary()` gives the negotiations of exactly
the rows the narrow query (`build_ike_query`) would have returned, or None when it cannot vouch for that (the outage
outlasts the query's IKE rows, more rows before the disconnect than it remembers): the caller then runs the narrow
query, as before.
"""

from __future__ import annotations

from collections import deque

from diagnostics.azure.negotiation import LEAD, IkeSummary, NegotiationTracker

#: Rows a candidate holds before it feeds them to its tracker (a few MB of row references).
HOLD = 20_000
#: The latest IKE rows remembered for the `LEAD` seconds before a disconnect (a failing tunnel logs a few a second).
RECENT = 512


class _Candidate:
    """The IKE rows of one outage that may be the one asked about: [lo, hi], hi the reconnect once seen.
    `take(ts, message)` adds a row: held in a list, fed to a tracker every `HOLD` rows."""

    def __init__(self, lo: float, hi: float, down: float | None, open: bool = True) -> None:
        self.lo = lo
        self.hi = hi  # the window's end until the reconnect is read (rows past it wait in `after` meanwhile)
        self.down = down  # the disconnect; None for the whole window
        self.open = open
        self.complete = True  # every row of [lo, hi] the query returned went in
        self.held: list[tuple[float, str]] = []  # rows not fed to the tracker yet (emptied in place)
        self.tracker: NegotiationTracker | None = None
        self.after: list[tuple[float, str]] = []  # past the window's end while the outage is open

    def take(self, ts: float, message: str) -> None:
        held = self.held
        held.append((ts, message))
        if len(held) >= HOLD:
            self._track()

    def _track(self) -> NegotiationTracker:
        """The tracker, fed every row held so far."""
        if self.tracker is None:
            self.tracker = NegotiationTracker()
        if self.held:
            self.tracker.add_rows(self.held)
            self.held.clear()
        return self.tracker

    def drop(self) -> None:
        """No longer a candidate: what it held is let go."""
        self.held, self.tracker, self.after = [], None, []
        self.complete = False

    def summary(self) -> IkeSummary:
        return self._track().summary()


class OutageCapture:
    """Sets aside, from one sorted stream of the tunnel query's rows, the IKE rows of the outage a question may be
    about. Feed it every IKE row (`ike`) and every state change of the tunnel (`state`), in the stream's order."""

    def __init__(self, start: float, end: float, anchor: float | None, ike_end: float) -> None:
        self.start, self.end, self.anchor = start, end, anchor
        self.ike_end = ike_end  # the query returns no IKE row after this
        # The latest IKE rows while the tunnel is up (a disconnect while down is no new drop), complete after
        # `_recent_from`.
        self._recent: deque[tuple[float, str]] = deque(maxlen=RECENT)
        self._recent_from = float("-inf")
        self._window: _Candidate | None = _Candidate(start - LEAD, end, None, open=False)
        self._drop: _Candidate | None = None  # the drop nearest the asked instant so far
        self._score = float("inf")
        self._down = False  # the tunnel's state as read so far (a disconnect while down is the same drop)
        self._settled = False  # no later drop can be nearer the asked instant
        self._feeding: list[_Candidate] = [self._window]
        # The one candidate taking rows, its bounds and its list of held rows, for the common case (a row per row
        # of a million).
        self._one: _Candidate | None = None
        self._held: list[tuple[float, str]] = []
        self._lo, self._hi = float("inf"), float("-inf")
        self._refresh()

    def ike(self, ts: float, message: str) -> None:
        """One IKE row of the stream."""
        row = (ts, message)
        if not self._down:
            self._recent.append(row)
        if self._lo <= ts <= self._hi:
            held = self._held
            held.append(row)
            if len(held) >= HOLD:
                self._one._track()  # type: ignore[union-attr]
            return
        for candidate in self._feeding:
            if ts < candidate.lo:
                continue
            if ts <= candidate.hi:
                candidate.take(ts, message)
            elif candidate.open and ts <= self.ike_end:
                candidate.after.append((ts, message))
                if len(candidate.after) > HOLD:
                    candidate.complete = False
                    candidate.after.clear()
            elif not candidate.open:
                self._feeding = [c for c in self._feeding if c is not candidate]
                self._refresh()

    def ike_batch(self, rows: list[tuple[float, str]]) -> None:
        """IKE rows of the stream, in order, with no state change among them (the timeline's feed hands them over
        between state changes): what `ike` does row by row, with the common case (one candidate taking every row of
        the batch) done by C-level extends instead of a Python call per row. `rows` is not kept."""
        if not rows:
            return
        if not self._feeding:  # no outage left that may be the one asked about (a flapping tunnel, mostly)
            if not self._down:
                self._recent.extend(rows)
            return
        if self._one is not None and self._lo <= rows[0][0] and rows[-1][0] <= self._hi:  # sorted: all in range
            if not self._down:
                self._recent.extend(rows)
            held = self._held
            held.extend(rows)
            if len(held) >= HOLD:
                self._one._track()
            return
        ike = self.ike
        for ts, message in rows:
            ike(ts, message)

    def state(self, ts: float, down: bool) -> None:
        """One state change of the tunnel (`TunnelDisconnected` / `TunnelConnected`): pairs them as
        `diagnostics.timeline.pair_drops` does."""
        if self._window is not None and self.start <= ts <= self.end:
            self._stop(self._window)
            self._window = None
        if not down:
            if self._down:
                if self._drop is not None and self._drop.open:
                    self._close(self._drop, ts)
                self._recent.clear()
                self._recent_from = ts  # rows at this instant may have come before it, unremembered
            self._down = False
            return
        if self._down:
            return
        self._down = True
        if self._settled or not self.start <= ts <= self.end:
            return
        score = abs(ts - self.anchor) if self.anchor is not None else -ts
        if self._drop is not None and not score < self._score:
            self._settled = True  # drops only get further from the asked instant from here on
            return
        if self._drop is not None:
            self._stop(self._drop)
        lo = ts - LEAD
        recent = self._recent
        lead = [row for row in recent if row[0] >= lo]
        drop = _Candidate(lo, self.end, ts)
        # The lead is whole when the rows remembered reach back past it.
        drop.complete = lo > self._recent_from and (len(recent) < RECENT or len(lead) < len(recent))
        for row in lead:
            drop.take(*row)
        self._drop, self._score = drop, score
        self._feeding.append(drop)
        self._refresh()

    def _close(self, candidate: _Candidate, up: float) -> None:
        """The reconnect: the outage's rows end there (rows past the window's end that came before it go in)."""
        candidate.open = False
        candidate.hi = up
        if up > self.ike_end:
            candidate.complete = False
        for row in candidate.after:
            if row[0] <= up:
                candidate.take(*row)
        candidate.after = []
        self._refresh()

    def _stop(self, candidate: _Candidate) -> None:
        candidate.drop()
        self._feeding = [c for c in self._feeding if c is not candidate]
        self._refresh()

    def _refresh(self) -> None:
        one = self._feeding[0] if len(self._feeding) == 1 else None
        self._one = one
        self._held = one.held if one is not None else []
        self._lo, self._hi = (one.lo, one.hi) if one is not None else (float("inf"), float("-inf"))

    def summary(self, lo: float, hi: float) -> IkeSummary | None:
        """The negotiations of the IKE rows in [lo, hi] (the narrow query's range), when one candidate holds exactly
        those; None otherwise."""
        for candidate in (self._window, self._drop):
            # A drop still open at the window's end ends there (`down_period`), as its `hi` says until a reconnect.
            if candidate is not None and candidate.complete and candidate.lo == lo and candidate.hi == hi:
                return candidate.summary()
        return None
