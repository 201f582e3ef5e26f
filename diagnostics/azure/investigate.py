"""Azure's side of an investigation: the KQL reads for one tunnel and window, streamed into its timeline.

`AzureSide.read` runs ONE query per window over every category the rules need (tunnel and gateway rows with
context around the window, IKE rows just around it), then only what the timeline asks for: the drops of the days
around an empty window (a light TunnelDiagnosticLog query), the negotiations of an outage (a second, narrow IKE
query: a day of retries is a million rows) and, when no IKE row was seen, which categories the gateway logs at
all. The drops around an empty window and the outage's reads do not depend on each other: they run at the same
time (`diagnostics.at_once`), their queries listed in the same order whichever ended first. The skeleton
(`diagnostics.investigate`) turns the reading into findings.

The first query also returns one summary row about the whole gateway (`diagnostics.azure.activity`): its newest row
and how regularly it logs, for "not ingested yet", and its resource id.

A source that answers with a table lacking a column its query projects (a proxy, a wrong endpoint) fails in one
sentence, like any other source failure; the other sources still answer.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from diagnostics.at_once import at_once
from diagnostics.azure.activity import GatewayActivity, SummaryRow, combined, log_columns, split_summary
from diagnostics.azure.kql import (
    ACTIVITY_BIN,
    TunnelQuery,
    build_coverage_query,
    build_ike_query,
    build_tunnel_state_query,
)
from diagnostics.azure.negotiation import LEAD, IkeSummary, NegotiationTracker
from diagnostics.azure.outage import OutageCapture
from diagnostics.azure.parser.rows import make_normaliser, parse_time
from diagnostics.azure.sources import KqlBackend, KqlResult
from diagnostics.azure.timeline import TimelineBuilder
from diagnostics.model import Drop, Fetch, Provenance, QueryRecord, SourceError, SourcesFailed
from diagnostics.timefmt import Progress
from diagnostics.timeline import LOOKAROUND_DAYS, Reading, Timeline, down_period, primary_drop
from diagnostics.tunnels import Tunnel

#: Tunnel and gateway rows are read this far around the window: maintenance is logged when it starts, the first
#: failover of a maintenance precedes the second by tens of minutes (docs/sources.md#azure-maintenance), and the
#: reconnect or second failover can follow the window.
CONTEXT_BEFORE = timedelta(hours=2)
CONTEXT_AFTER = timedelta(hours=1)
#: IKE rows (the bulk) are read only this far around the window.
IKE_MARGIN = timedelta(minutes=5)
LOOKAROUND = timedelta(days=LOOKAROUND_DAYS)


@dataclass
class AzureReading(Reading):
    coverage: dict[str, int] = field(default_factory=dict)  # rows per category the gateway logged, when looked up
    ike: IkeSummary | None = None  # the negotiations of the outage the rules ask about
    activity: GatewayActivity | None = None  # the whole gateway's newest row and cadence (its summary row)


class AzureSide:
    """Reads Azure VPN gateway logs through every configured KQL backend (Log Analytics, exports, the demo)."""

    provider = "azure"

    def __init__(self, backends: Sequence[KqlBackend], metrics: Sequence[object] = ()) -> None:
        self.backends = list(backends)
        #: Metrics sources that can be told a gateway's ARM resource id (`AzureMetricsSource.learn`): the tunnel
        #: query's summary row carries it, which spares them their own look-up in the logs.
        self.learners = [learn for source in metrics if (learn := getattr(source, "learn", None)) is not None]

    def missing(self, tunnel: Tunnel) -> str | None:
        if not self.backends:
            return "no log source is configured: give --azure-export FILE, [azure] settings, or --demo"
        return None

    def read(self, tunnel: Tunnel, start: datetime, end: datetime, now: datetime, anchor: datetime | None,
             progress: Progress | None = None, look_around: bool = True) -> AzureReading:
        query = TunnelQuery(
            gateway=tunnel.azure_gateway,
            remote_ip=tunnel.azure_remote_ip,
            start=start - CONTEXT_BEFORE,
            end=min(end + CONTEXT_AFTER, now),
            ike_start=start - IKE_MARGIN,
            ike_end=min(end + IKE_MARGIN, now),
            window_start=start,
        )
        builder = TimelineBuilder(tunnel)
        if len(self.backends) == 1:  # one sorted stream: the outage's IKE rows are set aside as they pass
            builder.capture = OutageCapture(start.timestamp(), end.timestamp(), anchor.timestamp() if anchor else None,
                                            query.ike_end.timestamp())
        summaries: list[SummaryRow] = []
        fetched = fetch_all(self.backends, query, builder, progress, summaries)
        for backend in self.backends:  # an export that lacks a column says so (`LocalWorkspace.caveats_for`)
            fetched.caveats += getattr(backend, "caveats_for", lambda _: [])(tunnel.azure_gateway)
            fetched.notes += getattr(backend, "notes_for", lambda _: [])(tunnel.azure_gateway)
        if fetched.failures and len(fetched.failures) == len(self.backends):
            raise SourcesFailed("; ".join(fetched.failures), fetched.queries)
        timeline = builder.build()
        lo, hi, at = start.timestamp(), end.timestamp(), anchor.timestamp() if anchor else None
        bins = math.ceil((start - query.start) / ACTIVITY_BIN)
        reading = AzureReading(
            timeline=timeline, fetch=fetched, window_drops=timeline.drops_between(lo, hi),
            rows_in_window=len(timeline.between(lo, hi)),
            latest_row=timeline.events[-1].ts if timeline.events else None,
            activity=combined(summaries, bins, query.end.timestamp()),
        )
        if reading.activity is not None and reading.activity.resource_id:
            for learn in self.learners:
                learn([reading.activity.resource_id])
        around, follow_ups = Fetch(), Fetch()

        def explain() -> None:
            period = down_period(timeline, lo, hi, at)
            if period is not None:
                # The whole outage, even where it outlasts the window: "failed N times" must count every retry. Its
                # rows came with the tunnel query; they are read again only when they did not all come.
                first, last = period[0] - LEAD, min(period[1], now.timestamp())
                captured = builder.capture.summary(first, last) if builder.capture is not None else None
                reading.ike = captured if captured is not None else negotiations(self.backends, tunnel, first, last,
                                                                                 follow_ups)
            if needs_coverage(reading, at):
                reading.coverage = coverage(self.backends, tunnel, query.start, query.end, follow_ups)

        if not reading.window_drops and look_around:
            # The drops around an empty window do not depend on the outage's reads: both round trips at once.
            reading.lookaround, _ = at_once(
                lambda: lookaround_drops(self.backends, tunnel, start, end, now, around), explain)
        else:
            explain()
        for part in (around, follow_ups):  # in the same order whichever read ended first
            fetched.queries += part.queries
            fetched.notes += part.notes
        fetched.notes += coverage_notes(timeline, reading.coverage)
        return reading


def fetch_all(backends: Sequence[KqlBackend], query: TunnelQuery, builder: TimelineBuilder,
              progress: Progress | None = None, summaries: list[SummaryRow] | None = None) -> Fetch:
    """Run the query on every backend into `builder`; a failing backend is reported and the others still answer.
    The gateway's summary rows, when the query asks for them, go to `summaries` (not counted as the query's rows)."""
    total = Fetch()
    text = query.text()
    for backend in backends:
        rows = 0
        try:
            result = backend.run_kql(text, query.start, query.end)
            summary, log_rows = split_summary(result)
            if summary is not None and summaries is not None:
                summaries.append(summary)
            rows = feed(builder, replace(result, rows=log_rows, columns=log_columns(result.columns)),
                        Provenance(backend.backend, backend.origin, "AzureDiagnostics", text), total, backend.label,
                        ("TimeGenerated", "Message"))
            total.notes += result_notes(backend.label, result)
            if result.partial_error:
                builder.capture = None  # some of the outage's rows may be missing from what came
        except SourceError as exc:
            builder.capture = None
            total.failures.append(str(exc))
            total.notes.append(f"{backend.label} failed, answering from the other sources: {exc}")
        total.queries.append(QueryRecord(backend.backend, text, backend.origin, query.start, query.end, rows))
        if progress:
            progress(f"{backend.label}: {'failed' if not rows and total.failures else f'{rows} rows'}")
    return total


def feed(builder: TimelineBuilder, result: KqlResult, provenance: Provenance, fetch: Fetch, label: str,
         columns: Sequence[str] = ("TimeGenerated",)) -> int:
    """Stream one result into the timeline. Rows without a readable time are counted and said, not fatal; a result
    without one of the `columns` its query projects is a SourceError."""
    require(result, columns, label)
    unreadable_before = builder.unreadable
    # Collection passes over the large, short-lived batches of fetched rows cost ~20 % of the fetch for
    # nothing: nothing here creates reference cycles.
    enabled = gc.isenabled()
    gc.disable()
    try:
        count = builder.feed(result.rows, result.columns, make_normaliser(result.columns, provenance))
    finally:
        if enabled:
            gc.enable()
    if builder.unreadable > unreadable_before:
        fetch.notes.append(f"{label}: {builder.unreadable - unreadable_before} rows had no readable time and "
                           "were skipped.")
    return count


def result_notes(label: str, result: KqlResult) -> list[str]:
    """What a result said besides its rows, once they are read: read in parts, or only partly (never silently)."""
    notes = list(result.notes)
    if result.partial_error:
        notes.append(f"{label} returned partial results: {result.partial_error}")
    return notes


def require(result: KqlResult, columns: Sequence[str], label: str) -> None:
    """A table without a column the bot's query projects is not the answer to that query (a proxy, a wrong
    endpoint): SourceError, in one sentence that says what came back."""
    missing = [c for c in columns if c not in result.columns]
    if missing:
        got = ", ".join(result.columns[:6]) + (", …" if len(result.columns) > 6 else "")
        raise SourceError(f"{label} answered a table without {' or '.join(missing)} (its columns: {got or 'none'}), "
                          "not the result of the bot's query; check [azure] endpoint.")


def answers(backends: Sequence[KqlBackend], text: str, start: datetime, end: datetime,
            columns: Sequence[str]) -> Iterator[tuple[KqlBackend, KqlResult]]:
    """Each backend's result of a follow-up query that has the columns it projects. A backend that fails is skipped:
    the main query already reported it if it is down."""
    for backend in backends:
        try:
            result = backend.run_kql(text, start, end)
            require(result, columns, backend.label)
        except SourceError:
            continue
        yield backend, result


def lookaround_drops(backends: Sequence[KqlBackend], tunnel: Tunnel, start: datetime, end: datetime,
                     now: datetime, fetched: Fetch) -> list[Drop]:
    """Drops in the days around an empty window, to name the nearest ones (TunnelDiagnosticLog only: light)."""
    lo, hi = start - LOOKAROUND, min(end + LOOKAROUND, now)
    text = build_tunnel_state_query(tunnel.azure_gateway, lo, hi)
    builder = TimelineBuilder(tunnel)
    for backend, result in answers(backends, text, lo, hi, ("TimeGenerated",)):
        rows = feed(builder, result, Provenance(backend.backend, backend.origin, "AzureDiagnostics", text), fetched,
                    backend.label)
        fetched.notes += result_notes(backend.label, result)
        fetched.queries.append(QueryRecord(backend.backend, text, backend.origin, lo, hi, rows))
    return builder.build().drops


def negotiations(backends: Sequence[KqlBackend], tunnel: Tunnel, start: float, end: float,
                 fetched: Fetch) -> IkeSummary:
    """The negotiations of the outage the rules ask about, from a second, narrow IKE query: the main query's IKE
    rows were only kept around state changes, and a day of retries is a million rows."""
    lo, hi = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    text = build_ike_query(tunnel.azure_gateway, tunnel.azure_remote_ip, lo, hi)
    tracker = NegotiationTracker()
    for backend, result in answers(backends, text, lo, hi, ("TimeGenerated", "Message")):
        i_time, i_msg = result.columns.index("TimeGenerated"), result.columns.index("Message")
        count = tracker.rows
        enabled = gc.isenabled()
        gc.disable()
        try:
            tracker.add_rows(_timed_messages(result.rows, i_time, i_msg))
        finally:
            if enabled:
                gc.enable()
        count = tracker.rows - count
        fetched.notes += result_notes(backend.label, result)
        fetched.queries.append(QueryRecord(backend.backend, text, backend.origin, lo, hi, count))
    return tracker.summary()


def _timed_messages(rows: Iterable[Sequence[Any]], i_time: int, i_msg: int) -> Iterator[tuple[float, str]]:
    """(epoch seconds, Message) of IKE query rows, streamed."""
    for row in rows:
        raw = row[i_time]
        yield (raw if raw.__class__ is float else parse_time(raw)), row[i_msg] or ""


def needs_coverage(reading: AzureReading, anchor: float | None) -> bool:
    """No IKE row for the peer while the tunnel is down (or silent): is the peer silent, or is IKE not logged?"""
    if reading.timeline.ike_rows or (reading.ike is not None and reading.ike.rows):
        return False
    drop = primary_drop(reading.window_drops, anchor)
    return (drop is not None and drop.up is None) or not reading.timeline.tunnel_rows


def coverage(backends: Sequence[KqlBackend], tunnel: Tunnel, start: datetime, end: datetime,
             fetched: Fetch) -> dict[str, int]:
    text = build_coverage_query(tunnel.azure_gateway, start, end)
    counts: dict[str, int] = {}
    for backend, result in answers(backends, text, start, end, ("Category", "Rows")):
        i_cat, i_rows = result.columns.index("Category"), result.columns.index("Rows")
        for row in result.rows:
            category = row[i_cat] or ""  # rows of an export that has no Category column (issue 13's TypeError)
            counts[category] = counts.get(category, 0) + int(row[i_rows])
        fetched.notes += result_notes(backend.label, result)
        fetched.queries.append(QueryRecord(backend.backend, text, backend.origin, start, end, len(counts)))
    return counts


def coverage_notes(timeline: Timeline, logged: dict[str, int]) -> list[str]:
    notes = []
    logged = {category: rows for category, rows in logged.items() if category}
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
