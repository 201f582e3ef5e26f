"""The Azure side of the daily summary: one `summarize` per workspace, drop details only where something dropped.

Reads, per workspace:

1. `build_counts_query`: one `summarize` over the summary day and the seven days before it, covering every
   configured gateway and remote IP. Per (gateway, remote IP, local day): rows, disconnects, connects and the last
   disconnect/connect times. That alone tells which tunnels are healthy (logged, no state change, not down at
   midnight), which logged nothing (logging broken is not healthy), and the 7-day baseline of drops. IKE rows name
   their peer only inside `Message` (`Remote <ip>:<port>:`, docs/sources.md#azure-ike-log), so the query extracts it;
   a healthy route-based tunnel still logs IKE rows every day, because Azure rekeys its child SAs every 27,000 s
   (docs/sources.md#azure-ipsec-defaults, default IPsec SA lifetime), so a tunnel with no row at all in a day is a
   logging problem.
2. `build_details_query`: the day's tunnel and gateway rows (+ context) of the gateways with a troubled tunnel and
   the IKE rows of the troubled peers only, plus every gateway's GatewayDiagnosticLog (light: maintenance and
   configuration changes become markers on the picture).
3. The rule engine over each troubled tunnel's timeline (`engine.drop_causes`): the same causes an answer gives;
   for an outage long enough to have negotiations, the narrow IKE drill-down the answers use (the two steps of
   docs/sources.md#azure-tunnel-log).

Local days are cut in KQL with literal UTC instants (`case(TimeGenerated < …)`), so a 23 h or 25 h DST day is
exactly one day, whatever the zone's offset (Log Analytics' `bin(…, 1d)` would cut at UTC midnight).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from diagnostics.azure.investigate import CONTEXT_AFTER, CONTEXT_BEFORE, IKE_MARGIN, feed, negotiations, result_notes
from diagnostics.azure.kql import OPTIONAL_COLUMNS, PROJECTED_COLUMNS, kql_datetime, kql_string
from diagnostics.azure.negotiation import LEAD
from diagnostics.azure.parser.rows import make_normaliser
from diagnostics.azure.sources import KqlBackend, KqlResult
from diagnostics.azure.timeline import TimelineBuilder
from diagnostics.engine import drop_causes
from diagnostics.model import Drop, EventKind, Fetch, Finding, Provenance, QueryRecord, SourceError
from diagnostics.rules import flapping
from diagnostics.rules.support.context import RuleContext
from diagnostics.rules.support.negotiations import down_period
from diagnostics.summary.model import Baseline, Marker, Outage, TunnelDay
from diagnostics.tunnels import Tunnel

Progress = Callable[[str], None]
MARKER_KINDS = {EventKind.MAINTENANCE: "maintenance", EventKind.CONFIG_CHANGE: "config_change"}
#: Troubled peers are named in the details query's IKE filter; beyond this many, the gateway's IKE rows are read
#: whole rather than sending a query text of unbounded length (Log Analytics caps a query's size).
MAX_NAMED_PEERS = 50
MARKER_MERGE_S = 120.0


@dataclass
class DayCounts:
    """One tunnel's rows on one local day, from the counts query."""

    rows: int = 0
    down: int = 0
    up: int = 0
    last_down: float | None = None
    last_up: float | None = None
    state_at: float | None = None  # the latest state change (with `latest_state` in the query) and its instance
    state_instance: str = ""

    def add(self, other: DayCounts) -> None:
        self.rows += other.rows
        self.down += other.down
        self.up += other.up
        self.last_down = _latest(self.last_down, other.last_down)
        self.last_up = _latest(self.last_up, other.last_up)
        if other.state_at is not None and (self.state_at is None or other.state_at > self.state_at):
            self.state_at, self.state_instance = other.state_at, other.state_instance


@dataclass
class AzureDaySummary:
    days: dict[str, TunnelDay] = field(default_factory=dict)
    fetch: Fetch = field(default_factory=Fetch)


