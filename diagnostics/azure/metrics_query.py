"""The Azure Monitor metrics request for a VPN gateway's tunnels, and its answer mapped to `Series`: no SDK here, so
the demo and the tests share it with the real source (`diagnostics.azure.metrics`).

The request is ARM's `GET {endpoint}{resourceUri}/providers/Microsoft.Insights/metrics` with `timespan`, `interval`,
`metricnames`, `aggregation` and `$filter` (docs/sources.md#azure-vpn-metrics). Names, aggregations and dimensions
are those of "Supported metrics for Microsoft.Network/virtualNetworkGateways":

- the tunnel metrics (bytes, packets, drops, bandwidth) have the dimensions `ConnectionName`, `RemoteIP`, `Instance`:
  one request splits them by `RemoteIP` (the tunnel's on-premises device, `azure_remote_ip`), every tunnel of the
  question on that gateway in one `$filter` (`RemoteIP eq 'a' or RemoteIP eq 'b'`);
- the BGP metrics have `BgpPeerAddress`, `Instance` instead. The service refuses a `$filter` on a dimension one of
  the requested metrics lacks ("Metric: … does not support requested dimension combination"), so they go in a
  second request, split by `BgpPeerAddress`, made only when a tunnel of the question names its BGP peer
  (`bgp_peer_ip`).

Values reach a filter only as OData string literals, single quotes doubled (`odata_string`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from diagnostics.traffic.model import Metric, Series
from diagnostics.tunnels import Tunnel

#: The REST API version azure-mgmt-monitor 7.0.0 sends for metrics.list.
API_VERSION = "2024-02-01"
DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
#: The grains the service serves for these metrics, in seconds (PT5M … P1D).
GRAINS_S = (300, 900, 1800, 3600, 6 * 3600, 12 * 3600, 86_400)


@dataclass(frozen=True)
class MetricName:
    metric: Metric
    name: str  # "Name in REST API"
    aggregation: str  # the field of each data point to read: "total" or "average"


TUNNEL_METRICS: tuple[MetricName, ...] = (
    MetricName(Metric.BANDWIDTH, "TunnelAverageBandwidth", "average"),
    MetricName(Metric.BYTES_IN, "TunnelIngressBytes", "total"),
    MetricName(Metric.BYTES_OUT, "TunnelEgressBytes", "total"),
    MetricName(Metric.PACKETS_IN, "TunnelIngressPackets", "total"),
    MetricName(Metric.PACKETS_OUT, "TunnelEgressPackets", "total"),
    MetricName(Metric.TS_DROPS_IN, "TunnelIngressPacketDropTSMismatch", "total"),
    MetricName(Metric.TS_DROPS_OUT, "TunnelEgressPacketDropTSMismatch", "total"),
    MetricName(Metric.DROPS_IN, "TunnelIngressPacketDropCount", "total"),
    MetricName(Metric.DROPS_OUT, "TunnelEgressPacketDropCount", "total"),
)
BGP_METRICS: tuple[MetricName, ...] = (
    MetricName(Metric.BGP_PEER_UP, "BgpPeerStatus", "average"),
    MetricName(Metric.ROUTES_ADVERTISED, "BgpRoutesAdvertised", "total"),
    MetricName(Metric.ROUTES_LEARNED, "BgpRoutesLearned", "total"),
)
BY_NAME = {m.name.lower(): m for m in (*TUNNEL_METRICS, *BGP_METRICS)}
TUNNEL_DIMENSION = "RemoteIP"
BGP_DIMENSION = "BgpPeerAddress"


@dataclass(frozen=True)
class MetricsRequest:
    """One metrics.list call: what it asks for, in the API's own parameter values."""

    resource_id: str
    timespan: str
    interval: str
    metricnames: str
    aggregation: str
    filter: str
    top: int

    def text(self, endpoint: str = DEFAULT_ARM_ENDPOINT) -> str:
        """The call as someone can re-run it (`az rest --method get --url "…"`)."""
        return (f"GET {endpoint.rstrip('/')}{self.resource_id}/providers/Microsoft.Insights/metrics?api-version="
                f"{API_VERSION}&timespan={self.timespan}&interval={self.interval}&metricnames={self.metricnames}"
                f"&aggregation={self.aggregation}&top={self.top}&$filter={self.filter}")


