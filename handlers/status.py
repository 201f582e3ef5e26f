"""`status`: every tunnel's state now (the fleet status), or the named tunnels': up or down since when, on which
gateway instance or AWS tunnel, the cause of an outage going on, and whether it is flapping now.

- "status", "what's down", `vpnbot status`: the state now, and the drops of the last hour (`RECENT`).
- "anything dropping today", "which tunnels dropped in the last hour": the state now, and the drops of that period.
- "what dropped at 14:02 yesterday": the drops of the window around that instant (with their causes), and the state
  now.
- "status paris", "is paris down?": first paris's state now, then its latest drop explained (an investigation of the
  last `STATUS_LOOKBACK`, else of the window around the latest drop the logs show), then whether it flaps now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from diagnostics.fleet.build import fleet_status
from diagnostics.fleet.model import RECENT, UNKNOWN, TunnelStatus
from diagnostics.investigate import investigate
from diagnostics.model import Cause, Investigation, InvestigationError
from diagnostics.sources import Sources
from diagnostics.timefmt import local_and_utc
from diagnostics.tunnels import TunnelRegistry
from handlers.answer import Answer
from handlers.parse.compose import AROUND
from handlers.parse.intent import Intent
from handlers.parse.question import Question, TimeWindow
from handlers.several import asked_tunnels, capped, one_question

#: A named tunnel's status explains its drops of this last stretch; with none, its latest drop before.
STATUS_LOOKBACK = timedelta(hours=24)

Progress = Callable[[str], None]


def status_period(question: Question, now: datetime) -> tuple[datetime, datetime]:
    """The period whose drops a status lists: the one asked about, else the last hour."""
    if question.explicit_window:
        return question.window.start, min(question.window.end, now)
    return now - RECENT, now


def status_start(question: Question, now: datetime) -> datetime:
    """Where a named tunnel's investigation starts: where the question says, else `STATUS_LOOKBACK` before `now`."""
    return question.window.start if question.explicit_window else now - STATUS_LOOKBACK


def status_question(names: list[str], registry: TunnelRegistry, now: datetime, tz: ZoneInfo) -> Question:
    """`vpnbot status [TUNNEL…]` as a question: those tunnels (names, aliases or identifiers; none: every tunnel),
    now. Raises UnknownTunnel (with the closest names) or AmbiguousTunnel."""
    tunnels = []
    for name in names:
        tunnel = registry.resolve(name)
        if tunnel not in tunnels:
            tunnels.append(tunnel)
    return Question(text=" ".join(["status", *names]), intent=Intent.STATUS,
                    tunnel=tunnels[0] if len(tunnels) == 1 else None, window=TimeWindow(now - RECENT, now),
                    anchor=None, tz=tz, explicit_window=False, tunnels=tuple(tunnels))


def status_of(names: list[str], registry: TunnelRegistry, sources: Sources, now: datetime, tz: ZoneInfo,
              progress: Progress | None = None) -> Answer:
    """`vpnbot status [TUNNEL…]`: the state now of those tunnels (none: every tunnel)."""
    return status_answer(status_question(names, registry, now, tz), registry, sources, now, progress)


def status_answer(question: Question, registry: TunnelRegistry, sources: Sources, now: datetime,
                  progress: Progress | None = None) -> Answer:
    """The status the question asks for: the fleet's (no tunnel named) or each named tunnel's. Raises
    InvestigationError when no source could tell the state of any of them."""
    tunnels, notes = capped(asked_tunnels(question))
    start, end = status_period(question, now)
    fleet = fleet_status(tunnels or list(registry), sources, start, end, now, question.tz, question.anchor, progress)
    if fleet.tunnels and all(s.state == UNKNOWN for s in fleet.tunnels):
        raise InvestigationError("; ".join(fleet.failures or sorted({s.why for s in fleet.tunnels if s.why}))
                                 or "no log source could tell the state of any tunnel")
    if not tunnels:
        return Answer(question, fleet=fleet, notes=notes)
    parts = []
    for tunnel in tunnels:
        single = one_question(question, tunnel)
        state = fleet.get(tunnel.name)
        try:
            parts.append(Answer(single, investigation=latest_drop(single, state, sources, now, progress),
                                state=state))
        except InvestigationError as exc:
            if len(tunnels) == 1:
                raise
            parts.append(Answer(single, state=state, notes=[f"Its latest drop could not be read: {exc}"]))
    if len(parts) == 1:
        parts[0].fleet, parts[0].notes = fleet, notes + parts[0].notes
        return parts[0]
    return Answer(question, fleet=fleet, parts=parts, notes=notes)


def latest_drop(question: Question, state: TunnelStatus | None, sources: Sources, now: datetime,
                progress: Progress | None = None) -> Investigation:
    """The investigation that explains the named tunnel's latest drop: the window asked about; else the last
    `STATUS_LOOKBACK` (its drops, or its flapping); else the window around the latest drop before (the state
    lookback's, or the nearest the investigation found)."""
    tunnel = question.tunnel
    assert tunnel is not None
    tz = question.tz
    if question.explicit_window:
        return investigate(tunnel, question.window.start, question.window.end, sources, now, anchor=question.anchor,
                           tz=tz, progress=progress, widen=False)
    day_start = now - STATUS_LOOKBACK
    known = state.latest_drop if state is not None else None
    day = None
    if known is None or known >= day_start.timestamp():
        day = investigate(tunnel, day_start, now, sources, now, tz=tz, progress=progress, widen=False)
        known = None if day.drops else _nearest_before(day)
        if known is None:
            return day
    at = datetime.fromtimestamp(known, UTC)
    around = investigate(tunnel, at - AROUND, min(at + AROUND, now), sources, now, anchor=at, tz=tz,
                         progress=progress, widen=False)
    around.notes.insert(0, f"No drop in the last {STATUS_LOOKBACK.total_seconds() / 3600:g} h: this is its latest "
                           f"drop, at {local_and_utc(at, tz, date=True)}.")
    if day is not None:
        around.queries = day.queries + around.queries
    return around


def _nearest_before(inv: Investigation) -> float | None:
    """The drop before the window that the no-drop answer names, if it looked (its evidence is that drop)."""
    if not inv.findings or inv.findings[0].cause is not Cause.NO_DROP_FOUND:
        return None
    before = [e.ts for e in inv.findings[0].evidence if e.ts < inv.start.timestamp()]
    return max(before, default=None)
