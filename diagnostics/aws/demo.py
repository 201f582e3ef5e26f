"""The AWS side of the built-in demo workspace: a deterministic week of Site-to-Site VPN tunnel logs for four AWS
VPN connections and the AWS end of the Azure↔AWS link, rebased on `now` like the Azure demo.

What is verbatim and what is not:

* `details` messages: verbatim from docs/sources.md#aws-ikev1-errors, docs/sources.md#aws-ikev2-errors and
  docs/sources.md#aws-ikev2-negotiation with their placeholders filled (`{retry_count}` -> 3, `xxxx` -> an SPI or
  the customer gateway IP, `id=xxx` -> a number). BGP messages: verbatim shapes of docs/sources.md#aws-bgp-status,
  the two-part ones joined with ", " (the real separator is not documented).
* JSON keys: the real keys (docs/sources.md#aws-log-fields) for every connection but dc2, which logs the
  documentation's legacy labels (`VpnLogDetail`, `TunnelIKEPhase1State`, …) with capitalised states, as a
  deployment might. `event_timestamp` is in seconds, except on dc3 (milliseconds), because the unit is
  unverified.
* Stream names: `vpn-<id>-<outside ip>` (docs/sources.md#aws-log-fields), with `-IKE`/`-BGP` suffixes on dc1
  (plausible, unverified), so the code can not assume either form.
* Everything else is a reconstruction: which rows a healthy tunnel logs (here: an hourly phase 2 rekey, the
  CREATE_CHILD_SA negotiation messages), the phase states each message carries, the IKEv1 rows with empty
  `details` when a tunnel comes back, and the timings.

All addresses are documentation ranges: AWS outside IPs 203.0.113.128/25, customer gateways 198.51.100.128/25,
BGP inside addresses 169.254.x.x; the link's customer gateway is the Azure gateway VPNGW03 (192.0.2.30).
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from diagnostics import demo as shared
from diagnostics.aws.parser.rows import LogRecord
from diagnostics.aws.sources import MemoryLogSource

_SEED = "vpnbot-aws-demo-v1"
INGESTION_LAG = shared.INGESTION_LAG
WEEK = shared.WEEK
LOG_GROUP = "/aws/vendedlogs/vpn-demo"

EST, REKEY, NEG, DOWN = "established", "rekeying", "negotiating", "down"


@dataclass(frozen=True)
class Connection:
    name: str
    aliases: tuple[str, ...]
    vpn_id: str
    outside_ips: tuple[str, str]
    cgw: str
    suffix: bool = False  # streams end in -IKE / -BGP
    legacy: bool = False  # documentation labels instead of the real keys
    millis: bool = False  # event_timestamp in ms
    bgp_neighbors: tuple[str, str] | None = None  # the customer gateway's inside IPs, when BGP runs
    ikev2: bool = True

    def stream(self, ip: str, bgp: bool = False) -> str:
        base = f"{self.vpn_id}-{ip}"
        return f"{base}-{'BGP' if bgp else 'IKE'}" if self.suffix else base


DC1 = Connection("dc1", ("aws-dc1", "frankfurt-dc"), "vpn-0a1b2c3d4e5f60718", ("203.0.113.130", "203.0.113.131"),
                 "198.51.100.130", suffix=True, bgp_neighbors=("169.254.10.2", "169.254.11.2"))
DC2 = Connection("dc2", ("aws-dc2", "lisbon-dc"), "vpn-0b2c3d4e5f6071829", ("203.0.113.140", "203.0.113.141"),
                 "198.51.100.140", legacy=True, ikev2=False)
DC3 = Connection("dc3", ("aws-dc3", "warehouse"), "vpn-0c3d4e5f607182930", ("203.0.113.150", "203.0.113.151"),
                 "198.51.100.150", millis=True)
DC4 = Connection("dc4", ("aws-dc4", "factory"), "vpn-0d4e5f60718293a4b", ("203.0.113.160", "203.0.113.161"),
                 "198.51.100.160")
LINK = Connection("hub-aws", (), shared.LINK_AWS_CONNECTION,
                  (shared.LINK_AWS_OUTSIDE_IPS[0], shared.LINK_AWS_OUTSIDE_IPS[1]), shared.LINK_GATEWAY_IP)
CONNECTIONS = (DC1, DC2, DC3, DC4, LINK)

#: Registry entries of the AWS-only connections (the link's entry is in diagnostics.azure.demo.DEMO_TUNNELS).
DEMO_AWS_TUNNELS: list[dict[str, Any]] = [
    {"name": c.name, "aliases": list(c.aliases), "aws_vpn_connection": c.vpn_id, "aws_outside_ips": list(c.outside_ips)}
    for c in CONNECTIONS if c is not LINK
]


@dataclass(frozen=True)
class AwsScenario:
    """One story of the AWS demo week: the tunnel, the cause an answer must give, and the instant to ask about."""

    tunnel: str
    cause: str  # the primary cause a question about `at` gets
    at: datetime
    description: str
    also: str = ""  # a cause the answer must also carry (e.g. the benign rekey collision)


@dataclass
class _Week:
    now: datetime
    day0: datetime
    records: list[LogRecord] = field(default_factory=list)
    scenarios: list[AwsScenario] = field(default_factory=list)
    busy: list[tuple[Connection, datetime, datetime]] = field(default_factory=list)  # no background rows there
    #: (connection, outside IP, down, up): a tunnel down (IPsec, or BGP on a BGP VPN: TunnelState is 0 then too)
    outages: list[tuple[Connection, str, datetime, datetime]] = field(default_factory=list)

    def day(self, days_ago: int, hour: int, minute: int, second: float = 0.0) -> datetime:
        return self.day0 - timedelta(days=days_ago) + timedelta(hours=hour, minutes=minute, seconds=second)


def _rng(component: str) -> random.Random:
    return random.Random(f"{_SEED}/{component}")


def _tunnel(week: _Week, c: Connection, ip: str, at: datetime, details: str, phase1: str, phase2: str) -> None:
    """One tunnel activity event, in the connection's key spelling."""
    seconds = at.timestamp()
    if c.legacy:
        body: dict[str, Any] = {
            "VpnLogCreationTimestamp": at.strftime("%Y-%m-%d %H:%M:%S"),
            "VpnConnectionId": c.vpn_id, "TunnelOutsideIPAddress": ip,
            "TunnelDPDEnabled": "True", "TunnelCGWNATTDetectionStatus": "False",
            "TunnelIKEPhase1State": phase1.capitalize(), "TunnelIKEPhase2State": phase2.capitalize(),
            "VpnLogDetail": details,
        }
    else:
        body = {
            "event_timestamp": round(seconds * 1000) if c.millis else int(seconds),
            "timestamp": at.strftime("%Y-%m-%d %H:%M:%S") + "Z",
            "details": details, "dpd_enabled": True, "nat_t_detected": False,
            "ike_phase1_state": phase1, "ike_phase2_state": phase2,
        }
    week.records.append(LogRecord(c.stream(ip), round(seconds * 1000), json.dumps(body)))


