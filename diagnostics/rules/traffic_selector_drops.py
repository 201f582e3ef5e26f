"""traffic_selector_drops: the tunnel is up, and the gateway drops packets because their addresses match no traffic
selector.

Detects: the Azure metrics `TunnelIngressPacketDropTSMismatch` / `TunnelEgressPacketDropTSMismatch` ("Tunnel
Ingress/Egress TS Mismatch Packet Drop", docs/sources.md#azure-vpn-metrics) above 0 in the window while the tunnel is
connected, with the selectors of the SA in use from the latest IKE `Traffic Selector payload` row
(docs/sources.md#azure-traffic-selectors). When an address was asked about, it says whether the address lies inside
those selectors.

Why it matters: phase 1 and phase 2 are up and the tunnel shows Connected, so nothing in the logs looks wrong; the
packets of a subnet someone forgot in the encryption domain are dropped silently, and only this counter shows it.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.traffic import TrafficContext, in_selectors, latest_selectors
from diagnostics.traffic.flow import QUIET_BYTES, count_text


def traffic_selector_drops(ctx: TrafficContext) -> Finding | None:
    flow = ctx.flow
    if not ctx.connected or flow.ts_drops <= 0:
        return None
    sides = [f"{count_text(d.ts_drops)} {label}" for d, label in
             ((flow.inbound, "arriving from the site"), (flow.outbound, "on their way to the site"))
             if d.ts_drops]
    text = (f"The gateway dropped {count_text(flow.ts_drops)} packets whose addresses match no traffic selector of "
            f"{ctx.tunnel.name} ({' and '.join(sides)}) while the tunnel was connected.")
    seen = latest_selectors(ctx)
    evidence = []
    if seen is not None:
        text += f" The selectors negotiated at {ctx.fmt(seen.row.ts)}: {seen.describe()}."
        evidence.append(seen.row)
        if ctx.target:
            inside = in_selectors(ctx.target, seen.selectors)
            if inside is False:
                text += f" {ctx.target} lies outside them: its packets are among those dropped."
            elif inside:
                text += f" {ctx.target} lies inside them: its packets are not the ones dropped."
    else:
        text += " No IKE row of the window names the selectors in use."
    if flow.total_bytes < QUIET_BYTES:
        text += " Hardly anything else went through: the traffic people send is the traffic being dropped."
    return Finding(
        cause=Cause.TRAFFIC_SELECTOR_DROPS,
        confidence=Confidence.HIGH,
        title="Packets dropped: no traffic selector matches them",
        explanation=text,
        advice=("Add the missing prefixes to the encryption domain on both sides, or make both sides identical: the "
                "local network gateway's address space (or the connection's custom traffic selectors) must cover the "
                "site's networks the packets come from, and the device's remote networks must cover the VNet ranges "
                "they go to. A policy-based device needs UsePolicyBasedTrafficSelectors on the connection with the "
                "matching pairs; a route-based one can use 0.0.0.0/0 selectors."),
        evidence=evidence,
    )


RULE = Rule(
    id="traffic_selector_drops", cause=Cause.TRAFFIC_SELECTOR_DROPS, kind=Kind.TRAFFIC, priority=10, provider="any",
    detects="the tunnel is up and the gateway drops packets that match no traffic selector; names the selectors",
    sources=("azure-vpn-metrics", "azure-traffic-selectors"), check=traffic_selector_drops,
)
