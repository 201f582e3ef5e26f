"""What every AWS tunnel log source does, so the investigation never cares whether events came from CloudWatch
Logs, an export file or the demo.

A source reads one VPN connection's tunnel log events for a time range and says exactly what it read, as the
`aws logs filter-log-events` command line that reads the same events from CloudWatch (the JSON answer's
`queries[].text`: anyone can re-run it). Server-side filtering stays at log group, stream names and time range
(docs/sources.md#aws-test-emulator: moto ignores JSON filter patterns), and everything else is classified in Python.

AWS sources sit in the same `backends` list as the Azure `KqlBackend`s; `AwsLogSource` is runtime-checkable so
the investigation picks them out by type.
"""

from __future__ import annotations

import shlex
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Protocol, runtime_checkable

from diagnostics.aws.parser.rows import LogRecord
from diagnostics.aws.streams import is_tunnel_stream, parse_stream_name
from diagnostics.model import SourceError, iso_z


@dataclass(frozen=True)
class TunnelLogRequest:
    """One read: a VPN connection (both tunnels unless outside IPs narrow it) over [start, end]."""

    connection: str  # vpn-0123456789abcdef0
    outside_ips: tuple[str, ...]
    start: datetime
    end: datetime
    log_group: str = ""  # overrides the source's group (a tunnel's own `aws_log_group`)

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)


@dataclass(frozen=True)
class GroupLogRequest:
    """One read of a log group for several VPN connections over one range: the daily summary reads each group once
    (paginated, streams in chunks), not once per connection."""

    connections: tuple[tuple[str, tuple[str, ...]], ...]  # (vpn id, outside IPs or () for both), lower-case
    start: datetime
    end: datetime
    log_group: str = ""  # "" -> the source's group
    streams: tuple[str, ...] | None = None  # stream names already known (an earlier read's): no describe again

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)

    @cached_property
    def _ips(self) -> dict[str, frozenset[str]]:
        return {vpn.lower(): frozenset(ip.lower() for ip in ips) for vpn, ips in self.connections}

    def wants(self, stream: str) -> bool:
        """The stream is one of a requested connection's tunnels (and of its outside IPs when they are given)."""
        parsed = parse_stream_name(stream)
        ips = self._ips.get(parsed.vpn_connection) if parsed else None
        return parsed is not None and ips is not None and (not ips or not parsed.outside_ip or parsed.outside_ip in ips)


@dataclass
class AwsRead:
    records: list[LogRecord]
    command: str  # the exact parameters, as an `aws logs filter-log-events` command line
    origin: str  # log group, or export file names
    table: str  # what evidence lines name as their source, before the stream name
    streams: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    api_calls: int = 0
    #: What the source could not show about the connection (an export's events whose tunnel is unknown): said in the
    #: answer's first lines (`Fetch.caveats`).
    caveats: list[str] = field(default_factory=list)


@runtime_checkable
class AwsLogSource(Protocol):
    """CloudWatch Logs, an `aws logs filter-log-events` export, or the demo."""

    backend: str  # "cloudwatch-logs" | "local"
    label: str  # for people: "CloudWatch Logs group /aws/vendedlogs/vpn (eu-west-1)"
    origin: str

    def read_tunnel_logs(self, request: TunnelLogRequest) -> AwsRead: ...

    def command(self, request: TunnelLogRequest) -> str: ...


def kql_backends(backends: Iterable[object]) -> list:
    """The Azure `KqlBackend`s of a mixed `backends` list (code that runs KQL must skip the AWS sources)."""
    return [b for b in backends if not isinstance(b, AwsLogSource)]


