"""dpd_timeout: the peer stopped answering dead-peer detection; the tunnel reconnected on the same instance.

Detects: a stateChangeReason naming DPD ("DPD timed out / Main mode SA assumed to be invalid because peer stopped
responding", docs/sources.md#azure-tunnel-reasons), or, without a reason, a disconnect and a reconnect on the SAME
instance within seconds (docs/sources.md#azure-failover: "you might be looking at a network glitch causing a DPD
timeout, or a disconnection erroneously sent by the on-premises device").

Why it matters: the path or the device dropped packets long enough for DPD to give up; the fix is on the path,
the device, or the DPD timers, not in Azure.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Drop, EventKind, Finding
from diagnostics.rules.maintenance_failover import instance_unknown, maintenance_failover, maybe_failover
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.support.reasons import Reason, classify_reason
from diagnostics.timefmt import duration_text, short_instance

#: "in a few seconds" (docs/sources.md#azure-failover); beyond this a same-instance reconnect is no longer a glitch.
QUICK_RECONNECT_SECONDS = 60


def dpd_timeout(ctx: RuleContext, drop: Drop) -> Finding | None:
    reason = classify_reason(drop.down.reason)
    if drop.switched_instance or reason not in (Reason.DPD, Reason.NONE, Reason.OTHER):
        return None
    quick = drop.duration is not None and drop.duration <= QUICK_RECONNECT_SECONDS
    if reason is not Reason.DPD and not quick:
        return None
    if maybe_failover(drop) and maintenance_failover(ctx, drop) is not None:
        return None  # no instance logged, and maintenance was under way: its failover explains it
    where = short_instance(drop.down_instance)
    if reason is Reason.DPD:
        text = (f"The gateway declared the on-premises device dead at {ctx.fmt(drop.down_ts)}: the disconnect's "
                f"reason is {drop.down.reason!r}. Dead-peer detection gave up after the device stopped answering.")
        confidence = Confidence.HIGH
    else:
        on = "(the logs do not say on which instance)" if instance_unknown(drop) else \
            f"on the same instance ({where})"
        text = (f"The tunnel dropped at {ctx.fmt(drop.down_ts)} and reconnected {on} "
                f"{duration_text(drop.duration)} later, with no reason logged. That pattern is a network glitch "
                "that made dead-peer detection time out, or a disconnect sent by the on-premises device.")
        confidence = Confidence.MEDIUM
    if drop.up is not None and not instance_unknown(drop):
        text += f" It came back after {duration_text(drop.duration)} on {short_instance(drop.up_instance)}."
    reinit = ctx.near([EventKind.IKE], drop.down_ts, 0, 120)
    reinit = [e for e in reinit if "[SEND][SA_INIT]" in e.message.replace(" ", "") and "rCookie 0x0" in e.message]
    if reinit:
        text += f" Azure started a new IKE negotiation at {ctx.fmt(reinit[0].ts)}."
    return Finding(
        cause=Cause.DPD_TIMEOUT,
        confidence=confidence,
        title="Dead-peer detection timeout (peer stopped answering)",
        explanation=text,
        advice=("Check the internet path between the on-premises device and Azure at that time (ISP packet loss, "
                "link flap), the device's uptime and CPU, and that DPD is enabled on the device with a timeout "
                "of 30–45 s (shorter timeouts make tunnels drop on brief loss)."),
        evidence=[drop.down, *([drop.up] if drop.up else []), *reinit[:1]],
        drop=drop,
    )


RULE = Rule(
    id="dpd_timeout", cause=Cause.DPD_TIMEOUT, kind=Kind.DROP, priority=40, provider="azure",
    detects="the peer stopped answering dead-peer detection; the tunnel came back on the same instance",
    sources=("azure-tunnel-reasons", "azure-failover"), check=dpd_timeout,
)
