"""Daily summaries of several channels due at once, made from one read of the logs (docs/summaries.md#many-channels).

At 09:00 twenty channels may want yesterday's summary, each of its own tunnels. Made one after another, each
would send its own pushed-down query to every Log Analytics workspace and read every AWS log group again, for the
same day. `SharedDays.plan` is told every run due at once; the first channel of a (day, zone) group to be posted
makes the summary of the union of the group's tunnels (one query per workspace, one read per log group), and every
channel gets that summary narrowed to its own tunnels (`narrowed`), which is the summary it would have had alone:
each tunnel's day is computed from its own rows, whatever else the query covered.

    shared = SharedDays(registry, sources, clock)
    shared.plan([(day, zone, ["paris"]), (day, zone, None)])
    shared.summary(day, zone, ["paris"])   # made once for both, narrowed to paris
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from diagnostics.sources import Sources
from diagnostics.summary.build import SummaryError, summarize_day
from diagnostics.summary.model import DaySummary
from diagnostics.tunnels import TunnelRegistry, UnknownTunnel

Wanted = tuple[date, ZoneInfo, Sequence[str] | None]


@dataclass
class _Group:
    """The runs of one (day, zone) due at once: the union of their tunnels (None: every tunnel)."""

    names: frozenset[str] | None
    summary: DaySummary | None = None
    failed: bool = False  # the union could not be made: each channel makes its own (and meets its own error)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: The narrowed summaries given so far, by tunnels: channels of the same tunnels get the same one (and picture).
    narrowed: dict[frozenset[str] | None, DaySummary] = field(default_factory=dict)


class SharedDays:
    """The union summaries of the runs planned together; thread-safe (one group is made once, the others wait)."""

    def __init__(self, registry: TunnelRegistry, sources: Sources, clock: Callable[[], datetime]) -> None:
        self.registry = registry
        self.sources = sources
        self.clock = clock
        self._groups: dict[tuple[date, str], _Group] = {}
        self._lock = threading.Lock()
        self._drawn: dict[int, tuple[DaySummary, bytes]] = {}
        self.made = 0  # union summaries made (for the logs and the tests)

    def plan(self, wanted: Iterable[Wanted]) -> None:
        """The runs due now: replaces the previous plan (a retry later reads again, the logs may have grown)."""
        groups: dict[tuple[date, str], _Group] = {}
        for day, zone, tunnels in wanted:
            try:
                names = self.resolve(tunnels)
            except UnknownTunnel:
                continue  # made alone, where the unknown name is said as before
            key = (day, zone.key)
            known = groups.get(key)
            if known is None:
                groups[key] = _Group(names)
            elif known.names is not None:
                known.names = None if names is None else known.names | names
        with self._lock:
            self._groups = groups
            self._drawn = {}

    def summary(self, day: date, zone: ZoneInfo, tunnels: Sequence[str] | None) -> DaySummary:
        """The summary of `day` in `zone` for `tunnels` (None: every tunnel): narrowed from its group's union when it
        was planned, else made alone."""
        wanted = self.resolve(tunnels)
        with self._lock:
            group = self._groups.get((day, zone.key))
        if group is None or (group.names is not None and (wanted is None or not wanted <= group.names)):
            return summarize_day(self.registry, self.sources, day, zone, self.clock(), tunnels)
        with group.lock:
            if group.summary is None and not group.failed:
                try:
                    group.summary = summarize_day(self.registry, self.sources, day, zone, self.clock(),
                                                  sorted(group.names) if group.names is not None else None)
                    self.made += 1
                except (UnknownTunnel, SummaryError):
                    group.failed = True
            if group.summary is None:
                return summarize_day(self.registry, self.sources, day, zone, self.clock(), tunnels)
            if wanted not in group.narrowed:
                group.narrowed[wanted] = narrowed(group.summary, wanted, [t.name for t in self.registry])
            return group.narrowed[wanted]

    def drawn(self, summary: DaySummary, draw: Callable[[DaySummary], bytes]) -> bytes:
        """`draw(summary)`, drawn once for every channel given that same summary (the timeline picture of 1,000
        tunnels costs ~0.3 s)."""
        with self._lock:
            known = self._drawn.get(id(summary))
        if known is not None and known[0] is summary:
            return known[1]
        picture = draw(summary)
        with self._lock:
            self._drawn[id(summary)] = (summary, picture)
        return picture

    def resolve(self, tunnels: Sequence[str] | None) -> frozenset[str] | None:
        """The tunnels' names (None: every tunnel, as "all" or nothing means)."""
        if not tunnels or any(n.lower() == "all" for n in tunnels):
            return None
        return frozenset(self.registry.resolve(n).name for n in tunnels)


def narrowed(summary: DaySummary, names: frozenset[str] | None, every: Sequence[str]) -> DaySummary:
    """`summary` with only the tunnels `names` (None: all of them). A note or failure naming another tunnel is left
    out: a channel limited to some tunnels is not told about the others."""
    if names is None:
        return summary
    others = [n for n in every if n not in names]
    pattern = re.compile("|".join(rf"(?<![\w-]){re.escape(n)}(?![\w-])" for n in others)) if others else None

    def ours(text: str) -> bool:
        return pattern is None or not pattern.search(text)

    return DaySummary(day=summary.day, zone=summary.zone, start=summary.start, end=summary.end,
                      tunnels=[t for t in summary.tunnels if t.name in names], queries=list(summary.queries),
                      notes=[n for n in summary.notes if ours(n)], failures=[f for f in summary.failures if ours(f)],
                      unknown=[n for n in summary.unknown if n in names])