def filter_log_events_command(log_group: str, request: TunnelLogRequest, streams: Sequence[str] = (),
                              region: str = "") -> str:
    """The CLI command that reads the same events, with the window in words beside the epoch milliseconds."""
    lines = ["aws logs filter-log-events" + (f" --region {shlex.quote(region)}" if region else "")
             + f" --log-group-name {shlex.quote(log_group or '<log group>')} \\"]
    if streams:
        lines.append("  --log-stream-names " + " ".join(shlex.quote(s) for s in streams) + " \\")
    else:
        # describe_log_streams found nothing to name: this is the prefix the streams were looked up with.
        lines.append(f"  --log-stream-name-prefix {shlex.quote(request.connection)} \\")
    lines.append(f"  --start-time {request.start_ms} --end-time {request.end_ms}")
    lines.append(f"# {iso_z(request.start)} .. {iso_z(request.end)}; filter pattern: none (vpnbot classifies "
                 "the events itself); streams: describe-log-streams --log-stream-name-prefix "
                 f"{request.connection}")
    return "\n".join(lines)


#: logStreamNames takes at most 100 names per FilterLogEvents call (CloudWatch Logs API reference).
STREAMS_PER_CALL = 100


def filter_group_command(log_group: str, request: GroupLogRequest, streams: Sequence[str], region: str = "") -> str:
    """The CLI commands that read the same events as one group read: one `filter-log-events` per chunk of at most
    100 stream names (the API's limit), the window in words after them."""
    head = ("aws logs filter-log-events" + (f" --region {shlex.quote(region)}" if region else "")
            + f" --log-group-name {shlex.quote(log_group or '<log group>')} \\")
    window = f"  --start-time {request.start_ms} --end-time {request.end_ms}"
    lines = []
    for i in range(0, len(streams), STREAMS_PER_CALL):
        lines += [head, "  --log-stream-names " + " ".join(shlex.quote(s) for s in streams[i:i + STREAMS_PER_CALL])
                  + " \\", window]
    if not streams:
        lines += [head, "  --log-stream-name-prefix vpn- \\", window]
    lines.append(f"# {iso_z(request.start)} .. {iso_z(request.end)}; {len(request.connections)} VPN connections, "
                 f"{len(streams)} streams (describe-log-streams of the group); filter pattern: none (vpnbot "
                 "classifies the events itself)")
    return "\n".join(lines)


def unique_records(records: list[LogRecord]) -> tuple[list[LogRecord], int]:
    """The records with each event once (same stream, CloudWatch time and message: a page saved twice, a file given
    twice), and how many copies were dropped."""
    seen: set[tuple[str, int, str]] = set()
    out = []
    for record in records:
        key = (record.stream, record.timestamp, record.message)
        if key not in seen:
            seen.add(key)
            out.append(record)
    return out, len(records) - len(out)


def duplicates_note(dropped: int, origin: str) -> list[str]:
    return [f"{origin}: {dropped} duplicated events (the same stream, time and message) were read once."] \
        if dropped else []


@dataclass(frozen=True)
class Caveat:
    """What an export could not show, said in every answer about the connection it concerns ("" for every one)."""

    connection: str
    text: str


def caveats_for(caveats: Sequence[Caveat], connections: Iterable[str]) -> list[str]:
    wanted = {c.lower() for c in connections}
    return [c.text for c in caveats if not c.connection or c.connection in wanted]