def odata_string(value: str) -> str:
    """`value` as an OData string literal: in quotes, each single quote doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def any_of(dimension: str, values: Iterable[str]) -> str:
    """`dimension eq 'a' or dimension eq 'b'`: one dimension, several values (the only `or` the service accepts)."""
    unique = sorted(dict.fromkeys(v for v in values if v))
    return " or ".join(f"{dimension} eq {odata_string(v)}" for v in unique)


def grain(interval_s: int) -> int:
    """The smallest grain the service serves that is at least `interval_s`."""
    return next((g for g in GRAINS_S if g >= interval_s), GRAINS_S[-1])


def iso_duration(seconds: int) -> str:
    if seconds % 86_400 == 0:
        return f"P{seconds // 86_400}D"
    if seconds % 3600 == 0:
        return f"PT{seconds // 3600}H"
    return f"PT{seconds // 60}M"


def timespan(start: datetime, end: datetime) -> str:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return f"{start.astimezone(UTC).strftime(fmt)}/{end.astimezone(UTC).strftime(fmt)}"


def resource_id(tunnel: Tunnel) -> str:
    """The gateway's ARM resource id: `azure_gateway_id` in the tunnel's config, else built from its subscription,
    resource group and gateway name; "" when neither is known (the log rows' ResourceId can tell it:
    `AzureMetricsSource.learn`)."""
    configured = str(tunnel.extra.get("azure_gateway_id", "") or "").strip()
    if configured:
        return "/" + configured.strip("/")
    if tunnel.azure_subscription and tunnel.azure_resource_group and tunnel.azure_gateway:
        return (f"/subscriptions/{tunnel.azure_subscription}/resourceGroups/{tunnel.azure_resource_group}/providers/"
                f"Microsoft.Network/virtualNetworkGateways/{tunnel.azure_gateway}")
    return ""


def bgp_peer(tunnel: Tunnel) -> str:
    return str(tunnel.extra.get("bgp_peer_ip", "") or "").strip()


def requests_for(resource: str, tunnels: Sequence[Tunnel], start: datetime, end: datetime,
                 interval_s: int) -> list[tuple[tuple[MetricName, ...], MetricsRequest]]:
    """The calls for one gateway: its tunnel metrics split by RemoteIP, and (when a tunnel names its BGP peer) its
    BGP metrics split by BgpPeerAddress."""
    step = iso_duration(grain(interval_s))
    span = timespan(start, end)
    calls = []
    ips = [t.azure_remote_ip for t in tunnels if t.azure_remote_ip]
    if ips:
        calls.append((TUNNEL_METRICS, MetricsRequest(
            resource, span, step, ",".join(m.name for m in TUNNEL_METRICS), "average,total",
            any_of(TUNNEL_DIMENSION, ips), top=max(10, len(set(ips))))))
    peers = [bgp_peer(t) for t in tunnels if bgp_peer(t)]
    if peers:
        calls.append((BGP_METRICS, MetricsRequest(
            resource, span, step, ",".join(m.name for m in BGP_METRICS), "average,total",
            any_of(BGP_DIMENSION, peers), top=max(10, len(set(peers))))))
    return calls


def _get(obj: Any, key: str) -> Any:
    """A field of the SDK's model or of the REST JSON (the same names, camelCase in JSON)."""
    if isinstance(obj, Mapping):
        return obj.get(key, obj.get({"time_stamp": "timeStamp", "metadatavalues": "metadatavalues"}.get(key, key)))
    return getattr(obj, key, None)


def series_by_dimension(answer: Any) -> dict[str, dict[Metric, Series]]:
    """{dimension value (remote IP or BGP peer, lowercase): {Metric: Series}} from a metrics.list answer (the SDK's
    `Response` or the REST JSON). A metric the bot does not know, or a data point without the value, is skipped."""
    found: dict[str, dict[Metric, Series]] = {}
    for item in _get(answer, "value") or []:
        name = _get(item, "name")
        key = str(_get(name, "value") or "").lower()
        known = BY_NAME.get(key)
        if known is None:
            continue
        for ts in _get(item, "timeseries") or []:
            dimension = ""
            for meta in _get(ts, "metadatavalues") or []:
                dimension = str(_get(meta, "value") or "").lower()
            points = []
            for point in _get(ts, "data") or []:
                value = _get(point, known.aggregation)
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                stamp = _get(point, "time_stamp")
                at = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
                points.append((at.timestamp(), float(value)))
            found.setdefault(dimension, {})[known.metric] = Series(known.metric, tuple(sorted(points)), known.name,
                                                                  dimension)
    return found


def assign(tunnels: Sequence[Tunnel], by_tunnel_ip: Mapping[str, dict[Metric, Series]],
           by_peer: Mapping[str, dict[Metric, Series]]) -> dict[str, dict[Metric, Series]]:
    """Each tunnel's series: those of its remote IP, and of its BGP peer."""
    out: dict[str, dict[Metric, Series]] = {}
    for tunnel in tunnels:
        mine = dict(by_tunnel_ip.get(tunnel.azure_remote_ip.lower(), {}))
        mine.update(by_peer.get(bgp_peer(tunnel).lower(), {}) if bgp_peer(tunnel) else {})
        out[tunnel.name] = mine
    return out
