"""aws_bgp: an AWS tunnel's BGP session went down, by itself or with the tunnel.

Detects: a BGPStatus transition to DOWN. While IPsec stayed up, the BGP messages AWS logged at that moment say why
(Cease 6/N with its RFC 4486 subcode, hold timer expired, bad OPEN: the message table's BGP rows); within seconds of
an IPsec drop of the same tunnel, BGP fell because the tunnel did, which is said but never ranked above the
tunnel's own cause (docs/sources.md#aws-bgp-status).

Why it matters: a BGP drop while IPsec stays up is a routing problem on the device, not an IPsec one.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Drop, EventKind, Finding
from diagnostics.rules.aws_messages import cease_reason
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.aws import (
    SAME_MOMENT,
    STILL_DOWN_LOOK,
    hits_near,
    outage_text,
    tunnel_label,
    unique_sorted,
)
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.unknown import aws_unknown


def bgp_with_tunnel(ctx: RuleContext, drop: Drop) -> Finding | None:
    """BGP fell with the IPsec tunnel: a consequence, said but never ranked above the tunnel's own cause."""
    lo, hi = drop.down_ts - 10, (drop.up_ts or drop.down_ts + STILL_DOWN_LOOK) + 120
    downs = [e for e in ctx.near([EventKind.BGP_DOWN], drop.down_ts, drop.down_ts - lo, hi - drop.down_ts)
             if e.instance == drop.down.instance]
    if not downs:
        return None
    ups = [e for e in ctx.near([EventKind.BGP_UP], downs[0].ts, 0, hi - downs[0].ts) if e.instance == downs[0].instance]
    back = f" and came back at {ctx.fmt(ups[0].ts)}" if ups else ""
    return Finding(
        cause=Cause.BGP_SESSION_DOWN, confidence=Confidence.LOW, title="BGP session dropped with the tunnel",
        explanation=(f"The BGP session over {tunnel_label(ctx, drop.down.instance)} went down at "
                     f"{ctx.fmt(downs[0].ts)}{back}: a consequence of the tunnel drop; the routes learned over it "
                     "were withdrawn meanwhile."),
        advice="Nothing to fix in BGP itself: fix the tunnel drop above.",
        evidence=[downs[0], *ups[:1]], rule=WITH_TUNNEL.id, drop=drop)


def explain_bgp_drop(ctx: RuleContext, drop: Drop) -> list[Finding]:
    """A BGP session that fell while IPsec stayed up."""
    hits = [h for h in hits_near(ctx, drop, bgp=True) if h.event.ts <= drop.down_ts + SAME_MOMENT + 5]
    causal = [h for h in hits if h.rule.cause is Cause.BGP_SESSION_DOWN]
    specific = [h for h in causal if h.rule.key != "bgp_established_to_idle"]
    if not causal:
        return [aws_unknown(ctx, drop)]
    main = (specific or causal)[0]
    where = tunnel_label(ctx, drop.down.instance)
    cease = cease_reason(main.event.message)
    reason = cease[2] if cease else main.rule.meaning
    text = (f"The BGP session over {where} of {ctx.tunnel.name} went down at {ctx.fmt(drop.down_ts)} while IPsec "
            f"stayed up: {reason}. Routes learned over this tunnel were withdrawn, so traffic used the other "
            "tunnel if its session was up. " + outage_text(ctx, drop, "The session"))
    advice = main.rule.advice
    if cease and cease[0] == "1":
        advice = main.rule.advice + " " + "Summarise the routes the device advertises: AWS accepts at most 100."
    return [Finding(
        cause=Cause.BGP_SESSION_DOWN, confidence=Confidence.HIGH if specific else Confidence.MEDIUM,
        title=f"BGP session down{': Cease ' + cease[1] if cease else ''}",
        explanation=text, advice=advice,
        evidence=unique_sorted([*(h.event for h in (specific or causal)[:3]), drop.down,
                                *([drop.up] if drop.up else [])]),
        rule=main.rule.id, drop=drop)]


WITH_TUNNEL = Rule(
    id="aws.bgp_with_tunnel", cause=Cause.BGP_SESSION_DOWN, kind=Kind.DROP, priority=110, provider="aws",
    detects="the BGP session of an AWS tunnel fell with its IPsec tunnel (a consequence, never the primary cause)",
    sources=("aws-bgp-status",), check=bgp_with_tunnel,
)
