"""An Azure Monitor metrics endpoint (Azure Resource Manager) on 127.0.0.1 over HTTPS, for tests of the real
`azure.mgmt.monitor.MonitorManagementClient` (`diagnostics.azure.metrics.AzureMetricsSource`).

It speaks `GET {base}/{resourceUri}/providers/Microsoft.Insights/metrics?api-version=…&timespan=…&interval=…
&metricnames=…&aggregation=…&top=…&$filter=…` as the service does (docs/sources.md#azure-vpn-metrics): the answer's
`value[]` holds one item per requested metric (`name.value`, `unit`, `timeseries[]` with `metadatavalues` naming
the filtered dimensions in lowercase, and `data[]` of `timeStamp` plus the asked aggregations, a point for every
interval of the timespan and no value where there is no data), `cost`, `timespan`, `interval`, `namespace`,
`resourceregion`. Like the service it refuses a `$filter` on a dimension one of the requested metrics lacks ("Metric:
… does not support requested dimension combination"), an unknown metric name, and a request without a valid bearer
token (401).

Series are stored per resource id as 5-minute points with their dimension values (`Stored`). Faults (`deny` 403
AuthorizationFailed, `throttle` 429 with Retry-After, `fail` 5xx) are served to the next requests in order; every
request is recorded (path, query parameters, whether its token was valid). The HTTPS server, its throwaway
certificate and the fault queue are the Log Analytics test endpoint's (`LogAnalyticsServer`, subclassed).
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from support.loganalytics_server import LogAnalyticsServer, Reply, parse_duration

METRICS_PATH = re.compile(r"^/+(?P<resource>.+?)/providers/microsoft\.insights/metrics/?$", re.IGNORECASE)
TUNNEL_DIMENSIONS = ("ConnectionName", "RemoteIP", "Instance")
BGP_DIMENSIONS = ("BgpPeerAddress", "Instance")
#: Name in REST API -> (unit, dimensions), from "Supported metrics for Microsoft.Network/virtualNetworkGateways".
CATALOG: dict[str, tuple[str, tuple[str, ...]]] = {
    "TunnelAverageBandwidth": ("BytesPerSecond", TUNNEL_DIMENSIONS),
    "TunnelIngressBytes": ("Bytes", TUNNEL_DIMENSIONS), "TunnelEgressBytes": ("Bytes", TUNNEL_DIMENSIONS),
    "TunnelIngressPackets": ("Count", TUNNEL_DIMENSIONS), "TunnelEgressPackets": ("Count", TUNNEL_DIMENSIONS),
    "TunnelIngressPacketDropTSMismatch": ("Count", TUNNEL_DIMENSIONS),
    "TunnelEgressPacketDropTSMismatch": ("Count", TUNNEL_DIMENSIONS),
    "TunnelIngressPacketDropCount": ("Count", TUNNEL_DIMENSIONS),
    "TunnelEgressPacketDropCount": ("Count", TUNNEL_DIMENSIONS),
    "BgpPeerStatus": ("Count", BGP_DIMENSIONS), "BgpRoutesAdvertised": ("Count", BGP_DIMENSIONS),
    "BgpRoutesLearned": ("Count", BGP_DIMENSIONS),
}
GRAIN_S = 300
CLAUSE = re.compile(r"\s*(?P<name>[A-Za-z]+)\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*(?:(?P<op>and|or)\b|$)",
                    re.IGNORECASE)


@dataclass(frozen=True)
class Stored:
    """One stored series: a metric of a resource with its dimension values, 5-minute points (epoch s, value)."""

    metric: str
    dimensions: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Recorded:
    path: str
    query: dict[str, str]
    auth_valid: bool


class FilterError(ValueError):
    pass


def parse_filter(text: str) -> dict[str, list[str]]:
    """`A eq 'x' or A eq 'y' and B eq '*'` -> {A: [x, y], B: [*]}; quotes doubled inside values are undone."""
    found: dict[str, list[str]] = {}
    rest = text.strip()
    while rest:
        match = CLAUSE.match(rest)
        if not match:
            raise FilterError(f"The $filter is not valid: {text}")
        found.setdefault(match["name"], []).append(match["value"].replace("''", "'"))
        rest = rest[match.end():]
    return found


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: ARM's error code and message for a status a fault injects.
ARM_ERRORS = {
    403: ("AuthorizationFailed", "The client 'vpnbot' with object id '00000000-0000-0000-0000-000000000000' does not "
          "have authorization to perform action 'microsoft.insights/metrics/read' over scope '…' or the scope is "
          "invalid. If access was recently granted, please refresh your credentials."),
    429: ("TooManyRequests", "The request is being throttled."),
    500: ("InternalServerError", "An internal server error occurred."),
    503: ("ServiceUnavailable", "The service is unavailable."),
}


class MetricsServer(LogAnalyticsServer):
    """A local ARM metrics endpoint. `resources`: {resource id: [Stored, ...]} (ids compared case-insensitively).

    The HTTPS server, its certificate, `start`/`stop`, and the fault queue (`throttle`, `fail`) are the Log Analytics
    test endpoint's; only the answers differ."""

    def __init__(self, resources: Mapping[str, Iterable[Stored]] | None = None, *, token: str = "test-token",
                 region: str = "westeurope") -> None:
        super().__init__(None, token=token)
        self.region = region
        self.requests: list[Recorded] = []  # type: ignore[assignment]  # this endpoint's own records
        self.busy_s = 0.0  # time spent computing answers (a benchmark subtracts it: the bot's side is the rest)
        self._resources = {k.strip("/").lower(): list(v) for k, v in (resources or {}).items()}

    def add(self, resource_id: str, series: Iterable[Stored]) -> None:
        self._resources.setdefault(resource_id.strip("/").lower(), []).extend(series)

    def deny(self, times: int = 1) -> None:
        """403 AuthorizationFailed: the identity lacks microsoft.insights/metrics/read (no Monitoring Reader)."""
        self.fail(times, status=403)

    # -- answering --------------------------------------------------------------------------------------------

    def answer(self, method: str, path: str, raw: bytes, authorization: str | None, prefer: str) -> Reply:
        started = time.perf_counter()
        try:
            return self._answer(method, path, authorization)
        finally:
            with self._lock:
                self.busy_s += time.perf_counter() - started

    def _answer(self, method: str, raw_path: str, authorization: str | None) -> Reply:
        path, _, raw_query = raw_path.partition("?")
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(raw_query, keep_blank_values=True).items()}
        valid = (authorization or "").strip() == f"Bearer {self.token}"
        with self._lock:
            self.requests.append(Recorded(urllib.parse.unquote(path), query, valid))
        fault = self._next_fault(None)
        if fault is not None and fault.kind == "status":
            code, message = ARM_ERRORS.get(fault.status, ("Error", f"HTTP {fault.status}"))
            return Reply(fault.status, {"error": {"code": code, "message": message}}, list(fault.headers))
        if not valid:
            return Reply(401, {"error": {"code": "InvalidAuthenticationToken", "message": "The access token is "
                                         "invalid."}},
                         [("WWW-Authenticate", 'Bearer authorization_uri="https://login.microsoftonline.com/common"')])
        match = METRICS_PATH.match(urllib.parse.unquote(path))
        if method != "GET" or not match:
            return Reply(404, {"error": {"code": "NotFound", "message": f"No route for {method} {path}"}})
        try:
            return Reply(200, self._metrics(match["resource"], query))
        except FilterError as exc:
            # The metrics API's own error shape: code and message at the top level (docs/sources.md#azure-vpn-metrics).
            return Reply(400, {"code": "BadRequest", "message": str(exc)})

    def _metrics(self, resource: str, query: Mapping[str, str]) -> dict[str, Any]:
        start_text, _, end_text = query.get("timespan", "").partition("/")
        start = datetime.fromisoformat(start_text.replace("Z", "+00:00")).timestamp()
        end = datetime.fromisoformat(end_text.replace("Z", "+00:00")).timestamp()
        step = parse_duration(query.get("interval") or "PT5M").total_seconds()
        names = [n for n in (query.get("metricnames") or "").split(",") if n]
        aggregations = [a.strip().lower() for a in (query.get("aggregation") or "average").split(",")]
        wanted = parse_filter(query.get("$filter", ""))
        top = int(query.get("top") or 10)
        stored = self._resources.get(resource.strip("/").lower(), [])
        items = []
        for name in names:
            known = next((k for k in CATALOG if k.lower() == name.lower()), None)
            if known is None:
                raise FilterError(f"Failed to find metric configuration for provider: Microsoft.Network, resource "
                                  f"Type: virtualNetworkGateways, metric: {name}, Valid metrics: {','.join(CATALOG)}")
            unit, dims = CATALOG[known]
            missing = [d for d in wanted if d.lower() not in {x.lower() for x in dims}]
            if missing:
                raise FilterError(f"Metric: {known} does not support requested dimension combination: "
                                  f"{','.join(m.lower() for m in missing)}, supported ones are: {','.join(dims)}")
            groups: dict[tuple[str, ...], list[Stored]] = {}
            for series in (s for s in stored if s.metric == known):
                key = []
                for dim, values in wanted.items():
                    value = next((v for k, v in series.dimensions.items() if k.lower() == dim.lower()), "")
                    if "*" not in values and value.lower() not in {v.lower() for v in values}:
                        break
                    key.append(value)
                else:
                    groups.setdefault(tuple(key), []).append(series)
            timeseries = [self._timeseries(list(wanted), key, members, start, end, step, aggregations)
                          for key, members in sorted(groups.items())][:top]
            items.append({"id": f"/{resource}/providers/Microsoft.Insights/metrics/{known}",
                          "type": "Microsoft.Insights/metrics", "name": {"value": known, "localizedValue": known},
                          "displayDescription": "", "unit": unit, "timeseries": timeseries, "errorCode": "Success"})
        return {"cost": len(names) * max(1, int((end - start) // step)), "timespan": query.get("timespan", ""),
                "interval": query.get("interval", "PT5M"), "value": items,
                "namespace": "Microsoft.Network/virtualNetworkGateways", "resourceregion": self.region}

    @staticmethod
    def _timeseries(dims: list[str], key: tuple[str, ...], members: list[Stored], start: float, end: float,
                    step: float, aggregations: list[str]) -> dict[str, Any]:
        first = int(start // step) * step
        data = []
        at = first
        while at < end:
            values = [v for s in members for t, v in s.points if at <= t < at + step]
            point: dict[str, Any] = {"timeStamp": _iso(at)}
            if values:
                for aggregation in aggregations:
                    point[aggregation] = {"total": sum(values), "average": sum(values) / len(values),
                                          "minimum": min(values), "maximum": max(values),
                                          "count": float(len(values))}.get(aggregation)
            data.append(point)
            at += step
        metadata = [{"name": {"value": d.lower(), "localizedValue": d.lower()}, "value": v}
                    for d, v in zip(dims, key, strict=True)]
        return {"metadatavalues": metadata, "data": data}


__all__ = ["GRAIN_S", "MetricsServer", "Recorded", "Stored", "parse_filter"]
