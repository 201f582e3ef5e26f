"""gateway_failover: the tunnel switched gateway instance within seconds and no maintenance was recorded.

Detects: a disconnect on one instance and a connect on the other within a failover's time
(docs/sources.md#azure-failover: "The same behavior is observed if you intentionally run a Gateway Reset on the
Azure side"), with no HostMaintenanceEvent or "Upgrade gateway started" nearby. docs/sources.md#azure-maintenance
warns that not every maintenance is logged, so the finding names both possibilities instead of guessing one.

Why it matters: the on-premises side is not at fault; whether someone reset the gateway decides what to do next.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Drop, EventKind, Finding
from diagnostics.rules.maintenance_failover import FAILOVER_MAX_SECONDS, maintenance_failover, maybe_failover
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.support.reasons import Reason, classify_reason
from diagnostics.timefmt import duration_text, short_instance

PRIMARY_CHANGE_WINDOW = 5 * 60


def gateway_failover(ctx: RuleContext, drop: Drop) -> Finding | None:
    standby = classify_reason(drop.down.reason) is Reason.STANDBY
    if standby and maybe_failover(drop) and maintenance_failover(ctx, drop) is None:
        return standby_failover(ctx, drop)
    if not drop.switched_instance or maintenance_failover(ctx, drop) is not None:
        return None
    slow = (drop.duration or 0) > FAILOVER_MAX_SECONDS
    primary_changes = ctx.near([EventKind.PRIMARY_CHANGED], drop.down_ts, PRIMARY_CHANGE_WINDOW, PRIMARY_CHANGE_WINDOW)
    text = (
        f"The tunnel went down on {short_instance(drop.down_instance)} at {ctx.fmt(drop.down_ts)} and came back on "
        f"{short_instance(drop.up_instance)} {duration_text(drop.duration)} later: the gateway failed over to its "
        f"other instance. No maintenance was recorded for {drop.down.gateway} in the hour before, so this was "
        "either maintenance that was not logged (not all maintenance is) or a reset of the gateway."
    )
    if primary_changes:
        text += f" The gateway logged a primary-instance change at {ctx.fmt(primary_changes[0].ts)}."
    if slow:
        text += (f" The switch took {duration_text(drop.duration)}, longer than the 10–90 s of a normal failover, "
                 "so something else may have delayed the reconnect.")
    return Finding(
        cause=Cause.GATEWAY_FAILOVER,
        confidence=Confidence.LOW if slow else Confidence.MEDIUM,
        title="Gateway failover with no maintenance record",
        explanation=text,
        advice=("Check the gateway's Activity Log for 'Reset Virtual Network Gateway' around that time. If nobody "
                "reset it, treat it as unlogged platform maintenance; if it repeats, open a case with Azure "
                "support with the times of each failover."),
        evidence=[*primary_changes[:1], drop.down, *([drop.up] if drop.up else [])],
        drop=drop,
    )


def standby_failover(ctx: RuleContext, drop: Drop) -> Finding:
    """The instances are not logged, but the disconnect's reason says the standby instance took over."""
    return Finding(
        cause=Cause.GATEWAY_FAILOVER,
        confidence=Confidence.MEDIUM,
        title="Gateway failover (the disconnect's reason names the standby instance)",
        explanation=(f"The tunnel went down at {ctx.fmt(drop.down_ts)} with the reason {drop.down.reason!r} and came "
                     f"back {duration_text(drop.duration)} later: Azure gives that reason when the standby instance "
                     "takes over, for maintenance or a reset of the gateway. The logs do not say on which instances "
                     f"(no instance column), and no maintenance was recorded for {drop.down.gateway} in the hour "
                     "before, so this was maintenance that was not logged or a reset."),
        advice=("Check the gateway's Activity Log for 'Reset Virtual Network Gateway' around that time; if nobody "
                "reset it, treat it as unlogged platform maintenance."),
        evidence=[drop.down, *([drop.up] if drop.up else [])],
        drop=drop,
    )


RULE = Rule(
    id="gateway_failover", cause=Cause.GATEWAY_FAILOVER, kind=Kind.DROP, priority=50, provider="azure", origin=True,
    detects="a switch to the other gateway instance within seconds with no maintenance record",
    sources=("azure-failover", "azure-maintenance"), check=gateway_failover,
)
