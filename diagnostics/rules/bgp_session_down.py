"""bgp_session_down: the BGP session over the tunnel dropped (routes withdrawn).

Detects: RouteDiagnosticLog `BgpDisconnectedEvent` (docs/sources.md#azure-columns). Together with a
tunnel drop the tunnel is the cause and BGP the effect ("BGP session flapping often mirrors IPsec tunnel flapping");
alone, the usual causes are the hold timer (keepalive 60 s, hold 180 s), more than 4,000 prefixes from the device
("Azure drops the BGP session entirely"), or TCP 179 being blocked. "A pattern of BgpConnectedEvent followed
quickly by BgpDisconnectedEvent indicates the session is being established but then dropped" (all verbatim from
Microsoft's BGP troubleshooting article, docs/sources.md#azure-bgp).

Why it matters: a BGP drop without a tunnel drop is a routing problem, not an IPsec one.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, EventKind, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext

WITH_TUNNEL = 120.0  # a BGP drop this close to a tunnel drop is its effect
QUICK_DROP = 300.0  # connected then disconnected within this: "established but then dropped"


def bgp_session_down(ctx: RuleContext) -> Finding | None:
    downs = [e for e in ctx.near([EventKind.BGP_DOWN], ctx.start, 0, ctx.end - ctx.start) if _mine(ctx, e.message)]
    if not downs:
        return None
    first = downs[0]
    tunnel_drop = next((d for d in ctx.drops if abs(d.down_ts - first.ts) <= WITH_TUNNEL), None)
    if tunnel_drop is not None:
        return Finding(
            cause=Cause.BGP_SESSION_DOWN,
            confidence=Confidence.LOW,
            title="BGP went down with the tunnel (an effect)",
            explanation=(f"The BGP session dropped at {ctx.fmt(first.ts)}, with the tunnel drop at "
                         f"{ctx.fmt(tunnel_drop.down_ts)}: routes over the tunnel were withdrawn because the tunnel "
                         "went down, not the other way round."),
            advice="Fix the tunnel drop; BGP re-establishes on its own once the tunnel is up.",
            evidence=[first, tunnel_drop.down],
        )
    ups = ctx.near([EventKind.BGP_UP], first.ts, QUICK_DROP, 0)
    quick = bool(ups) and first.ts - ups[-1].ts <= QUICK_DROP
    text = f"The BGP session dropped at {ctx.fmt(first.ts)} while the tunnel stayed up"
    text += f" ({len(downs)} times in the window)." if len(downs) > 1 else "."
    if quick:
        text += (f" It had connected at {ctx.fmt(ups[-1].ts)}: a session established and then dropped points to "
                 "the hold timer, the prefix limit or a policy on the device.")
    if first.message:
        text += f" Logged: {first.message!r}."
    return Finding(
        cause=Cause.BGP_SESSION_DOWN,
        confidence=Confidence.HIGH if len(downs) > 1 or quick else Confidence.MEDIUM,
        title="BGP session down (tunnel up)",
        explanation=text,
        advice=("Check the device's BGP log for the notification it sent or received: hold timer expiry (Azure: "
                "keepalive 60 s, hold 180 s), more than 4,000 prefixes advertised to Azure (Azure then drops the "
                "session), the BGP peer addresses and ASNs, and that TCP 179 is allowed inside the tunnel."),
        evidence=[*ups[-1:], *downs[:5]],
    )


def _mine(ctx: RuleContext, message: str) -> bool:
    """With `bgp_peer_ip` in the tunnel's config, only that peer's events count; otherwise the gateway's."""
    peer = str(ctx.tunnel.extra.get("bgp_peer_ip", ""))
    return not peer or peer in message


RULE = Rule(
    id="bgp_session_down", cause=Cause.BGP_SESSION_DOWN, kind=Kind.WINDOW, priority=10, provider="azure",
    detects="the BGP session over the tunnel dropped, alone or with the tunnel",
    sources=("azure-bgp",), check=bgp_session_down,
)
