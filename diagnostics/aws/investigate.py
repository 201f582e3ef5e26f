"""AWS's side of an investigation: one VPN connection's tunnel log events for a window, as a timeline.

`AwsSide.read` reads the window plus context before (the tunnel's state before the drop) and after (its recovery)
from every AWS source (CloudWatch Logs, exports, the demo), builds the per-tunnel timeline and, around an empty
window, the drops of the days either side. The skeleton (`diagnostics.investigate`) turns the reading into
findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from diagnostics.aws.parser.rows import parse_records
from diagnostics.aws.sources import AwsLogSource, TunnelLogRequest
from diagnostics.aws.timeline import AwsTimeline, build_aws_timeline
from diagnostics.model import Drop, Event, Fetch, Provenance, QueryRecord, SourceError, SourcesFailed
from diagnostics.timefmt import Progress
from diagnostics.timeline import LOOKAROUND_DAYS, Reading
from diagnostics.tunnels import Tunnel

CONTEXT_BEFORE = timedelta(hours=2)
CONTEXT_AFTER = timedelta(hours=1)
LOOKAROUND = timedelta(days=LOOKAROUND_DAYS)


@dataclass
class AwsFetch(Fetch):
    events: list[Event] = field(default_factory=list)


@dataclass
class AwsReading(Reading):
    atl: AwsTimeline | None = None  # the connection's per-tunnel states (the same timeline, by tunnel)


class AwsSide:
    """Reads AWS Site-to-Site VPN tunnel logs through every configured AWS source."""

    provider = "aws"

    def __init__(self, sources: Sequence[AwsLogSource]) -> None:
        self.sources = list(sources)

    def missing(self, tunnel: Tunnel) -> str | None:
        if not self.sources:
            return (f"tunnel {tunnel.name!r} is an AWS VPN connection but no AWS log source is configured: give "
                    "--aws-export FILE, [aws] settings, or --demo")
        return None

    def read(self, tunnel: Tunnel, start: datetime, end: datetime, now: datetime, anchor: datetime | None,
             progress: Progress | None = None, look_around: bool = True) -> AwsReading:
        request = request_for(tunnel, start - CONTEXT_BEFORE, min(end + CONTEXT_AFTER, now))
        fetched = fetch(self.sources, request, progress)
        if fetched.failures and len(fetched.failures) == len(self.sources):
            raise SourcesFailed("; ".join(fetched.failures), fetched.queries)
        atl = build_aws_timeline(fetched.events, tunnel)
        lo, hi = start.timestamp(), end.timestamp()
        reading = AwsReading(
            timeline=atl.timeline, fetch=Fetch(fetched.queries, fetched.notes, fetched.failures, fetched.caveats),
            window_drops=window_drops(atl, lo, hi), rows_in_window=len(atl.timeline.between(lo, hi)),
            latest_row=atl.timeline.events[-1].ts if atl.timeline.events else None, atl=atl,
        )
        if not reading.window_drops and look_around:
            reading.lookaround = lookaround_drops(self.sources, tunnel, start, end, now, reading.fetch)
        reading.fetch.notes += coverage_notes(atl, tunnel)
        return reading


def request_for(tunnel: Tunnel, start: datetime, end: datetime) -> TunnelLogRequest:
    return TunnelLogRequest(tunnel.aws_vpn_connection.lower(), tuple(ip.lower() for ip in tunnel.aws_outside_ips),
                            start, end, str(tunnel.extra.get("aws_log_group", "")))


def fetch(sources: Sequence[AwsLogSource], request: TunnelLogRequest, progress: Progress | None = None) -> AwsFetch:
    """Read every source; a failing one is named and the others still answer."""
    out = AwsFetch()
    for source in sources:
        try:
            read = source.read_tunnel_logs(request)
        except SourceError as exc:
            out.failures.append(str(exc))
            out.notes.append(f"{source.label} failed: {exc}")
            out.queries.append(QueryRecord(source.backend, source.command(request), source.origin, request.start,
                                           request.end, 0))
            if progress:
                progress(f"{source.label}: failed")
            continue
        provenance = Provenance(source.backend, read.origin, read.table, read.command)
        parsed = parse_records(read.records, provenance, where=read.origin)
        out.events += parsed.events
        out.notes += read.notes
        out.caveats += [c for c in read.caveats if c not in out.caveats]
        if note := parsed.problems_note(source.label):
            out.notes.append(note)
        out.queries.append(QueryRecord(source.backend, read.command, read.origin, request.start, request.end,
                                       len(read.records)))
        if progress:
            progress(f"{source.label}: {len(read.records)} events")
    return out


def window_drops(atl: AwsTimeline, start: float, end: float) -> list[Drop]:
    """Drops that began in the window, and a drop still going on when the window began (a tunnel that was down all
    along has no disconnect in the window, but the question is about it)."""
    return [d for d in atl.timeline.drops
            if start <= d.down_ts <= end or (d.down_ts < start and (d.up_ts is None or d.up_ts > start))]


def lookaround_drops(sources: Sequence[AwsLogSource], tunnel: Tunnel, start: datetime, end: datetime,
                     now: datetime, fetched: Fetch) -> list[Drop]:
    """The drops of the days around an empty window, to name the nearest ones."""
    request = request_for(tunnel, start - LOOKAROUND, min(end + LOOKAROUND, now))
    wide = fetch(sources, request)
    fetched.queries += wide.queries
    return build_aws_timeline(wide.events, tunnel).timeline.drops


def coverage_notes(atl: AwsTimeline, tunnel: Tunnel) -> list[str]:
    notes = []
    if not atl.rows:
        notes.append(f"No tunnel log event of {tunnel.aws_vpn_connection} in the range read: check that tunnel "
                     "logging (TunnelOptions LogOptions, JSON output) is enabled on both tunnels of the connection "
                     "and publishes to the log group read.")
    missing = [ip for ip in tunnel.aws_outside_ips if ip.lower() not in atl.tunnels]
    if atl.rows and missing:
        notes.append(f"No event from {', '.join(missing)} in the range read (a quiet tunnel logs nothing; a tunnel "
                     "without logging enabled neither).")
    return notes