def _bgp(week: _Week, c: Connection, ip: str, at: datetime, status: str, details: str) -> None:
    body = {
        "resource_id": f"{c.vpn_id}_{ip}", "event_timestamp": round(at.timestamp() * 1000),
        "timestamp": at.strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
        "type": "BGPStatus", "status": status, "message": {"details": details},
    }
    week.records.append(LogRecord(c.stream(ip, bgp=True), round(at.timestamp() * 1000), json.dumps(body)))


def _route(week: _Week, c: Connection, ip: str, at: datetime, prefix: str, as_path: str, details: str) -> None:
    """A BGP RouteStatus event: a route the customer gateway advertised, as AWS took it (docs/sources.md#aws-route-
    status: the documentation's example keys)."""
    assert c.bgp_neighbors is not None
    body = {
        "resource_id": f"{c.vpn_id}_{ip}", "event_timestamp": round(at.timestamp() * 1000),
        "timestamp": at.strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
        "type": "RouteStatus", "status": "UPDATED",
        "message": {"prefix": prefix, "asPath": as_path, "localPref": 100, "med": 100,
                    "nextHopIp": c.bgp_neighbors[c.outside_ips.index(ip)], "weight": 32768,
                    **({"details": details} if details else {})},
    }
    week.records.append(LogRecord(c.stream(ip, bgp=True), round(at.timestamp() * 1000), json.dumps(body)))


