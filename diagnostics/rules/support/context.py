"""What every rule sees: one tunnel's timeline, the window asked about, what the provider read besides, and helpers
to look around a drop."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from diagnostics.aws.investigate import AwsReading
from diagnostics.aws.timeline import AwsTimeline
from diagnostics.azure.activity import GatewayActivity
from diagnostics.azure.investigate import AzureReading
from diagnostics.azure.negotiation import IkeSummary
from diagnostics.model import Drop, Event, EventKind
from diagnostics.timefmt import local_and_utc
from diagnostics.timeline import Reading, Timeline, primary_drop
from diagnostics.tunnels import Tunnel


@dataclass
class RuleContext:
    timeline: Timeline
    start: float  # the window asked about, epoch seconds
    end: float
    now: float
    anchor: float | None = None  # the instant asked about, if any
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))  # the asker's zone, for times in explanations
    rows_in_window: int = 0  # every row the sources returned for the window, before tunnel filtering
    lookaround: list[Drop] | None = None  # drops from a wider look around an empty window; None: not looked
    latest_row: float | None = None  # newest row the sources returned for this gateway
    # Azure: rows per category the gateway logged (when looked up), and the negotiations of the outage asked about.
    coverage: dict[str, int] = field(default_factory=dict)
    ike: IkeSummary | None = None
    activity: GatewayActivity | None = None  # Azure: the whole gateway's newest row and cadence
    aws: AwsTimeline | None = None  # AWS: the connection's per-tunnel states
    window: list[Drop] | None = None  # the drops the question is about, when the provider decides (AWS)

    @classmethod
    def of(cls, reading: Reading, start: float, end: float, now: float, anchor: float | None,
           tz: ZoneInfo) -> RuleContext:
        """What the rules see of one provider's reading of the window."""
        ctx = cls(timeline=reading.timeline, start=start, end=end, now=now, anchor=anchor, tz=tz,
                  rows_in_window=reading.rows_in_window, lookaround=reading.lookaround,
                  latest_row=reading.latest_row)
        if isinstance(reading, AzureReading):
            ctx.coverage, ctx.ike, ctx.activity = reading.coverage, reading.ike, reading.activity
        elif isinstance(reading, AwsReading):
            ctx.aws, ctx.window = reading.atl, reading.window_drops
        return ctx

    @property
    def tunnel(self) -> Tunnel:
        return self.timeline.tunnel

    @property
    def drops(self) -> list[Drop]:
        """Every drop in the fetched range (wider than the window: rules need the context)."""
        return self.timeline.drops

    @property
    def window_drops(self) -> list[Drop]:
        """The drops the question is about: those that began in the window (AWS: and one still going on)."""
        return self.window if self.window is not None else self.timeline.drops_between(self.start, self.end)

    def primary_drop(self) -> Drop | None:
        """The drop the question is about: nearest to the asked instant, else the latest in the window."""
        return primary_drop(self.window_drops, self.anchor)

    def drops_between(self, start: float, end: float) -> list[Drop]:
        """Drops that began within [start, end], oldest first."""
        return self.timeline.drops_between(start, end)

    def near(self, kinds: Iterable[EventKind], ts: float, before: float, after: float) -> list[Event]:
        """Rows of the given kinds within [ts - before, ts + after], oldest first."""
        return self.timeline.between(ts - before, ts + after, list(kinds))

    def fmt(self, ts: float, seconds: bool = True) -> str:
        """`15:02:03 CET (14:02:03 UTC)` in the asker's zone, or just UTC when that is the zone."""
        return local_and_utc(ts, self.tz, seconds=seconds)
