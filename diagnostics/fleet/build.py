"""`fleet_status`: every tunnel's state now (or some tunnels'), and what dropped in a period: the library entry point
of `vpnbot status`, "what's down right now" and "what dropped at 14:02" in Slack.

    fleet = fleet_status(registry.tunnels, sources, now - RECENT, now, now, ZoneInfo("Europe/Paris"))
    fleet.ordered()[0]   # the most troubled tunnel

Azure tunnels (and the Azure end of an Azure<->AWS link, where its outage shows) are read with one `summarize` per
workspace (`fleet.azure`), AWS connections with one bounded read per log group (`fleet.aws`); the rule engine runs
only for the tunnels that dropped, are down, or flap.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from diagnostics.fleet.aws import fleet_aws
from diagnostics.fleet.azure import fleet_azure
from diagnostics.fleet.model import UNKNOWN, FleetStatus, TunnelStatus
from diagnostics.model import Fetch
from diagnostics.rules.logs_not_ingested import INGESTION_LAG
from diagnostics.sources import Sources
from diagnostics.timefmt import Progress
from diagnostics.tunnels import Tunnel


def fleet_status(tunnels: Sequence[Tunnel], sources: Sources, start: datetime, end: datetime, now: datetime,
                 tz: ZoneInfo, anchor: datetime | None = None, progress: Progress | None = None) -> FleetStatus:
    """The state now of `tunnels` (in their order) and their drops that began in [start, end] (cut at `now`)."""
    end = min(end, now)
    fleet = FleetStatus(start=min(start, end), end=end, now=now, anchor=anchor)
    azure = [t for t in tunnels if t.azure_gateway]
    amazon = [t for t in tunnels if not t.azure_gateway and t.aws_vpn_connection]
    found: dict[str, TunnelStatus] = {}
    if azure:
        if sources.kql:
            result = fleet_azure(azure, sources.kql, fleet.start, end, now, tz, anchor, progress)
            found.update(result.statuses)
            _absorb(fleet, result.fetch)
        else:
            found.update(_unread(azure, "azure", "no Azure log source is configured (give --azure-export FILE, "
                                                 "[azure] settings, or --demo)"))
    if amazon:
        if sources.aws:
            result = fleet_aws(amazon, sources.aws, fleet.start, end, now, tz, progress)
            found.update(result.statuses)
            _absorb(fleet, result.fetch)
        else:
            found.update(_unread(amazon, "aws", "no AWS log source is configured (give --aws-export FILE, [aws] "
                                                "settings, or --demo)"))
    fleet.tunnels = [found[t.name] for t in tunnels if t.name in found]
    for status in fleet.tunnels:
        status.checked_at = now.timestamp()
    unknown = [t.name for t in fleet.tunnels if t.state == UNKNOWN]
    if unknown:
        fleet.notes.append(f"Unknown (their log source failed or is missing; not reported up): {', '.join(unknown)}.")
    if end.timestamp() > now.timestamp() - INGESTION_LAG:
        fleet.notes.append("Log Analytics can take about 15 minutes to ingest a row: a drop in the last minutes may "
                           "not show yet.")
    return fleet


def _unread(tunnels: Sequence[Tunnel], provider: str, why: str) -> dict[str, TunnelStatus]:
    return {t.name: TunnelStatus(t, provider, UNKNOWN, why=why) for t in tunnels}


def _absorb(fleet: FleetStatus, fetch: Fetch) -> None:
    fleet.queries += fetch.queries
    fleet.notes += fetch.notes
    fleet.failures += fetch.failures
