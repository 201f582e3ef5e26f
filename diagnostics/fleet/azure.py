"""The Azure side of the fleet status: every Azure tunnel's state now from ONE `summarize` per workspace, and the rule
engine only where something happened.

Reads, per workspace (the daily summary's machinery, `diagnostics.summary.azure`):

1. `build_counts_query` with the latest state change: per gateway and remote IP, tunnel rows over the last
   `STATE_LOOKBACK` (TunnelDiagnosticLog is light: a row per state change) and IKE rows over the last `SILENT_AFTER`
   only (the bulk), cut into stretches at the period's edges, the last hour and the last day. That alone tells each
   tunnel's latest state change and the instance that logged it (down now when its latest disconnect is newer than
   its latest connect), whether it logged anything in the last day (a healthy tunnel rekeys its child SAs every
   27,000 s, docs/sources.md#azure-ipsec-defaults, so a silent day is a logging problem, not a healthy tunnel), and
   which tunnels changed state in the period or in the last hour.
2. `read_details` for the tunnels with something to explain (down now, a state change in the last hour or in the
   period): one query for the stretch up to now, and one more for a period that ended earlier. `explain_drops` gives
   each drop the cause an answer about it would give, and the outage going on its negotiations.

A tunnel down for longer than `OUTAGE_READ` is not re-read from its disconnect: its cause so far is what the
negotiations of the last `OUTAGE_READ` say (why it stays down), and the answer says when it went down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from diagnostics.azure.investigate import IKE_MARGIN, answers, result_notes
from diagnostics.azure.kql import kql_datetime, kql_string
from diagnostics.azure.negotiation import LEAD, IkeSummary, NegotiationTracker
from diagnostics.azure.parser.rows import parse_time
from diagnostics.azure.sources import KqlBackend
from diagnostics.engine import diagnose, drop_causes
from diagnostics.fleet.model import DOWN, NO_LOGS, RECENT, UNKNOWN, UP, SeenDrop, TunnelStatus
from diagnostics.model import Cause, EventKind, Fetch, QueryRecord
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.support.negotiations import down_period
from diagnostics.summary.azure import (
    PEER_EXTEND,
    DayCounts,
    IkeWindows,
    build_counts_query,
    drop_context,
    read_counts,
    read_details,
    tunnel_history,
    windows_clause,
)
from diagnostics.timefmt import Progress
from diagnostics.tunnels import Tunnel

#: How far back the latest state change is looked up (tunnel rows only: a few a day per tunnel).
STATE_LOOKBACK = timedelta(days=30)
#: A tunnel with no row at all for this long has no logs: Azure rekeys a healthy tunnel's child SAs every 27,000 s.
SILENT_AFTER = timedelta(hours=24)
#: A tunnel down now is read back at most this far (its disconnect, if it is that recent, and its negotiations).
OUTAGE_READ = timedelta(hours=24)
#: An outage's negotiations are read for its first this long: why it went down and stays down, without every retry
#: of a long outage. A failing peer is retried every few seconds (docs/sources.md#azure-ike-log), so 5 minutes hold
#: dozens of attempts where the negotiation rules need two; with 15, the negotiations of 50 outages were 70 % of a
#: 1,000-tunnel fleet's rows (benchmarks/bench_status.py).
DRILL = timedelta(minutes=5)
#: A tunnel down now has the IKE rows of its disconnect read with the details up to this long after it (the rows
#: logged with the disconnect itself); the outage's negotiations after it are the drill's (`DRILL`), read once.
DISCONNECT_ROWS = timedelta(seconds=30)
#: Findings that say nothing about why a tunnel is down (it has no drop in what was read).
NOT_A_CAUSE = {Cause.NO_DROP_FOUND, Cause.LOGS_NOT_INGESTED}


@dataclass
class AzureFleet:
    statuses: dict[str, TunnelStatus] = field(default_factory=dict)
    fetch: Fetch = field(default_factory=Fetch)


@dataclass
class _Counted:
    """What the counts query says about one tunnel, beyond its status."""

    period_changes: bool = False  # a connect or disconnect in the period
    recent_downs: int = 0  # disconnects in the last hour


def fleet_azure(tunnels: Sequence[Tunnel], backends: Sequence[KqlBackend], start: datetime, end: datetime,
                now: datetime, tz: ZoneInfo, anchor: datetime | None = None,
                progress: Progress | None = None) -> AzureFleet:
    """The state now of every Azure tunnel, and its drops that began in [start, end]."""
    out = AzureFleet()
    if not tunnels:
        return out
    gateways = sorted({t.azure_gateway.upper() for t in tunnels})
    edges = stretch_edges(start, end, now)
    text = build_counts_query(gateways, edges, ike_since=now - SILENT_AFTER, latest_state=True)
    counts, answered = read_counts(backends, text, edges, out.fetch, progress)
    if not answered:  # every workspace failed: the failures say why; no tunnel is reported up
        why = "; ".join(out.fetch.failures)
        out.statuses = {t.name: TunnelStatus(t, "azure", UNKNOWN, why=why) for t in tunnels}
        return out
    counted: dict[str, _Counted] = {}
    failed = "; ".join(out.fetch.failures)  # some workspace failed: a tunnel without rows may be one of its
    by_gateway: dict[str, dict[tuple[str, str], dict[int, DayCounts]]] = {}
    for key, days in counts.items():  # each tunnel looks among its gateway's peers, not the fleet's (1,000 x 1,000)
        by_gateway.setdefault(key[0], {})[key] = days
    for tunnel in tunnels:
        history = tunnel_history(by_gateway.get(tunnel.azure_gateway.upper(), {}), tunnel)
        out.statuses[tunnel.name], counted[tunnel.name] = counted_status(tunnel, history, edges, start, end, now,
                                                                         failed)
    covers_now = end >= now - RECENT
    for (lo, hi), members in detail_reads(tunnels, out.statuses, counted, start, end, now, covers_now):
        windows = ike_windows(members, out.statuses, counted, start, end, now, past=hi < now)
        details = read_details(backends, gateways, members, lo, hi, now, out.fetch, progress, windows)
        contexts = {t.name: drop_context(t, details, lo, hi, now, tz, out.fetch, None if hi >= now else anchor)
                    for t in members}
        drills = {_peer(t): span for t in members
                  if (span := drill_span(contexts[t.name], out.statuses[t.name], now)) is not None}
        outages = outage_negotiations(backends, drills, out.fetch, progress)
        for tunnel in members:
            ctx, status = contexts[tunnel.name], out.statuses[tunnel.name]
            ctx.ike = outages.get(_peer(tunnel))
            seen = [SeenDrop(drop, finding) for drop, finding in drop_causes(ctx)]
            status.drops += [s for s in seen if start.timestamp() <= s.drop.down_ts <= end.timestamp()]
            if hi >= now:
                _state_now(status, ctx, seen, now)
    return out


def _peer(tunnel: Tunnel) -> tuple[str, str]:
    return tunnel.azure_gateway.upper(), tunnel.azure_remote_ip


def stretch_edges(start: datetime, end: datetime, now: datetime) -> list[datetime]:
    """Where the counts query cuts its stretches: the state lookback, the last day, the period, the last hour, now."""
    first = min(now - STATE_LOOKBACK, start)
    marks = {first, now - SILENT_AFTER, start, min(end, now), now - RECENT, now}
    return sorted(m for m in marks if first <= m <= now)


def _stretches(edges: Sequence[datetime], lo: datetime, hi: datetime) -> set[int]:
    """The counts' stretches that lie within [lo, hi] (edges include lo and hi, so they tile it)."""
    return {i for i in range(len(edges) - 1) if edges[i] >= lo and edges[i + 1] <= hi}


