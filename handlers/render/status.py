"""A tunnel's state now and the fleet status, as lines people read (terminal, Slack, the JSON's `state`).

The state comes first and says what someone on call decides on: up or DOWN since when (the asker's zone, UTC beside
it), on which gateway instance or which of the AWS connection's tunnels, the cause of an outage so far, and whether
it flaps now. In a fleet, troubled tunnels come first, one line each with the drops of the period and their causes;
the healthy ones share one line, so 900 quiet tunnels do not bury the one that is down.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from diagnostics.fleet.model import DOWN, NO_LOGS, RECENT, UNKNOWN, UP, FleetStatus, SeenDrop, TunnelStatus
from diagnostics.model import iso_z
from diagnostics.timefmt import duration_text, local_and_utc, local_range, short_instance
from handlers.tunnels import tunnel_where

#: Drops named on a tunnel's line before "… and N more" (the JSON has them all).
DROPS_NAMED = 5
#: Healthy tunnels named on their shared line in Slack before "… and N more" (the text answer names them all).
HEALTHY_NAMED = 40


def when(ts: float, tz: ZoneInfo, now: float) -> str:
    """`06:30:09 CET (05:30:09 UTC)` today, with the date on another day."""
    same_day = local_and_utc(ts, tz, date=True)[:10] == local_and_utc(now, tz, date=True)[:10]
    return local_and_utc(ts, tz, date=not same_day)


def state_line(s: TunnelStatus, tz: ZoneInfo, where: bool = False, say_flapping: bool = False) -> str:
    """`paris is up since 14:40:35 UTC on IN_0`, `porto is DOWN since … (5 h 00 min) on IN_0; cause so far: …`,
    with whether it flaps now (always said with `say_flapping`)."""
    now = s.checked_at
    name = f"{s.name} ({tunnel_where(s.tunnel)})" if where else s.name
    if s.state == UNKNOWN:
        return f"{name}: UNKNOWN: {s.why or 'its log source failed'} (not reported up)"
    if s.state == NO_LOGS and not s.paths:
        return f"{name}: NO LOGS: {s.why}; logging is broken or the tunnel is not configured where the bot looks"
    body = _aws_state(s, tz, now) if s.paths else _azure_state(s, tz, now)
    if s.cause is not None:
        body += f"; cause so far: {s.cause.cause.value} ({s.cause.title})"
    return f"{name} {body}{flapping_part(s, say_flapping)}"


def _since(s: TunnelStatus, since: float | None, tz: ZoneInfo, now: float) -> str:
    if since is not None:
        return f"since {when(since, tz, now)}"
    if s.known_from is not None:
        return f"since before {when(s.known_from, tz, now)}"
    return ""


def _azure_state(s: TunnelStatus, tz: ZoneInfo, now: float) -> str:
    on = f" on {short_instance(s.instance)}" if s.instance else ""
    if s.state == DOWN:
        lasted = f" ({duration_text(now - s.since)} so far)" if s.since is not None else ""
        return f"is DOWN {_since(s, s.since, tz, now)}{lasted}{on}"
    return f"is up {_since(s, s.since, tz, now)}{on}"


def _aws_state(s: TunnelStatus, tz: ZoneInfo, now: float) -> str:
    """Each of the connection's tunnels (outside IPs): which carry traffic, which do not and since when."""
    def path(p) -> str:
        state = {UP: "up", DOWN: "DOWN", NO_LOGS: "no logs"}[p.state]
        since = _since(s, p.since, tz, now) if p.state != NO_LOGS else "in the last 2 h"
        return f"tunnel {p.path} {state} {since}".rstrip()

    up = [p for p in s.paths if p.state == UP]
    others = [p for p in s.paths if p.state != UP]
    if s.state == DOWN:
        return "is DOWN: " + ", ".join(path(p) for p in s.paths)
    if s.state == NO_LOGS:
        return "has NO LOGS: " + ", ".join(path(p) for p in s.paths)
    if others:
        return (f"is up on tunnel {', '.join(p.path for p in up)} only ({', '.join(path(p) for p in up)}): "
                f"{', '.join(path(p) for p in others)}, no redundancy")
    return f"is up on {'both tunnels' if len(up) == 2 else 'its tunnels'}: " + ", ".join(path(p) for p in up)


def flapping_part(s: TunnelStatus, always: bool = False) -> str:
    hour = f"{RECENT.total_seconds() / 3600:g} hour".replace("1 hour", "hour")
    if s.flapping:
        return f"; FLAPPING now: {s.recent} drops in the last {hour}"
    if s.recent:
        return f"; {s.recent} drop{'s' if s.recent > 1 else ''} in the last {hour}, not flapping"
    return f"; not flapping (no drop in the last {hour})" if always and s.state in (UP, DOWN) else ""


