"""peer_unreachable: the gateway keeps starting negotiations and the device never answers.

Detects: repeated `[SEND][SA_INIT] … rCookie 0x0` with no `[RECEIVED]` row in those negotiations
(docs/sources.md#azure-ike-log: "Azure keeps retrying every few seconds"; docs/sources.md#azure-peer-unreachable),
or no IKE row at all for the device while the tunnel is down although the gateway logs IKE for its other peers
(docs/sources.md#azure-peer-unreachable: "No IKEDiagnosticLog entries at all for the attempt … No IKE packets are
reaching the gateway from the peer"; the usual culprits: a wrong local network gateway IP, an NSG/UDR on the
GatewaySubnet, an on-premises firewall).

Why it matters: no key or proposal can be wrong if no packet arrives; the fix is on the path to the device.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.support.negotiations import down_period, groups_in, runs, sample_rows

MIN_ATTEMPTS = 2
ADVICE = ("Check that the local network gateway's IP address is the device's current public IP, that no NSG or "
          "route table (UDR) is attached to the GatewaySubnet, and that the device and its firewalls accept UDP 500 "
          "and 4500 from the gateway's public IPs (and that NAT in front of the device forwards them).")


def peer_unreachable(ctx: RuleContext) -> Finding | None:
    period = down_period(ctx)
    if period is None:
        return None
    device = ctx.tunnel.azure_remote_ip or "the on-premises device"
    groups = groups_in(ctx, period)
    if not groups:
        return _silent(ctx, device)
    if any(g.outcome != "no_response" for g in groups):
        return None  # the device answered at least once
    found = runs(ctx, period, lambda g: g.representative.initiator == "azure")
    if not found or found[0].count < MIN_ATTEMPTS:
        return None
    run = found[0]
    return Finding(
        cause=Cause.PEER_UNREACHABLE,
        confidence=Confidence.HIGH,
        title="The on-premises device does not answer",
        explanation=(f"The gateway sent {run.count} IKE SA_INIT requests to {device} between "
                     f"{ctx.fmt(run.first, seconds=False)} and {ctx.fmt(run.last, seconds=False)} and received "
                     "nothing back: the packets do not reach the device, or its answers do not reach Azure."),
        advice=ADVICE,
        evidence=sample_rows(ctx, run.sample),
    )


def _silent(ctx: RuleContext, device: str) -> Finding | None:
    """No IKE row at all for the device while the tunnel is down: unreachable, if the gateway logs IKE at all."""
    drop = ctx.primary_drop()
    if drop is None or drop.up is not None or not ctx.coverage.get("IKEDiagnosticLog"):
        return None
    return Finding(
        cause=Cause.PEER_UNREACHABLE,
        confidence=Confidence.MEDIUM,
        title="No IKE traffic with the on-premises device",
        explanation=(f"The tunnel has been down since {ctx.fmt(drop.down_ts)} and the gateway logged no IKE "
                     f"exchange with {device} since, although it logs IKE for its other peers: nothing reaches it."),
        advice=ADVICE,
        evidence=[drop.down],
    )


RULE = Rule(
    id="peer_unreachable", cause=Cause.PEER_UNREACHABLE, kind=Kind.NEGOTIATION, priority=40, provider="azure",
    detects="the gateway keeps starting negotiations and the device never answers",
    sources=("azure-ike-log", "azure-peer-unreachable"), check=peer_unreachable,
)
