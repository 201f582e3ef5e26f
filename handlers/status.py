"""`status paris`: the tunnel's latest state change in its logs. Without a time the window is the `STATUS_LOOKBACK`
before now; with one, it is the window asked about."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from diagnostics.investigate import investigate
from diagnostics.model import Investigation
from diagnostics.sources import Sources
from handlers.parse.question import Question

#: Status looks back this far for the tunnel's latest state.
STATUS_LOOKBACK = timedelta(hours=24)


def status_start(question: Question, now: datetime) -> datetime:
    """Where a status question's window starts: where it says, else `STATUS_LOOKBACK` before `now`."""
    return question.window.start if question.explicit_window else now - STATUS_LOOKBACK


def status(question: Question, sources: Sources, now: datetime,
           progress: Callable[[str], None] | None = None) -> Investigation:
    """The investigation behind a status answer (not widened: the window is already a day)."""
    assert question.tunnel is not None  # parse_question guarantees a tunnel for status
    return investigate(question.tunnel, status_start(question, now), question.window.end, sources, now,
                       anchor=question.anchor, tz=question.tz, progress=progress, widen=False)