def _bgp_up(week: _Week, c: Connection, ip: str, at: datetime) -> None:
    assert c.bgp_neighbors is not None
    neighbor = c.bgp_neighbors[c.outside_ips.index(ip)]
    steps = [("Idle", "Connect"), ("Connect", "OpenSent"), ("OpenSent", "OpenConfirm"), ("OpenConfirm", "Established")]
    for i, (old, new) in enumerate(steps):
        _bgp(week, c, ip, at + timedelta(milliseconds=180 * i), "UP" if new == "Established" else "DOWN",
             f"AWS-side peer BGP session state has changed from {old} to {new} with neighbor {neighbor}")


def _create_child(week: _Week, c: Connection, ip: str, at: datetime, msg_id: int, peer: bool = False) -> None:
    """A CREATE_CHILD_SA exchange (a phase 2 rekey), initiated by AWS or by the customer gateway."""
    if peer:
        _tunnel(week, c, ip, at, f"AWS tunnel processed request (id={msg_id}) for CREATE_CHILD_SA", EST, REKEY)
        _tunnel(week, c, ip, at + timedelta(milliseconds=35), f"AWS tunnel is sending response (id={msg_id}) for "
                "CREATE_CHILD_SA", EST, EST)
    else:
        _tunnel(week, c, ip, at, f"AWS tunnel is sending request (id={msg_id}) for CREATE_CHILD_SA", EST, REKEY)
        _tunnel(week, c, ip, at + timedelta(milliseconds=60), f"AWS tunnel processed response (id={msg_id}) for "
                "CREATE_CHILD_SA", EST, EST)


def _back(week: _Week, c: Connection, ip: str, at: datetime) -> None:
    """The tunnel is established again (IKEv1 logs no negotiation message: empty details, a reconstruction)."""
    if c.ikev2:
        _create_child(week, c, ip, at, 1, peer=True)
    else:
        _tunnel(week, c, ip, at, "", EST, EST)


def _every(start: datetime, end: datetime, step_s: float, rng: random.Random, jitter: float = 0.2) -> list[datetime]:
    times, at = [], start
    while at < end:
        times.append(at)
        at += timedelta(seconds=step_s * rng.uniform(1 - jitter, 1 + jitter))
    return times


# --------------------------------------------------------------------------------------------- scenarios


def _dc1_dpd(week: _Week) -> None:
    rng, c, ip = _rng("dc1/dpd"), DC1, DC1.outside_ips[0]
    down = week.day(2, 9, 41, 12.4)
    up = down + timedelta(minutes=7, seconds=10)
    week.busy.append((c, down, up))
    week.outages.append((c, ip, down, up))
    _tunnel(week, c, ip, down, "AWS tunnel DPD timed out after 3 retransmits", DOWN, DOWN)
    for at in _every(down + timedelta(seconds=35), up - timedelta(seconds=20), 40, rng):
        _tunnel(week, c, ip, at, f"AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: {c.cgw}",
                DOWN, DOWN)
    _back(week, c, ip, up)
    assert c.bgp_neighbors is not None
    _bgp(week, c, ip, down + timedelta(seconds=1.7), "DOWN",
         f"AWS-side peer BGP session state has changed from Established to Idle with neighbor {c.bgp_neighbors[0]}")
    _bgp_up(week, c, ip, up + timedelta(seconds=6.5))
    week.scenarios.append(AwsScenario(
        c.name, "dpd_timeout", down,
        "dc1 tunnel 1 declares its customer gateway dead (IKEv2 DPD timed out), keeps failing to re-negotiate for 7 "
        "minutes while tunnel 2 stays up: no outage, the connection runs without redundancy; BGP falls with it"))


