"""no_drop_found: no drop in the window; the notes name the nearest drops before and after.

Detects: the tunnel has no disconnect in the window asked about (after the one widening the investigation
does). Names the nearest drop on each side so a person who misremembered the time finds it; TunnelDiagnosticLog
is light enough to look days around (seed 000: "analyze large time ranges over several days with little
effort"). Research §2.2.1 (azure-docs #42859): a phase-2-only loss may leave TunnelDiagnosticLog silent, so the
answer says so rather than claiming the tunnel was fine.

Why it matters: "nothing happened" must be said with what was checked and where the nearest event is.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..findings import Cause, Confidence, Drop, Finding
from ..timefmt import local_range
from .context import RuleContext, duration_text

#: How far around an empty window disconnects are looked up to name the nearest ones.
LOOKAROUND_DAYS = 3


def nearest(ctx: RuleContext) -> tuple[Drop | None, Drop | None]:
    seen = {d.down_ts: d for d in [*ctx.drops, *ctx.lookaround]}
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
    if not before and not after:
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
        rule="no_drop_found",
    )
