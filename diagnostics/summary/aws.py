"""The AWS side of the daily tunnel summary (docs/summaries.md): every configured VPN connection's local day from
its tunnel logs, with a bounded number of reads per log group whatever the number of connections.

Reads, per source and log group (a group holds many connections' streams, one per tunnel:
docs/sources.md#aws-log-fields):

1. **The day**: ONE group read (`read_group`: describe_log_streams once for the group, then filter_log_events by
   stream names in chunks of 100, paginated) of every connection in the group, from `CONTEXT_BEFORE` before local
   midnight to the day's end. The context tells each tunnel's state at midnight: a drop that began before midnight
   is the day's first outage (`began_before`: downtime, not a drop of the day).
2. **The baseline** (the previous `baseline_days` local days, same context before the first): see below.

Per connection, the day goes through the code the answers use: `build_aws_timeline` (drops are transitions of the
phase states to down, per tunnel), `rules.aws_tunnel_drop.explain_drop` for each drop (`[0].cause` is its primary
cause), `rules.flapping.aws_flapping` for the flag. Each tunnel drop is one `Outage` with `path` = the tunnel's outside
IP; the model derives downtime (both tunnels down at once) and exposure (one down: no outage, but no redundancy).

**Why the baseline is not simply `stats count(*)` of drops.** An AWS tunnel logs its phase states on every event, not
only when they change (docs/sources.md#aws-log-fields; `aws.timeline`), and Logs Insights has no window function
(prev/lag) to find the event where a state changed: `stats` can count down *events*, not drops, and a tunnel that fails
to re-negotiate for an hour logs a hundred of them. So Insights is used for what it computes exactly, pushed down over
the 7 days of every stream of the group (`PRESENCE_QUERY`, `DOWNS_QUERY`): per stream, how many events and the first and
last one (which days the connection logged), and how many events carried a down state. A stream without a single down
event has no drop and adds no downtime, so only the flagged streams (usually a few percent) are then read with
filter_log_events, and their drops and downtime per day come from the same timeline code as the day's: the numbers are
exactly those of a full read. When Insights is unavailable, refused, failed, timed out (polled up to
`insights_timeout_s`), or answered without the stats fields (moto ignores `stats` and returns raw rows,
docs/sources.md#aws-test-emulator) or with 10,000 rows (possibly cut), one bounded group read of the 7 days is made
instead and the same per-stream numbers are computed in Python (`DownSink`, with the Insights filter's predicate in
Python), then the same path is taken: both give the same `Baseline`. Both paths pass their events through `DownSink`,
which keeps each stream's events from its first down event on and drops the rest as pages arrive (they only say the
tunnel was up), so the fallback's 7-day read stays in bounded memory and both timelines see the same rows.

**No logs.** `no_logs` is set when not one event of the connection was logged during the day. A healthy AWS tunnel is
not silent for a day: AWS caps a tunnel's phase 2 lifetime at 3,600 s (EC2 API, VpnTunnelOptionsSpecification
Phase2LifetimeSeconds, docs/sources.md#aws-tunnel-options: 900-3,600, default 3,600; phase 1 at most 28,800 s), so an
established tunnel rekeys at least hourly, and the IKEv2 CREATE_CHILD_SA negotiation is one of the messages AWS logs
(docs/sources.md#aws-ikev2-negotiation; the demo's quiet tunnels log these hourly rekeys). Whether an IKEv1 quick-mode
rekey is logged is not documented (same section), so a silent IKEv1 connection is still "no logs", which is the honest
reading: logging broken, or the tunnels gone, is not "healthy". The same reasoning reads a tunnel that logged nothing in
the 2 h before midnight and whose first event of the day is an establishment as down since midnight (an established
tunnel would have rekeyed and logged in those 2 h; DPD's default timeout action "clear" leaves a dead tunnel silent);
the summary says so in a note, since it is an inference.

**Failures.** A source (group) whose day read fails is named in `failures` (its one-sentence `SourceError`) and
its connections get no `TunnelDay`: a day with no outage would read as "healthy". They are listed in `unread`
(tunnel name -> why) and in a note, so the renderer can say "unknown: source failed"; other groups and sources
still answer. A failed baseline only leaves `baseline` None, with a note.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from diagnostics.aws.investigate import request_for, window_drops
from diagnostics.aws.parser.rows import LogRecord, is_bgp, parse_records
from diagnostics.aws.sources import AwsLogSource, AwsRead, GroupLogRequest, TunnelLogRequest, filter_group_command
from diagnostics.aws.timeline import AwsTimeline, build_aws_timeline
from diagnostics.model import Drop, Event, EventKind, Finding, Provenance, QueryRecord, SourceError
from diagnostics.rules.aws_tunnel_drop import explain_drop
from diagnostics.rules.flapping import aws_flapping
from diagnostics.rules.support.aws import tunnel_label
from diagnostics.rules.support.context import RuleContext
from diagnostics.summary.aws_insights import DownSink, StreamStats, insights_stats, streams_by_connection
from diagnostics.summary.model import Baseline, Outage, TunnelDay
from diagnostics.timefmt import local_and_utc, local_midnights
from diagnostics.tunnels import Tunnel

Progress = Callable[[str], None]

#: Read before local midnight to know each tunnel's state then: longer than the longest phase 2 lifetime AWS allows
#: (3,600 s), so an established tunnel has logged a rekey in it.
CONTEXT_BEFORE = timedelta(hours=2)
INSIGHTS_TIMEOUT_S = 60.0
EPOCH = datetime.fromtimestamp(0, UTC)


@dataclass
class AwsDaySummary:
    days: dict[str, TunnelDay] = field(default_factory=dict)  # tunnel name -> its day
    queries: list[QueryRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    api_calls: int = 0  # AWS API calls made (CloudWatch sources; retries not counted)
    calls: Counter[str] = field(default_factory=Counter)  # the same, per operation
    unread: dict[str, str] = field(default_factory=dict)  # tunnel name -> why no source could read it
    baseline_from: dict[str, str] = field(default_factory=dict)  # log group -> "insights" | "python"


def summarize_aws(tunnels: Sequence[Tunnel], sources: Sequence[AwsLogSource], start: datetime, end: datetime,
                  now: datetime, baseline_days: int = 7, tz: ZoneInfo | None = None, progress: Progress | None = None,
                  insights_timeout_s: float = INSIGHTS_TIMEOUT_S) -> AwsDaySummary:
    """Every AWS connection's day [start, end) (local midnights in `tz`; `end` is cut at `now` for today), with the
    average of the `baseline_days` local days before."""
    tz = tz or ZoneInfo("UTC")
    end = min(end, now)
    out = AwsDaySummary()
    tunnels = [t for t in tunnels if t.aws_vpn_connection]
    bounds = [*local_midnights(start, tz, baseline_days)[:-1], start]
    events: dict[str, list[Event]] = defaultdict(list)  # vpn id -> events of the day read, every source
    read_by: set[str] = set()  # tunnel names some source read
    baselines: dict[str, Baseline | None] = {}
    before = _calls(sources)
    for source in sources:
        for group, members in group_tunnels(source, tunnels).items():
            day = read_group_events(source, group, members, start - CONTEXT_BEFORE, end, out, progress)
            if day is None:
                for tunnel in members:
                    out.unread.setdefault(tunnel.name, out.failures[-1])
                continue
            for event in day[1]:
                events[event.gateway].append(event)
            read_by.update(t.name for t in members)
            if len(bounds) > 1:
                found = _baseline(source, group, members, bounds, day[0], out, progress, insights_timeout_s)
                for name, baseline in found.items():
                    if baselines.get(name) is None:
                        baselines[name] = baseline
    for tunnel in tunnels:
        if tunnel.name not in read_by:
            continue
        out.unread.pop(tunnel.name, None)
        result, notes = tunnel_day(tunnel, events[tunnel.aws_vpn_connection.lower()], start, end, now, tz)
        result.baseline = baselines.get(tunnel.name)
        out.days[tunnel.name] = result
        out.notes += notes
    if out.unread:
        out.notes.append(f"Not summarised (every source failed for them; unknown, not healthy): "
                         f"{', '.join(sorted(out.unread))}.")
    out.calls = _calls(sources) - before
    out.api_calls = sum(out.calls.values())
    return out


# -- reads -----------------------------------------------------------------------------------------------------


def group_tunnels(source: AwsLogSource, tunnels: Sequence[Tunnel]) -> dict[str, list[Tunnel]]:
    """Tunnels by the log group the source reads them from (a tunnel's own `aws_log_group`, the group discovery
    found for its connection, else the configured one), in a stable order."""
    group_for = getattr(source, "group_for", None)
    grouped: dict[str, list[Tunnel]] = {}
    for tunnel in tunnels:
        request = request_for(tunnel, EPOCH, EPOCH)  # only its connection and group matter here
        group = group_for(request) if group_for else request.log_group or getattr(source, "log_group", "")
        grouped.setdefault(group, []).append(tunnel)
    return dict(sorted(grouped.items()))


def connections_of(tunnels: Iterable[Tunnel]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(vpn id, outside IPs) per distinct connection; a connection named twice with different IPs is read whole."""
    ips: dict[str, set[str] | None] = {}
    for tunnel in tunnels:
        vpn = tunnel.aws_vpn_connection.lower()
        mine = {ip.lower() for ip in tunnel.aws_outside_ips}
        if vpn in ips:
            known = ips[vpn]
            ips[vpn] = None if known is None or not mine else known | mine
        else:
            ips[vpn] = mine or None
    return tuple((vpn, tuple(sorted(found or ()))) for vpn, found in sorted(ips.items()))


