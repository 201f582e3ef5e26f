"""traffic_flowing: the tunnel is connected and bytes flow both ways.

Detects: the tunnel is up in its logs and both byte metrics carry traffic over the window (Azure
`TunnelIngressBytes` / `TunnelEgressBytes`, docs/sources.md#azure-vpn-metrics; AWS `TunnelDataIn` / `TunnelDataOut`,
docs/sources.md#aws-vpn-metrics), with nothing that a more specific traffic rule explains. It is the traffic
question's "no drop found": an answer in its own right, with the numbers.

Why it matters: "is traffic flowing?" deserves a yes with the figures and the latest interval that carried bytes, so
the next person looks beyond the tunnel (the application, DNS, one host's firewall) instead of at it.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.traffic import TrafficContext


def traffic_flowing(ctx: TrafficContext) -> Finding | None:
    flow = ctx.flow
    if not ctx.connected or not (flow.inbound.live(ctx.end) and flow.outbound.live(ctx.end)):
        return None
    # Both directions live: neither has been silent for STOPPED_FOR, so a silence both ways is shorter (said below).
    stopped = flow.silent_since
    latest = max(t for t in (flow.inbound.last_active, flow.outbound.last_active) if t is not None)
    text = (f"{ctx.tunnel.name} is connected and traffic flows both ways: {flow.inbound.describe()} received from "
            f"the site, {flow.outbound.describe()} sent to it; the latest bytes at {ctx.fmt(latest)}.")
    if stopped is not None:
        text += f" Nothing either way since {ctx.fmt(stopped)}, though: ask again in a few minutes."
    if ctx.drops:  # it flowed around an outage: the drop is the story, these are its numbers
        text += (f" The tunnel dropped {len(ctx.drops)} time{'s' if len(ctx.drops) > 1 else ''} in the window, the "
                 f"first at {ctx.fmt(ctx.drops[0].down_ts)}: see the drop's cause.")
    return Finding(
        cause=Cause.TRAFFIC_FLOWING,
        confidence=Confidence.MEDIUM if ctx.drops else Confidence.HIGH,
        title="Traffic is flowing both ways",
        explanation=text,
        advice=("The tunnel carries traffic. If one application or host still cannot get through, look at that "
                "flow: its addresses against the traffic selectors and routes, the network security group or "
                "security group of that host, its own firewall, and DNS."),
    )


RULE = Rule(
    id="traffic_flowing", cause=Cause.TRAFFIC_FLOWING, kind=Kind.TRAFFIC, priority=90, provider="any",
    detects="the tunnel is connected and bytes flow both ways, with the numbers",
    sources=("azure-vpn-metrics", "aws-vpn-metrics"), check=traffic_flowing,
)
