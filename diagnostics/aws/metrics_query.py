"""The CloudWatch `GetMetricData` request for Site-to-Site VPN tunnels, and its answer mapped to `Series`: no boto3
here, so the demo shares it with the real source (`diagnostics.aws.metrics`).

Namespace `AWS/VPN`, metrics `TunnelState` (0 down / 1 up; on a BGP VPN 1 only while BGP is established; a value
between is the share of the period up), `TunnelDataIn` (bytes received on the AWS side from the customer gateway) and
`TunnelDataOut` (bytes sent to it), by the dimension `TunnelIpAddress` (each tunnel's AWS outside IP) or `VpnId`
(the whole connection) (docs/sources.md#aws-vpn-metrics). Every tunnel of a question is one query per metric in ONE
request (`MetricDataQueries`, at most 500), read page after page (`NextToken`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from diagnostics.traffic.model import Metric, Series
from diagnostics.tunnels import Tunnel

NAMESPACE = "AWS/VPN"
#: GetMetricData takes at most 500 queries per request.
MAX_QUERIES = 500


@dataclass(frozen=True)
class VpnMetric:
    metric: Metric
    name: str
    stat: str


METRICS: tuple[VpnMetric, ...] = (
    VpnMetric(Metric.TUNNEL_UP, "TunnelState", "Average"),
    VpnMetric(Metric.BYTES_IN, "TunnelDataIn", "Sum"),
    VpnMetric(Metric.BYTES_OUT, "TunnelDataOut", "Sum"),
)
BY_NAME = {m.name: m for m in METRICS}


@dataclass(frozen=True)
class Target:
    """One series the request asks for: a tunnel (outside IP) of a connection, or the whole connection."""

    tunnel: str  # the registry's name
    dimension: str  # "TunnelIpAddress" | "VpnId"
    value: str


def targets(tunnels: Sequence[Tunnel]) -> list[Target]:
    """Each tunnel's outside IPs when known, else its connection id."""
    out = []
    for tunnel in tunnels:
        if tunnel.aws_outside_ips:
            out += [Target(tunnel.name, "TunnelIpAddress", ip) for ip in tunnel.aws_outside_ips]
        elif tunnel.aws_vpn_connection:
            out.append(Target(tunnel.name, "VpnId", tunnel.aws_vpn_connection))
    return out


def period(interval_s: int) -> int:
    """A period CloudWatch accepts (a multiple of 60 s), at least 5 minutes: VPN metrics are 5-minute data."""
    return max(300, int(math.ceil(interval_s / 60) * 60))


def queries(found: Sequence[Target], interval_s: int) -> list[dict[str, Any]]:
    """MetricDataQueries: ids `m<target>_<metric>` (ids must start with a lowercase letter)."""
    out = []
    for i, target in enumerate(found):
        for j, metric in enumerate(METRICS):
            out.append({
                "Id": f"m{i}_{j}",
                "Label": f"{target.value} {metric.name}",
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": metric.name,
                               "Dimensions": [{"Name": target.dimension, "Value": target.value}]},
                    "Period": period(interval_s),
                    "Stat": metric.stat,
                },
                "ReturnData": True,
            })
    return out


def command(request: Sequence[Mapping[str, Any]], start: datetime, end: datetime, region: str) -> str:
    """The request as an `aws cloudwatch get-metric-data` command someone can re-run."""
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return (f"aws cloudwatch get-metric-data --region {region} --start-time {start.astimezone(UTC).strftime(fmt)} "
            f"--end-time {end.astimezone(UTC).strftime(fmt)} --metric-data-queries "
            f"'{json.dumps(list(request), separators=(',', ':'))}'")


def series_of(found: Sequence[Target], results: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, dict[Metric,
                                                                                                             Series]]]:
    """{tunnel: {dimension value: {Metric: Series}}} from MetricDataResults (several pages' results concatenated)."""
    points: dict[str, list[tuple[float, float]]] = {}
    for result in results:
        stamps, values = result.get("Timestamps") or [], result.get("Values") or []
        points.setdefault(str(result.get("Id", "")), []).extend(
            (t.timestamp() if isinstance(t, datetime) else float(t), float(v))
            for t, v in zip(stamps, values, strict=False))
    out: dict[str, dict[str, dict[Metric, Series]]] = {}
    for i, target in enumerate(found):
        mine = out.setdefault(target.tunnel, {}).setdefault(target.value, {})
        for j, metric in enumerate(METRICS):
            got = sorted(points.get(f"m{i}_{j}", []))
            mine[metric.metric] = Series(metric.metric, tuple(got), metric.name, target.value)
    return out


def combine(parts: Mapping[str, Mapping[Metric, Series]]) -> dict[Metric, Series]:
    """A connection's series from its tunnels': bytes summed, TunnelState the best of them (up if one is)."""
    combined: dict[Metric, Series] = {}
    for metric in METRICS:
        by_time: dict[float, float] = {}
        for series in (p[metric.metric] for p in parts.values() if metric.metric in p):
            for t, v in series.points:
                by_time[t] = max(by_time.get(t, v), v) if metric.metric is Metric.TUNNEL_UP else by_time.get(t, 0) + v
        combined[metric.metric] = Series(metric.metric, tuple(sorted(by_time.items())), metric.name, "")
    return combined