def counted_status(tunnel: Tunnel, history: dict[int, DayCounts], edges: Sequence[datetime], start: datetime,
                   end: datetime, now: datetime, failed: str = "") -> tuple[TunnelStatus, _Counted]:
    """The tunnel's state from the counts alone: its latest state change, and whether it logged in the last day
    (`failed`: why a workspace did not answer, so that a tunnel without rows is unknown rather than silent)."""
    total = DayCounts()
    for cell in history.values():
        total.add(cell)
    status = TunnelStatus(tunnel, "azure", known_from=edges[0].timestamp(), latest_drop=total.last_down,
                          instance=total.state_instance)
    logged = sum(history[i].rows for i in _stretches(edges, now - SILENT_AFTER, now) if i in history)
    if total.last_down is not None and (total.last_up is None or total.last_down > total.last_up):
        status.state, status.since = DOWN, total.last_down
    elif not logged and failed:
        status.state, status.why = UNKNOWN, f"no row in the workspaces that answered, and {failed}"
    elif not logged:
        status.state = NO_LOGS
        status.why = f"no TunnelDiagnosticLog or IKEDiagnosticLog row in the last {_hours(SILENT_AFTER)}"
    else:
        status.state, status.since = UP, total.last_up
    period = _stretches(edges, start, min(end, now))
    recent = _stretches(edges, now - RECENT, now)
    return status, _Counted(period_changes=any(history[i].down or history[i].up for i in period if i in history),
                            recent_downs=sum(history[i].down for i in recent if i in history))