def build_counts_query(gateways: Sequence[str], bounds: Sequence[datetime], ike_since: datetime | None = None,
                       latest_state: bool = False) -> str:
    """Rows, drops and last state changes per gateway, remote IP and local day; `bounds` are the days' edges
    (UTC), oldest first: day i is [bounds[i], bounds[i+1]). `ike_since` counts IKE rows only from then on (the bulk
    of the rows; a fleet status looks weeks back for state changes but only a day for signs of life);
    `latest_state` adds the time and gateway instance of each day's latest state change."""
    names = ", ".join(kql_string(g) for g in gateways)
    days = ", ".join(f"TimeGenerated < {kql_datetime(b)}, {i}" for i, b in enumerate(bounds[1:-1]))
    latest = ('| extend StateAt = iff(Category == "TunnelDiagnosticLog", TimeGenerated, datetime(null)), '
              'StateInstance = iff(Category == "TunnelDiagnosticLog", column_ifexists("instance_s", ""), "")')
    return "\n".join([
        "AzureDiagnostics",
        f"| where TimeGenerated >= {kql_datetime(bounds[0])} and TimeGenerated < {kql_datetime(bounds[-1])}",
        '| where Category in ("TunnelDiagnosticLog", "IKEDiagnosticLog")',
        *([f'| where Category == "TunnelDiagnosticLog" or TimeGenerated >= {kql_datetime(ike_since)}']
          if ike_since is not None else []),
        f"| where Resource in~ ({names})",
        '| extend Remote = iff(Category == "IKEDiagnosticLog", extract("Remote ([^:]+):", 1, Message), '
        'column_ifexists("remoteIP_s", ""))',
        f"| extend Day = case({days}, {len(bounds) - 2})",
        '| extend DownAt = iff(OperationName =~ "TunnelDisconnected", TimeGenerated, datetime(null)), '
        'UpAt = iff(OperationName =~ "TunnelConnected", TimeGenerated, datetime(null))',
        *([latest] if latest_state else []),
        '| summarize Rows = count(), Down = countif(OperationName =~ "TunnelDisconnected"), '
        'Up = countif(OperationName =~ "TunnelConnected"), LastDown = max(DownAt), LastUp = max(UpAt)'
        + (", arg_max(StateAt, StateInstance)" if latest_state else "")
        + " by Gateway = toupper(Resource), Remote, Day",
    ])


def build_details_query(all_gateways: Sequence[str], troubled: dict[str, list[str]], start: datetime,
                        end: datetime, ike_start: datetime, ike_end: datetime,
                        ike_windows: IkeWindows | None = None) -> str:
    """The rows the rules need for the troubled tunnels (`troubled`: gateway -> remote IPs), and every gateway's
    GatewayDiagnosticLog for the markers. IKE rows: those of [ike_start, ike_end], or with `ike_windows` only each
    peer's own stretches (where the rules look: around its state changes)."""
    everyone = ", ".join(kql_string(g) for g in all_gateways)
    gateways = ", ".join(kql_string(g) for g in troubled)
    peers = sorted({ip for ips in troubled.values() for ip in ips if ip})
    # A troubled tunnel without a configured remote IP owns every IKE row of its gateway: then none is filtered.
    every_peer_known = all(ip for ips in troubled.values() for ip in ips)
    named = peers if 0 < len(peers) <= MAX_NAMED_PEERS and every_peer_known else []
    ike = f"TimeGenerated between ({kql_datetime(ike_start)} .. {kql_datetime(ike_end)})"
    if ike_windows is not None:
        ike = windows_clause(ike_windows)
    elif named:
        # Rows without the `Remote` envelope cannot be attributed and are kept, as in the answers' query.
        matches = " or ".join(f"Message contains {kql_string(f'Remote {ip}:')}" for ip in named)
        ike += f' and ({matches} or Message !contains "Remote ")'
    optional = ", ".join(f'{c} = column_ifexists("{c}", "")' for c in OPTIONAL_COLUMNS)
    return "\n".join([
        "AzureDiagnostics",
        f"| where TimeGenerated between ({kql_datetime(start)} .. {kql_datetime(end)})",
        '| where Category in ("TunnelDiagnosticLog", "GatewayDiagnosticLog", "IKEDiagnosticLog")',
        f"| where Resource in~ ({everyone})",
        f'| where Category == "GatewayDiagnosticLog" or Resource in~ ({gateways or kql_string("")})',
        *([PEER_EXTEND] if ike_windows is not None else []),
        f'| where Category != "IKEDiagnosticLog" or ({ike})',
        f"| project {', '.join(PROJECTED_COLUMNS)}, {optional}",
        "| sort by TimeGenerated asc",
    ])


#: (gateway, remote IP or "" for a tunnel without one) -> the stretches of its IKE rows to read
IkeWindows = Mapping[tuple[str, str], Sequence[tuple[datetime, datetime]]]