def _dc1_bgp(week: _Week) -> None:
    c, ip = DC1, DC1.outside_ips[1]
    assert c.bgp_neighbors is not None
    neighbor = c.bgp_neighbors[1]
    down = week.day(1, 16, 5, 44.0)
    _bgp(week, c, ip, down, "DOWN", "AWS-side peer received notification 6/2 (Cease/Administrative Shutdown) "
         f"from neighbor {neighbor}")
    _bgp(week, c, ip, down + timedelta(milliseconds=12), "DOWN",
         f"AWS-side peer BGP session state has changed from Established to Idle with neighbor {neighbor}")
    _bgp_up(week, c, ip, down + timedelta(minutes=3, seconds=20))
    week.outages.append((c, ip, down, down + timedelta(minutes=3, seconds=20.54)))
    week.scenarios.append(AwsScenario(
        c.name, "bgp_session_down", down,
        "the dc1 device shuts down BGP on tunnel 2 (Cease 6/2, Administrative Shutdown) for 3 min 20 s while IPsec "
        "stays up"))


def _dc1_route_denied(week: _Week) -> None:
    c, ip = DC1, DC1.outside_ips[0]
    at = week.day(4, 15, 42, 7.3)
    _route(week, c, ip, at, "10.20.0.0/16", "65010 64512", "DENIED due to: as-path contains our own AS")
    _route(week, c, ip, at + timedelta(minutes=26, seconds=12), "10.20.0.0/16", "65010", "")
    week.scenarios.append(AwsScenario(
        c.name, "bgp_route_rejected", at,
        "the dc1 device re-advertises 10.20.0.0/16 with the AWS side's ASN 64512 in its AS path over tunnel 1: AWS "
        "denies the route (as-path contains our own AS) while the tunnel and BGP stay up, until the device's filter "
        "is fixed 26 minutes later"))


def _dc1_collision(week: _Week) -> None:
    c, ip = DC1, DC1.outside_ips[0]
    at = week.day(3, 11, 17, 3.2)
    week.busy.append((c, at - timedelta(minutes=1), at + timedelta(minutes=1)))
    _create_child(week, c, ip, at - timedelta(milliseconds=400), 212)
    _tunnel(week, c, ip, at, "AWS tunnel (CHILD_SA) redundant SA is being deleted due to detected collision", EST, EST)
    week.scenarios.append(AwsScenario(
        c.name, "no_drop_found", at,
        "dc1 tunnel 1 resolves a CHILD_SA rekey collision (redundant SA deleted): expected, no drop",
        also="rekey_collision"))


def _dc2_psk(week: _Week) -> None:
    rng, c, ip = _rng("dc2/psk"), DC2, DC2.outside_ips[0]
    down = week.day(4, 10, 12, 30.0)
    up = down + timedelta(minutes=26, seconds=40)
    week.busy.append((c, down, up))
    week.outages.append((c, ip, down, up))
    _tunnel(week, c, ip, down, "AWS tunnel received DELETE for IKE_SA from CGW", DOWN, DOWN)
    for at in _every(down + timedelta(seconds=8), up - timedelta(seconds=10), 20, rng):
        _tunnel(week, c, ip, at, "AWS tunnel payload decryption was unsuccessful due to invalid Pre-shared Key",
                NEG, DOWN)
    _back(week, c, ip, up)
    week.scenarios.append(AwsScenario(
        c.name, "psk_mismatch", down,
        "someone changes tunnel 1's pre-shared key on the dc2 device (IKEv1, legacy labels): the device deletes the "
        "IKE SA, then every re-negotiation fails on the key for 27 minutes; tunnel 2 stays up"))


def _dc2_remote(week: _Week) -> None:
    c, ip = DC2, DC2.outside_ips[1]
    down = week.day(2, 19, 48, 9.5)
    up = down + timedelta(seconds=9)
    week.busy.append((c, down, up))
    week.outages.append((c, ip, down, up))
    _tunnel(week, c, ip, down, "AWS tunnel received DELETE for Phase 2 SA with SPI: 0xc1a2b3d4", EST, DOWN)
    _back(week, c, ip, up)
    week.scenarios.append(AwsScenario(
        c.name, "remote_initiated", down,
        "the dc2 device deletes tunnel 2's phase 2 SA; the tunnel is back 9 s later"))


