"""maintenance_failover: platform maintenance moved the tunnel from one gateway instance to the other.

Detects: a disconnect on one instance followed within seconds by a connect on the OTHER instance
(docs/sources.md#azure-failover: "it indicates a gateway failover"), with a maintenance record on the same gateway:
GatewayDiagnosticLog `HostMaintenanceEvent` or the Message "Upgrade gateway started"
(docs/sources.md#azure-maintenance). Maintenance reaches both instances in turn, so two outages tens of minutes
apart are expected (docs/sources.md#azure-maintenance: "数十分間隔で 2 度の通信断"); the second one is recognised as
part of the same maintenance.

Why it matters: nothing is broken on either side; the right action is none, or a more redundant design.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Drop, EventKind, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext
from diagnostics.timefmt import duration_text, short_instance

#: Planned failover restores in 10–15 s, unplanned within 1–1.5 min (docs/sources.md#azure-failover; the page's
#: earlier wording, it now says 1 to 3 minutes in the worst case).
FAILOVER_MAX_SECONDS = 90
#: How far before a drop a maintenance record still explains it (it is logged when maintenance starts).
MARKER_BEFORE = 60 * 60
MARKER_AFTER = 5 * 60
#: The two failovers of one maintenance are "tens of minutes" apart (docs/sources.md#azure-maintenance).
SECOND_FAILOVER_WITHIN = 90 * 60


def is_failover(drop: Drop) -> bool:
    return drop.switched_instance and (drop.duration or 0) <= FAILOVER_MAX_SECONDS


def instance_unknown(drop: Drop) -> bool:
    """The logs do not say on which instance the tunnel went down or came back (an export without `instance_s`)."""
    return drop.up is not None and not (drop.down.instance and drop.up.instance)


def maybe_failover(drop: Drop) -> bool:
    """A reconnect within a failover's time whose instances are not logged: it may have switched."""
    return instance_unknown(drop) and (drop.duration or 0) <= FAILOVER_MAX_SECONDS


def maintenance_markers(ctx: RuleContext, drop: Drop):
    return ctx.near([EventKind.MAINTENANCE], drop.down_ts, MARKER_BEFORE, MARKER_AFTER)


def earlier_failover(ctx: RuleContext, drop: Drop) -> Drop | None:
    """The first failover of the same maintenance: the opposite switch shortly before this one."""
    for other in reversed(ctx.drops_between(drop.down_ts - SECOND_FAILOVER_WITHIN, drop.down_ts)):
        if other is not drop and is_failover(other) and other.up_instance == drop.down_instance:
            return other
    return None


def later_failover(ctx: RuleContext, drop: Drop) -> Drop | None:
    for other in ctx.drops_between(drop.down_ts, drop.down_ts + SECOND_FAILOVER_WITHIN):
        if other is not drop and is_failover(other) and other.down_instance == drop.up_instance:
            return other
    return None


def maintenance_failover(ctx: RuleContext, drop: Drop) -> Finding | None:
    unknown = maybe_failover(drop)
    if not is_failover(drop) and not unknown:
        return None
    first = None if unknown else earlier_failover(ctx, drop)
    markers = maintenance_markers(ctx, drop) or (maintenance_markers(ctx, first) if first else [])
    if not markers:
        return None
    marker = markers[0]
    what = marker.operation or "maintenance"
    said = f": {marker.message!r}" if marker.message else ""
    during = (f"while the gateway {drop.down.gateway} was under platform maintenance ({what}{said} at "
              f"{ctx.fmt(marker.ts)}).")
    if unknown:
        parts = [f"The tunnel went down at {ctx.fmt(drop.down_ts)} and came back {duration_text(drop.duration)} "
                 f"later, {during}",
                 "The logs do not say on which gateway instance (no instance column), but a reconnect within "
                 "seconds during maintenance is the failover Azure makes to the standby instance."]
    else:
        parts = [
            f"The tunnel went down on {short_instance(drop.down_instance)} at {ctx.fmt(drop.down_ts)} and came back "
            f"on the other instance, {short_instance(drop.up_instance)}, {duration_text(drop.duration)} later, "
            f"{during}",
            "Azure moves tunnels to the standby instance while it maintains the active one.",
        ]
    evidence = [marker, drop.down, drop.up]
    if first is not None:
        parts.append(
            f"This is the second failover of that maintenance: the first moved the tunnel "
            f"{short_instance(first.down_instance)} → {short_instance(first.up_instance)} at {ctx.fmt(first.down_ts)}."
        )
        evidence = [marker, first.down, first.up, drop.down, drop.up]
    elif not unknown:
        second = later_failover(ctx, drop)
        if second is not None:
            parts.append(
                f"The second failover of the same maintenance followed at {ctx.fmt(second.down_ts)} "
                f"({short_instance(second.down_instance)} → {short_instance(second.up_instance)}, "
                f"{duration_text(second.duration)})."
            )
            evidence += [second.down, second.up]
        else:
            parts.append("Maintenance reaches both instances in turn: expect a second, equally short failover "
                         "back to the first instance tens of minutes later.")
    return Finding(
        cause=Cause.MAINTENANCE_FAILOVER,
        confidence=Confidence.MEDIUM if unknown else Confidence.HIGH,
        title="Platform maintenance: gateway failover" + (" (second of two)" if first else ""),
        explanation=" ".join(parts),
        advice=("Nothing to fix on either side. Azure maintains gateways about once or twice a month without "
                "notice; if short outages matter, use an active-active gateway with BGP, and consider "
                "customer-controlled maintenance (it covers gateway software updates only)."),
        evidence=[e for e in evidence if e is not None],
        drop=drop,
    )


RULE = Rule(
    id="maintenance_failover", cause=Cause.MAINTENANCE_FAILOVER, kind=Kind.DROP,
    priority=20, provider="azure", origin=True,
    detects="a switch to the other gateway instance within seconds while the gateway was under platform maintenance",
    sources=("azure-maintenance", "azure-failover"), check=maintenance_failover,
)