#: The peer an IKE row names in its envelope (docs/sources.md#azure-ike-log), for `windows_clause`: comparing one
#: extracted column is much cheaper than a substring search per peer.
PEER_EXTEND = '| extend Peer = iff(Category == "IKEDiagnosticLog", extract("Remote ([^:]+):", 1, Message), "")'
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def windows_clause(windows: IkeWindows) -> str:
    """The KQL condition for IKE rows within each peer's own stretches (after `PEER_EXTEND`; a tunnel without a
    remote IP takes its gateway's rows); rows without the `Remote` envelope are kept within any stretch."""
    def spans(ranges: Sequence[tuple[datetime, datetime]]) -> str:
        return " or ".join(f"TimeGenerated between ({kql_datetime(a)} .. {kql_datetime(b)})" for a, b in ranges)

    clauses = []
    for (gateway, peer), ranges in sorted(windows.items()):
        if not ranges:
            continue
        if not peer:
            who = f"Resource =~ {kql_string(gateway)}"
        elif _IPV4.fullmatch(peer):
            who = f"Peer == {kql_string(peer)}"
        else:  # an IPv6 peer has colons of its own: the envelope is searched for it whole
            who = f"Message contains {kql_string(f'Remote {peer}:')}"
        clauses.append(f"({who} and ({spans(ranges)}))")
    every = sorted({r for ranges in windows.values() for r in ranges})
    if every:
        clauses.append(f'(Message !contains "Remote " and ({spans(every)}))')
    return " or ".join(clauses) or 'Category != "IKEDiagnosticLog"'


def summarize_azure(tunnels: Sequence[Tunnel], backends: Sequence[KqlBackend], bounds: Sequence[datetime],
                    now: datetime, tz: ZoneInfo, progress: Progress | None = None) -> AzureDaySummary:
    """Every Azure tunnel's day: `bounds` are the local midnights from 7 days before the summary day to its end
    (the last may be `now` for today)."""
    out = AzureDaySummary()
    if not tunnels:
        return out
    gateways = sorted({t.azure_gateway.upper() for t in tunnels})
    start, end = bounds[-2], bounds[-1]
    counts, ok = read_counts(backends, build_counts_query(gateways, bounds), bounds, out.fetch, progress)
    if not ok:
        return out  # every backend failed: the failures say so; no tunnel is reported healthy
    day = len(bounds) - 2
    troubled = [t for t in tunnels if _troubled(tunnel_history(counts, t), day)]
    details = read_details(backends, gateways, troubled, start, end, now, out.fetch, progress)
    for tunnel in tunnels:
        history = tunnel_history(counts, tunnel)
        today = history.get(day, DayCounts())
        result = TunnelDay(tunnel.name, "azure", (end - start).total_seconds(), no_logs=today.rows == 0,
                           baseline=_baseline(history, day))
        result.markers = details.markers.get(tunnel.azure_gateway.upper(), [])
        if tunnel in troubled:
            _explain(result, tunnel, details, history, day, start, end, now, tz, backends, out.fetch)
        out.days[tunnel.name] = result
    return out


# -- the counts ------------------------------------------------------------------------------------------------


def read_counts(backends: Sequence[KqlBackend], text: str, bounds: Sequence[datetime], fetch: Fetch,
                progress: Progress | None) -> tuple[dict[tuple[str, str], dict[int, DayCounts]], bool]:
    """The counts query (`build_counts_query` over `bounds`) on every backend, per (gateway, remote IP) and day; and
    whether any backend answered (a failing one is named in `fetch`, the others still count)."""
    counts: dict[tuple[str, str], dict[int, DayCounts]] = {}
    answered = False
    for backend in backends:
        try:
            result = backend.run_kql(text, bounds[0], bounds[-1])
        except SourceError as exc:
            fetch.failures.append(str(exc))
            fetch.notes.append(f"{backend.label} failed: {exc}")
            fetch.queries.append(QueryRecord(backend.backend, text, backend.origin, bounds[0], bounds[-1], 0))
            if progress:
                progress(f"{backend.label}: failed")
            continue
        answered = True
        col = {c: i for i, c in enumerate(result.columns)}
        n = 0
        for row in result.rows:
            n += 1
            key = (str(row[col["Gateway"]] or "").upper(), str(row[col["Remote"]] or ""))
            cell = DayCounts(int(row[col["Rows"]] or 0), int(row[col["Down"]] or 0), int(row[col["Up"]] or 0),
                             _epoch(row[col["LastDown"]]), _epoch(row[col["LastUp"]]))
            if "StateAt" in col:
                cell.state_at = _epoch(row[col["StateAt"]])
                cell.state_instance = str(row[col["StateInstance"]] or "") if cell.state_at is not None else ""
            counts.setdefault(key, {}).setdefault(int(row[col["Day"]]), DayCounts()).add(cell)
        if result.partial_error:
            fetch.notes.append(f"{backend.label} returned partial results: {result.partial_error}")
        fetch.queries.append(QueryRecord(backend.backend, text, backend.origin, bounds[0], bounds[-1], n))
        if progress:
            progress(f"{backend.label}: {n} tunnel-days counted")
    return counts, answered


