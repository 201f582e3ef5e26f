"""A traffic answer's own lines (text and Slack) and its JSON `traffic` object: the tunnel's state from the logs,
bytes each way with the numbers, the address asked about, or the one line saying why traffic could not be read.

    paris (VPNGW01, remote 203.0.113.10): connected, but traffic flows one way only · 14:40–15:40 CET (13:40–14:40 UTC)
    Tunnel: connected (its logs: up since 2026-11-21 09:02 CET (08:02 UTC))
    Traffic, 14:40–15:40 CET (13:40–14:40 UTC), 5-min intervals (TunnelEgressBytes, TunnelIngressBytes, …):
      in  (site → Azure): 1.2 MB (3,400 packets), latest bytes 15:35 CET (14:35 UTC)
      out (Azure → site): 0 B (0 packets)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from diagnostics.fleet.model import DOWN, NO_LOGS, UNKNOWN, UP
from diagnostics.model import Cause, iso_z
from diagnostics.timefmt import local_and_utc, local_range
from diagnostics.traffic.drops import human_bytes
from diagnostics.traffic.flow import Direction, count_text
from diagnostics.traffic.model import Metric, Series
from handlers.tunnels import tunnel_where

if TYPE_CHECKING:  # types only: the check's readers load with a traffic question, not with every renderer
    from diagnostics.traffic_check import TrafficCheck

#: What the primary finding means for the first line.
VERDICTS = {
    Cause.TRAFFIC_FLOWING: "connected, traffic flowing both ways",
    Cause.ONE_WAY_TRAFFIC: "connected, but traffic flows one way only",
    Cause.TRAFFIC_SELECTOR_DROPS: "connected, packets dropped: no traffic selector matches",
    Cause.NO_ROUTES: "connected, but BGP has 0 routes",
    Cause.NO_TRAFFIC: "connected, but nothing goes through",
}
#: A window that ended longer ago than this is "then", and a state read as of now says so.
PAST = 15 * 60
STATES = {UP: "connected", DOWN: "NOT connected", NO_LOGS: "state unknown (no logs)",
          UNKNOWN: "state unknown (its log source failed)"}


def traffic_headline(check: TrafficCheck, tz: ZoneInfo) -> str:
    """`paris (VPNGW01, …): connected, traffic flowing both ways, 14:40–15:40 CET (13:40–14:40 UTC)`."""
    inv = check.investigation
    tunnel = inv.tunnel
    primary = inv.findings[0].cause if inv.findings else None
    verdict = VERDICTS.get(primary) if primary is not None and check.state == UP else None
    if verdict is None:
        verdict = STATES.get(check.state, check.state)
        if inv.drops:
            verdict += f", {len(inv.drops)} drop{'s' if len(inv.drops) > 1 else ''} in the window"
        elif check.state == UP and check.unread:
            verdict += ", traffic not read"
    return f"{tunnel.name} ({tunnel_where(tunnel)}): {verdict}, {local_range(inv.start, inv.end, tz)}"


def traffic_lines(check: TrafficCheck, tz: ZoneInfo) -> list[str]:
    """The state, the bytes each way (or why they could not be read), the address asked about."""
    lines = [state_line(check, tz)]
    if check.unread:
        lines.append(check.unread)
    else:
        flow = check.flow
        interval = f"{check.traffic.interval_s // 60}-min intervals"
        names = ", ".join(check.sources[:4]) + (", …" if len(check.sources) > 4 else "")
        lines.append(f"Traffic, {local_range(check.traffic.start, check.traffic.end, tz)}, {interval} ({names}):")
        cloud = "AWS" if check.investigation.tunnel.provider == "aws" else "Azure"
        lines.append(f"  in  (site → {cloud}): {direction_text(flow.inbound, tz)}")
        lines.append(f"  out ({cloud} → site): {direction_text(flow.outbound, tz)}")
        for path, series in sorted(check.traffic.parts.items()):  # AWS: each tunnel of the connection
            lines.append(f"    tunnel {path}: in {_part(series.get(Metric.BYTES_IN))}, out "
                         f"{_part(series.get(Metric.BYTES_OUT))}")
        if flow.ts_drops:
            lines.append(f"  dropped, no traffic selector matched: {count_text(flow.inbound.ts_drops or 0)} in, "
                         f"{count_text(flow.outbound.ts_drops or 0)} out")
        lines += [f"  not read: {failure}" for failure in check.traffic.failures]  # some metrics, not all
    if check.target_line:
        lines.append(check.target_line)
    return lines


def _part(series: Series | None) -> str:
    return human_bytes(series.total) if series is not None and series.points else "no value"


def state_line(check: TrafficCheck, tz: ZoneInfo) -> str:
    inv = check.investigation
    state = STATES.get(check.state, check.state)
    since = f" since {local_and_utc(check.since, tz, date=True)}" if check.since else ""
    past = check.since is None and inv.now.timestamp() - inv.end.timestamp() > PAST
    return f"Tunnel: {state}{since} (from its logs{', now' if past else ''})."


def direction_text(direction: Direction, tz: ZoneInfo) -> str:
    text = direction.describe()
    if direction.last_active is not None and direction.bytes:
        text += f", latest bytes {local_and_utc(direction.last_active, tz, seconds=False)}"
    return text


def traffic_json(check: TrafficCheck) -> dict[str, Any]:
    """The JSON answer's `traffic` object (docs/asking.md#traffic)."""
    flow = check.flow
    traffic = check.traffic
    return {
        "connected": {UP: True, DOWN: False}.get(check.state),
        "state": check.state,
        "since": iso_z(check.since) if check.since else None,
        "window": {"start": iso_z(traffic.start), "end": iso_z(traffic.end)},
        "interval_s": traffic.interval_s,
        "read": not check.unread,
        "unread": check.unread or None,
        "failures": [] if check.unread else list(traffic.failures),
        "in": direction_json(flow.inbound),
        "out": direction_json(flow.outbound),
        "sources": check.sources,
        "backends": sorted({q.backend for q in traffic.queries}),
        "queries": [{"backend": q.backend, "text": q.text} for q in traffic.queries],
        "target": {"address": check.target, "text": check.target_line} if check.target else None,
    }


def direction_json(direction: Direction) -> dict[str, Any]:
    def number(value: float | None) -> int | None:
        return round(value) if value is not None else None

    return {"bytes": number(direction.bytes), "packets": number(direction.packets),
            "ts_mismatch_drops": number(direction.ts_drops), "drops": number(direction.drops),
            "last_active": iso_z(direction.last_active) if direction.last_active is not None else None}
