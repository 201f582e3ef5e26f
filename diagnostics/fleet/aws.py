"""The AWS side of the fleet status: every AWS connection's state now from one bounded read per log group.

An AWS tunnel logs its phase states on every event and an established one rekeys at least hourly
(docs/sources.md#aws-tunnel-options: phase 2 lifetime at most 3,600 s), so the last `CONTEXT_BEFORE` (2 h) of a
connection's logs tell each of its two tunnels' state now: the latest transition of its phase states
(`aws.timeline`), or "no logs" when it logged nothing for that long. Reads, per source and log group: ONE group read
(`summary.aws.read_group_events`: describe_log_streams once, then filter_log_events by stream names, 100 a call) of
every connection in it from `CONTEXT_BEFORE` before the period (or the last hour) up to now; a period that ended
earlier is one more bounded read of that period. The drops get the causes the answers give (`explain_window`).

A connection is down when all its tunnels are; up with one tunnel down, it has no redundancy (shown as such).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from diagnostics.aws.parser.rows import is_bgp
from diagnostics.aws.sources import AwsLogSource
from diagnostics.aws.timeline import AwsTimeline, build_aws_timeline, is_bgp_drop
from diagnostics.fleet.model import DOWN, NO_LOGS, RECENT, UNKNOWN, UP, PathState, SeenDrop, TunnelStatus
from diagnostics.model import Event, EventKind, Fetch
from diagnostics.summary.aws import (
    CONTEXT_BEFORE,
    AwsDaySummary,
    explain_window,
    group_tunnels,
    read_group_events,
)
from diagnostics.timefmt import Progress
from diagnostics.tunnels import Tunnel


@dataclass
class AwsFleet:
    statuses: dict[str, TunnelStatus] = field(default_factory=dict)
    fetch: Fetch = field(default_factory=Fetch)


def fleet_aws(tunnels: Sequence[Tunnel], sources: Sequence[AwsLogSource], start: datetime, end: datetime,
              now: datetime, tz: ZoneInfo, progress: Progress | None = None) -> AwsFleet:
    """The state now of every AWS connection, and its drops that began in [start, end]."""
    out = AwsFleet()
    covers_now = end >= now - RECENT
    reads = [(min(start, now - RECENT) if covers_now else now - RECENT, now)]
    if not covers_now:
        reads.append((start, min(end, now)))
    sink = AwsDaySummary()  # the reads' queries, notes and failures
    events: list[dict[str, list[Event]]] = [defaultdict(list) for _ in reads]
    read_by: list[set[str]] = [set() for _ in reads]
    unread: dict[str, str] = {}
    for source in sources:
        for group, members in group_tunnels(source, tunnels).items():
            for k, (lo, hi) in enumerate(reads):
                got = read_group_events(source, group, members, lo - CONTEXT_BEFORE, hi, sink, progress)
                if got is None:
                    unread.update((t.name, sink.failures[-1]) for t in members)
                    continue
                for event in got[1]:
                    events[k][event.gateway].append(event)
                read_by[k].update(t.name for t in members)
    out.fetch = Fetch(sink.queries, sink.notes, sink.failures)
    for tunnel in tunnels:
        vpn = tunnel.aws_vpn_connection.lower()
        if tunnel.name not in read_by[0]:
            out.statuses[tunnel.name] = TunnelStatus(tunnel, "aws", UNKNOWN, why=unread.get(tunnel.name, ""))
            continue
        status, seen = connection_status(tunnel, build_aws_timeline(events[0][vpn], tunnel), reads[0][0], now, tz)
        if not covers_now and tunnel.name in read_by[1]:
            seen = _explained(build_aws_timeline(events[1][vpn], tunnel), *reads[1], now, tz)
        status.drops = [s for s in seen if start.timestamp() <= s.drop.down_ts <= end.timestamp()]
        if status.state == NO_LOGS and tunnel.name in unread:  # silent where read, and a source that failed
            status.state, status.why = UNKNOWN, f"no event where it was read, and {unread[tunnel.name]}"
        out.statuses[tunnel.name] = status
    return out


def _explained(atl: AwsTimeline, lo: datetime, hi: datetime, now: datetime, tz: ZoneInfo) -> list[SeenDrop]:
    _, explained = explain_window(atl, lo.timestamp(), hi.timestamp(), now, tz)
    return [SeenDrop(drop, finding) for drop, finding in explained]


def connection_status(tunnel: Tunnel, atl: AwsTimeline, lo: datetime, now: datetime,
                      tz: ZoneInfo) -> tuple[TunnelStatus, list[SeenDrop]]:
    """The connection's state now from its tunnels' latest phase-state transitions (read from `lo`): down when every
    tunnel is, up (each tunnel's own state kept) otherwise; its drops of the last hour; the cause of an outage going
    on. With every drop since `lo`, explained."""
    seen = _explained(atl, lo, now, now, tz)
    status = TunnelStatus(tunnel, "aws", known_from=(lo - CONTEXT_BEFORE).timestamp())
    rows = [e for e in atl.timeline.events if not is_bgp(e)]
    first_row: dict[str, float] = {}
    last_row: dict[str, float] = {}
    for event in rows:
        first_row.setdefault(event.instance, event.ts)
        last_row[event.instance] = event.ts
    silent_before = (now - CONTEXT_BEFORE).timestamp()
    ips = [ip.lower() for ip in tunnel.aws_outside_ips] or sorted(atl.by_tunnel)
    for ip in ips:
        transitions = atl.by_tunnel.get(ip, [])
        if transitions and transitions[-1].kind is EventKind.TUNNEL_DOWN:
            state = DOWN
        elif transitions and last_row.get(ip, 0.0) >= silent_before:
            state = UP
        else:
            status.paths.append(PathState(ip, NO_LOGS))
            continue
        changed = transitions[-1].ts
        status.paths.append(PathState(ip, state, None if changed <= first_row[ip] else changed))
    states = {p.state for p in status.paths}
    if UP in states:
        status.state = UP
    elif DOWN in states:
        downs = [p.since for p in status.paths if p.state == DOWN]
        status.state, status.since = DOWN, None if None in downs else max(d for d in downs if d is not None)
    else:
        status.state = NO_LOGS
        status.why = f"no tunnel log event in the last {CONTEXT_BEFORE.total_seconds() / 3600:g} h (an established " \
                     "AWS tunnel rekeys and logs at least hourly)"
    tunnel_drops = [s for s in seen if not is_bgp_drop(s.drop)]
    recent = (now - RECENT).timestamp()
    per_path: dict[str, int] = defaultdict(int)
    for s in tunnel_drops:
        per_path[s.drop.down.instance] += s.drop.down_ts >= recent
    status.recent = max(per_path.values(), default=0)
    ongoing = [s for s in tunnel_drops if s.drop.up is None]
    if ongoing and status.state != NO_LOGS:
        status.cause = ongoing[-1].finding
    status.latest_drop = tunnel_drops[-1].drop.down_ts if tunnel_drops else None
    status.last_row = rows[-1].ts if rows else None
    return status, seen