def read_group(source: AwsLogSource, request: GroupLogRequest,
               sink: Callable[[list[LogRecord]], None] | None = None) -> AwsRead:
    """The source's group read (events to `sink` page by page when given); a source without one is read connection
    by connection (and its command text says so)."""
    if hasattr(source, "read_group"):
        return source.read_group(request, sink)  # type: ignore[attr-defined]
    reads = [source.read_tunnel_logs(TunnelLogRequest(vpn, ips, request.start, request.end, request.log_group))
             for vpn, ips in request.connections]
    records = sorted((r for read in reads for r in read.records), key=lambda r: r.timestamp)
    if sink is not None:
        sink(records)
        records = []
    return AwsRead(records, "\n".join(read.command for read in reads), source.origin, source.origin,
                   sorted({s for read in reads for s in read.streams}), [n for read in reads for n in read.notes])


def _command(source: AwsLogSource, group: str, request: GroupLogRequest) -> str:
    return filter_group_command(group, request, (), getattr(source, "region", ""))


def read_group_events(source: AwsLogSource, group: str, members: list[Tunnel], start: datetime, end: datetime,
              out: AwsDaySummary, progress: Progress | None) -> tuple[AwsRead, list[Event]] | None:
    """One group read of `members` over [start, end], parsed; None (and the failure named in `out`) when the source
    failed."""
    request = GroupLogRequest(connections_of(members), start, end, group)
    try:
        read = read_group(source, request)
    except SourceError as exc:
        out.failures.append(str(exc))
        out.queries.append(QueryRecord(source.backend, _command(source, group, request), group or source.origin,
                                       start, end, 0))
        if progress:
            progress(f"{source.label}: failed")
        return None
    parsed = parse_records(read.records, Provenance(source.backend, read.origin, read.table, read.command),
                           where=read.origin)
    out.notes += read.notes
    if note := parsed.problems_note(source.label):
        out.notes.append(note)
    out.queries.append(QueryRecord(source.backend, read.command, read.origin, start, end, len(read.records)))
    if progress:
        progress(f"{source.label}: {len(read.records)} events of {len(request.connections)} VPN connections")
    return read, parsed.events


