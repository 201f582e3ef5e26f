"""no_traffic: the tunnel is logged as connected and nothing goes through it, either way.

Detects: three cases, the most telling first.
1. The phase-2 (IPsec) SAs were torn down while phase 1 stayed up: an IKE row deletes the phase-2 SA and none is
   set up again, with no disconnect logged (docs/sources.md#azure-phase2-only-loss: "All IPsec Security
   Associations (IKE Quick Mode SAs) are deleted. Connections may remain in Connected state, but traffic may not
   flow"; AWS: "received DELETE for Phase 2 SA", docs/sources.md#aws-ikev2-errors). With metrics, the bytes say
   since when nothing moved; without, the rows alone say it.
2. Bytes flowed earlier in the window and have been 0 both ways since some interval (the byte metrics,
   docs/sources.md#azure-vpn-metrics, docs/sources.md#aws-vpn-metrics).
3. 0 bytes both ways all window: the tunnel is idle.

Why it matters: "paris is up but nothing gets through" is the question the logs alone answer wrongly ("no drop
found"): the tunnel state is phase 1's, the traffic is phase 2's.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.traffic import TrafficContext, deletion_rows, phase2_deleted
from diagnostics.timefmt import duration_text
from diagnostics.traffic.flow import STOPPED_FOR


def no_traffic(ctx: TrafficContext) -> Finding | None:
    if not ctx.connected:
        return None
    flow = ctx.flow
    deleted = phase2_deleted(ctx)
    stopped = flow.silent_since
    if deleted is not None:
        if flow.readable and flow.total_bytes > 0 and (stopped is None or stopped > deleted.ts + 600):
            return None  # traffic went on after the deletion: an SA replaced under another name
        text = (f"The phase-2 (IPsec) SA of {ctx.tunnel.name} was deleted at {ctx.fmt(deleted.ts, seconds=True)} and "
                "none was set up again, while phase 1 stayed up: the tunnel is still logged as connected, but no "
                "packet can be encrypted.")
        if flow.readable:
            text += (" The metrics agree: 0 bytes either way " + (
                f"since {ctx.fmt(stopped)}." if stopped is not None and stopped > ctx.start else "in the window."))
        else:
            text += " (The traffic metrics could not be read to confirm it.)"
        return Finding(
            cause=Cause.NO_TRAFFIC, confidence=Confidence.HIGH if flow.readable else Confidence.MEDIUM,
            title="Phase 2 torn down, phase 1 up: connected but no traffic",
            explanation=text,
            advice=("Bring phase 2 back: traffic from the site (or a reset of the connection) makes the device "
                    "negotiate a new IPsec SA. Then find why it was deleted: the device's log at that time (a "
                    "phase-2 lifetime or idle timeout shorter than the cloud's, a rekey it handled differently, a "
                    "configuration change); make its phase-2 lifetime and PFS match the connection's IPsec policy."),
            evidence=deletion_rows(ctx, deleted),
        )
    if not flow.readable or (flow.total_bytes > 0 and (stopped is None or ctx.end - stopped < STOPPED_FOR)):
        return None
    if flow.total_bytes > 0:
        assert stopped is not None
        last = max(t for t in (flow.inbound.last_active, flow.outbound.last_active) if t is not None)
        return Finding(
            cause=Cause.NO_TRAFFIC, confidence=Confidence.MEDIUM,
            title="Traffic stopped, the tunnel stays connected",
            explanation=(f"Bytes went through {ctx.tunnel.name} until {ctx.fmt(last)} ({flow.inbound.describe()} in, "
                         f"{flow.outbound.describe()} out over the window), then 0 either way since "
                         f"{ctx.fmt(stopped)} ({duration_text(ctx.end - stopped)}), and no disconnect was logged. "
                         "No IKE row of the window says the phase-2 SA was deleted."),
            advice=("Check whether phase 2 is still up on the device (its IPsec SA list and counters): a phase-2 loss "
                    "leaves the tunnel logged as connected. If it is up, traffic stopped before the tunnel: the "
                    "routes toward it (on both sides), a network security group or firewall change, or the "
                    "applications themselves."),
        )
    return Finding(
        cause=Cause.NO_TRAFFIC, confidence=Confidence.MEDIUM,
        title="Connected but idle: 0 bytes either way",
        explanation=(f"{ctx.tunnel.name} is connected and carried 0 bytes either way over the whole window: nothing "
                     "was sent into it, from either side. No IKE row of the window says the phase-2 SA was "
                     "deleted."),
        advice=("If something should go through it, the traffic does not reach the tunnel: check the routes toward "
                "it on both sides (in the cloud, that the subnet's effective routes send the site's prefixes to the "
                "gateway; on the site, that the device routes the cloud's networks into the tunnel) and, for a "
                "policy-based device, that the traffic matches its policy. Then check phase 2 on the device."),
    )


RULE = Rule(
    id="no_traffic", cause=Cause.NO_TRAFFIC, kind=Kind.TRAFFIC, priority=40, provider="any",
    detects="the tunnel is connected and nothing goes through it: phase-2 SAs torn down with phase 1 up, traffic "
            "stopped, or idle",
    sources=("azure-phase2-only-loss", "aws-ikev2-errors", "azure-vpn-metrics", "aws-vpn-metrics"), check=no_traffic,
)
