"""The one KQL query the bot sends per gateway and window, and safe KQL literals.

The published walkthroughs run 3–4 queries (TunnelDiagnosticLog, GatewayDiagnosticLog, RouteDiagnosticLog,
IKEDiagnosticLog: docs/sources.md#azure-categories, docs/sources.md#azure-ike-log,
docs/sources.md#azure-maintenance); we ask for all their rows in one round trip. The query stays within filtering
and projection (no `serialize`/`prev()`): pairing disconnects with reconnects happens in Python (docs/rules.md).

The same round trip carries one summary row about the whole gateway (`union` of a one-row `summarize`, first in the
result: its TimeGenerated is null): its newest row, how regularly it logged before the window, and its ARM resource
id. `diagnostics.azure.activity` reads it; see there why.

Optional columns go through `column_ifexists()`: `remoteIP_s` and friends do not exist until a workspace has
logged a first tunnel event (MicrosoftDocs/azure-docs #77298, docs/sources.md#azure-columns), and a plain reference
would fail the whole query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: Categories the tunnel rules read (P2S has its own question; it is not needed to explain a tunnel drop).
TUNNEL_CATEGORIES = ("TunnelDiagnosticLog", "GatewayDiagnosticLog", "RouteDiagnosticLog", "IKEDiagnosticLog")

#: Columns every AzureDiagnostics table has (docs/sources.md#azure-columns).
STANDARD_COLUMNS = ("TimeGenerated", "Category", "OperationName", "Message", "Level", "Resource",
                    "ResourceGroup", "ResourceId", "SubscriptionId")
#: What the tunnel query returns of them. ResourceId and SubscriptionId are the same on every row of a gateway
#: and cost a long string per row (a million IKE rows is a normal day), so the rules do without them.
PROJECTED_COLUMNS = ("TimeGenerated", "Category", "OperationName", "Message", "Level", "Resource", "ResourceGroup")
#: Category-specific columns that may not exist yet in a workspace (docs/sources.md#azure-columns).
OPTIONAL_COLUMNS = ("instance_s", "remoteIP_s", "status_s", "stateChangeReason_s", "operationStatus_s",
                    "AdditionalFields")

#: The summary row's columns: the gateway's newest row (as text: a datetime column would cost the client a
#: conversion on every other row, where it is null), how many `ACTIVITY_BIN`s before the window had a row, and its
#: ARM resource id ("" when the name matches several resources).
GATEWAY_LATEST, GATEWAY_ACTIVE_BINS, RESOURCE_ID = "GatewayLatest", "GatewayActiveBins", "ResourceId"
ACTIVITY_BIN = timedelta(minutes=5)

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def kql_string(value: str) -> str:
    """`value` as a KQL double-quoted string literal that evaluates to exactly `value`.

    Backslash and quote are escaped, and line breaks become escapes because a KQL string literal may not span
    lines; nothing else in a string can end it.
    """
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in value) + '"'


def kql_datetime(value: datetime) -> str:
    """A `datetime(...)` literal in UTC. Only digits and separators reach the query text."""
    utc = value.astimezone(UTC)
    fraction = f".{utc.microsecond:06d}" if utc.microsecond else ""
    return f"datetime({utc.strftime('%Y-%m-%dT%H:%M:%S')}{fraction}Z)"


@dataclass(frozen=True)
class TunnelQuery:
    """What to fetch: one gateway's rows for a context range, IKE rows only for the narrower IKE range.

    IKE rows are by far the bulkiest (one row per packet while a tunnel fails); the rules need them only
    around the drops, while tunnel and gateway rows are needed further back (maintenance started before the
    drop, the first failover of a maintenance) and further on (the reconnect, the second failover).
    """

    gateway: str
    remote_ip: str
    start: datetime
    end: datetime
    ike_start: datetime
    ike_end: datetime
    #: The window asked about begins here: with it, the query also returns the gateway's summary row (its cadence
    #: is counted before this instant).
    window_start: datetime | None = None

    def text(self) -> str:
        return build_tunnel_query(self)


def build_tunnel_query(q: TunnelQuery) -> str:
    categories = ", ".join(kql_string(c) for c in TUNNEL_CATEGORIES)
    lines = [
        "AzureDiagnostics",
        f"| where TimeGenerated between ({kql_datetime(q.start)} .. {kql_datetime(q.end)})",
        f"| where Category in ({categories})",
        f"| where Resource =~ {kql_string(q.gateway)}",
        f'| where Category != "IKEDiagnosticLog" or TimeGenerated between '
        f"({kql_datetime(q.ike_start)} .. {kql_datetime(q.ike_end)})",
    ]
    if q.remote_ip:
        # IKE rows name the peer only inside Message (`Remote <ip>:<port>:`, docs/sources.md#azure-ike-log); rows
        # without that envelope (e.g. `IkeCleanupQMNegotiation called with error 13868`) cannot be attributed,
        # so they are kept and labelled gateway-wide by the rules.
        lines.append(
            f'| where Category != "IKEDiagnosticLog" or Message contains {kql_string(f"Remote {q.remote_ip}:")}'
            ' or Message !contains "Remote "'
        )
    optional = ", ".join(f'{c} = column_ifexists("{c}", "")' for c in OPTIONAL_COLUMNS)
    lines.append(f"| project {', '.join(PROJECTED_COLUMNS)}, {optional}")
    if q.window_start is None:
        lines.append("| sort by TimeGenerated asc")
        return "\n".join(lines)
    lines += activity_union(q.gateway, q.start, q.end, q.window_start)
    lines.append("| sort by TimeGenerated asc nulls first")  # the summary row (no TimeGenerated) first
    return "\n".join(lines)


def activity_union(gateway: str, start: datetime, end: datetime, window_start: datetime) -> list[str]:
    """The gateway's summary row, over every category: newest row, active 5-minute bins before the window, and
    its resource id when exactly one resource has that name."""
    bin_ = f"bin(TimeGenerated, {int(ACTIVITY_BIN.total_seconds() // 60)}m)"
    return [
        "| union (AzureDiagnostics",
        f"    | where TimeGenerated between ({kql_datetime(start)} .. {kql_datetime(end)})",
        f"    | where Resource =~ {kql_string(gateway)}",
        f"    | summarize {GATEWAY_LATEST} = max(TimeGenerated), "
        f"{GATEWAY_ACTIVE_BINS} = dcountif({bin_}, TimeGenerated < {kql_datetime(window_start)}), "
        f"ResourceIds = dcount({RESOURCE_ID}), {RESOURCE_ID} = take_any({RESOURCE_ID})",
        f'    | extend {RESOURCE_ID} = iff(ResourceIds == 1, {RESOURCE_ID}, ""), '
        f"{GATEWAY_LATEST} = tostring({GATEWAY_LATEST})",
        "    | project-away ResourceIds)",
    ]


def build_tunnel_state_query(gateway: str, start: datetime, end: datetime) -> str:
    """Only TunnelDiagnosticLog for days around a window: light enough to find the nearest drops
    (docs/sources.md#azure-tunnel-log: "Its lightweight nature offers the possibility to analyze large time ranges
    over several days")."""
    state_columns = ("instance_s", "remoteIP_s", "status_s", "stateChangeReason_s")
    optional = ", ".join(f'{c} = column_ifexists("{c}", "")' for c in state_columns)
    return "\n".join([
        "AzureDiagnostics",
        f"| where TimeGenerated between ({kql_datetime(start)} .. {kql_datetime(end)})",
        '| where Category == "TunnelDiagnosticLog"',
        f"| where Resource =~ {kql_string(gateway)}",
        f"| project TimeGenerated, Category, OperationName, Resource, {optional}",
        "| sort by TimeGenerated asc",
    ])


def build_coverage_query(gateway: str, start: datetime, end: datetime) -> str:
    """Which categories the gateway logged in the range: before answering, know which categories the workspace
    actually has (a policy-based gateway has only GatewayDiagnosticLog and RouteDiagnosticLog,
    docs/sources.md#azure-categories)."""
    return "\n".join([
        "AzureDiagnostics",
        f"| where TimeGenerated between ({kql_datetime(start)} .. {kql_datetime(end)})",
        f"| where Resource =~ {kql_string(gateway)}",
        "| summarize Rows = count() by Category",
    ])


def build_ike_query(gateway: str, remote_ip: str, start: datetime, end: datetime) -> str:
    """The IKE rows of one outage: the second step of docs/sources.md#azure-tunnel-log ("Only after you identify
    the timestamp of a disconnection, you can switch to the more detailed analysis of the IKEdiagnosticLog
    table")."""
    lines = [
        "AzureDiagnostics",
        f"| where TimeGenerated between ({kql_datetime(start)} .. {kql_datetime(end)})",
        '| where Category == "IKEDiagnosticLog"',
        f"| where Resource =~ {kql_string(gateway)}",
    ]
    if remote_ip:
        lines.append(f'| where Message contains {kql_string(f"Remote {remote_ip}:")} or Message !contains "Remote "')
    lines += ["| project TimeGenerated, Message", "| sort by TimeGenerated asc"]
    return "\n".join(lines)
