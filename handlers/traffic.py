"""`traffic`: "is traffic flowing over paris?", "paris is up but nothing gets through", "why can't we reach 10.1.2.3
over lyon": whether the tunnel is connected (its logs), whether bytes flow each way (its metrics), and why not when
they do not (`diagnostics.traffic_check`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from diagnostics.sources import Sources
from diagnostics.traffic_check import check_traffic
from handlers.answer import Answer
from handlers.parse.question import Question


def traffic_answer(question: Question, sources: Sources, now: datetime,
                   progress: Callable[[str], None] | None = None) -> Answer:
    """The traffic of the one tunnel asked about over the question's window (the last hour by default). Raises
    InvestigationError when its logs cannot be read at all; metrics that cannot be read only leave a line."""
    assert question.tunnel is not None  # parse_question guarantees a tunnel for a traffic question
    check = check_traffic(question.tunnel, question.window.start, question.window.end, sources, now, tz=question.tz,
                          target=question.target, progress=progress)
    return Answer(question, investigation=check.investigation, traffic=check)
