"""The `ask` command: a sentence in, an `Answer` out. Used by the CLI, the chat console and Slack alike.

This module parses and dispatches; the domain work is `diagnostics.investigate`, the presentation is in the
`render_*` modules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from diagnostics.investigate import Investigation, investigate
from diagnostics.sources import KqlBackend
from diagnostics.tunnels import TunnelRegistry

from .question import HELP_EXAMPLES, Intent, Question, QuestionError, parse_question

#: Status looks back this far for the tunnel's latest state.
STATUS_LOOKBACK = timedelta(hours=24)


@dataclass
class Answer:
    question: Question
    investigation: Investigation | None = None
    registry: TunnelRegistry | None = None  # for the `tunnels` intent
    notes: list[str] = field(default_factory=list)

    @property
    def intent(self) -> Intent:
        return self.question.intent


def ask(
    text: str,
    registry: TunnelRegistry,
    backends: Sequence[KqlBackend],
    now: datetime,
    tz: ZoneInfo,
    progress: Callable[[str], None] | None = None,
) -> Answer:
    """Answer one question. Raises QuestionError / UnknownTunnel / InvestigationError on bad input."""
    question = parse_question(text, registry, now, tz)
    if question.intent in (Intent.HELP, Intent.TUNNELS):
        return Answer(question, registry=registry)
    if question.intent in (Intent.SUMMARY, Intent.EVIDENCE):
        raise QuestionError(f"'{question.intent.value}' is not available in this version yet; "
                            f"try: {HELP_EXAMPLES[0]}")
    assert question.tunnel is not None  # parse_question guarantees a tunnel for the other intents
    start, end = question.window.start, question.window.end
    if question.intent is Intent.STATUS and not question.explicit_window:
        start = now - STATUS_LOOKBACK
    result = investigate(
        question.tunnel, start, end, backends, now,
        anchor=question.anchor, tz=question.tz, progress=progress,
        widen=question.intent is Intent.WHY_DROP,
    )
    return Answer(question, investigation=result)
