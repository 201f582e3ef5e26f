"""`ask`: a sentence in, an `Answer` out. Used by the CLI, the chat console and Slack alike.

`ask` parses the sentence (`parse.question`) and hands the question to the module of its intent: `status` (also of
every tunnel), `summary`, `evidence`, `p2s`; a question about several tunnels is answered once per tunnel
(`several`); `help` and `tunnels` need nothing but the registry. The question this module answers
itself is the usual one, "why did paris drop at 14:02" (and "drops paris since monday", its count): `why_drop`.
How an answer is shown is `render`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from diagnostics.investigate import investigate
from diagnostics.model import Investigation
from diagnostics.sources import Sources
from diagnostics.tunnels import TunnelRegistry
from handlers.answer import Answer
from handlers.parse.intent import Intent
from handlers.parse.question import Question, parse_question
from handlers.several import answer_each, asked_tunnels


def ask(
    text: str,
    registry: TunnelRegistry,
    sources: Sources,
    now: datetime,
    tz: ZoneInfo,
    progress: Callable[[str], None] | None = None,
) -> Answer:
    """Answer one question. Raises QuestionError / UnknownTunnel / InvestigationError on bad input."""
    return answer_question(parse_question(text, registry, now, tz), registry, sources, now, progress)


def answer_question(question: Question, registry: TunnelRegistry, sources: Sources, now: datetime,
                    progress: Callable[[str], None] | None = None, widen: bool = True) -> Answer:
    """Answer a parsed question (`vpnbot status` makes its own); a question about several tunnels gets one answer
    per tunnel (`several`). `widen=False`: the window is read as given, never widened (a window a button chose)."""
    # The other intents' handlers are lazy loads: a fresh `vpnbot ask` pays only for its own (the evidence code, the
    # fleet status and the summary readers stay unloaded for a "why did it drop").
    if question.intent is Intent.STATUS:
        from handlers.status import status_answer  # lazy load: see above

        return status_answer(question, registry, sources, now, progress)
    if question.intent in (Intent.HELP, Intent.TUNNELS):
        return Answer(question, registry=registry)
    if question.intent is Intent.P2S:
        from handlers.p2s import point_to_site  # lazy load: see above

        return Answer(question, p2s=point_to_site(question, registry, sources))
    if question.intent is Intent.SUMMARY:
        from handlers.summary import summary_for  # lazy load: see above

        return Answer(question, summary=summary_for(question, registry, sources, now, progress))
    if len(asked_tunnels(question)) > 1:
        return answer_each(question, lambda one: answer_question(one, registry, sources, now, progress, widen))
    if question.intent is Intent.TRAFFIC:
        from handlers.traffic import traffic_answer  # lazy load: see above

        return traffic_answer(question, sources, now, progress)
    if question.intent is Intent.EVIDENCE:
        from handlers.evidence import evidence_investigation  # lazy load: see above

        return with_incident(Answer(question, investigation=evidence_investigation(question, sources, now, progress,
                                                                                   widen)), sources)
    answer = Answer(question, investigation=why_drop(question, sources, now, progress, widen))
    return with_incident(answer, sources) if question.intent is Intent.WHY_DROP else answer


def with_incident(answer: Answer, sources: Sources) -> Answer:
    """A drop answer gains the traffic around its drops and the chart of them (`handlers.incident`)."""
    if answer.investigation is not None and answer.investigation.drops:
        from handlers.incident import incident_traffic  # lazy load: only answers with a drop read metrics and chart

        answer.incident = incident_traffic(answer.investigation, sources, answer.question.tz)
    return answer


def why_drop(question: Question, sources: Sources, now: datetime,
             progress: Callable[[str], None] | None = None, widen: bool = True) -> Investigation:
    """The investigation of the window asked about: "why did it drop" lets an empty window around the asked instant
    be widened once (`diagnostics.investigate`); "drops paris since monday" reads exactly that window."""
    assert question.tunnel is not None  # parse_question guarantees a tunnel for the other intents
    return investigate(question.tunnel, question.window.start, question.window.end, sources, now,
                       anchor=question.anchor, tz=question.tz, progress=progress,
                       widen=widen and question.intent is Intent.WHY_DROP)
