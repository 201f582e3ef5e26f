"""What a daily summary is made of: per tunnel, the day's outages, their causes and how that compares.

The JSON contract of `vpnbot summary --format json` (docs/summaries.md) is a projection of `DaySummary`: `name`,
`drops`, `downtime_s`, `longest_outage_s`, `uptime_pct`, `causes`, `no_logs` per tunnel; the other fields extend it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise

from diagnostics.model import QueryRecord
from diagnostics.traffic.daily import DayTraffic


@dataclass(frozen=True)
class Outage:
    """One stretch of downtime, clipped to the day (epoch seconds)."""

    start: float
    end: float
    cause: str  # the rule engine's primary cause code for the drop that started it
    ongoing: bool = False  # still down when the day (or the data) ended
    began_before: bool = False  # the tunnel was already down when the day began
    path: str = ""  # AWS: the tunnel's outside IP (a connection has two tunnels); "" for Azure

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Marker:
    """Something worth a mark on the picture: a maintenance or a configuration change (epoch seconds)."""

    ts: float
    kind: str  # "maintenance" | "config_change"
    text: str = ""


@dataclass
class Baseline:
    """The previous days' average, for "more drops than usual"."""

    days: int  # how many of the previous days had data
    drops: float  # average drops a day
    downtime_s: float | None = None  # average downtime a day, when the source gives it cheaply


@dataclass
class TunnelDay:
    name: str
    provider: str  # "azure" | "aws"
    seconds_in_day: float  # 86,400; 82,800 or 90,000 on a DST change; less for today so far
    outages: list[Outage] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    no_logs: bool = False  # not a single row for this tunnel: logging is broken, which is not "healthy"
    flapping: bool = False
    #: Independent paths that must all be down for an outage: 2 for an AWS connection (two tunnels), else 1.
    paths: int = 1
    baseline: Baseline | None = None
    #: Bytes each way over the day and the days before, from the gateway's metrics (None: not read)
    traffic: DayTraffic | None = None

    @property
    def idle_all_day(self) -> bool:
        """Connected the whole day, carrying nothing, while it normally carries traffic (docs/summaries.md#traffic)."""
        return (self.traffic is not None and self.traffic.idle and self.traffic.usual and not self.no_logs
                and not self.outages)

    def down_intervals(self) -> list[tuple[float, float]]:
        """When traffic could not pass: every path down at once (merged, oldest first)."""
        return self._stretches(down=True)

    def exposed_intervals(self) -> list[tuple[float, float]]:
        """AWS: when some but not all tunnels were down: no outage, but no redundancy either."""
        return self._stretches(down=False)

    def _stretches(self, down: bool) -> list[tuple[float, float]]:
        """A sweep over the outage edges: the stretches where all paths (`down`) or only some were down."""
        edges = sorted({o.start for o in self.outages} | {o.end for o in self.outages})
        out: list[tuple[float, float]] = []
        for a, b in pairwise(edges):
            n = len({o.path for o in self.outages if o.start <= a and o.end >= b})
            if n == 0 or (n >= self.paths) != down:
                continue
            if out and out[-1][1] == a:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out

    @property
    def drops(self) -> int:
        """Drops that began during the day (an outage carried over from yesterday is downtime, not a drop)."""
        return sum(1 for o in self.outages if not o.began_before)

    @property
    def downtime_s(self) -> int:
        return round(sum(b - a for a, b in self.down_intervals()))

    @property
    def longest_outage_s(self) -> int:
        return round(max((b - a for a, b in self.down_intervals()), default=0.0))

    @property
    def exposure_s(self) -> int:
        return round(sum(b - a for a, b in self.exposed_intervals()))

    @property
    def uptime_pct(self) -> float:
        if self.seconds_in_day <= 0:
            return 100.0
        return round(100.0 * max(0.0, 1.0 - self.downtime_s / self.seconds_in_day), 2)

    @property
    def causes(self) -> dict[str, int]:
        """Cause code -> number of drops, most frequent first (ties by code, so output is stable)."""
        counts = Counter(o.cause for o in self.outages if not o.began_before)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def troubled(self) -> bool:
        return bool(self.outages) or self.no_logs or self.flapping or self.exposure_s > 0 or self.idle_all_day


@dataclass
class DaySummary:
    day: date
    zone: str  # IANA zone the day is local to
    start: datetime  # local midnight, as an aware UTC datetime
    end: datetime  # the next local midnight (or now, for today)
    tunnels: list[TunnelDay] = field(default_factory=list)
    queries: list[QueryRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # sources that failed, in words
    unknown: list[str] = field(default_factory=list)  # tunnels not summarised because their source failed

    def ordered(self) -> list[TunnelDay]:
        """Troubled tunnels first (most downtime, then most drops), then the healthy ones by name."""
        return sorted(self.tunnels, key=lambda t: (not t.troubled, -t.downtime_s, -t.drops, not t.no_logs, t.name))
