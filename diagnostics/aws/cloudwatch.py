"""CloudWatch Logs as an `AwsLogSource`: boto3's `logs` client, with failures in words.

How a connection is read (emulator limits: docs/sources.md#aws-test-emulator):
`describe_log_streams(logStreamNamePrefix=<vpn id>)` finds the tunnels' streams (their suffix is not assumed, and
`filter_log_events`' own `logStreamNamePrefix` is ignored by moto), then `filter_log_events(logStreamNames=...,
startTime, endTime)` with pagination, no filter pattern: moto ignores JSON patterns and real AWS would differ from
it, so all classification happens in Python.

The daily summary reads a whole log group at once (`read_group`: one describe_log_streams of the group, then
filter_log_events by stream names in chunks of 100), and asks Logs Insights for per-stream aggregates
(`run_insights`: StartQuery, then GetQueryResults polled until final or a timeout; moto completes at once and ignores
`stats`, docs/sources.md#aws-test-emulator).

Standard AWS configuration applies (boto3's chain: AWS_PROFILE, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL /
AWS_ENDPOINT_URL_LOGS, SSO, instance roles). Throttling is retried by botocore's adaptive retry mode (client-side
rate limiting plus backoff). Every failure becomes one `SourceError` sentence naming the log group and what to
check; sentences are built from error codes, never from request data, so credentials cannot leak into them.

Every client has connect and read timeouts (`CONNECT_TIMEOUT_S`, `READ_TIMEOUT_S`). Under a question's deadline
(`diagnostics.deadline`) each read gets a client of its own whose timeouts end with the deadline, no attempt begins
and no failed attempt is retried once it has passed (`stop_at_deadline`), and Logs Insights polling ends with it: the
source then fails in one sentence while the other sources still answer. (A backoff botocore began before the
deadline is slept to its end, at most botocore's 20 s cap, before the next attempt is refused.)
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
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

from diagnostics import deadline
from diagnostics.aws.parser.rows import LogRecord
from diagnostics.aws.sources import (
    AwsRead,
    GroupLogRequest,
    TunnelLogRequest,
    filter_group_command,
    filter_log_events_command,
)
from diagnostics.aws.streams import is_tunnel_stream
from diagnostics.model import SourceError

#: logStreamNames takes at most 100 names per call (CloudWatch Logs API reference).
MAX_STREAMS_PER_CALL = 100
DEFAULT_MAX_ATTEMPTS = 6
CONNECT_TIMEOUT_S = 10
#: Per HTTP read: a filter_log_events page of 10,000 events comes back in a few seconds.
READ_TIMEOUT_S = 30
THROTTLING = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
              "LimitExceededException", "ProvisionedThroughputExceededException"}
DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnauthorizedException"}
BAD_CREDENTIALS = {"UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException",
                   "ExpiredTokenException", "ExpiredToken", "SignatureDoesNotMatch"}
#: API operation -> the IAM action a denial is about.
ACTIONS = {"DescribeLogStreams": "logs:DescribeLogStreams", "FilterLogEvents": "logs:FilterLogEvents",
           "DescribeVpnConnections": "ec2:DescribeVpnConnections", "StartQuery": "logs:StartQuery",
           "GetQueryResults": "logs:GetQueryResults"}
#: describe_log_streams returns at most 50 streams a page (its `limit`'s maximum).
STREAMS_PER_PAGE = 50
#: GetQueryResults statuses after which a Logs Insights query will not change any more.
INSIGHTS_FINAL = frozenset({"Complete", "Failed", "Cancelled", "Timeout", "Unknown"})
#: Logs Insights returns at most 10,000 result rows; a result that long may be cut.
INSIGHTS_MAX_ROWS = 10_000


class DeadlineReached(BotoCoreError):
    """The question's deadline passed before the call could be (re)tried."""

    fmt = "the question's deadline has passed"


@dataclass
class InsightsAnswer:
    """One Logs Insights query as it ended: GetQueryResults' `status` and `results` (rows of {field, value}), or
    status "Timeout" when the bot stopped waiting."""

    query: str
    status: str
    results: list[list[dict[str, str]]] = field(default_factory=list)
    query_id: str = ""
    statistics: dict[str, float] = field(default_factory=dict)
    waited_s: float = 0.0


def common_prefix(names: Sequence[str]) -> str:
    """The longest prefix every name shares ("" for none): describe_log_streams filters by one prefix."""
    if not names:
        return ""
    first, last = min(names), max(names)
    n = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last)))
    return first[:n]


