"""`summary`: how every tunnel (or the one named) did over one local day. The text, JSON and Block Kit of a summary
are in `render.summary` and `render.summary_blocks`; its picture in `render.timeline_png`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from diagnostics.sources import Sources
from diagnostics.summary.build import SummaryError, previous_day, summarize_day
from diagnostics.summary.model import DaySummary
from diagnostics.tunnels import TunnelRegistry
from handlers.parse.question import Question, QuestionError
from handlers.several import asked_tunnels


def summary_for(question: Question, registry: TunnelRegistry, sources: Sources, now: datetime,
                progress: Callable[[str], None] | None = None, among: Sequence[str] | None = None) -> DaySummary:
    """ "summary" is yesterday's (what the morning message covers); "summary for Monday" is Monday's; "summary paris
    and lyon" is theirs. `among` limits "every tunnel" (a channel that may see only some)."""
    tz = question.tz
    day = question.window.start.astimezone(tz).date() if question.explicit_window else previous_day(now, tz)
    tunnels = [t.name for t in asked_tunnels(question)] or among
    try:
        return summarize_day(registry, sources, day, tz, now, tunnels, progress=progress)
    except SummaryError as exc:
        raise QuestionError(str(exc)) from None
