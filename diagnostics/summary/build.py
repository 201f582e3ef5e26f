"""`summarize_day`: the daily summary of every tunnel (or some) for one local day — the library entry point the
CLI, the scheduler and Slack share.

    summary = summarize_day(registry, sources, date(2026, 11, 21), ZoneInfo("Europe/Paris"), now)
    summary.ordered()[0]   # the most troubled tunnel

Azure tunnels (and the Azure end of an Azure<->AWS link, which is where its outage shows) are summarised from
Log Analytics (`summary.azure`), AWS connections from their tunnel logs (`summary.aws`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from diagnostics.rules.logs_not_ingested import INGESTION_LAG
from diagnostics.sources import Sources
from diagnostics.summary.aws import summarize_aws
from diagnostics.summary.azure import summarize_azure
from diagnostics.summary.model import DaySummary
from diagnostics.timefmt import local_midnights
from diagnostics.traffic.daily import day_traffic
from diagnostics.traffic.read import read_traffic
from diagnostics.tunnels import Tunnel, TunnelRegistry

#: The summary compares each day with the average of the previous 7 days.
BASELINE_DAYS = 7
#: Metrics for the summary's bytes: hourly values, each counted in the local day its hour starts in.
TRAFFIC_INTERVAL = 3600

Progress = Callable[[str], None]


class SummaryError(ValueError):
    """The summary cannot be made as asked (a day that has not begun, no source)."""


def day_window(day: date, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) in UTC, cut at `now` for today; 23 h or 25 h on DST days."""
    start = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    if start >= now:
        raise SummaryError(f"{day.isoformat()} has not begun yet in {zone.key}; the latest day with logs is "
                           f"{now.astimezone(zone).date().isoformat()} (so far)")
    return start, min(end, now)


def previous_day(now: datetime, zone: ZoneInfo) -> date:
    """Yesterday, in `zone`: what a morning summary is about."""
    return now.astimezone(zone).date() - timedelta(days=1)


def summarize_day(registry: TunnelRegistry, sources: Sources, day: date, zone: ZoneInfo, now: datetime,
                  tunnels: Sequence[str] | None = None, progress: Progress | None = None) -> DaySummary:
    """The summary of local `day` in `zone` for `tunnels` (names or aliases; None or empty: every tunnel).

    Raises `UnknownTunnel` (with the closest names) for a name the registry does not know, `SummaryError` for a
    day that has not begun.
    """
    start, end = day_window(day, zone, now)
    chosen = _chosen(registry, tunnels)
    summary = DaySummary(day=day, zone=zone.key, start=start, end=end)
    bounds = [*local_midnights(start, zone, BASELINE_DAYS), end]
    azure = [t for t in chosen if t.azure_gateway]
    amazon = [t for t in chosen if not t.azure_gateway and t.aws_vpn_connection]
    if azure:
        if not sources.kql:
            summary.notes.append(f"No Azure log source is configured: {', '.join(t.name for t in azure)} "
                                 "could not be summarised.")
        else:
            result = summarize_azure(azure, sources.kql, bounds, now, zone, progress)
            summary.tunnels += result.days.values()
            _absorb(summary, result.fetch.queries, result.fetch.notes, result.fetch.failures)
    if amazon:
        if not sources.aws:
            summary.notes.append(f"No AWS log source is configured: {', '.join(t.name for t in amazon)} "
                                 "could not be summarised.")
        else:
            result = summarize_aws(amazon, sources.aws, start, end, now, baseline_days=BASELINE_DAYS, tz=zone,
                                   progress=progress)
            summary.tunnels += result.days.values()
            _absorb(summary, result.queries, result.notes, result.failures)
    done = {t.name for t in summary.tunnels}
    summary.unknown = [t.name for t in chosen if t.name not in done]
    add_traffic(summary, [t for t in chosen if t.name in done], sources, bounds)
    if end.timestamp() > now.timestamp() - INGESTION_LAG:
        summary.notes.append("The last minutes of the day may not be in the logs yet (Log Analytics can lag about "
                             "15 minutes): a later summary may count more.")
    return summary


def add_traffic(summary: DaySummary, tunnels: Sequence[Tunnel], sources: Sources, bounds: Sequence[datetime]) -> None:
    """Each tunnel's bytes of the day and of the days before (one metrics read per source, hourly values: 8 days of
    24 values a metric), for "connected but idle all day" (docs/summaries.md#traffic). No metrics source: nothing is
    said; metrics that cannot be read: one note, and the summary stands on its logs."""
    readers = sources.metrics
    if not readers or not tunnels:
        return
    found, failures = read_traffic(readers, tunnels, bounds[0], bounds[-1], TRAFFIC_INTERVAL)
    edges = [b.timestamp() for b in bounds]
    for day in summary.tunnels:
        traffic = found.get(day.name)
        if traffic is not None and traffic.readable:
            day.traffic = day_traffic(traffic, edges)
    failed = [*failures, *(f for t in found.values() for f in t.failures)]
    if failed:
        summary.notes.append("Traffic (bytes per tunnel) is missing or partial: " + "; ".join(dict.fromkeys(failed)))


def _chosen(registry: TunnelRegistry, names: Sequence[str] | None) -> list[Tunnel]:
    if not names or any(n.lower() == "all" for n in names):
        return list(registry)
    chosen: list[Tunnel] = []
    for name in names:
        tunnel = registry.resolve(name)
        if tunnel not in chosen:
            chosen.append(tunnel)
    return chosen


def _absorb(summary: DaySummary, queries: list, notes: list[str], failures: list[str]) -> None:
    summary.queries += queries
    summary.notes += notes
    summary.failures += failures