def _dc3_proposal(week: _Week) -> None:
    rng, c = _rng("dc3/proposal"), DC3
    down = week.day(3, 15, 30, 2.0)
    up = down + timedelta(minutes=14, seconds=5)
    week.busy.append((c, down, up))
    for i, ip in enumerate(c.outside_ips):
        start = down + timedelta(seconds=3.1 * i)
        _tunnel(week, c, ip, start - timedelta(milliseconds=300), "AWS tunnel is sending request (id=57) for "
                "CREATE_CHILD_SA", EST, REKEY)
        _tunnel(week, c, ip, start, 'No Proposal Match Found. Notifying with "No proposal chosen"', EST, DOWN)
        week.outages.append((c, ip, start, up + timedelta(seconds=2.2 * i)))
        for at in _every(start + timedelta(seconds=60), up - timedelta(seconds=30), 60, rng):
            _tunnel(week, c, ip, at, "AWS tunnel Phase 2 was unable to establish while keeping Phase 1", EST, DOWN)
        _back(week, c, ip, up + timedelta(seconds=2.2 * i))
    week.scenarios.append(AwsScenario(
        c.name, "ike_proposal_mismatch", down,
        "after a change on the dc3 device, phase 2 rekeys fail with NO_PROPOSAL_CHOSEN on both tunnels: a 14-minute "
        "outage of the connection while phase 1 stays up"))


def _dc3_selectors(week: _Week) -> None:
    rng, c, ip = _rng("dc3/ts"), DC3, DC3.outside_ips[1]
    down = week.day(5, 8, 55, 40.0)
    up = down + timedelta(minutes=6, seconds=30)
    week.busy.append((c, down, up))
    week.outages.append((c, ip, down, up))
    for at in [down, *_every(down + timedelta(seconds=30), up - timedelta(seconds=15), 30, rng)]:
        _tunnel(week, c, ip, at, "AWS: Traffic Selector: TS_UNACCEPTABLE: received from responder", EST, DOWN)
    _back(week, c, ip, up)
    week.scenarios.append(AwsScenario(
        c.name, "traffic_selector_mismatch", down,
        "the dc3 device proposes narrower traffic selectors on tunnel 2 for 6 minutes (TS_UNACCEPTABLE)"))


def _dc4_unreachable(week: _Week) -> None:
    rng, c = _rng("dc4/unreachable"), DC4
    down = week.day(1, 2, 14, 10.0)
    up = down + timedelta(minutes=44)
    week.busy.append((c, down, up))
    for i, ip in enumerate(c.outside_ips):
        first = down + timedelta(seconds=7.5 * i)
        week.outages.append((c, ip, first, up + timedelta(seconds=4 * i + 1)))
        for at in _every(first, up, 30, rng, jitter=0.05):
            _tunnel(week, c, ip, at, f"AWS tunnel Timeout: deleting un-established Phase 1 IKE_SA with cgw: {c.cgw}",
                    DOWN, DOWN)
        _back(week, c, ip, up + timedelta(seconds=4 * i + 1))
    week.scenarios.append(AwsScenario(
        c.name, "peer_unreachable", down,
        "a firewall change in front of the dc4 device blocks UDP 500/4500: both tunnels fail to negotiate for 44 "
        "minutes (half-open IKE SAs deleted every ~30 s), a full outage"))


def _dc4_flapping(week: _Week) -> None:
    rng, c, ip = _rng("dc4/flap"), DC4, DC4.outside_ips[1]
    start = week.now.replace(microsecond=0) - timedelta(hours=3)
    downs = [start + timedelta(minutes=m, seconds=rng.uniform(0, 20)) for m in (0.0, 6.5, 9.2, 21.7, 26.0, 38.4)]
    for down in downs:
        up = down + timedelta(seconds=rng.uniform(25, 70))
        week.busy.append((c, down, up))
        week.outages.append((c, ip, down, up))
        _tunnel(week, c, ip, down, "AWS tunnel DPD timed out after 3 retransmits", DOWN, DOWN)
        _back(week, c, ip, up)
    week.scenarios.append(AwsScenario(
        c.name, "flapping", downs[0],
        f"dc4 tunnel 2 drops {len(downs)} times in 40 minutes (DPD timed out, 25-70 s outages, irregular gaps) "
        "starting 3 hours before now; tunnel 1 stays up"))


