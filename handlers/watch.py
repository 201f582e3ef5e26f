"""`watch`: the new incidents of a poll, as people read them (one line each, what a Slack post says first) and as
JSON (`{"schema": 1, "incidents": [...]}`, docs/watch.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from diagnostics.model import iso_z
from diagnostics.sources import Sources
from diagnostics.timefmt import duration_text, local_and_utc
from diagnostics.tunnels import TunnelRegistry
from diagnostics.watch.model import Incident, PollResult
from handlers.answer import Answer
from handlers.ask import answer_question
from handlers.parse.intent import Intent
from handlers.parse.question import Question, TimeWindow

SCHEMA = 1
#: The details of an incident read this much around it (the maintenance or change before it, as an answer does).
AROUND = timedelta(minutes=15)


def incident_line(incident: Incident, tz: ZoneInfo) -> str:
    """`⚠️ paris dropped at 15:02:06 CET (14:02:06 UTC), back after 12 s — maintenance_failover (high)`."""
    who = _names(incident.tunnels)
    verb = "dropped together" if len(incident.tunnels) > 1 else "dropped"
    at = local_and_utc(incident.down_at, tz)
    if incident.flapping:
        since = local_and_utc(incident.down_at, tz, seconds=False)
        state = "back up" if incident.up_at else "down now"
        head = f"⚠️ {who} flapping: {incident.drops} drops since {since}, {state}"
    elif incident.up_at is None and any(t in incident.back for t in incident.tunnels):  # some of them back
        back = [t for t in incident.tunnels if t in incident.back]
        down = [t for t in incident.tunnels if t not in incident.back]
        head = f"⚠️ {who} {verb} at {at}: {_names(back)} back, {_names(down)} still down"
    elif incident.up_at is None:
        head = f"⚠️ {who} {verb} at {at}, still down"
    else:
        head = (f"⚠️ {who} {verb} at {at}, back after "
                f"{duration_text((incident.up_at - incident.down_at).total_seconds())}")
    return f"{head} — {incident.cause.replace('_', ' ')} ({incident.confidence})"


def recovery_lines(incident: Incident, tz: ZoneInfo) -> list[str]:
    """A line per tunnel back since the incident was told:
    `✅ porto back at 14:40:09 CET (13:40:09 UTC), after 2 h 10 min down — peer unreachable`."""
    lines = []
    for name in incident.newly_back:
        up = incident.back[name]
        down = duration_text((up - incident.down_since(name)).total_seconds())
        lines.append(f"✅ {name} back at {local_and_utc(up, tz)}, after {down} down — "
                     f"{incident.cause.replace('_', ' ')}")
    return lines


def incident_question(incident: Incident, registry: TunnelRegistry, tz: ZoneInfo) -> Question:
    """"Why did <tunnels> drop at <its first drop>": what the details of an incident's message answer."""
    tunnels = tuple(registry.resolve(name) for name in incident.tunnels)
    end = incident.up_at or incident.down_at
    return Question(text=f"why did {_names(incident.tunnels)} drop at {iso_z(incident.down_at)}",
                    intent=Intent.WHY_DROP, tunnel=tunnels[0] if len(tunnels) == 1 else None,
                    window=TimeWindow(incident.down_at - AROUND, end + AROUND), anchor=incident.down_at, tz=tz,
                    explicit_window=True, tunnels=tunnels)


def incident_answer(incident: Incident, registry: TunnelRegistry, sources: Sources, now: datetime,
                    tz: ZoneInfo) -> Answer:
    """The usual investigation of the incident's first drop (one answer per tunnel when several)."""
    return answer_question(incident_question(incident, registry, tz), registry, sources, now)


def watch_text(result: PollResult, tz: ZoneInfo) -> str:
    return "".join([*(f"{incident_line(i, tz)}\n" for i in result.incidents),
                    *(f"{line}\n" for i in result.recovered for line in recovery_lines(i, tz))])


def watch_json(result: PollResult) -> dict[str, Any]:
    """The contract (`schema`, `incidents`) and, added, `recovered`: incidents told still down of which tunnels came
    back (`back`: those, with their reconnect; `up_at` once every tunnel is back)."""
    return {"schema": SCHEMA, "incidents": [i.to_json() for i in result.incidents],
            "recovered": [{**i.to_json(), "back": {t: iso_z(i.back[t]) for t in i.newly_back}}
                          for i in result.recovered]}


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
