"""A traffic question, answered: is the tunnel connected (its logs), do bytes flow each way (its metrics), and if
not, why (the traffic rules of the registry, `Kind.TRAFFIC`).

    check = check_traffic(tunnel, start, end, sources, now, tz=tz, target="10.1.2.3")
    check.findings[0].cause      # Cause.ONE_WAY_TRAFFIC, Cause.TRAFFIC_FLOWING, …
    check.flow.inbound.describe()  # "1.2 MB (3,400 packets)"

The logs are read as for "why did it drop" (`diagnostics.investigate`, so a tunnel that is down gets the usual
explanation of why) and for "status" (`diagnostics.fleet`, the state now, also of a tunnel that has not changed
state for weeks). The metrics come from every metrics source that covers the tunnel (`Sources.metrics`); when none
can be read the answer still says what the logs show, and says in one line why traffic could not be read.

These three reads are independent, so they run at the same time (`diagnostics.at_once`): against Log Analytics and Azure
Monitor each is a round trip of a second or more, and the answer waits for the slowest instead of their sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from diagnostics.at_once import at_once, one_at_a_time
from diagnostics.azure.investigate import answers
from diagnostics.azure.kql import build_ike_query
from diagnostics.azure.parser.rows import parse_time
from diagnostics.azure.sources import KqlBackend
from diagnostics.fleet.build import fleet_status
from diagnostics.fleet.model import DOWN, UNKNOWN, UP, TunnelStatus
from diagnostics.investigate import investigate
from diagnostics.model import Cause, Event, EventKind, Finding, Investigation, Provenance, QueryRecord
from diagnostics.rules import Kind, ordered
from diagnostics.rules.support.traffic import (
    TrafficContext,
    in_prefixes,
    in_selectors,
    known_prefixes,
    latest_selectors,
    phase2_related,
)
from diagnostics.sources import Sources
from diagnostics.timefmt import Progress
from diagnostics.traffic.flow import Flow
from diagnostics.traffic.model import Traffic
from diagnostics.traffic.read import metrics_interval, read_traffic
from diagnostics.tunnels import Tunnel

TRAFFIC_RULES = ordered(Kind.TRAFFIC, "any")
QUIET_LOG_CAUSES = frozenset({Cause.NO_DROP_FOUND, Cause.LOGS_NOT_INGESTED})
#: How far before the window the IKE rows are read for a phase-2 loss that began earlier.
PHASE2_LOOKBACK = timedelta(hours=6)


@dataclass
class TrafficCheck:
    """What a traffic question found: the logs' investigation (with the traffic findings first), the state, the
    metrics and what they say, and the address asked about."""

    investigation: Investigation
    state: str  # "up", "down", "no_logs", "unknown" (diagnostics.fleet.model)
    since: float | None
    traffic: Traffic
    flow: Flow
    target: str = ""
    target_line: str = ""  # what the selectors or routes say about the address asked about
    unread: str = ""  # one line: why the traffic could not be read ("" when it was)
    status: TunnelStatus | None = None

    @property
    def findings(self) -> list[Finding]:
        return self.investigation.findings

    @property
    def sources(self) -> list[str]:
        """The metrics read, by the provider's names (`TunnelIngressBytes`, `TunnelDataIn`…), bytes first."""
        return self.flow.sources()


def check_traffic(tunnel: Tunnel, start: datetime, end: datetime, sources: Sources, now: datetime,
                  tz: ZoneInfo | None = None, target: str = "", progress: Progress | None = None) -> TrafficCheck:
    """The traffic of `tunnel` over [start, end]: raises `InvestigationError` when its logs cannot be read at all."""
    tz = tz or ZoneInfo("UTC")
    end = min(end, now)
    progress = one_at_a_time(progress)
    inv, fleet, (traffic, unread) = at_once(
        lambda: investigate(tunnel, start, end, sources, now, tz=tz, progress=progress, widen=False),
        lambda: fleet_status([tunnel], sources, start, end, now, tz, progress=progress),
        lambda: traffic_of(tunnel, start, end, sources),
    )
    status = fleet.get(tunnel.name)
    state, since = _state(inv, status, end)
    events = inv.events
    if state == UP and tunnel.azure_gateway and sources.kql:
        events = sorted([*_earlier_ike(tunnel, sources.kql, start, inv), *events], key=lambda e: e.ts)
    ctx = TrafficContext(tunnel, start.timestamp(), end.timestamp(), state, traffic, events, since, target, tz,
                         inv.drops)
    found = [(rule, f) for rule in TRAFFIC_RULES if (f := rule.run(ctx)) is not None]
    found.sort(key=lambda pair: (-pair[1].confidence.weight, pair[0].priority))
    if len(found) > 1:  # "flowing" is the answer only when no other traffic rule explains something
        found = [(rule, f) for rule, f in found if f.cause is not Cause.TRAFFIC_FLOWING]
    # The logs' findings follow: why it is down when it is. "No drop found" and "the last minutes may not be
    # ingested" are about drops: beside a traffic finding they say nothing (the ingestion note stays).
    logged = [f for f in inv.findings if f.cause not in QUIET_LOG_CAUSES or not found]
    if state == DOWN and status is not None and status.cause is not None:
        # Down since before the window: why it stays down is the outage's cause (as `status` says it), not "no drop".
        logged = [status.cause, *(f for f in logged if f.cause not in QUIET_LOG_CAUSES and f.cause is not
                                  status.cause.cause)]
    inv.findings = [f for _, f in found] + logged
    if inv.drops:  # an outage in the window is the story: its cause ranks with the traffic findings, by confidence
        inv.findings.sort(key=lambda f: -f.confidence.weight)
    # The metric reads stay with the traffic (`traffic.queries`): the answer's `queries` are log queries (schema 1).
    inv.queries = inv.queries + [q for q in fleet.queries if q not in inv.queries]
    inv.notes += [n for n in fleet.notes if n not in inv.notes] + traffic.notes
    inv.failures += fleet.failures + traffic.failures
    return TrafficCheck(inv, state, since, traffic, ctx.flow, target, _target_line(ctx), unread, status)


