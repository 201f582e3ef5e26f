"""A tunnel's bytes over one local day, against the days before: for the daily summary (docs/summaries.md#traffic).

Pure: one `Traffic` read over the day and the `BASELINE_DAYS` before it (hourly values), cut at the local midnights
the summary already uses, in; per day totals each way out. "Connected but idle all day" needs three things: the tunnel
was up the whole day (the summary's logs say so), the day carried less than `IDLE_BYTES` both ways together, and the
tunnel *normally* carries traffic: on at least half of the previous days that have metrics, and at least
`MIN_USUAL_DAYS` of them, it carried `IDLE_BYTES` or more. A tunnel that is idle every day (a standby path) is not
flagged; one whose metrics start today has no "normally" yet and is not flagged either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from diagnostics.traffic.model import Metric, Traffic

#: Less than this in a whole day, both ways together, is idle: BGP keepalives and DPD alone stay far below it.
IDLE_BYTES = 1_000_000
#: "Normally carries traffic" needs at least this many previous days with metrics.
MIN_USUAL_DAYS = 2


@dataclass(frozen=True)
class DayTraffic:
    """Bytes one tunnel carried over the day, each way (None: no value that day), and the previous days' totals."""

    bytes_in: float | None
    bytes_out: float | None
    previous: tuple[float, ...] = field(default_factory=tuple)  # both ways, each previous day that has metrics

    @property
    def measured(self) -> bool:
        return self.bytes_in is not None or self.bytes_out is not None

    @property
    def total(self) -> float:
        return (self.bytes_in or 0.0) + (self.bytes_out or 0.0)

    @property
    def idle(self) -> bool:
        return self.measured and self.total < IDLE_BYTES

    @property
    def busy_days(self) -> int:
        return sum(1 for b in self.previous if b >= IDLE_BYTES)

    @property
    def usual(self) -> bool:
        """It normally carries traffic (the module's definition)."""
        return len(self.previous) >= MIN_USUAL_DAYS and self.busy_days * 2 >= len(self.previous)

    @property
    def usual_per_day(self) -> float | None:
        """The previous days' average, both ways (None without previous days)."""
        return sum(self.previous) / len(self.previous) if self.previous else None


def day_traffic(traffic: Traffic, bounds: Sequence[float]) -> DayTraffic:
    """`bounds`: epoch seconds of the local midnights of the previous days, the day's own midnight and its end (the
    summary's `[*local_midnights(start, zone, n), end]`); the last pair is the day, the others its baseline."""
    if len(bounds) < 2:
        raise ValueError("bounds needs at least the day's start and end")
    days = list(pairwise(bounds))

    def sums(metric: Metric) -> list[float | None]:
        series = traffic.get(metric)
        out: list[float | None] = [None] * len(days)
        for t, v in series.points if series is not None else ():
            for i, (a, b) in enumerate(days):
                if a <= t < b:
                    out[i] = (out[i] or 0.0) + v
                    break
        return out

    ins, outs = sums(Metric.BYTES_IN), sums(Metric.BYTES_OUT)
    previous = tuple((i or 0.0) + (o or 0.0) for i, o in zip(ins[:-1], outs[:-1], strict=True)
                     if i is not None or o is not None)
    return DayTraffic(bytes_in=ins[-1], bytes_out=outs[-1], previous=previous)
