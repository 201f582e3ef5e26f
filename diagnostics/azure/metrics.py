"""Azure Monitor platform metrics of VPN gateways as a `MetricsSource`: azure-mgmt-monitor's
`MonitorManagementClient(...).metrics.list`, with failures in words.

Why this client (docs/sources.md#azure-vpn-metrics): azure-monitor-query 2.0, the logs dependency, no longer has
`MetricsQueryClient`; its replacement for one resource's metrics is azure-mgmt-monitor's `metrics.list`, which calls
ARM's `GET {resourceUri}/providers/Microsoft.Insights/metrics` (timespan, interval, metricnames, aggregation, $filter)
on a configurable ARM endpoint (`[azure] arm_endpoint`, sovereign clouds), with the same azure-core credential as the
logs. (`MetricsClient`, now in azure-monitor-querymetrics, reads the regional `metrics:getBatch` endpoint instead.)

What is asked per gateway (`metrics_query.requests_for`): one call with every tunnel metric of every tunnel of the
question, split by `RemoteIP` in the `$filter`, and, only when a tunnel names its BGP peer, one call with the BGP
metrics split by `BgpPeerAddress` (the service refuses a filter on a dimension a requested metric lacks). The
gateway's resource id comes from the tunnel's config (`azure_gateway_id`, or subscription + resource group + gateway)
or from the log rows' `ResourceId` (`learn`).

Retries are azure-core's (`DeadlineRetryPolicy`, as for the logs: 429 honours Retry-After up to a cap, 5xx back off,
nothing outlasts a question's deadline). A call that still fails becomes ONE line in each of its tunnels'
`Traffic.failures` (403: the Monitoring Reader role is missing; throttled; the endpoint failing), never an exception:
an answer without traffic is still an answer. Lines are built from status codes and the service's error code, never
from request headers, so a token cannot leak into them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError, ServiceRequestError
from azure.mgmt.monitor import MonitorManagementClient

from diagnostics import deadline
from diagnostics.at_once import at_once
from diagnostics.azure.loganalytics import DeadlineRetryPolicy, OutOfTime, status_code
from diagnostics.azure.metrics_query import (
    DEFAULT_ARM_ENDPOINT,
    MetricName,
    MetricsRequest,
    assign,
    requests_for,
    resource_id,
    series_by_dimension,
)
from diagnostics.azure.sources import KqlBackend
from diagnostics.model import QueryRecord
from diagnostics.traffic.model import Metric, Series, Traffic
from diagnostics.tunnels import Tunnel

BACKEND = "azure-monitor-metrics"
#: Gateways read side by side (a summary over many gateways); ARM allows thousands of reads per hour per identity.
PARALLEL_GATEWAYS = 8
CONNECT_TIMEOUT_S = 15
READ_TIMEOUT_S = 60
GATEWAY_IN_ID = re.compile(r"/virtualNetworkGateways/([^/]+)", re.IGNORECASE)
SUBSCRIPTION_IN_ID = re.compile(r"/subscriptions/([^/]+)", re.IGNORECASE)


class AzureMetricsSource:
    """Reads the VPN gateways' tunnel and BGP metrics from Azure Monitor (`MetricsSource`)."""

    backend = BACKEND

    def __init__(self, *, credential: TokenCredential, endpoint: str = DEFAULT_ARM_ENDPOINT,
                 connection_verify: str | bool | None = None, retry_total: int = 4,
                 retry_backoff_factor: float = 0.8, retry_backoff_max: float = 30,
                 resource_ids: Mapping[str, str] | None = None,
                 resolver: Callable[[], Sequence[str]] | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.label = f"Azure Monitor metrics ({self.endpoint})"
        self.retry_total = retry_total
        self._credential = credential
        self._options: dict[str, Any] = {
            "retry_policy": DeadlineRetryPolicy(retry_total=retry_total, retry_status=retry_total,
                                                retry_connect=retry_total, retry_read=0,
                                                retry_backoff_factor=retry_backoff_factor,
                                                retry_backoff_max=retry_backoff_max),
            "connection_timeout": CONNECT_TIMEOUT_S, "read_timeout": READ_TIMEOUT_S,
            # A sovereign cloud's ARM wants tokens for itself (e.g. https://management.usgovcloudapi.net/.default).
            "credential_scopes": [f"{self.endpoint}/.default"],
        }
        if connection_verify is not None:
            self._options["connection_verify"] = connection_verify
        self._clients: dict[str, MonitorManagementClient] = {}
        self._lock = threading.Lock()
        self._clients_lock = threading.Lock()
        self._resolving = threading.Lock()
        #: gateway name (lowercase) -> ARM resource id, learned from log rows' ResourceId
        self.resource_ids: dict[str, str] = {k.lower(): v for k, v in (resource_ids or {}).items()}
        self.calls = 0  # metrics.list calls made (retries excluded)
        #: asked once, for a gateway whose id the config does not give: the ResourceIds its logs carry
        self._resolver = resolver

    # -- which gateway ----------------------------------------------------------------------------------------

    def learn(self, resource_ids: Sequence[str]) -> None:
        """Remember gateways' resource ids as log rows carry them (`ResourceId`, any case)."""
        for rid in resource_ids:
            found = GATEWAY_IN_ID.search(rid or "")
            if found:
                self.resource_ids.setdefault(found.group(1).lower(), "/" + rid.strip("/"))

    def resource_for(self, tunnel: Tunnel) -> str:
        found = resource_id(tunnel) or self.resource_ids.get(tunnel.azure_gateway.lower(), "")
        if found or self._resolver is None:
            return found
        # Questions answered at once (Slack workers) wait for the one asking the logs, rather than each finding the
        # resolver taken and the gateway not yet learned.
        with self._resolving:
            if self._resolver is not None:
                resolver, self._resolver = self._resolver, None  # asked once per process, whatever it answers
                try:
                    self.learn(resolver())
                except Exception:  # the logs cannot tell: the tunnel is just not covered (said by the reader)
                    return ""
        return self.resource_ids.get(tunnel.azure_gateway.lower(), "")

    def covers(self, tunnel: Tunnel) -> bool:
        return bool(tunnel.azure_gateway and tunnel.azure_remote_ip and self.resource_for(tunnel))

    # -- reading ----------------------------------------------------------------------------------------------

    def read(self, tunnels: list[Tunnel], start: datetime, end: datetime, interval_s: int) -> dict[str, Traffic]:
        by_gateway: dict[str, list[Tunnel]] = {}
        for tunnel in tunnels:
            if self.covers(tunnel):
                by_gateway.setdefault(self.resource_for(tunnel), []).append(tunnel)
        # Gateways are independent calls: read side by side, each in a copy of this context (`at_once`: the question's
        # deadline holds in every thread).
        out: dict[str, Traffic] = {}
        for found in at_once(*(partial(self._gateway, resource, mine, start, end, interval_s)
                               for resource, mine in by_gateway.items()), most=PARALLEL_GATEWAYS):
            out.update(found)
        return out

    def _gateway(self, resource: str, mine: list[Tunnel], start: datetime, end: datetime,
                 interval_s: int) -> dict[str, Traffic]:
        """One gateway's tunnels: its calls (tunnel metrics, then BGP metrics when asked for), mapped per tunnel."""
        queries: list[QueryRecord] = []
        failures: list[str] = []
        by_ip: dict[str, dict[Metric, Series]] = {}
        by_peer: dict[str, dict[Metric, Series]] = {}
        for names, request in requests_for(resource, mine, start, end, interval_s):
            queries.append(QueryRecord(BACKEND, request.text(self.endpoint), resource, start, end))
            try:
                found = series_by_dimension(self._list(request))
            except _Failed as exc:
                failures.append(exc.line(_gateway(resource), names))
                continue
            (by_peer if names[0].name.startswith("Bgp") else by_ip).update(found)
        assigned = assign(mine, by_ip, by_peer)
        out = {}
        for tunnel in mine:
            traffic = Traffic(tunnel.name, start, end, interval_s, series=assigned[tunnel.name],
                              queries=list(queries), failures=list(failures))
            if not traffic.series and not failures:
                traffic.notes.append(f"Azure Monitor has no tunnel metrics of {_gateway(resource)} for RemoteIP "
                                     f"{tunnel.azure_remote_ip} in this window; check the tunnel's azure_remote_ip.")
            out[tunnel.name] = traffic
        return out

    def _client(self, resource: str) -> MonitorManagementClient:
        found = SUBSCRIPTION_IN_ID.search(resource)
        subscription = found.group(1) if found else "00000000-0000-0000-0000-000000000000"
        with self._clients_lock:
            if subscription not in self._clients:
                self._clients[subscription] = MonitorManagementClient(self._credential, subscription,
                                                                      base_url=self.endpoint, **self._options)
            return self._clients[subscription]

    def _list(self, request: MetricsRequest) -> Any:
        """One metrics.list call, or `_Failed` saying why in words."""
        left = deadline.remaining()
        if left is not None and left <= 0:
            raise _Failed(deadline.missed(self.label))
        timeouts: dict[str, float] = {"connection_timeout": deadline.bounded(CONNECT_TIMEOUT_S),
                                      "read_timeout": deadline.bounded(READ_TIMEOUT_S)}
        if left is not None:
            timeouts["timeout"] = left
        with self._lock:
            self.calls += 1
        try:
            return self._client(request.resource_id).metrics.list(
                request.resource_id.lstrip("/"), timespan=request.timespan, interval=request.interval,
                metricnames=request.metricnames, aggregation=request.aggregation, top=request.top,
                filter=request.filter, **timeouts)
        except OutOfTime:
            raise _Failed(deadline.missed(self.label)) from None
        except AzureError as exc:
            raise _Failed(self.explain(exc)) from None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # a 200 the client could not read
            raise _Failed(f"answered with a body that is not a metrics result ({type(exc).__name__}); check "
                          f"[azure] arm_endpoint ({self.endpoint})") from None

    def explain(self, exc: AzureError) -> str:
        """What failed, in the words an engineer needs: the status, the service's error code, what to do."""
        status = status_code(exc)
        code = str(getattr(getattr(exc, "error", None), "code", "") or "")
        if status == 403:
            return (f"the identity may not read them (HTTP 403 {code or 'AuthorizationFailed'}): grant it the "
                    "Monitoring Reader role on the gateway or its resource group")
        if status == 401 or (status is None and isinstance(exc, ClientAuthenticationError)):
            return "no usable Azure credential for Azure Resource Manager; run `az login` or set [azure] credential"
        if status == 429:
            return f"throttled by Azure Resource Manager (HTTP 429, still after {self.retry_total} retries)"
        if status == 404:
            return ("the gateway was not found (HTTP 404); check its resource id (azure_gateway_id, or "
                    "azure_subscription + azure_resource_group + azure_gateway) and [azure] arm_endpoint")
        if status == 400:
            message = re.sub(r"\s+", " ", str(getattr(getattr(exc, "error", None), "message", "") or ""))[:300]
            return f"the service rejected the request (HTTP 400{': ' + message if message else ''})"
        if status is not None and status >= 500:
            return f"Azure Monitor failed with HTTP {status} (still after {self.retry_total} retries)"
        if status is not None:
            return f"Azure Monitor answered HTTP {status}{' ' + code if code else ''}"
        if isinstance(exc, ServiceRequestError):
            return f"cannot reach {self.endpoint}; check the network, the proxy and [azure] arm_endpoint"
        return f"the call failed ({type(exc).__name__}); check [azure] arm_endpoint ({self.endpoint})"

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


#: The VPN gateways' resource ids a Log Analytics workspace has rows of (a week back), for `resolver`.
GATEWAY_IDS_KQL = ('AzureDiagnostics | where ResourceType =~ "VIRTUALNETWORKGATEWAYS" '
                   '| summarize rows = count() by ResourceId')
RESOLVE_DAYS = 7


def gateway_ids_from_logs(backend: KqlBackend, now: Callable[[], datetime]) -> Callable[[], list[str]]:
    """A resolver reading the gateways' `ResourceId` from the workspace's rows (one small query, run when first
    needed)."""
    def resolve() -> list[str]:
        end = now()
        result = backend.run_kql(GATEWAY_IDS_KQL, end - timedelta(days=RESOLVE_DAYS), end)
        at = result.columns.index("ResourceId")
        return [str(row[at]) for row in result.rows if row[at]]

    return resolve


class _Failed(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why

    def line(self, gateway: str, names: Sequence[MetricName]) -> str:
        what = "BGP metrics" if names and names[0].name.startswith("Bgp") else "tunnel metrics"
        return f"Azure Monitor {what} of {gateway}: {self.why}."


def _gateway(resource: str) -> str:
    found = GATEWAY_IN_ID.search(resource)
    return found.group(1) if found else resource