class MemoryLogSource:
    """Tunnel log events held in memory: an export someone sent, or the demo. Reads with the same semantics as
    CloudWatch (stream names of the connection, inclusive ms range), so both paths answer alike; an event held
    twice is read once."""

    def __init__(self, records: Iterable[LogRecord], *, label: str, origin: str, log_group: str = "",
                 table: str = "", caveats: Sequence[Caveat] = ()) -> None:
        self.backend = "local"
        self.label = label
        self.origin = origin
        self.log_group = log_group
        self.table = table or origin
        self.caveats = list(caveats)
        self._records = sorted(records, key=lambda r: r.timestamp)
        self._times = [r.timestamp for r in self._records]

    def __len__(self) -> int:
        return len(self._records)

    @property
    def records(self) -> list[LogRecord]:
        return self._records

    def streams(self) -> list[str]:
        return sorted({r.stream for r in self._records})

    def _select(self, start_ms: int, end_ms: int, verdict: Callable[[str], bool | None],
                ids: Sequence[str]) -> list[LogRecord]:
        """The records in [start_ms, end_ms] whose stream `verdict` keeps; a stream it calls None (not a tunnel's
        name) keeps the records whose body names one of the connections `ids` (legacy labels)."""
        lo, hi = bisect_left(self._times, start_ms), bisect_right(self._times, end_ms)
        keep: dict[str, bool | None] = {}
        out = []
        for record in self._records[lo:hi]:
            if record.stream not in keep:
                keep[record.stream] = verdict(record.stream)
            wanted = keep[record.stream]
            if wanted or (wanted is None and any(v in record.message.lower() for v in ids)):
                out.append(record)
        return out

    def read_tunnel_logs(self, request: TunnelLogRequest) -> AwsRead:
        def verdict(stream: str) -> bool | None:
            if is_tunnel_stream(stream, request.connection, request.outside_ips):
                return True
            return None if parse_stream_name(stream) is None else False

        selected = self._select(request.start_ms, request.end_ms, verdict, [request.connection])
        records, dropped = unique_records(selected)
        streams = sorted({r.stream for r in records if r.stream})
        return AwsRead(records, self.command(request, streams), self.origin, self.table, streams,
                       duplicates_note(dropped, self.origin), caveats=caveats_for(self.caveats, [request.connection]))

    def command(self, request: TunnelLogRequest, streams: Sequence[str] = ()) -> str:
        return (f"# read from {self.origin}; the same read from CloudWatch Logs:\n"
                + filter_log_events_command(request.log_group or self.log_group, request, streams))

    def read_group(self, request: GroupLogRequest, sink: Callable[[list[LogRecord]], None] | None = None) -> AwsRead:
        """Every requested connection's events in [start, end] at once, with `read_tunnel_logs`' semantics (legacy
        records naming their connection in the body are kept too); with `sink`, handed to it instead of returned,
        as CloudWatchLogsSource does page by page."""
        known = set(request.streams) if request.streams is not None else None

        def verdict(stream: str) -> bool | None:
            if parse_stream_name(stream) is None:
                return None
            return (known is None or stream in known) and request.wants(stream)

        ids = [vpn for vpn, _ in request.connections]
        records, dropped = unique_records(self._select(request.start_ms, request.end_ms, verdict, ids))
        streams = sorted({r.stream for r in records if r.stream})
        if sink is not None:
            sink(records)
            records = []
        return AwsRead(records, self.group_command(request, streams), self.origin, self.table, streams,
                       duplicates_note(dropped, self.origin), caveats=caveats_for(self.caveats, ids))

    def group_command(self, request: GroupLogRequest, streams: Sequence[str] = ()) -> str:
        return (f"# read from {self.origin}; the same read from CloudWatch Logs:\n"
                + filter_group_command(request.log_group or self.log_group, request, streams))


class UnavailableSource:
    """An AWS source that could not be set up (no region, no credentials, a bad endpoint): every read fails with
    the reason, so only the questions and summaries that need AWS say so, and the others are answered."""

    backend = "cloudwatch-logs"

    def __init__(self, label: str, reason: str, log_group: str = "") -> None:
        self.label = label
        self.origin = log_group or label
        self.log_group = log_group
        self.reason = reason

    def read_tunnel_logs(self, request: TunnelLogRequest) -> AwsRead:
        raise SourceError(self.reason)

    def read_group(self, request: GroupLogRequest, sink: Callable[[list[LogRecord]], None] | None = None) -> AwsRead:
        raise SourceError(self.reason)

    def command(self, request: TunnelLogRequest) -> str:
        return f"# not read: {self.reason}\n" + filter_log_events_command(request.log_group or self.log_group, request)


def utc_ms(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)
