"""One normalised event type for every log row the bot reads, whatever its cloud or format.

A row keeps where it came from (`Provenance`), the table it was read from and its raw text, so an answer
can quote the exact line and say which query or file produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class EventKind(StrEnum):
    """What a row means for the rule engine, independent of how the cloud spelled it."""

    TUNNEL_DOWN = "tunnel_down"
    TUNNEL_UP = "tunnel_up"
    MAINTENANCE = "maintenance"  # HostMaintenanceEvent, "Upgrade gateway started"
    PRIMARY_CHANGED = "primary_changed"  # GatewayTenantPrimaryChanged
    CONFIG_CHANGE = "config_change"  # SetGatewayConfiguration, SetConnectionConfiguration
    GATEWAY = "gateway"  # any other GatewayDiagnosticLog operation
    BGP_DOWN = "bgp_down"
    BGP_UP = "bgp_up"
    ROUTE = "route"  # StaticRouteUpdate, BgpRouteUpdate
    IKE = "ike"
    P2S = "p2s"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a batch of rows came from. One instance is shared by every row of one query or file."""

    backend: str  # "log-analytics" | "cloudwatch-logs" | "local"
    origin: str  # workspace id, log group, or export file name
    table: str  # "AzureDiagnostics", a log group, ...
    query: str = ""  # the exact query text that returned the rows, when there was one


@dataclass(slots=True, eq=False)
class Event:
    """One log row. `ts` is seconds since the epoch (UTC): cheap to compare over millions of rows.

    Not frozen: a frozen dataclass's __init__ costs about four times as much, and events are built by the
    million. Treat events as read-only all the same.
    """

    ts: float
    provider: str  # "azure" | "aws"
    category: str  # TunnelDiagnosticLog, IKEDiagnosticLog, ...
    kind: EventKind
    operation: str
    gateway: str  # Azure `Resource` (the VPN gateway name), as logged
    message: str
    instance: str = ""  # GatewayTenantWorker_IN_0 / _IN_1
    remote_ip: str = ""  # on-premises device (remoteIP_s) or the IKE row's Remote address
    status: str = ""
    reason: str = ""  # stateChangeReason_s
    provenance: Provenance | None = None
    line: int | None = None  # line in an export file, for error reports
    extra: tuple[tuple[str, str], ...] = ()  # other non-empty columns, e.g. ResourceGroup, operationStatus_s

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.ts, UTC)

    @property
    def source(self) -> str:
        """Short human label of the row's origin, e.g. `AzureDiagnostics/TunnelDiagnosticLog`."""
        table = self.provenance.table if self.provenance else self.provider
        return f"{table}/{self.category}" if self.category else table

    def get(self, key: str, default: str = "") -> str:
        for k, v in self.extra:
            if k == key:
                return v
        return default

    def text(self) -> str:
        """The row as one line of evidence: the logged message, or its key columns when it has none."""
        parts = [self.operation] if self.operation else []
        if self.instance:  # an Azure gateway instance, or an AWS tunnel's outside IP
            parts.append(f"{'tunnel' if self.provider == 'aws' else 'instance'}={self.instance}")
        if self.remote_ip and self.category != "IKEDiagnosticLog":
            parts.append(f"remoteIP={self.remote_ip}")
        if self.status and self.status.lower() not in self.operation.lower():
            parts.append(f"status={self.status}")
        if self.reason:
            parts.append(f"reason={self.reason!r}")
        if self.message:
            parts.append(self.message)
        return " ".join(parts)


def iso_z(value: datetime | float) -> str:
    """ISO 8601 in UTC with a `Z`, to the second unless the value has sub-second precision."""
    dt = value if isinstance(value, datetime) else datetime.fromtimestamp(value, UTC)
    dt = dt.astimezone(UTC)
    text = dt.isoformat(timespec="milliseconds" if dt.microsecond else "seconds")
    return text.replace("+00:00", "Z")
