"""Shared reading of the IKE negotiations for the negotiation rules (not a rule itself).

docs/sources.md#azure-ike-log: "If the IPsec tunnel fails to establish, Azure keeps retrying every few seconds. …
you could just zoom into one "sample" failing negotiation at any time". So the rules look at the negotiations of
the period the tunnel was down, grouped by how they ended, and explain the largest group from one sample, saying
"this failed N times since HH:MM, the same way".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from diagnostics.azure.negotiation import LEAD, Negotiation, NegotiationGroup
from diagnostics.model import Event, EventKind
from diagnostics.rules.support.context import RuleContext
from diagnostics.timeline import down_period as timeline_down_period


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
    """When the tunnel was down in the window asked about (`diagnostics.timeline.down_period`)."""
    return timeline_down_period(ctx.timeline, ctx.start, ctx.end, ctx.anchor)


def runs(ctx: RuleContext, period: tuple[float, float],
         accept: Callable[[NegotiationGroup], bool]) -> list[FailureRun]:
    """Groups of negotiations that started in the period and that `accept` takes, the largest first."""
    summary = ctx.ike
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
    summary = ctx.ike
    return [g for g, _ in summary.groups_between(period[0] - LEAD, period[1])] if summary else []


def sample_rows(ctx: RuleContext, negotiation: Negotiation, limit: int = 10) -> list[Event]:
    """The sample negotiation's rows as events, for evidence."""
    gateway = ctx.tunnel.azure_gateway
    provenance = next((e.provenance for e in ctx.timeline.events if e.provenance is not None), None)
    rows = (negotiation.rows or [])[:limit]
    return [Event(ts, "azure", "IKEDiagnosticLog", EventKind.IKE, "", gateway, message,
                  remote_ip=negotiation.remote_ip, provenance=provenance) for ts, message in rows]