def tunnel_history(counts: dict[tuple[str, str], dict[int, DayCounts]], tunnel: Tunnel) -> dict[int, DayCounts]:
    """The tunnel's counts per day. Without a configured remote IP every row of its gateway is its own (as in
    the answers); rows whose peer is unknown (IKE rows without the envelope) are never counted as a tunnel's."""
    gateway = tunnel.azure_gateway.upper()
    merged: dict[int, DayCounts] = {}
    for (gw, remote), days in counts.items():
        if gw != gateway or not remote or (tunnel.azure_remote_ip and remote != tunnel.azure_remote_ip):
            continue
        for day, cell in days.items():
            merged.setdefault(day, DayCounts()).add(cell)
    return merged


def _down_at_start(history: dict[int, DayCounts], day: int) -> bool:
    """Was the last state change before `day` a disconnect? (Unknown beyond the 7 days read: assumed up.)"""
    last_down = max((c.last_down for d, c in history.items() if d < day and c.last_down), default=None)
    last_up = max((c.last_up for d, c in history.items() if d < day and c.last_up), default=None)
    return last_down is not None and (last_up is None or last_down > last_up)


def _troubled(history: dict[int, DayCounts], day: int) -> bool:
    today = history.get(day, DayCounts())
    return bool(today.down or today.up) or _down_at_start(history, day)


def _baseline(history: dict[int, DayCounts], day: int) -> Baseline | None:
    """Average drops a day over the previous days that had rows (a tunnel added on Wednesday has no Monday)."""
    before = [c for d, c in history.items() if d < day and c.rows]
    if not before:
        return None
    return Baseline(days=len(before), drops=round(sum(c.down for c in before) / len(before), 2))


# -- the details -----------------------------------------------------------------------------------------------


@dataclass
class Details:
    #: gateway -> (backend, columns, query, rows) per backend: one day of the gateway, read by each of its tunnels
    rows: dict[str, list[tuple[KqlBackend, list[str], str, list]]] = field(default_factory=dict)
    markers: dict[str, list[Marker]] = field(default_factory=dict)


def read_details(backends: Sequence[KqlBackend], gateways: list[str], troubled: list[Tunnel], start: datetime,
                 end: datetime, now: datetime, fetch: Fetch, progress: Progress | None,
                 ike_windows: IkeWindows | None = None) -> Details:
    """The rows the rules need for the `troubled` tunnels over [start, end] (with the context the answers read), by
    gateway, and the markers of every gateway (`ike_windows`: `build_details_query`'s)."""
    by_gateway: dict[str, list[str]] = {}
    for tunnel in troubled:
        by_gateway.setdefault(tunnel.azure_gateway.upper(), []).append(tunnel.azure_remote_ip)
    lo, hi = start - CONTEXT_BEFORE, min(end + CONTEXT_AFTER, now)
    text = build_details_query(gateways, by_gateway, lo, hi, start - IKE_MARGIN, min(end + IKE_MARGIN, now),
                               ike_windows)
    details = Details()
    for backend in backends:
        try:
            result = backend.run_kql(text, lo, hi)
            columns = list(result.columns)
            rows = list(result.rows)  # one day of the troubled gateways: read by each of their tunnels
        except SourceError as exc:
            fetch.failures.append(str(exc))
            fetch.notes.append(f"{backend.label} failed while reading drop details: {exc}")
            continue
        fetch.notes += result_notes(backend.label, result)  # read in parts, or partly: said, never silent
        fetch.queries.append(QueryRecord(backend.backend, text, backend.origin, lo, hi, len(rows)))
        if progress:
            progress(f"{backend.label}: {len(rows)} rows of drop details")
        i_gw, i_cat = columns.index("Resource"), columns.index("Category")
        normalise = make_normaliser(columns, Provenance(backend.backend, backend.origin, "AzureDiagnostics", text))
        grouped: dict[str, list] = {}
        for row in rows:
            gateway = str(row[i_gw] or "").upper()
            grouped.setdefault(gateway, []).append(row)
            if row[i_cat] == "GatewayDiagnosticLog":
                event = normalise(row)
                if event.kind in MARKER_KINDS and start.timestamp() <= event.ts < end.timestamp():
                    add_marker(details.markers.setdefault(gateway, []),
                               Marker(event.ts, MARKER_KINDS[event.kind], event.operation))
        for gateway, gateway_rows in grouped.items():
            details.rows.setdefault(gateway, []).append((backend, columns, text, gateway_rows))
    return details


