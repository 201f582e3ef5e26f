"""CloudWatch Logs as an `AwsLogSource`: boto3's `logs` client, with failures in words.

How a connection is read (issue 4; research §4.5): `describe_log_streams(logStreamNamePrefix=<vpn id>)` finds
the tunnels' streams (their suffix is not assumed, and `filter_log_events`' own `logStreamNamePrefix` is ignored
by moto), then `filter_log_events(logStreamNames=..., startTime, endTime)` with pagination, no filter pattern:
moto ignores JSON patterns and real AWS would differ from it, so all classification happens in Python.

Standard AWS configuration applies (boto3's chain: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_LOGS,
SSO, instance roles). Throttling is retried by botocore's adaptive retry mode (client-side rate limiting plus
backoff). Every failure becomes one `SourceError` sentence naming the log group and what to check; sentences are
built from error codes, never from request data, so credentials cannot leak into them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
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

from ..sources import SourceError
from .parser import LogRecord
from .sources import AwsRead, TunnelLogRequest, filter_log_events_command
from .streams import is_tunnel_stream

#: logStreamNames takes at most 100 names per call (CloudWatch Logs API reference).
MAX_STREAMS_PER_CALL = 100
DEFAULT_MAX_ATTEMPTS = 6
THROTTLING = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
              "LimitExceededException", "ProvisionedThroughputExceededException"}
DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnauthorizedException"}
BAD_CREDENTIALS = {"UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException",
                   "ExpiredTokenException", "ExpiredToken", "SignatureDoesNotMatch"}
#: API operation -> the IAM action a denial is about.
ACTIONS = {"DescribeLogStreams": "logs:DescribeLogStreams", "FilterLogEvents": "logs:FilterLogEvents",
           "DescribeVpnConnections": "ec2:DescribeVpnConnections"}


def client_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Config:
    return Config(retries={"mode": "adaptive", "max_attempts": max_attempts}, connect_timeout=10, read_timeout=60,
                  user_agent_extra="vpnbot")


def make_session(region: str = "", profile: str = "") -> boto3.session.Session:
    """A boto3 session from the standard chain; `region`/`profile` only pin what configuration pins."""
    return boto3.session.Session(region_name=region or None, profile_name=profile or None)


class CloudWatchLogsSource:
    """Reads AWS Site-to-Site VPN tunnel logs from one region's CloudWatch Logs (`AwsLogSource`)."""

    backend = "cloudwatch-logs"

    def __init__(
        self,
        log_group: str = "",
        *,
        region: str = "",
        profile: str = "",
        endpoint_url: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        groups: Mapping[str, str] | None = None,
        session: boto3.session.Session | None = None,
        page_size: int | None = None,
    ) -> None:
        session = session or make_session(region, profile)
        try:
            self._client = session.client("logs", config=client_config(max_attempts), endpoint_url=endpoint_url)
        except NoRegionError:
            raise SourceError("CloudWatch Logs: no AWS region is set; set [aws] region (or AWS_REGION).") from None
        self.region = self._client.meta.region_name
        self.endpoint = self._client.meta.endpoint_url
        self.log_group = log_group
        self.groups = dict(groups or {})  # connection id -> log group from its TunnelOptions LogOptions
        self.max_attempts = max_attempts
        self.pagination = {"PageSize": page_size} if page_size else {}  # default: the service's (10,000 events)
        self.label = f"CloudWatch Logs {log_group or '(log group per connection)'} ({self.region})"
        self.origin = log_group or self.region
        self.calls: Counter[str] = Counter()  # API calls made (one per operation call, retries excluded)
        self.attempts = 0  # HTTP attempts, retries included
        self._client.meta.events.register("before-call", self._count_call)
        self._client.meta.events.register("before-send", self._count_attempt)

    def _count_call(self, model: Any = None, **_: Any) -> None:
        self.calls[model.name if model is not None else "?"] += 1

    def _count_attempt(self, **_: Any) -> None:
        self.attempts += 1

    def group_for(self, request: TunnelLogRequest) -> str:
        return request.log_group or self.groups.get(request.connection, "") or self.log_group

    def command(self, request: TunnelLogRequest, streams: list[str] | None = None) -> str:
        return filter_log_events_command(self.group_for(request), request, streams or (), self.region)

    def read_tunnel_logs(self, request: TunnelLogRequest) -> AwsRead:
        group = self.group_for(request)
        if not group:
            raise SourceError(
                f"{self.label}: no log group for {request.connection}; set [aws] log_group, or enable tunnel "
                "logging on the connection (TunnelOptions LogOptions) so that discovery finds its group."
            )
        before = sum(self.calls.values())
        streams = self.tunnel_streams(group, request)
        notes = []
        records: list[LogRecord] = []
        if streams:
            records = self.events(group, streams, request.start_ms, request.end_ms)
        else:
            notes.append(f"{self.label}: no log stream of {request.connection} in {group}: check that tunnel "
                         "logging is enabled on both tunnels and publishes to this group.")
        return AwsRead(records, self.command(request, streams), group, group, streams, notes,
                       api_calls=sum(self.calls.values()) - before)

    def tunnel_streams(self, group: str, request: TunnelLogRequest) -> list[str]:
        """The connection's streams (`vpn-<id>-<outside ip>…`), whatever their suffix."""
        names = []
        try:
            pages = self._client.get_paginator("describe_log_streams").paginate(
                logGroupName=group, logStreamNamePrefix=request.connection)
            for page in pages:
                names += [s["logStreamName"] for s in page.get("logStreams", [])
                          if is_tunnel_stream(s["logStreamName"], request.connection, request.outside_ips)]
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(self.explain(exc, group, "DescribeLogStreams")) from None
        return sorted(names)

    def events(self, group: str, streams: list[str], start_ms: int, end_ms: int) -> list[LogRecord]:
        records: list[LogRecord] = []
        try:
            for i in range(0, len(streams), MAX_STREAMS_PER_CALL):
                pages = self._client.get_paginator("filter_log_events").paginate(
                    logGroupName=group, logStreamNames=streams[i:i + MAX_STREAMS_PER_CALL],
                    startTime=start_ms, endTime=end_ms, PaginationConfig=self.pagination)
                for page in pages:
                    records += [LogRecord(e.get("logStreamName", ""), int(e.get("timestamp", 0)), e.get("message", ""))
                                for e in page.get("events", [])]
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(self.explain(exc, group, "FilterLogEvents")) from None
        records.sort(key=lambda r: r.timestamp)  # per stream otherwise (research §4.2)
        return records

    def explain(self, exc: BaseException, group: str, operation: str) -> str:
        """One sentence: what failed with this log group and what to check."""
        where = f"CloudWatch Logs group {group} ({self.region})"
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in DENIED:
                return (f"{where}: access denied to {ACTIONS.get(operation, operation)}; grant the bot's identity "
                        "logs:DescribeLogStreams and logs:FilterLogEvents on this log group.")
            if code == "ResourceNotFoundException":
                return (f"{where}: the log group does not exist in {self.region}; check [aws] log_group and region, "
                        "and that the VPN tunnels' logging (TunnelOptions LogOptions) publishes to it.")
            if code in THROTTLING:
                return (f"{where}: throttled by CloudWatch Logs on {operation} (still after {self.max_attempts} "
                        "attempts); try again in a minute, or ask about a shorter window.")
            if code in BAD_CREDENTIALS:
                return (f"{where}: the AWS credentials were rejected ({code}); refresh them (e.g. `aws sso login`) "
                        "or check AWS_PROFILE.")
            if isinstance(status, int) and status >= 500:
                return (f"{where}: CloudWatch Logs failed with HTTP {status} on {operation} (still after "
                        f"{self.max_attempts} attempts); try again in a few minutes.")
            return f"{where}: {operation} failed with {code or 'an error'} (HTTP {status}); check [aws] settings."
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return (f"{where}: no AWS credentials found; set AWS_PROFILE, or run where an IAM role or the "
                    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY variables provide them.")
        if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
            return f"{where}: cannot reach {self.endpoint}; check the network, the proxy and AWS_ENDPOINT_URL."
        if isinstance(exc, ReadTimeoutError):
            return f"{where}: {self.endpoint} did not answer in time; try again, or ask about a shorter window."
        return f"{where}: {operation} failed ({type(exc).__name__}); check [aws] settings and the network."
