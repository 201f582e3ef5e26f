"""One investigation: the queries for a tunnel and a window, the rows they return, the drops and the findings.

This is the library entry point the CLI and the Slack handlers share:

    result = investigate(tunnel, start, end, backends=[workspace], now=now, anchor=anchor)
    result.findings[0]   # the primary cause
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .azure.kql import TunnelQuery, build_coverage_query, build_ike_query, build_tunnel_state_query
from .azure.negotiation import IkeSummary, NegotiationTracker
from .azure.rows import make_normaliser, make_peek, parse_time
from .engine import diagnose
from .events import Event, Provenance
from .findings import Drop, Finding
from .rules.context import RuleContext
from .rules.logs_not_ingested import INGESTION_LAG
from .rules.negotiations import down_period
from .rules.no_drop_found import LOOKAROUND_DAYS
from .sources import Fetch, KqlBackend, KqlResult, QueryRecord, SourceError
from .timeline import Timeline, TimelineBuilder
from .tunnels import Tunnel

#: Tunnel and gateway rows are read this far around the window: maintenance is logged when it starts, the
#: first failover of a maintenance precedes the second by tens of minutes (seed 003), and the reconnect or
#: second failover can follow the window.
CONTEXT_BEFORE = timedelta(hours=2)
CONTEXT_AFTER = timedelta(hours=1)
#: IKE rows (the bulk) are read only this far around the window.
IKE_MARGIN = timedelta(minutes=5)
#: "widened once if nothing is found" (issue 2): ±15 min becomes ±1 h.
WIDENED_HALF_WIDTH = timedelta(hours=1)
LOOKAROUND = timedelta(days=LOOKAROUND_DAYS)

Progress = Callable[[str], None]


class InvestigationError(ValueError):
    """The question cannot be investigated as asked (e.g. a tunnel with no Azure side, every source failed)."""


@dataclass
class Investigation:
    tunnel: Tunnel
    start: datetime
    end: datetime
    now: datetime
    anchor: datetime | None
    drops: list[Drop]
    findings: list[Finding]
    queries: list[QueryRecord]
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def primary(self) -> Finding | None:
        return self.findings[0] if self.findings else None


def investigate(
    tunnel: Tunnel,
    start: datetime,
    end: datetime,
    backends: Sequence[KqlBackend],
    now: datetime,
    anchor: datetime | None = None,
    tz: ZoneInfo | None = None,
    widen: bool = True,
    progress: Progress | None = None,
) -> Investigation:
    if tunnel.aws_vpn_connection:
        # AWS connections and Azure<->AWS links: diagnostics.link (imported here because it builds on this module).
        from .link import investigate_aws_or_link

        return investigate_aws_or_link(tunnel, start, end, backends, now, anchor, tz, widen, progress)
    from .aws.sources import AwsLogSource

    backends = [b for b in backends if not isinstance(b, AwsLogSource)]  # AWS sources share the list
    if not backends:
        raise InvestigationError("no log source is configured: give --azure-export FILE, [azure] settings, or --demo")
    tz = tz or ZoneInfo("UTC")
    end = min(end, now)
    result = _run(tunnel, start, end, backends, now, anchor, tz, progress)
    # A window within the ingestion lag is not widened: its emptiness is not evidence, and a drop found
    # further back would answer a question nobody asked.
    settled = end.timestamp() < now.timestamp() - INGESTION_LAG
    if widen and settled and anchor is not None and not result.drops and not result.failures:
        wide_start, wide_end = anchor - WIDENED_HALF_WIDTH, min(anchor + WIDENED_HALF_WIDTH, now)
        wider = _run(tunnel, wide_start, wide_end, backends, now, anchor, tz, progress)
        wider.queries = result.queries + wider.queries
        wider.notes.insert(0, f"Nothing in {_span(start, end)}; widened the window to ±1 h around the asked time.")
        result = wider
    return result


def _span(start: datetime, end: datetime) -> str:
    minutes = round((end - start).total_seconds() / 60)
    return f"the {minutes}-minute window" if minutes < 120 else f"the {round(minutes / 60)}-hour window"


def _run(tunnel: Tunnel, start: datetime, end: datetime, backends: Sequence[KqlBackend], now: datetime,
         anchor: datetime | None, tz: ZoneInfo, progress: Progress | None) -> Investigation:
    query = TunnelQuery(
        gateway=tunnel.azure_gateway,
        remote_ip=tunnel.azure_remote_ip,
        start=start - CONTEXT_BEFORE,
        end=min(end + CONTEXT_AFTER, now),
        ike_start=start - IKE_MARGIN,
        ike_end=min(end + IKE_MARGIN, now),
    )
    builder = TimelineBuilder(tunnel)
    fetched = fetch_all(backends, query, builder, progress)
    if fetched.failures and len(fetched.failures) == len(backends):
        raise InvestigationError("; ".join(fetched.failures))
    timeline = builder.build()
    ctx = RuleContext(
        timeline=timeline,
        start=start.timestamp(),
        end=end.timestamp(),
        now=now.timestamp(),
        anchor=anchor.timestamp() if anchor else None,
        tz=tz,
        rows_in_window=len(timeline.between(start.timestamp(), end.timestamp())),
        latest_row=timeline.events[-1].ts if timeline.events else None,
    )
    if not ctx.window_drops:
        ctx.lookaround = lookaround_drops(backends, tunnel, start, end, now, fetched)
    period = down_period(ctx)
    if period is not None:
        # The whole outage, even where it outlasts the window: "failed N times" must count every retry.
        timeline.ike = negotiations(backends, tunnel, period[0] - 5, min(period[1], now.timestamp()), fetched)
    if needs_coverage(ctx):
        ctx.coverage = coverage(backends, tunnel, query.start, query.end, fetched)
    findings = diagnose(ctx)
    return Investigation(
        tunnel=tunnel, start=start, end=end, now=now, anchor=anchor,
        drops=ctx.window_drops, findings=findings, queries=fetched.queries,
        notes=fetched.notes + coverage_notes(timeline, ctx.coverage), failures=fetched.failures,
        events=timeline.events,
    )


def fetch_all(backends: Sequence[KqlBackend], query: TunnelQuery, builder: TimelineBuilder,
              progress: Progress | None = None) -> Fetch:
    """Run the query on every backend into `builder`; a failing backend is reported and the others still answer."""
    total = Fetch()
    text = query.text()
    for backend in backends:
        rows = 0
        try:
            result = backend.run_kql(text, query.start, query.end)
            rows = feed(builder, result, Provenance(backend.backend, backend.origin, "AzureDiagnostics", text), total,
                        backend.label)
            if result.partial_error:
                total.notes.append(f"{backend.label} returned partial results: {result.partial_error}")
        except SourceError as exc:
            total.failures.append(str(exc))
            total.notes.append(f"{backend.label} failed, answering from the other sources: {exc}")
        total.queries.append(QueryRecord(backend.backend, text, backend.origin, query.start, query.end, rows))
        if progress:
            progress(f"{backend.label}: {'failed' if not rows and total.failures else f'{rows} rows'}")
    return total


def feed(builder: TimelineBuilder, result: KqlResult, provenance: Provenance, fetch: Fetch, label: str) -> int:
    """Stream one result into the timeline. Rows without a readable time are counted and said, not fatal."""
    unreadable_before = builder.unreadable
    # Collection passes over the large, short-lived batches of fetched rows cost ~20 % of the fetch for
    # nothing: nothing here creates reference cycles.
    enabled = gc.isenabled()
    gc.disable()
    try:
        count = builder.feed(result.rows, make_peek(result.columns), make_normaliser(result.columns, provenance))
    finally:
        if enabled:
            gc.enable()
    if builder.unreadable > unreadable_before:
        fetch.notes.append(f"{label}: {builder.unreadable - unreadable_before} rows had no readable time and "
                           "were skipped.")
    return count


def lookaround_drops(backends: Sequence[KqlBackend], tunnel: Tunnel, start: datetime, end: datetime,
                     now: datetime, fetched: Fetch) -> list[Drop]:
    """Drops in the days around an empty window, to name the nearest ones (TunnelDiagnosticLog only: light)."""
    lo, hi = start - LOOKAROUND, min(end + LOOKAROUND, now)
    text = build_tunnel_state_query(tunnel.azure_gateway, lo, hi)
    builder = TimelineBuilder(tunnel)
    for backend in backends:
        try:
            result = backend.run_kql(text, lo, hi)
        except SourceError:
            continue  # already reported by the main query if the backend is down
        rows = feed(builder, result, Provenance(backend.backend, backend.origin, "AzureDiagnostics", text), fetched,
                    backend.label)
        fetched.queries.append(QueryRecord(backend.backend, text, backend.origin, lo, hi, rows))
    return builder.build().drops


def negotiations(backends: Sequence[KqlBackend], tunnel: Tunnel, start: float, end: float,
                 fetched: Fetch) -> IkeSummary:
    """The negotiations of the outage the rules ask about, from a second, narrow IKE query: the main query's IKE
    rows were only kept around state changes, and a day of retries is a million rows."""
    lo, hi = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    text = build_ike_query(tunnel.azure_gateway, tunnel.azure_remote_ip, lo, hi)
    tracker = NegotiationTracker()
    for backend in backends:
        try:
            result = backend.run_kql(text, lo, hi)
        except SourceError:
            continue  # already reported by the main query if the backend is down
        i_time, i_msg = result.columns.index("TimeGenerated"), result.columns.index("Message")
        count = 0
        enabled = gc.isenabled()
        gc.disable()
        try:
            for row in result.rows:
                raw = row[i_time]
                tracker.add(raw if raw.__class__ is float else parse_time(raw), row[i_msg] or "")
                count += 1
        finally:
            if enabled:
                gc.enable()
        fetched.queries.append(QueryRecord(backend.backend, text, backend.origin, lo, hi, count))
    return tracker.summary()


def needs_coverage(ctx: RuleContext) -> bool:
    """No IKE row for the peer while the tunnel is down (or silent): is the peer silent, or is IKE not logged?"""
    ike = ctx.timeline.ike
    if ctx.timeline.ike_rows or (ike is not None and ike.rows):
        return False
    drop = ctx.primary_drop()
    return (drop is not None and drop.up is None) or not ctx.timeline.tunnel_rows


def coverage(backends: Sequence[KqlBackend], tunnel: Tunnel, start: datetime, end: datetime,
             fetched: Fetch) -> dict[str, int]:
    text = build_coverage_query(tunnel.azure_gateway, start, end)
    counts: dict[str, int] = {}
    for backend in backends:
        try:
            result = backend.run_kql(text, start, end)
        except SourceError:
            continue
        i_cat, i_rows = result.columns.index("Category"), result.columns.index("Rows")
        for row in result.rows:
            counts[row[i_cat]] = counts.get(row[i_cat], 0) + int(row[i_rows])
        fetched.queries.append(QueryRecord(backend.backend, text, backend.origin, start, end, len(counts)))
    return counts


def coverage_notes(timeline: Timeline, logged: dict[str, int]) -> list[str]:
    notes = []
    gateway = timeline.tunnel.azure_gateway
    if logged and not logged.get("TunnelDiagnosticLog") and not logged.get("IKEDiagnosticLog"):
        notes.append(
            f"{gateway} logged only {', '.join(sorted(logged))} in range: a policy-based gateway has only "
            "GatewayDiagnosticLog and RouteDiagnosticLog, so tunnel state and IKE failures cannot be seen; "
            "otherwise add TunnelDiagnosticLog and IKEDiagnosticLog to the gateway's diagnostic setting."
        )
    elif logged and not logged.get("IKEDiagnosticLog"):
        notes.append(
            f"{gateway} sends no IKEDiagnosticLog to this workspace, so why the tunnel does not come back cannot be "
            "read: add IKEDiagnosticLog to the gateway's diagnostic setting (Monitoring > Diagnostic settings)."
        )
    if timeline.unattributed:
        notes.append(
            f"{timeline.unattributed} tunnel rows of {timeline.tunnel.azure_gateway} had no remote IP (remoteIP_s "
            "missing) and were counted as this tunnel's."
        )
    if not timeline.tunnel.azure_remote_ip and len({e.remote_ip for e in timeline.tunnel_rows if e.remote_ip}) > 1:
        notes.append(
            f"No azure_remote_ip is configured for {timeline.tunnel.name}: the drops of every tunnel on "
            f"{timeline.tunnel.azure_gateway} are mixed; set azure_remote_ip to separate them."
        )
    if not timeline.tunnel_rows and timeline.other_tunnels:
        others = ", ".join(sorted(timeline.other_tunnels)[:5])
        notes.append(
            f"{timeline.tunnel.azure_gateway} logged tunnel events for {others} but none for "
            f"{timeline.tunnel.azure_remote_ip} in range: check the tunnel's azure_remote_ip."
        )
    if not logged and not timeline.tunnel_rows and not timeline.ike_rows:
        notes.append(
            f"No TunnelDiagnosticLog or IKEDiagnosticLog rows for {timeline.tunnel.azure_gateway} in range: check that "
            "the gateway's diagnostic setting sends these categories to the workspace."
        )
    return notes

