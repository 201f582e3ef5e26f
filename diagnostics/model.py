"""The domain's nouns: log events, drops, findings, the queries that ran and the investigation that holds them.

One normalised event type serves every log row the bot reads, whatever its cloud or format. A row keeps where it
came from (`Provenance`), the table it was read from and its raw text, so an answer can quote the exact line and
say which query or file produced it. Providers (`diagnostics.azure`, `diagnostics.aws`) produce events; the rules
turn them into drops and findings; an `Investigation` carries all of it to the renderers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from diagnostics.timefmt import parse_iso
from diagnostics.tunnels import Tunnel


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


class Cause(StrEnum):
    """The cause codes of the JSON answer (docs/rules.md): a stable contract: add, never rename."""

    MAINTENANCE_FAILOVER = "maintenance_failover"
    GATEWAY_FAILOVER = "gateway_failover"
    CONFIG_CHANGE = "config_change"
    DPD_TIMEOUT = "dpd_timeout"
    REMOTE_INITIATED = "remote_initiated"
    PSK_MISMATCH = "psk_mismatch"
    IKE_PROPOSAL_MISMATCH = "ike_proposal_mismatch"
    TRAFFIC_SELECTOR_MISMATCH = "traffic_selector_mismatch"
    PEER_UNREACHABLE = "peer_unreachable"
    BGP_SESSION_DOWN = "bgp_session_down"
    BGP_ROUTE_REJECTED = "bgp_route_rejected"
    REKEY_COLLISION = "rekey_collision"
    FLAPPING = "flapping"
    NO_DROP_FOUND = "no_drop_found"
    LOGS_NOT_INGESTED = "logs_not_ingested"
    UNKNOWN = "unknown"
    # A traffic question ("is traffic flowing over paris?"): the gateway's metrics read with its logs.
    TRAFFIC_SELECTOR_DROPS = "traffic_selector_drops"
    ONE_WAY_TRAFFIC = "one_way_traffic"
    NO_ROUTES = "no_routes"
    NO_TRAFFIC = "no_traffic"
    TRAFFIC_FLOWING = "traffic_flowing"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def weight(self) -> int:
        return {"high": 3, "medium": 2, "low": 1}[self.value]


@dataclass(frozen=True)
class Drop:
    """A tunnel outage: a disconnect and the reconnect that ended it (None while still down)."""

    down: Event
    up: Event | None

    @property
    def down_ts(self) -> float:
        return self.down.ts

    @property
    def up_ts(self) -> float | None:
        return self.up.ts if self.up else None

    @property
    def duration(self) -> float | None:
        return self.up.ts - self.down.ts if self.up else None

    @property
    def down_instance(self) -> str:
        return self.down.instance

    @property
    def up_instance(self) -> str:
        return self.up.instance if self.up else ""

    @property
    def switched_instance(self) -> bool:
        return bool(self.up and self.down.instance and self.up.instance
                    and self.down.instance != self.up.instance)


@dataclass
class Finding:
    """One explanation. `rule` names the rule that produced it; `evidence` are the rows that support it."""

    cause: Cause
    confidence: Confidence
    title: str
    explanation: str
    advice: str
    evidence: list[Event] = field(default_factory=list)
    rule: str = ""
    drop: Drop | None = None


class SourceError(RuntimeError):
    """A backend failed after its retries. The message names the backend and says what to check."""


@dataclass(frozen=True)
class QueryRecord:
    """A query as it was run, so anyone can re-run it: the JSON answer's `queries[]`."""

    backend: str
    text: str
    origin: str = ""
    start: datetime | None = None
    end: datetime | None = None
    rows: int = 0

    def to_json(self) -> dict[str, Any]:
        """As the state store keeps it (`questions.queries_json`), which Show queries and evidence bundles read."""
        return {"backend": self.backend, "origin": self.origin, "text": self.text, "rows": self.rows,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QueryRecord:
        return cls(backend=str(data.get("backend", "")), text=str(data.get("text", "")),
                   origin=str(data.get("origin", "")), start=parse_iso(data.get("start")),
                   end=parse_iso(data.get("end")), rows=int(data.get("rows") or 0))


@dataclass
class Fetch:
    """What reading the logs told besides the rows: what ran, what to say, which sources failed."""

    queries: list[QueryRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    #: What the sources could not show and what that means for the answer (an export without an instance
    #: column…): said in the answer's first lines, not with the notes.
    caveats: list[str] = field(default_factory=list)


class InvestigationError(ValueError):
    """The question cannot be investigated as asked (e.g. a tunnel with no Azure side, every source failed)."""


class SourcesFailed(InvestigationError):
    """Every source of one side failed; the queries that were tried stay available (a link answer still shows
    them, so they can be re-run)."""

    def __init__(self, message: str, queries: list[QueryRecord]):
        super().__init__(message)
        self.queries = queries


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
    caveats: list[str] = field(default_factory=list)  # what the logs could not show (`Fetch.caveats`)

    @property
    def primary(self) -> Finding | None:
        return self.findings[0] if self.findings else None