def _link(week: _Week) -> None:
    """The AWS end of the Azure↔AWS link: the Azure gateway (the customer gateway here) fails over, AWS declares it
    dead on both tunnels a few seconds later and recovers when it is back."""
    c = LINK
    azure_down, azure_up = shared.link_outage(week.now)
    for i, ip in enumerate(c.outside_ips):
        down = azure_down + timedelta(seconds=4.0 + 1.3 * i)
        up = azure_up + timedelta(seconds=1.6 + 0.9 * i)
        week.busy.append((c, down, up))
        week.outages.append((c, ip, down, up))
        _tunnel(week, c, ip, down, "AWS tunnel DPD timed out after 3 retransmits", DOWN, DOWN)
        _back(week, c, ip, up)
    # No AwsScenario: diagnostics.azure.demo.scenarios() carries this story (gateway_failover on hub-aws).


def _background(week: _Week) -> None:
    """Each tunnel starts established a week ago and rekeys phase 2 about hourly (not during a scenario)."""
    start = week.now - WEEK + timedelta(minutes=1)
    for c in CONNECTIONS:
        rng = _rng(f"background/{c.name}")
        for ip in c.outside_ips:
            _back(week, c, ip, start + timedelta(seconds=rng.uniform(0, 60)))
            if c.bgp_neighbors:
                _bgp_up(week, c, ip, start + timedelta(seconds=rng.uniform(60, 90)))
            for n, at in enumerate(_every(start + timedelta(minutes=rng.uniform(5, 60)), week.now, 3600, rng, 0.02)):
                quiet = all(not (other is c and lo - timedelta(minutes=20) <= at <= hi + timedelta(minutes=20))
                            for other, lo, hi in week.busy)
                if quiet and c.ikev2:
                    _create_child(week, c, ip, at, 100 + n)
                elif quiet:  # IKEv1 quick-mode rekey: no documented message (a reconstruction)
                    _tunnel(week, c, ip, at, "", EST, EST)


_SCENARIOS: tuple[Callable[[_Week], None], ...] = (
    _dc1_dpd, _dc1_bgp, _dc1_route_denied, _dc1_collision, _dc2_psk, _dc2_remote, _dc3_proposal, _dc3_selectors,
    _dc4_unreachable, _dc4_flapping, _link,
)


def _build(now: datetime) -> _Week:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    week = _Week(now=now, day0=now.replace(hour=0, minute=0, second=0, microsecond=0))
    for scenario in _SCENARIOS:
        scenario(week)
    _background(week)
    return week


def scenarios(now: datetime) -> list[AwsScenario]:
    return sorted(_build(now).scenarios, key=lambda s: s.at)


@functools.lru_cache(maxsize=4)
def outages(now: datetime) -> tuple[tuple[str, str, datetime, datetime], ...]:
    """Every tunnel outage of the week ending at `now`, as its logs tell it: (tunnel name, outside IP, down, up); on
    a BGP VPN a BGP session down counts (TunnelState is 0 then, docs/sources.md#aws-vpn-metrics)."""
    return tuple(sorted((c.name, ip, down, up) for c, ip, down, up in _build(now).outages))


def metric_facts() -> dict[str, tuple[str, tuple[str, str]]]:
    """Each demo VPN connection's tunnel name, id and outside IPs (for the demo's metrics)."""
    return {c.name: (c.vpn_id, c.outside_ips) for c in CONNECTIONS}


def generate_records(now: datetime) -> list[LogRecord]:
    """A week of tunnel log events ending at `now` minus the ingestion lag, oldest first."""
    week = _build(now)
    lo, hi = (week.now - WEEK).timestamp() * 1000, (week.now - INGESTION_LAG).timestamp() * 1000
    return sorted((r for r in week.records if lo <= r.timestamp <= hi), key=lambda r: (r.timestamp, r.stream))


def demo_source(now: datetime) -> MemoryLogSource:
    return MemoryLogSource(generate_records(now), label="demo AWS tunnel logs", origin="demo", log_group=LOG_GROUP,
                           table=LOG_GROUP)
