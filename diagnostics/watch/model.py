"""What watching produces: the state changes read since a watermark, and the incidents made of them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from diagnostics.model import Drop, QueryRecord, iso_z
from diagnostics.timefmt import parse_iso
from diagnostics.tunnels import Tunnel

#: A drop still down this soon after it began is not reported yet: a failover that reconnects within it is one
#: incident with its duration, not "down" followed by "back".
SETTLE = timedelta(seconds=90)
#: Drops of one tunnel closer than this (one's reconnect to the next's disconnect) are one flapping incident.
FLAP_WINDOW = timedelta(minutes=30)
#: Tunnels of one gateway (AWS: one VPN connection) whose drops begin this close together dropped together.
TOGETHER = timedelta(minutes=2)
#: A watermark older than this is moved up to it: after a long stop the bot reports the last day, not a backlog.
CATCH_UP = timedelta(hours=24)
#: With no watermark stored and no --since: the first poll looks this far back.
FIRST_LOOK_BACK = timedelta(minutes=15)
#: A claimed incident whose claimant did not record it as posted within this is taken over (the claimant died).
LEASE = timedelta(minutes=5)
#: Failed polls in a row of one log source (by any poller) before the watching channels are told (issue 16: 5).
FAILING_POLLS = 5


@dataclass(frozen=True)
class StateChange:
    """One tunnel state-change row (`down` or `up`) of a watched tunnel, and when it became queryable."""

    tunnel: str
    down: bool
    at: datetime
    ingested: datetime
    instance: str = ""  # Azure gateway instance, AWS tunnel outside IP
    source: str = ""  # the watermark key of the source that read it


@dataclass
class Incident:
    """One thing to tell people: a drop, a flap series of one tunnel, or tunnels of a gateway dropping together."""

    tunnels: list[str]
    down_at: datetime
    up_at: datetime | None  # None while any of its tunnels is still down
    cause: str
    confidence: str
    drops: int
    flapping: bool = False
    keys: list[str] = field(default_factory=list)  # the drops it is made of (`drop_key`), claimed together
    title: str = ""  # the finding's title, for people
    downs: dict[str, datetime] = field(default_factory=dict)  # each tunnel's first drop
    back: dict[str, datetime] = field(default_factory=dict)  # the tunnels back up, and when (all: `up_at`)
    newly_back: list[str] = field(default_factory=list)  # came back since it was told (not stored: this poll's)

    @property
    def id(self) -> str:
        """The incident's name in the state store: its first drop's key (a flap series keeps it as it grows)."""
        return self.keys[0]

    def down_since(self, tunnel: str) -> datetime:
        """Since when `tunnel` is down as last told: its own drop; a flap series' last drop (a reconnect before it
        is one of the series, not the tunnel coming back)."""
        if self.flapping:
            return max([self.down_at, *(parse_iso(k.split("|")[2]) or self.down_at for k in self.keys)])
        return self.downs.get(tunnel, self.down_at)

    def came_back(self, tunnel: str, at: datetime) -> None:
        """One of its tunnels told "still down" is back at `at`; the incident is over when the last one is."""
        self.back[tunnel] = at
        if tunnel not in self.newly_back:
            self.newly_back.append(tunnel)
        self.settle_up()

    def settle_up(self) -> None:
        """`up_at` from the tunnels' own reconnects: the last one, once every tunnel is back."""
        if self.back:
            done = all(t in self.back for t in self.tunnels)
            self.up_at = max(self.back[t] for t in self.tunnels) if done else None

    def only(self, names: list[str]) -> Incident:
        """The incident as told to someone who may see only `names` of its tunnels (their own reconnects)."""
        shown = dataclasses.replace(self, tunnels=names, back={t: a for t, a in self.back.items() if t in names},
                                    newly_back=[t for t in self.newly_back if t in names])
        if all(t in self.downs for t in names):  # its own first drop, not another tunnel's
            shown.down_at = min(self.downs[t] for t in names)
        shown.settle_up()
        return shown

    def to_json(self) -> dict[str, Any]:
        return {"tunnels": list(self.tunnels), "down_at": iso_z(self.down_at),
                "up_at": iso_z(self.up_at) if self.up_at else None, "cause": self.cause,
                "confidence": self.confidence, "flapping": self.flapping, "drops": self.drops}

    def to_payload(self) -> dict[str, Any]:
        """What the state store keeps of it: the JSON, its title, and each tunnel's drop and reconnect."""
        return {**self.to_json(), "title": self.title, "downs": {t: iso_z(a) for t, a in self.downs.items()},
                "back": {t: iso_z(a) for t, a in self.back.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any], keys: list[str]) -> Incident:
        incident = cls(tunnels=list(data["tunnels"]), down_at=parse_iso(data["down_at"]),
                       up_at=parse_iso(data["up_at"]), cause=data["cause"], confidence=data["confidence"],
                       drops=int(data["drops"]), flapping=bool(data["flapping"]), keys=keys,
                       title=data.get("title", ""),
                       downs={t: parse_iso(a) for t, a in (data.get("downs") or {}).items()},
                       back={t: parse_iso(a) for t, a in (data.get("back") or {}).items()})
        if incident.up_at is not None and not incident.back:  # stored before tunnels were followed one by one
            incident.back = dict.fromkeys(incident.tunnels, incident.up_at)
        return incident


