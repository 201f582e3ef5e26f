"""no_drop_found: no drop in the window; the notes name the nearest drops before and after.

Detects: the tunnel has no disconnect in the window asked about (after the one widening the investigation
does). Names the nearest drop on each side so a person who misremembered the time finds it; TunnelDiagnosticLog
is light enough to look days around (docs/sources.md#azure-tunnel-log: "analyze large time ranges over several
days with little effort"). docs/sources.md#azure-phase2-only-loss (azure-docs #42859): a phase-2-only loss may leave
TunnelDiagnosticLog silent, so the answer says so rather than claiming the tunnel was fine.

Why it matters: "nothing happened" must be said with what was checked and where the nearest event is.
"""

from __future__ import annotations

from datetime import UTC, datetime

from diagnostics.model import Cause, Confidence, Drop, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.aws import tunnel_label
from diagnostics.rules.support.context import RuleContext
from diagnostics.timefmt import duration_text, local_range
from diagnostics.timeline import LOOKAROUND_DAYS


def nearest(ctx: RuleContext) -> tuple[Drop | None, Drop | None]:
    """The drops nearest to the window on each side, from the context read and the wider look (if one was made)."""
    seen = {d.down_ts: d for d in [*ctx.drops, *(ctx.lookaround or [])]}
    before = [d for ts, d in sorted(seen.items()) if ts < ctx.start]
    after = [d for ts, d in sorted(seen.items()) if ts > ctx.end]
    return (before[-1] if before else None), (after[0] if after else None)


def describe(ctx: RuleContext, drop: Drop) -> str:
    return f"{ctx.fmt(drop.down_ts, seconds=False)} on {drop.down.time.strftime('%Y-%m-%d')} " \
           f"(outage {duration_text(drop.duration)})"


def no_drop_found(ctx: RuleContext) -> Finding | None:
    if ctx.window_drops:
        return None
    before, after = nearest(ctx)
    window = local_range(datetime.fromtimestamp(ctx.start, UTC), datetime.fromtimestamp(ctx.end, UTC), ctx.tz)
    parts = [f"No disconnect of {ctx.tunnel.name} was logged in {window}."]
    if before:
        parts.append(f"Nearest drop before: {describe(ctx, before)}.")
    if after:
        parts.append(f"Nearest drop after: {describe(ctx, after)}.")
    if not before and not after and ctx.lookaround is not None:
        parts.append(f"No other drop was logged within {LOOKAROUND_DAYS} days either side.")
    parts.append("A loss of phase 2 only can leave the tunnel logged as connected while traffic stops.")
    return Finding(
        cause=Cause.NO_DROP_FOUND,
        confidence=Confidence.HIGH if ctx.timeline.tunnel_rows or ctx.rows_in_window else Confidence.MEDIUM,
        title="No drop found in that window",
        explanation=" ".join(parts),
        advice=("If users saw an outage then, ask about the nearest drop, or check whether traffic (not the tunnel) "
                "failed: routes, NSGs, or a phase-2 SA loss (Tunnel QMSA Count metric)."),
        evidence=[d.down for d in (before, after) if d is not None],
    )


RULE = Rule(
    id="no_drop_found", cause=Cause.NO_DROP_FOUND, kind=Kind.WINDOW, priority=40, provider="azure",
    detects="no drop in the window; names the nearest drops before and after",
    sources=("azure-phase2-only-loss",), check=no_drop_found,
)


def aws_no_drop_found(ctx: RuleContext) -> Finding | None:
    """The same answer for an AWS connection, whose two tunnels are named apart."""
    if ctx.primary_drop() is not None:
        return None
    before, after = nearest(ctx)
    window = local_range(datetime.fromtimestamp(ctx.start, UTC), datetime.fromtimestamp(ctx.end, UTC), ctx.tz)
    parts = [f"No tunnel of {ctx.tunnel.name} ({ctx.tunnel.aws_vpn_connection}) went down in {window}."]
    for label, drop in (("before", before), ("after", after)):
        if drop is not None:
            parts.append(f"Nearest drop {label}: {tunnel_label(ctx, drop.down.instance)} at "
                         f"{ctx.fmt(drop.down_ts, seconds=False)} on {drop.down.time:%Y-%m-%d} (outage "
                         f"{duration_text(drop.duration)}).")
    if before is None and after is None and ctx.lookaround is not None:
        parts.append(f"No other drop was logged within {LOOKAROUND_DAYS} days either side.")
    return Finding(
        cause=Cause.NO_DROP_FOUND,
        confidence=Confidence.HIGH if ctx.rows_in_window or ctx.timeline.events else Confidence.MEDIUM,
        title="No drop found in that window", explanation=" ".join(parts),
        advice=("If users saw an outage then, ask about the nearest drop, or check routing (route tables, BGP "
                "routes, security groups) and the TunnelState metric of both tunnels."),
        evidence=[d.down for d in (before, after) if d is not None])


AWS_RULE = Rule(
    id="aws.no_drop_found", cause=Cause.NO_DROP_FOUND, kind=Kind.WINDOW, priority=140, provider="aws",
    detects="no tunnel of the AWS connection went down in the window; names the nearest drops",
    sources=("aws-log-fields",), check=aws_no_drop_found,
)