def _calls(sources: Sequence[AwsLogSource]) -> Counter[str]:
    total: Counter[str] = Counter()
    for source in sources:
        total.update(getattr(source, "calls", None) or {})
    return total


# -- one connection's day --------------------------------------------------------------------------------------


def tunnel_day(tunnel: Tunnel, events: Sequence[Event], start: datetime, end: datetime, now: datetime,
               tz: ZoneInfo) -> tuple[TunnelDay, list[str]]:
    """The connection's day [start, end): outages with their primary causes, flapping, no_logs; and the notes an
    inference needs (a tunnel read as down since midnight because it was silent before)."""
    lo, hi = start.timestamp(), end.timestamp()
    atl = build_aws_timeline(events, tunnel)
    ctx, explained = explain_window(atl, lo, hi, now, tz)
    today = ctx.rows_in_window
    causes = [finding.cause.value for _, finding in explained]
    outages = [outage(drop, lo, hi, finding.cause.value) for drop, finding in explained]
    silent = silent_start(atl, lo, hi)
    notes = [f"{tunnel.name}: {tunnel_label(ctx, o.path)} logged nothing in the {_hours(CONTEXT_BEFORE)} before "
             f"midnight and was established at {local_and_utc(o.end, tz)}: counted as down since midnight (an "
             "established AWS tunnel rekeys and logs at least hourly)." for o in silent]
    day = TunnelDay(tunnel.name, "aws", hi - lo, outages=sorted(outages + silent, key=lambda o: (o.start, o.path)),
                    no_logs=not today, paths=len(tunnel.aws_outside_ips) or 2,
                    flapping=aws_flapping(ctx, Counter(causes)) is not None)
    return day, notes


