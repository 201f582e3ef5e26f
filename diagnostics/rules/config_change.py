"""config_change: a gateway or connection configuration change just before the drop.

Detects: GatewayDiagnosticLog `SetGatewayConfiguration` / `SetConnectionConfiguration` on the same gateway shortly
before the disconnect (docs/sources.md#azure-config-change: "a SetGatewayConfiguration gets logged every time a
configuration is modified both on a VPN Gateway or a Local Network Gateway"; comparing it with TunnelDiagnosticLog
tells whether a drop "happened during a configuration change"), or a stateChangeReason saying a setting changed
(docs/sources.md#azure-tunnel-reasons: "DhGroup changed / … / PfsGroup changed …").

Why it matters: the drop was caused by a change someone made; the fix is on the change, not the network.

Whose change: a change applied to one connection (or to one site's local network gateway) re-negotiates that
connection only, so a change whose row names another connection (its remote endpoint, or "connection … for <name>",
"local network gateway <name>" in its Message) does not explain this tunnel's drop. A change of the gateway itself,
or one naming this connection (its name, an alias, `azure_connection`, its remote IP), does; one that names no
connection (a real row may carry no Message) is read as before, since the gateway's changes cannot be told apart.
"""

from __future__ import annotations

from diagnostics.model import Cause, Confidence, Drop, EventKind, Finding
from diagnostics.rules.registry import Kind, Rule
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.support.reasons import Reason, classify_reason
from diagnostics.rules.support.scope import concerns_tunnel

#: The change is logged with a delay of "some minutes" (docs/sources.md#azure-ingestion-lag), so it may appear
#: after the drop too.
CHANGE_BEFORE = 15 * 60
CHANGE_AFTER = 3 * 60
CLOSE = 5 * 60


def config_change(ctx: RuleContext, drop: Drop) -> Finding | None:
    changes = [e for e in ctx.near([EventKind.CONFIG_CHANGE], drop.down_ts, CHANGE_BEFORE, CHANGE_AFTER)
               if concerns_tunnel(e, ctx.tunnel) is not False]
    reason_says = classify_reason(drop.down.reason) is Reason.CONFIG
    if not changes and not reason_says:
        return None
    parts = []
    if changes:
        change = min(changes, key=lambda e: abs(e.ts - drop.down_ts))
        status = change.get("operationStatus_s")
        when = "before" if change.ts <= drop.down_ts else "after (changes are logged with a delay)"
        delta = abs(drop.down_ts - change.ts)
        parts.append(
            f"{change.operation}{f' ({status})' if status else ''} was logged on {change.gateway} at "
            f"{ctx.fmt(change.ts)}, {round(delta)} s {when} the tunnel dropped at {ctx.fmt(drop.down_ts)}."
        )
        close = delta <= CLOSE
    else:
        change, close = None, True
    if drop.down.reason:
        parts.append(f"The disconnect's reason was {drop.down.reason!r}.")
    parts.append("Applying a gateway, connection or local network gateway change re-negotiates the tunnel.")
    if drop.up is None:
        parts.append("The tunnel has not come back since, so the new settings may not match the device.")
    confidence = Confidence.HIGH if close and (reason_says or change is not None) else Confidence.MEDIUM
    return Finding(
        cause=Cause.CONFIG_CHANGE,
        confidence=confidence,
        title="Configuration change just before the drop",
        explanation=" ".join(parts),
        advice=("Find who changed what in the Activity Log of the gateway, the connection and the local network "
                "gateway at that time. If the change was intended, the drop was the expected re-negotiation; if "
                "the tunnel stays down, compare the new settings (shared key, IPsec/IKE policy, address spaces) "
                "with the on-premises device."),
        evidence=[*([change] if change else []), drop.down, *([drop.up] if drop.up else [])],
        drop=drop,
    )


RULE = Rule(
    id="config_change", cause=Cause.CONFIG_CHANGE, kind=Kind.DROP, priority=10, provider="azure", origin=True,
    detects="a gateway or connection configuration change just before the drop",
    sources=("azure-config-change", "azure-tunnel-reasons"), check=config_change,
)
