"""The Azure side of watching: ONE query per workspace per poll for the state changes ingested since its watermark.

The watermark is on `ingestion_time()`, not TimeGenerated: rows reach Log Analytics minutes (sometimes hours) after
they were logged, and not in order, so a row logged before the last poll can become queryable after it; a watermark
on TimeGenerated would never see it (docs/sources.md#azure-ingestion-time). The query's timespan (which Log
Analytics applies to TimeGenerated) reaches back `CATCH_UP` before the watermark, so such rows are inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from diagnostics.azure.kql import kql_datetime, kql_string
from diagnostics.azure.parser.rows import parse_time
from diagnostics.azure.sources import KqlBackend
from diagnostics.model import QueryRecord
from diagnostics.tunnels import Tunnel
from diagnostics.watch.model import CATCH_UP, StateChange


def build_changes_query(gateways: Sequence[str], since: datetime, until: datetime) -> str:
    """The TunnelDiagnosticLog state changes of `gateways` ingested in (since, until], oldest ingested first."""
    names = ", ".join(kql_string(g) for g in gateways)
    return "\n".join([
        "AzureDiagnostics",
        '| where Category == "TunnelDiagnosticLog"',
        '| where OperationName in~ ("TunnelDisconnected", "TunnelConnected")',
        f"| where Resource in~ ({names})",
        "| extend Ingested = ingestion_time()",
        f"| where Ingested > {kql_datetime(since)} and Ingested <= {kql_datetime(until)}",
        '| project TimeGenerated, Ingested, Resource, OperationName, Remote = column_ifexists("remoteIP_s", ""), '
        'Instance = column_ifexists("instance_s", "")',
        "| sort by Ingested asc",
    ])


def read_changes(backend: KqlBackend, tunnels: Sequence[Tunnel], since: datetime, until: datetime,
                 source: str) -> tuple[list[StateChange], QueryRecord]:
    """The watched tunnels' state changes ingested in (since, until] (raises SourceError when the backend fails)."""
    text = build_changes_query(sorted({t.azure_gateway.upper() for t in tunnels}), since, until)
    lo = since - CATCH_UP
    result = backend.run_kql(text, lo, until)
    col = {c: i for i, c in enumerate(result.columns)}
    changes = []
    for row in result.rows:
        gateway, remote = str(row[col["Resource"]] or "").upper(), str(row[col["Remote"]] or "")
        down = str(row[col["OperationName"]]).lower() == "tunneldisconnected"
        at, ingested = _utc(row[col["TimeGenerated"]]), _utc(row[col["Ingested"]])
        for tunnel in tunnels:
            if tunnel.azure_gateway.upper() == gateway and (not tunnel.azure_remote_ip
                                                            or tunnel.azure_remote_ip == remote):
                changes.append(StateChange(tunnel.name, down, at, ingested, str(row[col["Instance"]] or ""),
                                           source))
    return changes, QueryRecord(backend.backend, text, backend.origin, lo, until, len(changes))


def _utc(value: object) -> datetime:
    return datetime.fromtimestamp(parse_time(value), UTC)