def explain_window(atl: AwsTimeline, lo: float, hi: float, now: datetime,
                   tz: ZoneInfo) -> tuple[RuleContext, list[tuple[Drop, Finding]]]:
    """The connection's drops of [lo, hi) (`day_drops`) as the rules see that window, each with the finding an
    answer about it puts first."""
    timeline = atl.timeline
    drops = day_drops(atl, lo, hi)
    ctx = RuleContext(timeline=timeline, start=lo, end=hi, now=now.timestamp(), tz=tz,
                      rows_in_window=sum(1 for e in timeline.between(lo, hi) if e.ts < hi),
                      latest_row=timeline.events[-1].ts if timeline.events else None, aws=atl, window=drops)
    return ctx, [(drop, explain_drop(ctx, drop)[0]) for drop in drops]


def day_drops(atl: AwsTimeline, lo: float, hi: float) -> list[Drop]:
    """Drops that began in [lo, hi) and the drop still going on at `lo` (the answers' `window_drops`, with the day's
    end excluded so that a drop at midnight belongs to one day only)."""
    return [d for d in window_drops(atl, lo, hi) if d.down_ts < hi]


def outage(drop: Drop, lo: float, hi: float, cause: str) -> Outage:
    """A drop clipped to the day: began_before when it began before `lo`, ongoing when not over by `hi`."""
    up = drop.up_ts
    return Outage(max(drop.down_ts, lo), min(up, hi) if up is not None else hi, cause,
                  ongoing=up is None or up > hi, began_before=drop.down_ts < lo, path=drop.down.instance)


def silent_start(atl: AwsTimeline, lo: float, hi: float) -> list[Outage]:
    """Tunnels whose first row of the read is in the day (nothing in the context before midnight) and whose first
    state change is to established: not established at midnight (see the module docstring), down until then."""
    first_row: dict[str, float] = {}
    for event in atl.timeline.events:
        if not is_bgp(event):
            first_row.setdefault(event.instance, event.ts)
    found = []
    for ip, transitions in atl.by_tunnel.items():
        first = transitions[0]
        if first.kind is EventKind.TUNNEL_UP and lo <= first_row.get(ip, lo - 1) and lo < first.ts < hi:
            found.append(Outage(lo, first.ts, "", began_before=True, path=ip))
    return found


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h"