def detail_reads(tunnels: Sequence[Tunnel], statuses: dict[str, TunnelStatus], counted: dict[str, _Counted],
                 start: datetime, end: datetime, now: datetime,
                 covers_now: bool) -> list[tuple[tuple[datetime, datetime], list[Tunnel]]]:
    """Which tunnels to read in detail, over which stretch: up to now for those down now or that changed state in the
    last hour (and in the period, when it runs up to now); the period itself when it ended earlier."""
    now_members = [t for t in tunnels if statuses[t.name].state == DOWN or counted[t.name].recent_downs
                   or (covers_now and counted[t.name].period_changes)]
    reads = []
    if now_members:
        lo = min(now - RECENT, start) if covers_now else now - RECENT
        for t in now_members:
            since = statuses[t.name].since
            if statuses[t.name].state == DOWN and since is not None:
                lo = min(lo, max(datetime.fromtimestamp(since, UTC), now - OUTAGE_READ))
        reads.append(((lo, now), now_members))
    past_members = [t for t in tunnels if not covers_now and counted[t.name].period_changes]
    if past_members:
        reads.append(((start, min(end, now)), past_members))
    return reads


def ike_windows(members: Sequence[Tunnel], statuses: dict[str, TunnelStatus], counted: dict[str, _Counted],
                start: datetime, end: datetime, now: datetime, past: bool) -> IkeWindows:
    """Each troubled peer's IKE rows worth reading (a failing peer logs a negotiation every few seconds): around its
    disconnect when it is down now, its last hour when it dropped in it, the period when it dropped in that; for a
    tunnel down now, nothing after its disconnect's own rows (`DISCONNECT_ROWS`). The rules read IKE rows only around
    state changes (`azure.timeline`), and the outage's own negotiations separately (`outage_negotiations`)."""
    windows: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    for tunnel in members:
        status, seen = statuses[tunnel.name], counted[tunnel.name]
        ranges = windows.setdefault((tunnel.azure_gateway.upper(), tunnel.azure_remote_ip), [])
        if past:
            ranges.append((start - IKE_MARGIN, min(end + IKE_MARGIN, now)))
            continue
        if seen.recent_downs:
            ranges.append((now - RECENT - IKE_MARGIN, now))
        if seen.period_changes:
            ranges.append((start - IKE_MARGIN, now))
        if status.state == DOWN and status.since is not None:
            at = datetime.fromtimestamp(status.since, UTC)
            ranges.append((at - IKE_MARGIN, min(at + IKE_MARGIN, now)))
            # The outage's own retries (every few seconds) are the drill's to read, once: not here as well.
            cap = min(at + DISCONNECT_ROWS, now)
            ranges[:] = [(a, min(b, cap)) for a, b in ranges if a <= cap]
    return {peer: _merged(ranges) for peer, ranges in windows.items()}


