"""Shared reading of the IKE negotiations for the negotiation rules (not a rule itself).

Seed 000: "If the IPsec tunnel fails to establish, Azure keeps retrying every few seconds … the failure will in
theory always be the same every time we try so you could just zoom into one 'sample' failing negotiation". So the
rules look at the negotiations of the period the tunnel was down, grouped by how they ended, and explain the largest
group from one sample, saying "this failed N times since HH:MM, the same way".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..azure.negotiation import Negotiation, NegotiationGroup
from ..events import Event, EventKind
from .context import RuleContext

#: An outage shorter than this is a quick reconnect: its negotiations succeeded, nothing to explain.
QUICK_OUTAGE = 60.0
#: Negotiations that began this long before the drop still belong to the outage (logging is not atomic).
LEAD = 5.0


@dataclass
class FailureRun:
    """The negotiations of one group that started in the period."""

    group: NegotiationGroup
    count: int
    first: float
    last: float

    @property
    def sample(self) -> Negotiation:
        return self.group.representative

    def repeated(self, ctx: RuleContext) -> str:
        if self.count == 1:
            return f"The negotiation at {ctx.fmt(self.first)} failed this way."
        return (f"This failed {self.count} times between {ctx.fmt(self.first, seconds=False)} and "
                f"{ctx.fmt(self.last, seconds=False)}, the same way each time.")


def down_period(ctx: RuleContext) -> tuple[float, float] | None:
    """When the tunnel was down in the window: the primary drop's outage, or the whole window when the tunnel
    had no state change in it (it was down, or never up, before the window began)."""
    drop = ctx.primary_drop()
    if drop is not None:
        end = drop.up_ts if drop.up_ts is not None else ctx.end
        return (drop.down_ts, end) if drop.up is None or end - drop.down_ts >= QUICK_OUTAGE else None
    if not any(ctx.start <= r.ts <= ctx.end for r in ctx.timeline.tunnel_rows):
        return ctx.start, ctx.end
    return None


def runs(ctx: RuleContext, period: tuple[float, float],
         accept: Callable[[NegotiationGroup], bool]) -> list[FailureRun]:
    """Groups of negotiations that started in the period and that `accept` takes, the largest first."""
    summary = ctx.timeline.ike
    if summary is None:
        return []
    lo, hi = period[0] - LEAD, period[1]
    found = []
    for group, count in summary.groups_between(lo, hi):
        if accept(group):
            first, last = group.starts_between(lo, hi) or (lo, hi)
            found.append(FailureRun(group, count, first, last))
    return found


def groups_in(ctx: RuleContext, period: tuple[float, float]) -> list[NegotiationGroup]:
    summary = ctx.timeline.ike
    return [g for g, _ in summary.groups_between(period[0] - LEAD, period[1])] if summary else []


def sample_rows(ctx: RuleContext, negotiation: Negotiation, limit: int = 10) -> list[Event]:
    """The sample negotiation's rows as events, for evidence."""
    gateway = ctx.tunnel.azure_gateway
    provenance = next((e.provenance for e in ctx.timeline.events if e.provenance is not None), None)
    rows = (negotiation.rows or [])[:limit]
    return [Event(ts, "azure", "IKEDiagnosticLog", EventKind.IKE, "", gateway, message,
                  remote_ip=negotiation.remote_ip, provenance=provenance) for ts, message in rows]
