"""Shared reading of the IKE negotiations for the negotiation rules (not a rule itself).

Seed 000: "If the IPsec tunnel fails to establish, Azure keeps retrying every few seconds … the failure will in
theory always be the same every time we try so you could just zoom into one 'sample' failing negotiation". So the
rules look at the negotiations of the period the tunnel was down, group them by how they failed, and explain the
largest group from one sample, saying "this failed N times since HH:MM, the same way".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..azure.negotiation import Negotiation
from ..events import Event, EventKind
from .context import RuleContext

#: An outage shorter than this is a quick reconnect: its negotiations succeeded, nothing to explain.
QUICK_OUTAGE = 60.0


@dataclass
class FailureRun:
    """Negotiations of the period that failed the same way."""

    negotiations: list[Negotiation]

    @property
    def count(self) -> int:
        return len(self.negotiations)

    @property
    def first(self) -> float:
        return self.negotiations[0].start

    @property
    def last(self) -> float:
        return self.negotiations[-1].end

    @property
    def sample(self) -> Negotiation:
        """The latest negotiation whose rows were kept, else the latest."""
        with_rows = [n for n in self.negotiations if n.rows]
        return with_rows[-1] if with_rows else self.negotiations[-1]

    def repeated(self, ctx: RuleContext) -> str:
        if self.count == 1:
            return f"The negotiation at {ctx.fmt(self.first)} failed this way."
        return (f"This failed {self.count} times between {ctx.fmt(self.first, seconds=False)} and "
                f"{ctx.fmt(self.last, seconds=False)}, the same way each time.")


def down_period(ctx: RuleContext) -> tuple[float, float] | None:
    """When the tunnel was down in the window: the primary drop's outage, or the whole window when the tunnel
    had no state change in it and its negotiations failed (it was down before the window began)."""
    drop = ctx.primary_drop()
    if drop is not None:
        end = drop.up_ts if drop.up_ts is not None else ctx.end
        return (drop.down_ts, end) if end - drop.down_ts >= QUICK_OUTAGE or drop.up is None else None
    if not ctx.timeline.tunnel_rows or all(r.ts < ctx.start or r.ts > ctx.end for r in ctx.timeline.tunnel_rows):
        return ctx.start, ctx.end
    return None


def negotiations_in(ctx: RuleContext, period: tuple[float, float]) -> list[Negotiation]:
    summary = ctx.timeline.ike
    if summary is None:
        return []
    lo, hi = period
    return [n for n in summary.negotiations if lo - 5 <= n.start <= hi]


def runs(negotiations: Iterable[Negotiation], accept: Callable[[Negotiation], bool]) -> list[FailureRun]:
    """Failed negotiations for which `accept(n)` holds, grouped by signature, the largest group first."""
    groups: dict[tuple[str, str], list[Negotiation]] = {}
    for n in negotiations:
        if accept(n):
            groups.setdefault(n.signature, []).append(n)
    return sorted((FailureRun(g) for g in groups.values()), key=lambda r: -r.count)


def sample_rows(ctx: RuleContext, negotiation: Negotiation, limit: int = 10) -> list[Event]:
    """The sample negotiation's rows as events, for evidence."""
    gateway = ctx.tunnel.azure_gateway
    provenance = next((e.provenance for e in ctx.timeline.events if e.provenance is not None), None)
    return [Event(ts, "azure", "IKEDiagnosticLog", EventKind.IKE, "", gateway, message,
                  remote_ip=negotiation.remote_ip, provenance=provenance) for ts, message in negotiation.rows[:limit]]