def _merged(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def drill_span(ctx: RuleContext, status: TunnelStatus, now: datetime) -> tuple[float, float] | None:
    """The stretch of the outage whose negotiations say why it went down and stays down: the first `DRILL` of the
    outage the rules ask about; for a tunnel down since before the stretch read, that stretch's first `DRILL`."""
    period = down_period(ctx)
    if period is not None and ctx.primary_drop() is not None:
        return period[0] - LEAD, min(period[1], period[0] + DRILL.total_seconds(), now.timestamp())
    if status.state == DOWN and ctx.primary_drop() is None:
        return ctx.start - LEAD, min(ctx.start + DRILL.total_seconds(), now.timestamp())
    return None


def build_drill_query(drills: Mapping[tuple[str, str], tuple[float, float]]) -> str:
    """The IKE rows of every outage to drill into, in one query: each peer's own stretch (`windows_clause`)."""
    windows = {peer: [(_utc(a), _utc(b))] for peer, (a, b) in drills.items()}
    lo, hi = min(a for a, _ in drills.values()), max(b for _, b in drills.values())
    gateways = ", ".join(kql_string(g) for g in sorted({g for g, _ in drills}))
    return "\n".join([
        "AzureDiagnostics",
        f"| where TimeGenerated between ({kql_datetime(_utc(lo))} .. {kql_datetime(_utc(hi))})",
        '| where Category == "IKEDiagnosticLog"',
        f"| where Resource in~ ({gateways})",
        PEER_EXTEND,
        f"| where {windows_clause(windows)}",
        "| project TimeGenerated, Message, Resource",
        "| sort by TimeGenerated asc",
    ])


def outage_negotiations(backends: Sequence[KqlBackend], drills: Mapping[tuple[str, str], tuple[float, float]],
                        fetch: Fetch, progress: Progress | None = None) -> dict[tuple[str, str], IkeSummary]:
    """Each outage's negotiations (`azure.negotiation`), from ONE query for all of them rather than one per outage:
    a fleet can have dozens down at once. Rows go to the peer the envelope names (rows without it, to every peer of
    the gateway whose stretch holds them)."""
    if not drills:
        return {}
    text = build_drill_query(drills)
    lo, hi = _utc(min(a for a, _ in drills.values())), _utc(max(b for _, b in drills.values()))
    trackers = {peer: NegotiationTracker() for peer in drills}
    by_gateway: dict[str, list[tuple[str, str]]] = {}
    for peer in drills:
        by_gateway.setdefault(peer[0], []).append(peer)
    for backend, result in answers(backends, text, lo, hi, ("TimeGenerated", "Message", "Resource")):
        i_time, i_msg, i_gw = (result.columns.index(c) for c in ("TimeGenerated", "Message", "Resource"))
        count = 0
        for row in result.rows:
            count += 1
            raw, message = row[i_time], row[i_msg] or ""
            ts = raw if raw.__class__ is float else parse_time(raw)
            for gateway, ip in by_gateway.get(str(row[i_gw] or "").upper(), ()):
                a, b = drills[(gateway, ip)]
                if a <= ts <= b and (not ip or f"Remote {ip}:" in message or "Remote " not in message):
                    trackers[(gateway, ip)].add(ts, message)
        fetch.notes += result_notes(backend.label, result)  # read in parts, or partly: said, never silent
        fetch.queries.append(QueryRecord(backend.backend, text, backend.origin, lo, hi, count))
        if progress:
            progress(f"{backend.label}: {count} rows of the negotiations of {len(drills)} outages")
    return {peer: tracker.summary() for peer, tracker in trackers.items()}


def _state_now(status: TunnelStatus, ctx: RuleContext, seen: list[SeenDrop], now: datetime) -> None:
    """The state, instance and cause so far from the rows read up to now (more exact than the counts: one drop per
    outage, whatever the instances logged)."""
    status.recent = sum(1 for s in seen if s.drop.down_ts >= (now - RECENT).timestamp())
    if ctx.timeline.events:
        status.last_row = ctx.timeline.events[-1].ts
    ongoing = next((s for s in reversed(seen) if s.drop.up is None), None)
    rows = ctx.timeline.tunnel_rows
    if ongoing is not None:
        status.state, status.since = DOWN, ongoing.drop.down_ts
        status.instance, status.cause = ongoing.drop.down_instance, ongoing.finding
    elif rows and rows[-1].kind is EventKind.TUNNEL_UP:
        status.state, status.since, status.instance = UP, rows[-1].ts, rows[-1].instance
    elif status.state == DOWN:
        # Down since before the stretch read: why it stays down is in that stretch's negotiations.
        status.cause = next((f for f in diagnose(ctx) if f.cause not in NOT_A_CAUSE), None)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g} h"