def poll_insights(client: Any, group: str, queries: Sequence[str], start: datetime, end: datetime, *,
                  timeout_s: float = 60.0, poll_s: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.monotonic) -> list[InsightsAnswer]:
    """Start every query over `group` for [start, end] (epoch seconds, the end second included, as StartQuery
    counts it), then poll GetQueryResults (1 s, growing to 5 s) until each is final or `timeout_s` has passed;
    a query still running then is stopped (best effort: moto has no StopQuery) and answered as "Timeout". Under a
    question's deadline the wait ends with it, and then raises DeadlineReached.
    Uses `logGroupNames` (moto fails on `logGroupIdentifiers`). ClientError/BotoCoreError pass."""
    began = clock()
    limit = deadline.bounded(timeout_s)
    answers = []
    for query in queries:
        started = client.start_query(logGroupNames=[group], startTime=int(start.timestamp()),
                                     endTime=math.ceil(end.timestamp()), queryString=query, limit=INSIGHTS_MAX_ROWS)
        answers.append(InsightsAnswer(query, "Scheduled", query_id=started["queryId"]))
    delay = poll_s
    while True:
        for answer in answers:
            if answer.status in INSIGHTS_FINAL:
                continue
            page = client.get_query_results(queryId=answer.query_id)
            answer.status = str(page.get("status", "Unknown"))
            answer.results = page.get("results", [])
            answer.statistics = dict(page.get("statistics", {}))
            answer.waited_s = clock() - began
        pending = [a for a in answers if a.status not in INSIGHTS_FINAL]
        if not pending:
            return answers
        if clock() - began >= limit:
            for answer in pending:
                with contextlib.suppress(ClientError, BotoCoreError):
                    client.stop_query(queryId=answer.query_id)
                answer.status, answer.waited_s = "Timeout", clock() - began
            if limit < timeout_s:
                raise DeadlineReached()
            return answers
        sleep(min(delay, max(0.0, limit - (clock() - began))))
        delay = min(delay * 1.5, 5.0)


def client_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS, left: float | None = None) -> Config:
    """Adaptive retries, and connect and read timeouts, cut to `left` (what is left of a question's deadline) for a
    client made for one read."""
    connect, read = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S) if left is None else (min(CONNECT_TIMEOUT_S, left),
                                                                                min(READ_TIMEOUT_S, left))
    return Config(retries={"mode": "adaptive", "max_attempts": max_attempts}, connect_timeout=connect,
                  read_timeout=read, user_agent_extra="vpnbot")


def stop_at_deadline(client: Any, left: float | None = None) -> Any:
    """No attempt of `client` begins, and no failed attempt is retried, once the question's deadline has passed.
    `left`: what was left of it when the client was made with `client_config(left=...)`: a timeout cut to it means
    the deadline has come."""
    client.meta.events.register("before-send", _refuse_when_late)
    client.meta.events.register_first("needs-retry", functools.partial(_no_retry_when_late, left=left))
    return client


def _refuse_when_late(**_: Any) -> None:
    if deadline.expired():
        raise DeadlineReached()