def drop_key(tunnel: Tunnel, down_ts: float, instance: str) -> str:
    """A drop's identity: (gateway, remote IP, down time to the second, instance), as issue 16 names it. AWS: the
    VPN connection and the tunnel's outside IP (which is also its `instance`)."""
    if tunnel.azure_gateway:
        where = f"{tunnel.azure_gateway.upper()}|{tunnel.azure_remote_ip}"
    else:
        where = f"{tunnel.aws_vpn_connection.lower()}|{instance}"
    return f"{where}|{iso_z(float(int(down_ts)))}|{instance}"


def key_of(tunnel: Tunnel, drop: Drop) -> str:
    return drop_key(tunnel, drop.down_ts, drop.down_instance)


class WatchState(Protocol):
    """Where watching keeps its watermarks and claims (bot/state/watch.py: the state store)."""

    def watermark(self, source: str) -> datetime | None: ...

    def set_watermark(self, source: str, at: datetime, now: datetime) -> None: ...

    def claimed_keys(self, keys: list[str]) -> set[str]: ...

    def claim_incident(self, incident: Incident, owner: str, now: datetime, lease: timedelta) -> bool: ...

    def expired_incidents(self, owner: str, now: datetime, lease: timedelta) -> list[Incident]: ...

    def recent_incidents(self, since: datetime) -> list[Incident]: ...

    def claim_recovery(self, incident: str, tunnel: str, at: datetime, owner: str, now: datetime,
                       lease: timedelta) -> bool: ...

    def expired_recoveries(self, owner: str, now: datetime, lease: timedelta) -> list[Incident]: ...

    def recovery_posted(self, incident: Incident, now: datetime) -> None: ...

    def source_failed(self, source: str, now: datetime, limit: int) -> bool: ...

    def source_answered(self, source: str) -> bool: ...

    def incident_posted(self, incident: Incident, now: datetime, message_ts: str = "") -> None: ...


@dataclass
class PollResult:
    incidents: list[Incident] = field(default_factory=list)
    recovered: list[Incident] = field(default_factory=list)  # told "still down", a tunnel back (`newly_back`)
    notes: list[str] = field(default_factory=list)  # what was skipped, which source failed
    failures: list[str] = field(default_factory=list)
    read: dict[str, str] = field(default_factory=dict)  # each log source polled (label): "" read, else its error
    failing: dict[str, str] = field(default_factory=dict)  # sources failing FAILING_POLLS in a row, to tell (once)
    answering: list[str] = field(default_factory=list)  # sources told failing that answer again, to tell (once)
    queries: list[QueryRecord] = field(default_factory=list)
    changes: int = 0  # state-change rows read
    waiting: int = 0  # drops not settled yet: reported by a later poll
