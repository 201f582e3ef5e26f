"""one_way_traffic: the tunnel is up and bytes flow one way only.

Detects: over the window, one direction's byte metric carries traffic (at least 10 kB) and the other next to
nothing, while the tunnel is connected: Azure `TunnelIngressBytes` / `TunnelEgressBytes` (docs/sources.md#azure-vpn-
metrics), AWS `TunnelDataIn` / `TunnelDataOut` (docs/sources.md#aws-vpn-metrics; both count from the cloud gateway's
side: "in" is what it received from the site).

Why it matters: encryption works (the gateway decrypts what arrives and encrypts what it sends), so the tunnel is
not the problem; the packets of the other direction are stopped, or never routed into the tunnel, on one side: a
route, a network security group / security group, or the device's policy. Which direction is dead says on which
side to look first, and the answer says what to check on each.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.traffic import TrafficContext
from diagnostics.traffic.flow import IN


def one_way_traffic(ctx: TrafficContext) -> Finding | None:
    flow, end = ctx.flow, ctx.end
    if not ctx.connected:
        return None
    if flow.inbound.live(end) and flow.outbound.dead(end):
        live, dead = flow.inbound, flow.outbound
    elif flow.outbound.live(end) and flow.inbound.dead(end):
        live, dead = flow.outbound, flow.inbound
    else:
        return None
    cloud = "AWS" if ctx.tunnel.provider == "aws" else "Azure"
    if dead.silent or dead.silent_since is None:
        nothing = f"only {dead.describe()}"
    else:  # it carried traffic earlier in the window, then stopped
        nothing = f"nothing since {ctx.fmt(dead.silent_since)} ({dead.describe()} over the window, all before)"
    if live.name == IN:
        what = (f"{cloud} received {live.describe()} from the site over {ctx.tunnel.name} and sent {nothing} back: "
                "packets from the site arrive, nothing returns to it.")
        advice = _REPLIES_STOP_IN_CLOUD[cloud]
    else:
        what = (f"{cloud} sent {live.describe()} to the site over {ctx.tunnel.name} and received {nothing} from it: "
                "packets reach the device, nothing comes back through the tunnel.")
        advice = _REPLIES_STOP_AT_SITE[cloud]
    if live.last_active is not None:
        what += f" Latest bytes {('in' if live.name == IN else 'out')}: {ctx.fmt(live.last_active)}."
    return Finding(
        cause=Cause.ONE_WAY_TRAFFIC,
        confidence=Confidence.HIGH if dead.bytes == 0 or dead.silent_since is not None else Confidence.MEDIUM,
        title=f"Traffic flows one way only: {'site → ' + cloud if live.name == IN else cloud + ' → site'}",
        explanation=what,
        advice=advice,
    )


_REPLIES_STOP_IN_CLOUD = {
    "Azure": ("Look on the Azure side first. The destination's subnet or NIC network security group must allow "
              "inbound from the site's prefixes; the subnet's effective routes must send the site's prefixes to the "
              "virtual network gateway (a user-defined route to a firewall or NVA, or 0.0.0.0/0 forced tunnelling, "
              "sends the replies elsewhere); the VM's own firewall must answer. On the site: nothing to change for "
              "this direction, its packets do arrive."),
    "AWS": ("Look on the AWS side first. The instance's security group and the subnet's network ACL must allow the "
            "site's prefixes (network ACLs are stateless: the return traffic needs its own rule); the subnet's route "
            "table must send the site's prefixes to the virtual private gateway (or transit gateway), by a static "
            "route or route propagation. On the site: nothing to change for this direction, its packets do arrive."),
}
_REPLIES_STOP_AT_SITE = {
    "Azure": ("Look on the site first: the device decrypts what Azure sends, then its policy or firewall drops it, "
              "NAT rewrites it, or the hosts' replies leave by another route (their default route to the internet "
              "instead of the tunnel). Check the device's firewall policy for the VNet ranges, its NAT exemption, and "
              "a route back to the VNet through the tunnel. On Azure: the packets leave, so its routes and network "
              "security groups let them out."),
    "AWS": ("Look on the site first: the customer gateway decrypts what AWS sends, then its policy or firewall drops "
            "it, NAT rewrites it, or the hosts' replies leave by another route. Check the device's firewall policy "
            "for the VPC CIDRs, its NAT exemption, and a route back to the VPC through the tunnel (with BGP: that "
            "it advertises the site's prefixes). On AWS: the packets leave, so its routes and security groups let "
            "them out."),
}


RULE = Rule(
    id="one_way_traffic", cause=Cause.ONE_WAY_TRAFFIC, kind=Kind.TRAFFIC, priority=30, provider="any",
    detects="the tunnel is up and bytes flow one way only; says which direction is dead and what to check on each side",
    sources=("azure-vpn-metrics", "aws-vpn-metrics"), check=one_way_traffic,
)