def _no_retry_when_late(left: float | None = None, response: Any = None, caught_exception: Any = None,
                        **_: Any) -> None:
    """Before botocore decides on a retry (and sleeps for it): none for a failure at or past the deadline."""
    status = response[0].status_code if response is not None else 0
    if caught_exception is None and status < 500 and status != 429:
        return
    cut = left is not None and (
        (isinstance(caught_exception, ReadTimeoutError) and left < READ_TIMEOUT_S)
        or (isinstance(caught_exception, ConnectTimeoutError) and left < CONNECT_TIMEOUT_S))
    if cut or deadline.expired():
        raise DeadlineReached()


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
            self._client = stop_at_deadline(session.client("logs", config=client_config(max_attempts),
                                                           endpoint_url=endpoint_url))
        except NoRegionError:
            raise SourceError("CloudWatch Logs: no AWS region is set; set [aws] region (or the AWS_DEFAULT_REGION "
                              "environment variable, or a profile's region).") from None
        self._session, self._endpoint_url = session, endpoint_url
        self._lock = threading.Lock()  # a boto3 session is not thread-safe; clients are
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
        self._watch(self._client)

    def _watch(self, client: Any) -> None:
        client.meta.events.register("before-call", self._count_call)
        client.meta.events.register("before-send", self._count_attempt)

    def _reader(self) -> Any:
        """The client for one read: the shared one, or under a question's deadline a client of its own whose
        timeouts end with the deadline (botocore's timeouts are per client)."""
        left = deadline.remaining()
        if left is None:
            return self._client
        if left <= 0:
            raise SourceError(deadline.missed(f"CloudWatch Logs ({self.region})"))
        with self._lock:
            client = self._session.client("logs", region_name=self.region, endpoint_url=self._endpoint_url,
                                          config=client_config(self.max_attempts, left))
        stop_at_deadline(client, left)
        self._watch(client)
        return client

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
        client = self._reader()
        streams = self.tunnel_streams(group, request, client)
        notes = []
        records: list[LogRecord] = []
        if streams:
            records = self.events(group, streams, request.start_ms, request.end_ms, client=client)
        else:
            notes.append(f"{self.label}: no log stream of {request.connection} in {group}: check that tunnel "
                         "logging is enabled on both tunnels and publishes to this group.")
        return AwsRead(records, self.command(request, streams), group, group, streams, notes,
                       api_calls=sum(self.calls.values()) - before)

    def read_group(self, request: GroupLogRequest, sink: Callable[[list[LogRecord]], None] | None = None) -> AwsRead:
        """Every requested connection's events in one group read: describe_log_streams once for the group (by the
        connections' common prefix, paginated; skipped when `request.streams` names them), then filter_log_events
        by stream names in chunks of 100, paginated. The number of calls grows with streams and pages, not with
        connections. With `sink`, each page's events go to it instead of `records` (a long read in bounded
        memory)."""
        group = request.log_group or self.log_group
        if not group:
            raise SourceError(f"{self.label}: no log group to read; set [aws] log_group, or enable tunnel logging on "
                              "the connections (TunnelOptions LogOptions) so that discovery finds their group.")
        before = sum(self.calls.values())
        client = self._reader()
        streams = sorted(request.streams) if request.streams is not None else self.group_streams(group, request,
                                                                                                  client)
        records = self.events(group, streams, request.start_ms, request.end_ms, sink, client) if streams else []
        notes = [] if streams else [f"{self.label}: no log stream of the {len(request.connections)} VPN connections "
                                    f"in {group}: check that tunnel logging publishes to this group."]
        return AwsRead(records, filter_group_command(group, request, streams, self.region), group, group, streams,
                       notes, api_calls=sum(self.calls.values()) - before)

    def group_streams(self, group: str, request: GroupLogRequest, client: Any = None) -> list[str]:
        """The requested connections' streams, from one paginated describe_log_streams of the group."""
        prefix = common_prefix([vpn for vpn, _ in request.connections]) or "vpn-"
        names = []
        try:
            pages = (client or self._client).get_paginator("describe_log_streams").paginate(
                logGroupName=group, logStreamNamePrefix=prefix, PaginationConfig={"PageSize": STREAMS_PER_PAGE})
            for page in pages:
                names += [s["logStreamName"] for s in page.get("logStreams", []) if request.wants(s["logStreamName"])]
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(self.explain(exc, group, "DescribeLogStreams")) from None
        return sorted(names)

    def run_insights(self, group: str, queries: Sequence[str], start: datetime, end: datetime,
                     timeout_s: float = 60.0) -> list[InsightsAnswer]:
        """Logs Insights queries over one group (see `poll_insights`); a refused or failed call is a SourceError."""
        try:
            return poll_insights(self._reader(), group, queries, start, end, timeout_s=timeout_s)
        except (ClientError, BotoCoreError) as exc:
            operation = getattr(exc, "operation_name", "") or "StartQuery"
            raise SourceError(self.explain(exc, group, operation)) from None

    def tunnel_streams(self, group: str, request: TunnelLogRequest, client: Any = None) -> list[str]:
        """The connection's streams (`vpn-<id>-<outside ip>…`), whatever their suffix."""
        names = []
        try:
            pages = (client or self._client).get_paginator("describe_log_streams").paginate(
                logGroupName=group, logStreamNamePrefix=request.connection)
            for page in pages:
                names += [s["logStreamName"] for s in page.get("logStreams", [])
                          if is_tunnel_stream(s["logStreamName"], request.connection, request.outside_ips)]
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(self.explain(exc, group, "DescribeLogStreams")) from None
        return sorted(names)

    def events(self, group: str, streams: list[str], start_ms: int, end_ms: int,
               sink: Callable[[list[LogRecord]], None] | None = None, client: Any = None) -> list[LogRecord]:
        """The streams' events in [start_ms, end_ms], oldest first; with `sink`, page by page to it (returns [])."""
        records: list[LogRecord] = []
        try:
            for i in range(0, len(streams), MAX_STREAMS_PER_CALL):
                pages = (client or self._client).get_paginator("filter_log_events").paginate(
                    logGroupName=group, logStreamNames=streams[i:i + MAX_STREAMS_PER_CALL],
                    startTime=start_ms, endTime=end_ms, PaginationConfig=self.pagination)
                for page in pages:
                    batch = [LogRecord(e.get("logStreamName", ""), int(e.get("timestamp", 0)), e.get("message", ""))
                             for e in page.get("events", [])]
                    if sink is None:
                        records += batch
                    else:
                        sink(batch)
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(self.explain(exc, group, "FilterLogEvents")) from None
        records.sort(key=lambda r: r.timestamp)  # per stream otherwise (as moto returns them)
        return records

    def explain(self, exc: BaseException, group: str, operation: str) -> str:
        """One sentence: what failed with this log group and what to check."""
        where = f"CloudWatch Logs group {group} ({self.region})"
        if isinstance(exc, DeadlineReached) or deadline.expired():
            return deadline.missed(where, f"no answer from {self.endpoint} to {operation}")
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
