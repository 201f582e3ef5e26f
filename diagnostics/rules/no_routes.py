"""no_routes: the BGP session is up, and no route is learned from the peer (or none advertised to it).

Detects: the BGP peer connected (metric `BgpPeerStatus` 1, or the last BGP row of the logs a `BgpConnectedEvent`)
while `BgpRoutesLearned` or `BgpRoutesAdvertised` stayed at 0 over the window (docs/sources.md#azure-vpn-metrics;
the BGP events: docs/sources.md#azure-bgp).

Why it matters: the tunnel and the BGP session both look healthy, yet without a route nothing is sent into the
tunnel: traffic to the site's networks has nowhere to go (nothing learned), or the site does not know the cloud's
networks are behind the tunnel (nothing advertised). It is a prefix problem (filters, a missing `network` statement,
a prefix limit), not an IPsec one.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, EventKind, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.traffic import TrafficContext
from diagnostics.traffic.model import Metric


def no_routes(ctx: TrafficContext) -> Finding | None:
    flow = ctx.flow
    learned, advertised = flow.peak(Metric.ROUTES_LEARNED), flow.peak(Metric.ROUTES_ADVERTISED)
    zero = [name for name, value in (("learned from", learned), ("advertised to", advertised)) if value == 0]
    if not ctx.connected or not zero:
        return None
    peer_up, evidence = _peer_up(ctx)
    if not peer_up:
        return None
    none_learned = learned == 0
    text = (f"The BGP session of {ctx.tunnel.name} is up, but over the window 0 routes were "
            f"{' and 0 '.join(zero)} the peer"
            + (f" ({advertised:.0f} advertised to it)" if none_learned and advertised else "")
            + (f" ({learned:.0f} learned from it)" if not none_learned and learned else "") + ".")
    if none_learned:
        text += (" Without a learned route the gateway has no path to the site's networks, so nothing is sent into "
                 "the tunnel toward them.")
    else:
        text += " The device learns no route to the cloud's networks, so the site sends nothing into the tunnel."
    return Finding(
        cause=Cause.NO_ROUTES,
        confidence=Confidence.HIGH,
        title="BGP up with 0 routes " + (" and ".join("learned" if z.startswith("learned") else "advertised"
                                                     for z in zero)),
        explanation=text,
        advice=("Check the device's BGP configuration: the prefixes it advertises (network statements, "
                "redistribution, outbound route filters or prefix lists), that it accepts the cloud's prefixes "
                "(inbound filters), the peer addresses and ASNs, and that it advertises fewer than 4,000 prefixes to "
                "Azure. In Azure, the connection's effective routes (Get-AzVirtualNetworkGatewayLearnedRoute) show "
                "what the gateway learned."),
        evidence=evidence,
    )


def _peer_up(ctx: TrafficContext) -> tuple[bool, list]:
    """Whether the BGP peer is up in the window: its status metric, else the last BGP row of the logs."""
    status = ctx.flow.peak(Metric.BGP_PEER_UP)
    bgp = [e for e in ctx.events if e.kind in (EventKind.BGP_UP, EventKind.BGP_DOWN) and e.ts <= ctx.end]
    if status is not None:
        return status >= 1, bgp[-1:]
    return bool(bgp) and bgp[-1].kind is EventKind.BGP_UP, bgp[-1:]


RULE = Rule(
    id="no_routes", cause=Cause.NO_ROUTES, kind=Kind.TRAFFIC, priority=20, provider="any",
    detects="the BGP session is up with 0 routes learned or advertised: a route or prefix problem",
    sources=("azure-vpn-metrics", "azure-bgp"), check=no_routes,
)
