"""One investigation of an AWS VPN connection: read its tunnel logs, find the drops, explain them.

Returns the same `Investigation` as the Azure path, so handlers and renderers need nothing new. The reads follow
the Azure path's shape: the window plus context before (the tunnel's state before the drop) and after (its
recovery), widened once to ±1 h around an asked instant when nothing is found, and a light look ±3 days around an
empty window to name the nearest drops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..events import Event, EventKind, Provenance
from ..findings import Drop
from ..investigate import Investigation, InvestigationError
from ..rules.context import RuleContext
from ..rules.no_drop_found import LOOKAROUND_DAYS
from ..sources import QueryRecord, SourceError
from ..tunnels import Tunnel
from .diagnose import diagnose, redundancy, tunnel_label
from .parser import parse_records
from .sources import AwsLogSource, TunnelLogRequest
from .timeline import AwsTimeline, build_aws_timeline

CONTEXT_BEFORE = timedelta(hours=2)
CONTEXT_AFTER = timedelta(hours=1)
WIDENED_HALF_WIDTH = timedelta(hours=1)
LOOKAROUND = timedelta(days=LOOKAROUND_DAYS)
MAX_PROBLEM_NOTES = 3

Progress = Callable[[str], None]


class AwsSourcesFailed(InvestigationError):
    """Every AWS source failed; the queries that were tried stay available (a link answer still shows them)."""

    def __init__(self, message: str, queries: list[QueryRecord]):
        super().__init__(message)
        self.queries = queries


@dataclass
class AwsFetch:
    events: list[Event] = field(default_factory=list)
    queries: list[QueryRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def aws_sources(backends: Sequence[object]) -> list[AwsLogSource]:
    return [b for b in backends if isinstance(b, AwsLogSource)]


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
        if parsed.problems:
            shown = "; ".join(parsed.problems[:MAX_PROBLEM_NOTES])
            more = len(parsed.problems) - MAX_PROBLEM_NOTES
            out.notes.append(f"{source.label}: {len(parsed.problems)} events could not be read and were skipped "
                             f"({shown}{f'; … {more} more' if more > 0 else ''}).")
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


def primary_drop(drops: list[Drop], anchor: float | None) -> Drop | None:
    if not drops:
        return None
    if anchor is not None:
        return min(drops, key=lambda d: (abs(d.down_ts - anchor), d.down.kind is EventKind.BGP_DOWN))
    return drops[-1]


def investigate_aws(
    tunnel: Tunnel,
    start: datetime,
    end: datetime,
    backends: Sequence[object],
    now: datetime,
    anchor: datetime | None = None,
    tz: ZoneInfo | None = None,
    widen: bool = True,
    progress: Progress | None = None,
) -> Investigation:
    sources = aws_sources(backends)
    if not sources:
        raise InvestigationError(f"tunnel {tunnel.name!r} is an AWS VPN connection but no AWS log source is "
                                 "configured: give --aws-export FILE, [aws] settings, or --demo")
    tz = tz or ZoneInfo("UTC")
    end = min(end, now)
    will_widen = widen and anchor is not None
    # The days-long look for the nearest drops is made once, by the last run.
    result = _run(tunnel, start, end, sources, now, anchor, tz, progress, look_around=not will_widen)
    if will_widen and not result.drops and not result.failures:
        assert anchor is not None
        wide_start, wide_end = anchor - WIDENED_HALF_WIDTH, min(anchor + WIDENED_HALF_WIDTH, now)
        wider = _run(tunnel, wide_start, wide_end, sources, now, anchor, tz, progress)
        wider.queries = result.queries + wider.queries
        minutes = round((end - start).total_seconds() / 60)
        wider.notes.insert(0, f"Nothing in the {minutes}-minute window; widened the window to ±1 h around the asked "
                              "time.")
        result = wider
    return result


def _run(tunnel: Tunnel, start: datetime, end: datetime, sources: Sequence[AwsLogSource], now: datetime,
         anchor: datetime | None, tz: ZoneInfo, progress: Progress | None, look_around: bool = True) -> Investigation:
    request = request_for(tunnel, start - CONTEXT_BEFORE, min(end + CONTEXT_AFTER, now))
    fetched = fetch(sources, request, progress)
    if fetched.failures and len(fetched.failures) == len(sources):
        raise AwsSourcesFailed("; ".join(fetched.failures), fetched.queries)
    atl = build_aws_timeline(fetched.events, tunnel)
    lo, hi = start.timestamp(), end.timestamp()
    ctx = RuleContext(
        timeline=atl.timeline, start=lo, end=hi, now=now.timestamp(),
        anchor=anchor.timestamp() if anchor else None, tz=tz,
        rows_in_window=len(atl.timeline.between(lo, hi)),
        latest_row=atl.timeline.events[-1].ts if atl.timeline.events else None,
    )
    drops = window_drops(atl, lo, hi)
    primary = primary_drop(drops, ctx.anchor)
    nearest: tuple[Drop | None, Drop | None] = (None, None)
    if primary is None and look_around:
        nearest = lookaround(tunnel, start, end, now, sources, atl, fetched)
    findings = diagnose(ctx, atl, drops, primary, nearest, LOOKAROUND_DAYS)
    notes = fetched.notes + coverage_notes(ctx, atl, tunnel)
    if primary is not None:
        said = redundancy(ctx, atl, primary)
        if said:
            main = findings[0]
            if main.drop is primary or main.drop is None:
                main.explanation += " " + said
            else:
                notes.append(said)
        if primary.down_ts < lo:
            notes.append(f"{tunnel_label(ctx, primary.down.instance).capitalize()} was already down when the window "
                         f"began (down since {ctx.fmt(primary.down_ts)}).")
    return Investigation(
        tunnel=tunnel, start=start, end=end, now=now, anchor=anchor, drops=drops, findings=findings,
        queries=fetched.queries, notes=notes, failures=fetched.failures, events=atl.timeline.events,
    )


def lookaround(tunnel: Tunnel, start: datetime, end: datetime, now: datetime, sources: Sequence[AwsLogSource],
               atl: AwsTimeline, fetched: AwsFetch) -> tuple[Drop | None, Drop | None]:
    """The nearest drops before and after an empty window, from a read ±3 days around it."""
    request = request_for(tunnel, start - LOOKAROUND, min(end + LOOKAROUND, now))
    wide = fetch(sources, request)
    fetched.queries += wide.queries
    drops = {d.down_ts: d for d in [*atl.timeline.drops, *build_aws_timeline(wide.events, tunnel).timeline.drops]}
    lo, hi = start.timestamp(), end.timestamp()
    before = [d for ts, d in sorted(drops.items()) if ts < lo]
    after = [d for ts, d in sorted(drops.items()) if ts > hi]
    return (before[-1] if before else None), (after[0] if after else None)


def coverage_notes(ctx: RuleContext, atl: AwsTimeline, tunnel: Tunnel) -> list[str]:
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
