"""Azure Monitor alerts in the common alert schema (docs/sources.md#azure-alerts), read and mapped to tunnels.

An action group's webhook posts one JSON document per alert state change: `schemaId` "azureMonitorCommonAlertSchema",
`data.essentials` (the alert's id, rule, severity, `monitorCondition` "Fired" or "Resolved", the target resource ids,
when it fired and resolved) and `data.alertContext` (for metric and log search alerts: `condition.allOf`, each with
its metric or query, its `dimensions` and the evaluated window). Two kinds concern a VPN gateway:

* metric alerts on a `Microsoft.Network/virtualNetworkGateways` resource (`TunnelAverageBandwidth`,
  `TunnelIngressBytes`, `TunnelEgressBytes`, split by the `ConnectionName` / `RemoteIP` dimensions);
* log search alerts on AzureDiagnostics, whose dimensions are the query's columns (`Resource`, `remoteIP_s`).

`read_alert` refuses anything else in one line; `alert_tunnels` names the tunnels an alert is about: the gateway of
the target resource id (or a `Resource` dimension), narrowed by the remote IP or connection dimensions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from diagnostics.timefmt import parse_iso
from diagnostics.tunnels import Tunnel, TunnelRegistry

SCHEMA_ID = "azureMonitorCommonAlertSchema"
#: The VPN gateway metrics per tunnel (Microsoft.Network/virtualNetworkGateways), split by ConnectionName/RemoteIP.
TUNNEL_METRICS = ("TunnelAverageBandwidth", "TunnelIngressBytes", "TunnelEgressBytes")
_GATEWAY_ID = re.compile(r"/providers/microsoft\.network/virtualnetworkgateways/([^/]+)", re.IGNORECASE)
_CONNECTION_ID = re.compile(r"/providers/microsoft\.network/connections/([^/]+)", re.IGNORECASE)
#: Dimension names (lower case) that carry the on-premises device's IP, a connection's name, the gateway's name.
_REMOTE_IP = ("remoteip", "remoteip_s", "remote_ip")
_CONNECTION = ("connectionname", "connection", "connectionname_s")
_GATEWAY = ("resource", "gatewayname", "_resourceid", "resourceid")


class AlertError(ValueError):
    """The document is not a common-schema alert this endpoint reads; the message is one line."""


@dataclass(frozen=True)
class AzureAlert:
    alert_id: str  # essentials.alertId: the same across the Fired and Resolved notifications of one alert
    rule: str
    severity: str
    signal: str  # "Metric" | "Log"
    condition: str  # "Fired" | "Resolved"
    fired_at: datetime
    resolved_at: datetime | None
    targets: tuple[str, ...]  # alertTargetIDs: ARM resource ids
    metrics: tuple[str, ...]  # the metric names of a metric alert ("" entries for a log search condition)
    dimensions: tuple[tuple[str, str], ...]  # (name, value) of every condition, in order
    window_start: datetime | None
    window_end: datetime | None
    description: str = ""

    @property
    def resolved(self) -> bool:
        return self.condition.lower() == "resolved"

    def dimension(self, names: tuple[str, ...]) -> list[str]:
        return [value for name, value in self.dimensions if name.lower() in names and value]

    @property
    def gateways(self) -> list[str]:
        """The VPN gateways the alert is about: from its target resource ids, else its `Resource` dimension."""
        names = [m.group(1) for t in self.targets for m in [_GATEWAY_ID.search(t)] if m]
        names += [_GATEWAY_ID.search(v).group(1) if _GATEWAY_ID.search(v) else v for v in self.dimension(_GATEWAY)]
        return list(dict.fromkeys(n.upper() for n in names if n))

    @property
    def connections(self) -> list[str]:
        named = [m.group(1) for t in self.targets for m in [_CONNECTION_ID.search(t)] if m]
        return list(dict.fromkeys(named + self.dimension(_CONNECTION)))

    @property
    def remote_ips(self) -> list[str]:
        return list(dict.fromkeys(self.dimension(_REMOTE_IP)))


def read_alert(body: bytes | bytearray | memoryview | str) -> AzureAlert:
    """The alert a webhook posted. Raises AlertError (one line) for malformed JSON or another schema."""
    try:
        doc = json.loads(bytes(body) if not isinstance(body, str) else body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise AlertError(f"the body is not JSON ({type(exc).__name__}): send the common alert schema") from None
    if not isinstance(doc, dict) or doc.get("schemaId") != SCHEMA_ID:
        raise AlertError(f'not a common alert schema payload (schemaId is not "{SCHEMA_ID}"): enable "Use common '
                         'alert schema" on the action group\'s webhook')
    data = doc.get("data")
    essentials = data.get("essentials") if isinstance(data, dict) else None
    if not isinstance(essentials, dict):
        raise AlertError("the alert has no data.essentials object")
    context = data.get("alertContext") if isinstance(data.get("alertContext"), dict) else {}
    alert_id = _text(essentials.get("alertId"))
    condition = _text(essentials.get("monitorCondition"))
    fired = _time(essentials.get("firedDateTime"), "firedDateTime")
    if not alert_id or condition.lower() not in ("fired", "resolved") or fired is None:
        raise AlertError("the alert needs essentials.alertId, monitorCondition (Fired or Resolved) and firedDateTime")
    targets = essentials.get("alertTargetIDs") or []
    if not isinstance(targets, list):
        raise AlertError("essentials.alertTargetIDs is not a list of resource ids")
    inner = context.get("condition") if isinstance(context.get("condition"), dict) else {}
    criteria = [c for c in inner.get("allOf") or () if isinstance(c, dict)]
    dimensions = tuple((_text(d.get("name")), _text(d.get("value"))) for c in criteria
                       for d in c.get("dimensions") or () if isinstance(d, dict))
    return AzureAlert(
        alert_id=alert_id, rule=_text(essentials.get("alertRule")), severity=_text(essentials.get("severity")),
        signal=_text(essentials.get("signalType")), condition=condition.capitalize(), fired_at=fired,
        resolved_at=_time(essentials.get("resolvedDateTime"), "resolvedDateTime"),
        targets=tuple(_text(t) for t in targets if t), metrics=tuple(_text(c.get("metricName")) for c in criteria),
        dimensions=dimensions, window_start=_time(inner.get("windowStartTime"), "windowStartTime"),
        window_end=_time(inner.get("windowEndTime"), "windowEndTime"), description=_text(essentials.get("description")))


def alert_tunnels(alert: AzureAlert, registry: TunnelRegistry) -> list[Tunnel]:
    """The tunnels the alert is about, in the registry's order: those of its gateways, narrowed to the remote IPs and
    connections its dimensions name (a connection name is a tunnel's name or alias, its config `azure_connection`,
    or contains the name of exactly one of the gateway's tunnels, as in "cn-vpngw01-paris"). An alert on a
    connection or remote IP alone (no gateway) maps through those. [] when nothing matches."""
    gateways = {g.lower() for g in alert.gateways}
    candidates = [t for t in registry if t.azure_gateway and (not gateways or t.azure_gateway.lower() in gateways)]
    if not gateways and not (alert.remote_ips or alert.connections):
        return []
    ips = {ip.lower() for ip in alert.remote_ips}
    if ips:
        candidates = [t for t in candidates if t.azure_remote_ip.lower() in ips]
    if alert.connections:
        named = [t for c in alert.connections for t in _connection_tunnels(c, candidates)]
        candidates = [t for t in candidates if t in named]
    return candidates


def _connection_tunnels(connection: str, tunnels: list[Tunnel]) -> list[Tunnel]:
    wanted = connection.strip().lower()
    exact = [t for t in tunnels if wanted in {n.lower() for n in (t.name, *t.aliases)}
             or str(t.extra.get("azure_connection", "")).lower() == wanted]
    if exact:
        return exact
    words = set(re.split(r"[^a-z0-9]+", wanted))
    inside = [t for t in tunnels if t.name.lower() in words or any(a.lower() in words for a in t.aliases)]
    return inside if len(inside) == 1 else []


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _time(value: object, field: str) -> datetime | None:
    try:
        return parse_iso(value)
    except ValueError:
        raise AlertError(f"essentials/condition {field} is not an ISO 8601 time: {str(value)[:40]!r}") from None