def traffic_of(tunnel: Tunnel, start: datetime, end: datetime, sources: Sources) -> tuple[Traffic, str]:
    """The tunnel's metrics (`diagnostics.traffic.read`), and "" or the one line that says why traffic could not be
    read: no source, none covers the tunnel, every read failed, nothing came back."""
    interval = metrics_interval(start, end)
    found, failures = read_traffic(sources.metrics, [tunnel], start, end, interval)
    traffic = found.get(tunnel.name) or Traffic(tunnel.name, start, end, interval)
    if traffic.readable:
        return traffic, ""
    why = "; ".join([*traffic.failures, *failures]) or f"the metrics service returned no series for {tunnel.name}"
    return traffic, f"Traffic could not be read: {why}."


def _earlier_ike(tunnel: Tunnel, backends: Sequence[KqlBackend], start: datetime, inv: Investigation) -> list[Event]:
    """The IKE rows of the hours before the window that say what phase 2 is doing (deleted, set up, its traffic
    selectors): a phase-2 loss that began before the window explains the silence in it, and the tunnel's query reads
    IKE rows only minutes around the window. One narrow query per backend; a quiet tunnel logs a few rows an hour."""
    lo, hi = start - PHASE2_LOOKBACK, start
    text = build_ike_query(tunnel.azure_gateway, tunnel.azure_remote_ip, lo, hi)
    seen = {(e.ts, e.message) for e in inv.events if e.kind is EventKind.IKE}
    found: list[Event] = []
    for backend, result in answers(backends, text, lo, hi, ("TimeGenerated", "Message")):
        provenance = Provenance(backend.backend, backend.origin, "AzureDiagnostics", text)
        i_time, i_msg = result.columns.index("TimeGenerated"), result.columns.index("Message")
        rows = 0
        for row in result.rows:
            rows += 1
            ts = row[i_time] if isinstance(row[i_time], float) else parse_time(row[i_time])
            message = row[i_msg] or ""
            if (ts, message) not in seen and phase2_related(message):
                seen.add((ts, message))
                found.append(Event(ts, "azure", "IKEDiagnosticLog", EventKind.IKE, "IKELogEvent",
                                   tunnel.azure_gateway, message, remote_ip=tunnel.azure_remote_ip,
                                   provenance=provenance))
        inv.queries.append(QueryRecord(backend.backend, text, backend.origin, lo, hi, rows))
    return found


def _state(inv: Investigation, status: TunnelStatus | None, end: datetime) -> tuple[str, float | None]:
    """The tunnel's state at the window's end: its latest connect or disconnect read with the window (Azure), else
    the fleet status's state now."""
    if inv.tunnel.provider == "azure":
        rows = [e for e in inv.events if e.kind in (EventKind.TUNNEL_UP, EventKind.TUNNEL_DOWN)
                and e.ts <= end.timestamp()]
        if rows:
            return (UP if rows[-1].kind is EventKind.TUNNEL_UP else DOWN), rows[-1].ts
    if status is None:
        return UNKNOWN, None
    return status.state, status.since


def _target_line(ctx: TrafficContext) -> str:
    """What the selectors and the routes read say about the address asked about."""
    if not ctx.target:
        return ""
    parts = []
    seen = latest_selectors(ctx)
    if seen is not None:
        inside = in_selectors(ctx.target, seen.selectors)
        if inside is not None:
            parts.append(f"{'inside' if inside else 'OUTSIDE'} the traffic selectors negotiated at "
                         f"{ctx.fmt(seen.row.ts)} ({seen.describe()})")
    prefixes = known_prefixes(ctx)
    if prefixes:
        prefix = in_prefixes(ctx.target, prefixes)
        parts.append(f"covered by the route {prefix} learned over the tunnel" if prefix else
                     f"in none of the routes learned over the tunnel ({', '.join(prefixes[:6])})")
    if not parts:
        return (f"{ctx.target}: the logs read name neither the tunnel's traffic selectors nor its routes, so whether "
                "it is behind the tunnel could not be checked.")
    return f"{ctx.target} is " + "; ".join(parts) + "."
