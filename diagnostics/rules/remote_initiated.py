"""remote_initiated: the on-premises device tore the tunnel down or started a new negotiation while it was up.

Detects: a stateChangeReason of the remote-trigger family ("RemotelyTriggered / RemoteCrashTriggered", "Received MM
delete", "The on-prem device has deleted the security association": docs/sources.md#azure-tunnel-reasons), or an
IKE row in which the peer starts a fresh negotiation (`[RECEIVED][SA_INIT] … rCookie 0x0`,
docs/sources.md#azure-ike-log: "The first SA_INIT message is always the one where rCookie = 0") just before the
disconnect while the tunnel was connected (RemoteCrashTriggered: "we assume remote side is crashed restarted and we
disconnect and accept the new connection", docs/sources.md#azure-tunnel-reasons).

Why it matters: the cause is on the device (reboot, HA failover, admin reset), so that is where to look.
"""

from __future__ import annotations

import re

from diagnostics.model import Cause, Confidence, Drop, EventKind, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.support.reasons import Reason, classify_reason
from diagnostics.timefmt import duration_text

PEER_INIT = re.compile(r"\[RECEIVED\]\s*\[SA_INIT\].*rCookie 0x0\b", re.I)
PEER_INIT_BEFORE = 60
PEER_INIT_AFTER = 5


def remote_initiated(ctx: RuleContext, drop: Drop) -> Finding | None:
    by_reason = classify_reason(drop.down.reason) is Reason.REMOTE
    peer_inits = [e for e in ctx.near([EventKind.IKE], drop.down_ts, PEER_INIT_BEFORE, PEER_INIT_AFTER)
                  if PEER_INIT.search(e.message)]
    if not by_reason and not peer_inits:
        return None
    device = ctx.tunnel.azure_remote_ip or "the on-premises device"
    parts = []
    if peer_inits:
        parts.append(f"The on-premises device ({device}) started a new IKE negotiation at "
                     f"{ctx.fmt(peer_inits[0].ts)} while the tunnel was up, so the gateway dropped the old tunnel "
                     "and accepted the new one (it assumes the device restarted).")
    if by_reason:
        parts.append(f"The disconnect at {ctx.fmt(drop.down_ts)} was logged with reason {drop.down.reason!r}: "
                     "the remote side triggered it.")
    if drop.up is not None:
        parts.append(f"The tunnel was back after {duration_text(drop.duration)}.")
    return Finding(
        cause=Cause.REMOTE_INITIATED,
        confidence=Confidence.HIGH if by_reason else Confidence.MEDIUM,
        title="The on-premises device tore the tunnel down or re-initiated it",
        explanation=" ".join(parts),
        advice=("Look at the on-premises device's logs at that time: a reboot, an HA failover, an administrator "
                "clearing the tunnel, or a rekey with changed settings. If it keeps doing this, check its IKE/IPsec "
                "lifetimes against Azure's (28,800 s phase 1, 27,000 s phase 2)."),
        evidence=[*peer_inits[:2], drop.down, *([drop.up] if drop.up else [])],
        drop=drop,
    )


RULE = Rule(
    id="remote_initiated", cause=Cause.REMOTE_INITIATED, kind=Kind.DROP, priority=30, provider="azure",
    detects="the on-premises device tore the tunnel down or started a new negotiation while it was up",
    sources=("azure-tunnel-reasons", "azure-ike-log"), check=remote_initiated,
)
