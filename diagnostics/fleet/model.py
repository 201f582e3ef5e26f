"""What a fleet status is made of: per tunnel, its state now (up, down since when and why so far, no logs, unknown),
whether it is flapping now, and the drops of the period asked about with their causes.

The JSON answer of `vpnbot status --format json` (docs/asking.md#status) is a projection of `FleetStatus`: each
`TunnelStatus` becomes one answer of schema 1 under `"tunnels"`, with its `state`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from diagnostics.model import Drop, Finding, QueryRecord
from diagnostics.rules.flapping import MIN_DROPS
from diagnostics.tunnels import Tunnel

UP, DOWN, NO_LOGS, UNKNOWN = "up", "down", "no_logs", "unknown"
#: "Flapping now" looks at this last stretch: as many drops as the flapping rule needs (3) within it.
RECENT = timedelta(hours=1)
FLAPPING_DROPS = MIN_DROPS


@dataclass(frozen=True)
class SeenDrop:
    """One drop with the finding an answer about it puts first (its primary cause)."""

    drop: Drop
    finding: Finding | None

    @property
    def cause(self) -> str:
        return self.finding.cause.value if self.finding else ""


@dataclass
class PathState:
    """One of an AWS connection's two tunnels, named by its outside IP."""

    path: str
    state: str  # UP | DOWN | NO_LOGS
    since: float | None = None  # when it entered that state; None: it already was when the read began


@dataclass
class TunnelStatus:
    tunnel: Tunnel
    provider: str  # "azure" | "aws": the side read (a link between the two is read on its Azure end)
    state: str = UNKNOWN  # UP | DOWN | NO_LOGS | UNKNOWN
    since: float | None = None  # when it entered its state; None: before `known_from` (or never seen change)
    known_from: float | None = None  # where the state's history that was read begins
    instance: str = ""  # Azure: the gateway instance of the latest state change
    cause: Finding | None = None  # down now (AWS: or one tunnel down): the cause of the outage so far
    drops: list[SeenDrop] = field(default_factory=list)  # drops that began in the period, oldest first
    recent: int = 0  # drops that began within RECENT of now (AWS: of its busiest tunnel)
    paths: list[PathState] = field(default_factory=list)  # AWS: each tunnel of the connection
    last_row: float | None = None  # the newest log row seen for it
    latest_drop: float | None = None  # the latest disconnect seen (Azure: within the state lookback)
    why: str = ""  # UNKNOWN: the source that failed; NO_LOGS: what was looked at
    checked_at: float = 0.0  # the "now" this state is as of (epoch seconds)

    @property
    def name(self) -> str:
        return self.tunnel.name

    @property
    def flapping(self) -> bool:
        return self.recent >= FLAPPING_DROPS

    @property
    def degraded(self) -> bool:
        """AWS: up, but one of its tunnels is not (no redundancy)."""
        return self.state == UP and any(p.state != UP for p in self.paths)

    @property
    def troubled(self) -> bool:
        return self.state != UP or self.flapping or self.degraded or bool(self.drops)

    def rank(self, anchored: bool) -> int:
        """Troubled first: down, flapping, one AWS tunnel down, unknown, no logs, dropped in the period; a question
        about a past instant ("what dropped at 14:02") puts the tunnels that dropped then first."""
        if anchored and self.drops:
            return 0
        if self.state == DOWN:
            return 1
        if self.flapping:
            return 2
        if self.degraded:
            return 3
        if self.state == UNKNOWN:
            return 4
        if self.state == NO_LOGS:
            return 5
        return 6 if self.drops else 9


@dataclass
class FleetStatus:
    start: datetime  # the period asked about (drops that began in it are listed), UTC
    end: datetime
    now: datetime
    anchor: datetime | None = None  # the instant asked about ("what dropped at 14:02"), if any
    tunnels: list[TunnelStatus] = field(default_factory=list)
    queries: list[QueryRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # sources that failed, in words

    def ordered(self) -> list[TunnelStatus]:
        anchored = self.anchor is not None
        return sorted(self.tunnels, key=lambda t: (t.rank(anchored), -len(t.drops), t.name))

    def get(self, name: str) -> TunnelStatus | None:
        return next((t for t in self.tunnels if t.name == name), None)

    @property
    def covers_now(self) -> bool:
        """The period runs up to now ("today", "last hour", "right now"), rather than an earlier stretch."""
        return self.end >= self.now - RECENT
