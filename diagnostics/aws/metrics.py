"""CloudWatch `AWS/VPN` metrics as a `MetricsSource`: boto3's `cloudwatch.get_metric_data`, with failures in words.

Every tunnel of a question goes into ONE GetMetricData request per region (`metrics_query.queries`: TunnelState,
TunnelDataIn, TunnelDataOut per outside IP, or per VpnId when the outside IPs are not known), read page after page
(`NextToken`). Retries are botocore's adaptive mode and the question's deadline bounds them, as for CloudWatch Logs
(`diagnostics.aws.cloudwatch.client_config`, `stop_at_deadline`). A call that still fails becomes one line in each
tunnel's `Traffic.failures` (AccessDenied names `cloudwatch:GetMetricData`), never an exception.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from diagnostics import deadline
from diagnostics.aws.cloudwatch import (
    BAD_CREDENTIALS,
    DEFAULT_MAX_ATTEMPTS,
    DENIED,
    THROTTLING,
    DeadlineReached,
    client_config,
    make_session,
    stop_at_deadline,
)
from diagnostics.aws.metrics_query import MAX_QUERIES, combine, command, queries, series_of, targets
from diagnostics.model import QueryRecord
from diagnostics.traffic.model import Traffic
from diagnostics.tunnels import Tunnel

BACKEND = "cloudwatch-metrics"


class CloudWatchMetricsSource:
    """Reads one region's Site-to-Site VPN tunnel metrics (`MetricsSource`)."""

    backend = BACKEND

    def __init__(self, *, region: str = "", profile: str = "", endpoint_url: str | None = None,
                 max_attempts: int = DEFAULT_MAX_ATTEMPTS, session: boto3.session.Session | None = None) -> None:
        self._session = session or make_session(region, profile)
        self._endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self._lock = threading.Lock()  # a boto3 session is not thread-safe; clients are
        self._shared: Any = None
        self.region = self._session.region_name or region
        self.label = f"CloudWatch AWS/VPN metrics ({self.region or 'no region'})"
        self.calls = 0  # GetMetricData calls made (pages included, retries excluded)

    def covers(self, tunnel: Tunnel) -> bool:
        return bool(tunnel.aws_vpn_connection)

    def _client(self) -> Any:
        """The shared client, or under a question's deadline one of its own whose timeouts end with it (botocore's
        timeouts are per client), as for CloudWatch Logs."""
        left = deadline.remaining()
        with self._lock:
            if left is None and self._shared is not None:
                return self._shared
            client = stop_at_deadline(self._session.client("cloudwatch", region_name=self.region or None,
                                                           endpoint_url=self._endpoint_url,
                                                           config=client_config(self.max_attempts, left)), left)
            if left is None:
                self._shared = client
            return client

    def read(self, tunnels: list[Tunnel], start: datetime, end: datetime, interval_s: int) -> dict[str, Traffic]:
        mine = [t for t in tunnels if self.covers(t)]
        if not mine:
            return {}
        found = targets(mine)
        request = queries(found, interval_s)
        record = QueryRecord(BACKEND, command(request, start, end, self.region), self.region, start, end)
        failure = ""
        results: list[dict[str, Any]] = []
        try:
            results = self._get(request, start, end)
        except NoRegionError:
            failure = f"{self.label}: no AWS region is set; set [aws] region (or AWS_DEFAULT_REGION)."
        except (ClientError, BotoCoreError) as exc:
            failure = f"{self.label}: {self.explain(exc)}."
        by_tunnel = series_of(found, results) if not failure else {}
        out = {}
        for tunnel in mine:
            traffic = Traffic(tunnel.name, start, end, interval_s, queries=[record],
                              failures=[failure] if failure else [])
            parts = by_tunnel.get(tunnel.name, {})
            if parts:
                traffic.parts = parts if tunnel.aws_outside_ips else {}
                traffic.series = combine(parts)
            out[tunnel.name] = traffic
        return out

    def _get(self, request: list[dict[str, Any]], start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Every page of every chunk of 500 queries (one chunk for up to ~160 tunnels)."""
        if deadline.expired():
            raise DeadlineReached()
        client = self._client()
        results: list[dict[str, Any]] = []
        for i in range(0, len(request), MAX_QUERIES):
            token = None
            while True:
                kwargs: dict[str, Any] = {"MetricDataQueries": request[i:i + MAX_QUERIES], "StartTime": start,
                                          "EndTime": end, "ScanBy": "TimestampAscending"}
                if token:
                    kwargs["NextToken"] = token
                self.calls += 1
                page = client.get_metric_data(**kwargs)
                results += page.get("MetricDataResults", [])
                token = page.get("NextToken")
                if not token:
                    break
        return results

    def explain(self, exc: BaseException) -> str:
        if isinstance(exc, DeadlineReached) or deadline.expired():
            return deadline.missed("GetMetricData")
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in DENIED:
                return ("access denied to cloudwatch:GetMetricData; grant the bot's identity cloudwatch:GetMetricData "
                        "(e.g. the CloudWatchReadOnlyAccess policy)")
            if code in THROTTLING:
                return f"throttled on GetMetricData (still after {self.max_attempts} attempts); try again in a minute"
            if code in BAD_CREDENTIALS:
                return f"the AWS credentials were rejected ({code}); refresh them or check AWS_PROFILE"
            if isinstance(status, int) and status >= 500:
                return (f"CloudWatch failed with HTTP {status} on GetMetricData (still after {self.max_attempts} "
                        "attempts)")
            return f"GetMetricData failed with {code or 'an error'} (HTTP {status})"
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return "no AWS credentials found; set AWS_PROFILE, or run where an IAM role provides them"
        if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
            return "cannot reach CloudWatch; check the network, the proxy and AWS_ENDPOINT_URL"
        if isinstance(exc, ReadTimeoutError):
            return "CloudWatch did not answer GetMetricData in time; try again, or ask about a shorter window"
        return f"GetMetricData failed ({type(exc).__name__})"