# -- the baseline ----------------------------------------------------------------------------------------------


def _baseline(source: AwsLogSource, group: str, members: list[Tunnel], bounds: list[datetime], day: AwsRead,
              out: AwsDaySummary, progress: Progress | None, timeout_s: float) -> dict[str, Baseline | None]:
    """Each member's average day over the baseline days (bounds[:-1] are their local midnights, bounds[-1] the
    summary day's): Insights first where the source has it, else the Python computation of the same numbers."""
    lo, hi = bounds[0] - CONTEXT_BEFORE, bounds[-1] - timedelta(milliseconds=1)
    connections = connections_of(members)
    # A CloudWatch read names the streams describe_log_streams found (all of them, not only those with events today).
    described = tuple(day.streams) if hasattr(source, "run_insights") else None
    sink = DownSink()
    try:
        stats = insights_stats(source, group, bounds[0] - CONTEXT_BEFORE, bounds[-1], timeout_s, out.notes,
                               out.queries)
        if stats is not None:
            wanted = GroupLogRequest(connections, lo, hi, group).wants
            flagged = tuple(sorted(s for s, st in stats.items() if st.down_events and wanted(s)))
            if flagged:  # the flagged streams only, stream names known: no describe
                read = read_group(source, GroupLogRequest(connections, lo, hi, group, flagged), sink)
                out.queries.append(QueryRecord(source.backend, read.command, read.origin, lo, hi, sink.rows))
            out.baseline_from[group] = "insights"
        else:
            read = read_group(source, GroupLogRequest(connections, lo, hi, group, described), sink)
            out.queries.append(QueryRecord(source.backend, read.command, read.origin, lo, hi, sink.rows))
            stats = sink.stats
            out.baseline_from[group] = "python"
    except SourceError as exc:
        out.notes.append(f"No {len(bounds) - 1}-day baseline for {', '.join(t.name for t in members)}: {exc}")
        return {}
    if progress:
        progress(f"{source.label}: baseline from {out.baseline_from[group]}, {sink.rows} events read, "
                 f"{len(sink.kept)} kept")
    parsed = parse_records(sink.kept, Provenance(source.backend, group or source.origin, group or source.origin))
    by_vpn: dict[str, list[Event]] = defaultdict(list)
    for event in parsed.events:
        by_vpn[event.gateway].append(event)
    streams = streams_by_connection(stats)
    return {t.name: baseline_of(t, streams.get(t.aws_vpn_connection.lower(), {}), by_vpn[t.aws_vpn_connection.lower()],
                                bounds) for t in members}


def baseline_of(tunnel: Tunnel, streams: dict[str, StreamStats], events: Sequence[Event],
                bounds: Sequence[datetime]) -> Baseline | None:
    """The average drops and downtime over the baseline days the connection logged in (the days between its first
    and last event; None when it logged in none). `streams` are its numbers per outside IP; `events` its flagged
    streams' events: the others cannot hold a drop."""
    ips = {ip.lower() for ip in tunnel.aws_outside_ips}
    own = [s for ip, s in streams.items() if not ips or ip in ips]
    if not own:
        return None
    first = min(s.first_ms for s in own if s.first_ms is not None) / 1000
    last = max(s.last_ms for s in own if s.last_ms is not None) / 1000
    edges = [b.timestamp() for b in bounds]
    covered = [(a, b) for a, b in pairwise(edges) if first < b and last >= a]
    if not covered:
        return None
    atl = build_aws_timeline(events, tunnel)
    paths = len(tunnel.aws_outside_ips) or 2
    days = [TunnelDay(tunnel.name, "aws", b - a, outages=[outage(d, a, b, "") for d in day_drops(atl, a, b)],
                      paths=paths) for a, b in covered]
    return Baseline(days=len(days), drops=round(sum(d.drops for d in days) / len(days), 2),
                    downtime_s=round(sum(d.downtime_s for d in days) / len(days), 1))

