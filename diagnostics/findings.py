"""What the rule engine produces: drops found in the timeline and findings that explain them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .events import Event


class Cause(StrEnum):
    """The cause codes of DESIGN.md (a stable contract: add, never rename)."""

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
    REKEY_COLLISION = "rekey_collision"
    FLAPPING = "flapping"
    NO_DROP_FOUND = "no_drop_found"
    LOGS_NOT_INGESTED = "logs_not_ingested"
    UNKNOWN = "unknown"


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
