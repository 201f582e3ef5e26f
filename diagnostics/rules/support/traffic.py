"""What a traffic rule sees: the tunnel's state from its logs, the log rows of the window (IKE, BGP, routes), its
metrics (`Traffic`, read into per-direction totals: `Flow`) and the address asked about, if any; and the readings
several traffic rules share: the traffic selectors the IKE rows carry, the prefixes the route rows name, the phase-2
deletions. Not a rule itself.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from diagnostics.azure.ike import TrafficSelectors, parse_ike_message
from diagnostics.model import Drop, Event, EventKind
from diagnostics.timefmt import local_and_utc
from diagnostics.traffic.flow import Flow
from diagnostics.traffic.model import Traffic
from diagnostics.tunnels import Tunnel

UP, DOWN = "up", "down"


@dataclass
class TrafficContext:
    tunnel: Tunnel
    start: float  # the window asked about, epoch seconds
    end: float
    state: str  # the tunnel's state from its logs: "up", "down", "no_logs", "unknown"
    traffic: Traffic
    events: list[Event] = field(default_factory=list)  # the window's log rows (and the context read around it)
    since: float | None = None  # when it entered `state`, if the logs say
    target: str = ""  # an address asked about: "why can't we reach 10.1.2.3 over lyon"
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    drops: list[Drop] = field(default_factory=list)  # the tunnel's drops in the window (from its logs)

    def __post_init__(self) -> None:
        self.flow = Flow.of(self.traffic)

    @property
    def connected(self) -> bool:
        return self.state == UP

    def fmt(self, ts: float, seconds: bool = False) -> str:
        return local_and_utc(ts, self.tz, seconds=seconds)

    def rows(self, kind: EventKind, start: float | None = None, end: float | None = None) -> list[Event]:
        lo = self.start if start is None else start
        hi = self.end if end is None else end
        return [e for e in self.events if e.kind is kind and lo <= e.ts <= hi]


# ----------------------------------------------------------------------------------------- traffic selectors


@dataclass(frozen=True)
class SeenSelectors:
    """The selectors of one IKE row (the last one logged), and that row."""

    selectors: TrafficSelectors
    row: Event

    def describe(self) -> str:
        return self.selectors.describe()


def latest_selectors(ctx: TrafficContext) -> SeenSelectors | None:
    """The traffic selectors of the latest IKE row that carries them (Azure `Traffic Selector payload` rows,
    docs/sources.md#azure-traffic-selectors), read up to the window's end: the SA in use was negotiated before."""
    for event in reversed([e for e in ctx.events if e.kind is EventKind.IKE and e.ts <= ctx.end]):
        if "Traffic Selector" not in event.message:
            continue
        selectors = parse_ike_message(event.message).traffic_selectors()
        if selectors is not None and (selectors.initiator or selectors.responder):
            return SeenSelectors(selectors, event)
    return None


def in_selectors(address: str, selectors: TrafficSelectors) -> bool | None:
    """Whether `address` lies in one of the ranges (either side); None when it is no address."""
    ip = _ip(address)
    if ip is None:
        return None
    for r in (*selectors.initiator, *selectors.responder):
        lo, hi = _ip(r.start), _ip(r.end)
        if lo is not None and hi is not None and lo.version == ip.version and lo <= ip <= hi:
            return True
    return False


# ---------------------------------------------------------------------------------------------------- routes

_LEARNED = re.compile(r"Route\s+(?P<prefix>[0-9A-Fa-f.:]+/\d+)\s+learned", re.I)
_WITHDRAWN = re.compile(r"Route\s+(?P<prefix>[0-9A-Fa-f.:]+/\d+)\s+withdrawn", re.I)


def known_prefixes(ctx: TrafficContext) -> list[str]:
    """The prefixes the route rows read say the tunnel carries at the window's end: Azure RouteDiagnosticLog
    `BgpRouteUpdate` learned and not withdrawn since, AWS RouteStatus rows of prefixes it did not deny."""
    current: dict[str, bool] = {}
    for event in ctx.events:
        if event.kind is not EventKind.ROUTE or event.ts > ctx.end:
            continue
        if event.provider == "aws":
            prefix = event.get("prefix")
            if prefix:
                current[prefix] = "denied" not in event.message.lower()
            continue
        learned, withdrawn = _LEARNED.search(event.message), _WITHDRAWN.search(event.message)
        if learned:
            current[learned["prefix"]] = True
        elif withdrawn:
            current[withdrawn["prefix"]] = False
    return [p for p, on in current.items() if on]


def in_prefixes(address: str, prefixes: list[str]) -> str | None:
    """The first prefix that holds `address`, or None."""
    ip = _ip(address)
    for prefix in prefixes:
        try:
            if ip is not None and ip in ipaddress.ip_network(prefix, strict=False):
                return prefix
        except ValueError:
            continue
    return None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


# -------------------------------------------------------------------------------------------------- phase 2

#: A phase-2 (IPsec, quick mode, CHILD_SA) SA deleted. AWS's words are verbatim (docs/sources.md#aws-ikev2-errors:
#: "received DELETE for Phase 2 SA", "Phase 2 was unable to establish while keeping Phase 1"); Azure's IKE log has
#: no public verbatim row for it (docs/sources.md#azure-phase2-only-loss: "All IPsec Security Associations (IKE
#: Quick Mode SAs) are deleted"), so its rows are matched on the words wfpdiag uses ("Deleting QM",
#: IkeCleanupQMNegotiation) and on "delete" next to an IPsec/QM/CHILD SA.
_PHASE2_DELETED = re.compile(
    r"received DELETE for Phase 2 SA|Phase 2 was unable to establish while keeping Phase 1|Deleting QM"
    r"|IkeCleanupQMNegotiation|(?:QM|IPsec|CHILD)[ _-]?SAs?\b.{0,40}\bdelet"
    r"|\bdelet\w*\b.{0,40}(?:QM|IPsec|CHILD)[ _-]?SA",
    re.I,
)
#: A phase-2 SA set up (again) after a deletion: AWS's CREATE_CHILD_SA exchange, Azure's IPsec payload or
#: quick-mode rows.
_PHASE2_UP = re.compile(r"CREATE_CHILD_SA|IPSec payload|IPSec policy Payload|Child SA established|QM SA established",
                        re.I)


#: A rekey sets the new phase-2 SA up, then deletes the old one (RFC 7296 §2.8): a deletion this soon after a set-up is
#: the rekey's.
REKEY_OVERLAP = 60.0


def phase2_related(message: str) -> bool:
    """An IKE row about phase 2 the traffic rules read: deleted, set up, or its traffic selectors."""
    return bool(_PHASE2_DELETED.search(message) or _PHASE2_UP.search(message)) or "Traffic Selector" in message


def phase2_deleted(ctx: TrafficContext) -> Event | None:
    """The first phase-2 deletion in the window after which no phase-2 SA was set up again (up to the window's end),
    while the tunnel (phase 1) stayed up: its IPsec SAs are gone, the tunnel is logged as connected."""
    rows = [e for e in ctx.events if e.kind is EventKind.IKE and e.ts <= ctx.end]
    deleted: Event | None = None
    set_up = float("-inf")
    for event in rows:
        if _PHASE2_DELETED.search(event.message):
            if deleted is None and event.ts - set_up > REKEY_OVERLAP:
                deleted = event  # (a delete just after a new SA was set up is the old SA of a rekey going)
        elif _PHASE2_UP.search(event.message):
            set_up = event.ts
            deleted = None  # set up again: a rekey, not a loss
    if deleted is None:
        return None
    downs = [e for e in ctx.events if e.kind is EventKind.TUNNEL_DOWN and deleted.ts <= e.ts <= ctx.end]
    return None if downs else deleted


def deletion_rows(ctx: TrafficContext, first: Event) -> list[Event]:
    """The rows of one phase-2 deletion: `first` and the deletion rows logged within seconds of it (the delete
    received, the SA removed, "Main Mode SA remains established")."""
    return [e for e in ctx.events if e.kind is EventKind.IKE and first.ts <= e.ts <= first.ts + 5
            and _PHASE2_DELETED.search(e.message)]
