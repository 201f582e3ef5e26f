"""What every rule sees: one tunnel's timeline, the window asked about, and helpers to look around a drop."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ..events import Event, EventKind
from ..findings import Drop
from ..timefmt import local_and_utc
from ..timeline import Timeline


@dataclass
class RuleContext:
    timeline: Timeline
    start: float  # the window asked about, epoch seconds
    end: float
    now: float
    anchor: float | None = None  # the instant asked about, if any
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))  # the asker's zone, for times in explanations
    rows_in_window: int = 0  # every row the sources returned for the window, before tunnel filtering
    lookaround: list[Drop] = field(default_factory=list)  # drops from a wider look, when the window had none
    latest_row: float | None = None  # newest row the sources returned for this gateway
    coverage: dict[str, int] = field(default_factory=dict)  # rows per category the gateway logged, when looked up

    @property
    def tunnel(self):
        return self.timeline.tunnel

    @property
    def drops(self) -> list[Drop]:
        """Every drop in the fetched range (wider than the window: rules need the context)."""
        return self.timeline.drops

    @property
    def window_drops(self) -> list[Drop]:
        return self.timeline.drops_between(self.start, self.end)

    def primary_drop(self) -> Drop | None:
        """The drop the question is about: nearest to the asked instant, else the latest in the window."""
        drops = self.window_drops
        if not drops:
            return None
        if self.anchor is not None:
            return min(drops, key=lambda d: abs(d.down_ts - self.anchor))
        return drops[-1]

    def drops_between(self, start: float, end: float) -> list[Drop]:
        """Drops that began within [start, end], oldest first."""
        return self.timeline.drops_between(start, end)

    def near(self, kinds: Iterable[EventKind], ts: float, before: float, after: float) -> list[Event]:
        """Rows of the given kinds within [ts - before, ts + after], oldest first."""
        return self.timeline.between(ts - before, ts + after, list(kinds))

    def fmt(self, ts: float, seconds: bool = True) -> str:
        """`15:02:03 CET (14:02:03 UTC)` in the asker's zone, or just UTC when that is the zone."""
        return local_and_utc(ts, self.tz, seconds=seconds)


def short_instance(instance: str) -> str:
    """`GatewayTenantWorker_IN_1` -> `IN_1`: the part people compare."""
    return instance.rsplit("Worker_", 1)[-1] if instance else "?"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "not back yet"
    seconds = round(seconds)
    if seconds < 90:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 90:
        return f"{minutes} min {sec:02d} s" if sec else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