def add_marker(markers: list[Marker], marker: Marker) -> None:
    """One mark per change: a configuration change logs SetGatewayConfiguration and SetConnectionConfiguration
    within seconds, and the picture has room for one tick (rows arrive sorted)."""
    last = next((m for m in reversed(markers) if m.kind == marker.kind), None)
    if last is None or marker.ts - last.ts > MARKER_MERGE_S:
        markers.append(marker)


def _explain(result: TunnelDay, tunnel: Tunnel, details: Details, history: dict[int, DayCounts], day: int,
             start: datetime, end: datetime, now: datetime, tz: ZoneInfo, backends: Sequence[KqlBackend],
             fetch: Fetch) -> None:
    """The tunnel's outages of the day and the rule engine's cause of each drop."""
    ctx, causes = explain_drops(tunnel, details, start, end, now, tz, backends, fetch)
    timeline = ctx.timeline
    lo, hi = start.timestamp(), end.timestamp()
    result.outages = [_outage(drop, finding.cause.value, lo, hi) for drop, finding in causes]
    carried = _carried_over(timeline.drops, timeline.tunnel_rows, history, day, lo, hi)
    if carried is not None:
        result.outages.insert(0, carried)
    result.flapping = flapping.flapping(ctx, Counter(f.cause.value for _, f in causes)) is not None


def explain_drops(tunnel: Tunnel, details: Details, start: datetime, end: datetime, now: datetime, tz: ZoneInfo,
                  backends: Sequence[KqlBackend], fetch: Fetch,
                  anchor: datetime | None = None) -> tuple[RuleContext, list[tuple[Drop, Finding]]]:
    """The tunnel's timeline from the details rows, as the rules see [start, end], and each drop that began in it
    with the finding an answer about it puts first; the outage of the drop asked about (the one nearest `anchor`,
    else the latest) is drilled down into its negotiations, as the answers do."""
    ctx = drop_context(tunnel, details, start, end, now, tz, fetch, anchor)
    period = down_period(ctx)
    if period is not None and ctx.primary_drop() is not None:
        ctx.ike = negotiations(backends, tunnel, period[0] - LEAD, min(period[1], now.timestamp()), fetch)
    return ctx, drop_causes(ctx)


def drop_context(tunnel: Tunnel, details: Details, start: datetime, end: datetime, now: datetime, tz: ZoneInfo,
                 fetch: Fetch, anchor: datetime | None = None) -> RuleContext:
    """What the rules see of the tunnel over [start, end]: its timeline from the details rows (no negotiations yet)."""
    builder = TimelineBuilder(tunnel)
    for backend, columns, text, rows in details.rows.get(tunnel.azure_gateway.upper(), []):
        feed(builder, KqlResult(columns, rows), Provenance(backend.backend, backend.origin, "AzureDiagnostics", text),
             fetch, backend.label)
    timeline = builder.build()
    return RuleContext(timeline=timeline, start=start.timestamp(), end=end.timestamp(), now=now.timestamp(), tz=tz,
                       anchor=anchor.timestamp() if anchor else None,
                       latest_row=timeline.events[-1].ts if timeline.events else None)


def _outage(drop: Drop, cause: str, lo: float, hi: float) -> Outage:
    up = drop.up_ts
    return Outage(drop.down_ts, min(up, hi) if up is not None else hi, cause, ongoing=up is None or up > hi)


def _carried_over(drops: list[Drop], tunnel_rows: list, history: dict[int, DayCounts], day: int, lo: float,
                  hi: float) -> Outage | None:
    """The outage the day began with: a drop before midnight still open at midnight (seen in the context rows),
    or a tunnel whose last state change in the week before was a disconnect (its reconnect, if any, is the first
    connect of the day)."""
    for drop in drops:
        if drop.down_ts < lo and (drop.up_ts is None or drop.up_ts > lo):
            up = drop.up_ts
            return Outage(lo, min(up, hi) if up is not None else hi, "", ongoing=up is None or up > hi,
                          began_before=True)
    if any(d.down_ts < lo for d in drops) or not _down_at_start(history, day):
        return None
    first_up = next((e.ts for e in tunnel_rows if lo <= e.ts <= hi and e.kind is EventKind.TUNNEL_UP), None)
    first_down = next((e.ts for e in tunnel_rows if lo <= e.ts <= hi and e.kind is EventKind.TUNNEL_DOWN), None)
    if first_up is not None and (first_down is None or first_up < first_down):
        return Outage(lo, first_up, "", began_before=True)
    if first_up is None and first_down is None:
        return Outage(lo, hi, "", ongoing=True, began_before=True)
    return None


def _epoch(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC).timestamp()


def _latest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)