def drop_part(d: SeenDrop, tz: ZoneInfo, now: float) -> str:
    """`14:02:06 UTC maintenance_failover (back after 13 s)`, with the AWS tunnel that dropped."""
    on = f" on tunnel {d.drop.down.instance}" if d.drop.down.provider == "aws" and d.drop.down.instance else ""
    back = f"back after {duration_text(d.drop.duration)}" if d.drop.up else "still down"
    return f"{when(d.drop.down_ts, tz, now)}{on} {d.cause or 'cause not read'} ({back})"


def drops_part(s: TunnelStatus, period: str, tz: ZoneInfo, now: float, limit: int = DROPS_NAMED) -> str:
    if not s.drops:
        return ""
    named = ", ".join(drop_part(d, tz, now) for d in s.drops[-limit:])
    more = f"{len(s.drops) - limit} earlier and " if len(s.drops) > limit else ""
    return f"{len(s.drops)} drop{'s' if len(s.drops) > 1 else ''} in {period}: {more}{named}"


def tunnel_line(s: TunnelStatus, fleet: FleetStatus, tz: ZoneInfo) -> str:
    """One troubled tunnel of the fleet: its state, then the drops of the period."""
    now = fleet.now.timestamp()
    drops = drops_part(s, local_range(fleet.start, fleet.end, tz), tz, now)
    return state_line(s, tz) + (f" · {drops}" if drops else "")


def counts_line(fleet: FleetStatus, tz: ZoneInfo) -> str:
    """`16 tunnels: 1 down, 2 flapping, 13 up with no drop; 3 dropped in 10:30–11:30 CET (…)` (zeros left out)."""
    t = fleet.tunnels
    counted = [(sum(s.state == DOWN for s in t), "down"), (sum(s.flapping for s in t), "flapping"),
               (sum(s.degraded for s in t), "without redundancy (one AWS tunnel down)"),
               (sum(s.state == NO_LOGS for s in t), "without logs"), (sum(s.state == UNKNOWN for s in t), "unknown")]
    parts = [f"{n} {what}" for n, what in counted if n] + [f"{sum(not s.troubled for s in t)} up with no drop"]
    dropped = [s.name for s in fleet.ordered() if s.drops]
    then = "then" if fleet.anchor is not None else f"in {local_range(fleet.start, fleet.end, tz)}"
    who = f": {', '.join(dropped[:12])}{'…' if len(dropped) > 12 else ''}" if dropped and fleet.anchor else ""
    return f"{len(t)} tunnel{'s' if len(t) != 1 else ''}: {', '.join(parts)}; {len(dropped)} dropped {then}{who}."


def healthy_line(fleet: FleetStatus, tz: ZoneInfo, limit: int | None = None) -> str:
    names = [s.name for s in fleet.ordered() if not s.troubled]
    if not names:
        return ""
    shown = names if limit is None else names[:limit]
    more = f" … and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
    return f"Up, no drop in {local_range(fleet.start, fleet.end, tz)}: {', '.join(shown)}{more}"


def fleet_lines(fleet: FleetStatus, tz: ZoneInfo) -> list[str]:
    """The fleet as text: the counts, each troubled tunnel, the healthy ones on one line."""
    troubled = [tunnel_line(s, fleet, tz) for s in fleet.ordered() if s.troubled]
    healthy = healthy_line(fleet, tz)
    return [counts_line(fleet, tz), "", *troubled, *([""] if troubled and healthy else []),
            *([healthy] if healthy else [])]


def state_json(s: TunnelStatus) -> dict[str, Any]:
    """The JSON answer's `state` of one tunnel (docs/asking.md#status)."""
    return {
        "state": s.state,
        "since": iso_z(s.since) if s.since is not None else None,
        "known_from": iso_z(s.known_from) if s.known_from is not None else None,
        "instance": s.instance or None,
        "cause": s.cause.cause.value if s.cause is not None else None,
        "flapping": s.flapping,
        "drops_last_hour": s.recent,
        "no_redundancy": s.degraded,
        "aws_tunnels": [{"outside_ip": p.path, "state": p.state,
                         "since": iso_z(p.since) if p.since is not None else None} for p in s.paths],
        "latest_drop": iso_z(s.latest_drop) if s.latest_drop is not None else None,
        "last_row": iso_z(s.last_row) if s.last_row is not None else None,
        "why": s.why or None,
    }
