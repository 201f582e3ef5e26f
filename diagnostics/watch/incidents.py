"""From drops to incidents (pure): flap series of one tunnel, tunnels of one gateway dropping together, settling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from diagnostics.model import Confidence, Drop, Finding
from diagnostics.tunnels import Tunnel
from diagnostics.watch.model import FLAP_WINDOW, SETTLE, TOGETHER, Incident, key_of


def flap_series(drops: Sequence[Drop], window: timedelta = FLAP_WINDOW) -> list[list[Drop]]:
    """Drops split where the tunnel stayed up longer than `window` (from a reconnect to the next disconnect)."""
    series: list[list[Drop]] = []
    for drop in sorted(drops, key=lambda d: d.down_ts):
        last = series[-1][-1] if series else None
        if last is not None and drop.down_ts - (last.up_ts or last.down_ts) <= window.total_seconds():
            series[-1].append(drop)
        else:
            series.append([drop])
    return series


def settled(series: Sequence[Drop], now: datetime, settle: timedelta = SETTLE) -> bool:
    """Whether a series can be told now: its last drop came back, or has been down for the settle time."""
    last = series[-1]
    return last.up_ts is not None or now.timestamp() - last.down_ts >= settle.total_seconds()


def incident_of(tunnel: Tunnel, series: Sequence[Drop], finding: Finding | None) -> Incident:
    """One tunnel's series as an incident, with the cause an answer about its first drop gives."""
    ups = [d.up_ts for d in series]
    last_up = ups[-1]
    return Incident(
        tunnels=[tunnel.name], down_at=_at(series[0].down_ts), up_at=_at(last_up) if last_up is not None else None,
        cause=finding.cause.value if finding else "unknown",
        confidence=finding.confidence.value if finding else Confidence.LOW.value,
        drops=len(series), flapping=len(series) > 1, keys=[key_of(tunnel, d) for d in series],
        title=finding.title if finding else "", downs={tunnel.name: _at(series[0].down_ts)},
        back={tunnel.name: _at(last_up)} if last_up is not None else {})


def together(incidents: Sequence[Incident], gateway_of: Callable[[str], str],
             window: timedelta = TOGETHER) -> list[Incident]:
    """Incidents of different tunnels of one gateway that began within `window` of each other, merged into one
    listing them (a maintenance moving every tunnel of the gateway); flap series stay on their own."""
    merged: list[Incident] = []
    for incident in sorted(incidents, key=lambda i: (i.down_at, i.tunnels)):
        gateway = gateway_of(incident.tunnels[0])
        host = next((m for m in merged if not m.flapping and not incident.flapping and gateway
                     and gateway_of(m.tunnels[0]) == gateway and incident.tunnels[0] not in m.tunnels
                     and incident.down_at - m.down_at <= window), None)
        if host is None:
            merged.append(incident)
        else:
            absorb(host, incident)
    return merged


def joins(told: Incident, incident: Incident, gateway_of: Callable[[str], str],
          window: timedelta = TOGETHER) -> bool:
    """Whether a new incident belongs to one told already: another tunnel of the same gateway that dropped within
    `window` of it, whose rows arrived a poll later (Log Analytics ingests rows minutes late, not in order)."""
    gateway = gateway_of(incident.tunnels[0])
    return (not told.flapping and not incident.flapping and bool(gateway)
            and all(gateway_of(name) == gateway for name in told.tunnels)
            and not set(told.tunnels) & set(incident.tunnels)
            and abs((incident.down_at - told.down_at).total_seconds()) <= window.total_seconds())


def absorb(host: Incident, incident: Incident) -> None:
    """`incident`'s tunnels and drops become `host`'s (which keeps its id); the more confident cause wins."""
    host.tunnels += [n for n in incident.tunnels if n not in host.tunnels]
    host.keys += [k for k in incident.keys if k not in host.keys]
    host.down_at = min(host.down_at, incident.down_at)
    host.downs = {**incident.downs, **host.downs}
    host.back = {**host.back, **incident.back}
    host.up_at = None if host.up_at is None or incident.up_at is None else max(host.up_at, incident.up_at)
    host.settle_up()
    host.drops = max(host.drops, incident.drops)
    if _weight(incident.confidence) > _weight(host.confidence):
        host.cause, host.confidence, host.title = incident.cause, incident.confidence, incident.title


def _weight(confidence: str) -> int:
    return Confidence(confidence).weight


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
