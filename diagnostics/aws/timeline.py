"""One AWS VPN connection's timeline: state changes per tunnel, drops, and whether the other tunnel stayed up.

An AWS tunnel logs its phase states on every IKE event, not only when they change (docs/sources.md#aws-log-fields),
so a drop is computed here, per tunnel (outside IP), as a transition of the phase states: the first row whose
phase 1 or phase 2 state is `down` after a row where both were usable is the disconnect, and the next row where
both are established again is the recovery. BGP sessions are followed the same way from BGPStatus rows; a BGP
drop while IPsec stayed up is a drop of its own.

The transition rows are copies of the logged rows with kind TUNNEL_DOWN / TUNNEL_UP (BGP_DOWN / BGP_UP), so the
shared `Timeline`, `RuleContext` and renderers work on AWS as on Azure.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from diagnostics.aws.parser.rows import is_bgp, phases, tunnel_state
from diagnostics.model import Drop, Event, EventKind
from diagnostics.timeline import Timeline, pair_drops
from diagnostics.tunnels import Tunnel

#: A BGP drop that starts this long before an IPsec drop of the same tunnel, or while it lasts (plus the time BGP
#: takes to come back after the tunnel), is that drop's consequence rather than a drop of its own.
BGP_BEFORE_IPSEC = 10.0
BGP_AFTER_IPSEC_UP = 120.0
#: BGPStatus DOWN rows that are steps of a session being set up (docs/sources.md#aws-bgp-status: Idle to Connect, …,
#: OPEN messages), not a session falling: seen first, they say the session was not up yet.
SETTING_UP = re.compile(r"changed from (?:Idle|Connect|Active|OpenSent) to|initiating a connection|OPEN message (?:to|"
                        r"from)|sent an OPEN|received an OPEN", re.I)


@dataclass
class AwsTimeline:
    timeline: Timeline
    by_tunnel: dict[str, list[Event]]  # outside IP -> IPsec transition rows
    bgp_by_tunnel: dict[str, list[Event]]  # outside IP -> BGP transition rows
    first_state: dict[str, str] = field(default_factory=dict)  # outside IP -> state of its first row in range
    rows: int = 0  # rows of this connection the sources returned

    @property
    def tunnels(self) -> list[str]:
        return sorted(set(self.by_tunnel) | set(self.bgp_by_tunnel))

    def state_at(self, outside_ip: str, ts: float) -> str:
        """`up`, `down`, or `` (unknown: no state change logged for it before `ts`)."""
        known = ""
        for event in self.by_tunnel.get(outside_ip, []):
            if event.ts > ts:
                break
            known = "down" if event.kind is EventKind.TUNNEL_DOWN else "up"
        return known

    def down_between(self, outside_ip: str, start: float, end: float) -> list[Drop]:
        """IPsec drops of one tunnel that overlap [start, end]."""
        return [d for d in pair_drops(self.by_tunnel.get(outside_ip, []))
                if d.down_ts <= end and (d.up_ts is None or d.up_ts >= start)]


def mine(event: Event, tunnel: Tunnel) -> bool:
    if event.provider != "aws" or event.gateway != tunnel.aws_vpn_connection.lower():
        return False
    ips = {ip.lower() for ip in tunnel.aws_outside_ips}
    return not ips or not event.instance or event.instance in ips


def build_aws_timeline(events: Iterable[Event], tunnel: Tunnel) -> AwsTimeline:
    """The connection's rows sorted, with transition copies in place of the rows that changed a state."""
    rows = sorted((e for e in events if mine(e, tunnel)), key=lambda e: e.ts)
    ipsec_state: dict[str, str] = {}
    bgp_state: dict[str, str] = {}
    first: dict[str, str] = {}
    by_tunnel: dict[str, list[Event]] = {}
    bgp_by_tunnel: dict[str, list[Event]] = {}
    kept: list[Event] = []
    for event in rows:
        key = event.instance
        if is_bgp(event):
            if event.operation.lower() == "bgpstatus" and event.status in ("UP", "DOWN"):
                now = event.status.lower()
                before = bgp_state.get(key)
                if before != now:
                    bgp_state[key] = now
                    if before is None and now == "down" and SETTING_UP.search(event.message):
                        kept.append(event)  # the first rows read show a session being set up, not one that fell
                        continue
                    event = dataclasses.replace(event, kind=EventKind.BGP_UP if now == "up" else EventKind.BGP_DOWN)
                    bgp_by_tunnel.setdefault(key, []).append(event)
            kept.append(event)
            continue
        now = tunnel_state(event)
        first.setdefault(key, now or "negotiating")
        if now == "up" and ipsec_state.get(key) == "down" and phases(event) != ("established", "established"):
            now = ""  # recovery is the return to established; a rekey in the middle of it is not yet
        if now and ipsec_state.get(key) != now:
            ipsec_state[key] = now
            event = dataclasses.replace(event, kind=EventKind.TUNNEL_UP if now == "up" else EventKind.TUNNEL_DOWN)
            by_tunnel.setdefault(key, []).append(event)
        kept.append(event)
    drops = [d for transitions in by_tunnel.values() for d in pair_drops(transitions)]
    drops += bgp_only_drops(bgp_by_tunnel, by_tunnel)
    drops.sort(key=lambda d: d.down_ts)
    tunnel_rows = sorted((e for t in by_tunnel.values() for e in t), key=lambda e: e.ts)
    timeline = Timeline(tunnel, kept, tunnel_rows, drops,
                        ike_rows=sum(1 for e in kept if e.kind in (EventKind.IKE, EventKind.TUNNEL_DOWN,
                                                                   EventKind.TUNNEL_UP)))
    return AwsTimeline(timeline, by_tunnel, bgp_by_tunnel, first, rows=len(rows))


def bgp_only_drops(bgp_by_tunnel: dict[str, list[Event]], by_tunnel: dict[str, list[Event]]) -> list[Drop]:
    """BGP session drops that no IPsec drop of the same tunnel explains (the session fell while IPsec stayed up)."""
    out = []
    for key, transitions in bgp_by_tunnel.items():
        ipsec = pair_drops(by_tunnel.get(key, []))
        for drop in pair_drops([dataclasses.replace(e, kind=EventKind.TUNNEL_DOWN if e.kind is EventKind.BGP_DOWN
                                                    else EventKind.TUNNEL_UP) for e in transitions]):
            covered = any(
                d.down_ts - BGP_BEFORE_IPSEC <= drop.down_ts
                and (d.up_ts is None or drop.down_ts <= d.up_ts + BGP_AFTER_IPSEC_UP)
                for d in ipsec
            )
            if not covered:
                out.append(Drop(_original(transitions, drop.down), _original(transitions, drop.up)))
    return out


def _original(transitions: list[Event], copy: Event | None) -> Event | None:
    """The BGP_DOWN/BGP_UP row a re-kinded copy was made from (drops of BGP keep their BGP kinds)."""
    if copy is None:
        return None
    return next(e for e in transitions if e.ts == copy.ts and e.message == copy.message)


def is_bgp_drop(drop: Drop) -> bool:
    return drop.down.kind is EventKind.BGP_DOWN
