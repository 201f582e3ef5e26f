"""The `ask` command: a sentence in, an `Answer` out. Used by the CLI, the chat console and Slack alike.

This module parses and dispatches; the domain work is `diagnostics.investigate`, the presentation is in the
`render_*` modules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from diagnostics.azure.p2s import P2SReport, p2s_report
from diagnostics.investigate import investigate
from diagnostics.model import Investigation
from diagnostics.sources import Sources
from diagnostics.summary.build import SummaryError, previous_day, summarize_day
from diagnostics.summary.model import DaySummary
from diagnostics.tunnels import TunnelRegistry
from handlers.question import Intent, Question, QuestionError, parse_question

#: Status looks back this far for the tunnel's latest state.
STATUS_LOOKBACK = timedelta(hours=24)


@dataclass
class Answer:
    question: Question
    investigation: Investigation | None = None
    registry: TunnelRegistry | None = None  # for the `tunnels` intent
    p2s: P2SReport | None = None  # for the point-to-site intent
    summary: DaySummary | None = None  # for the summary intent
    notes: list[str] = field(default_factory=list)

    @property
    def intent(self) -> Intent:
        return self.question.intent


def ask(
    text: str,
    registry: TunnelRegistry,
    sources: Sources,
    now: datetime,
    tz: ZoneInfo,
    progress: Callable[[str], None] | None = None,
) -> Answer:
    """Answer one question. Raises QuestionError / UnknownTunnel / InvestigationError on bad input."""
    question = parse_question(text, registry, now, tz)
    if question.intent in (Intent.HELP, Intent.TUNNELS):
        return Answer(question, registry=registry)
    if question.intent is Intent.P2S:
        return Answer(question, p2s=point_to_site(question, registry, sources))
    if question.intent is Intent.SUMMARY:
        return Answer(question, summary=summary_for(question, registry, sources, now, progress))
    if question.intent is Intent.EVIDENCE:
        # "evidence paris at 14:02" bundles the investigation "why did paris drop at 14:02" makes (widened the same
        # way); the bundle itself is made by the caller from the stored answer (bot/evidence.py).
        assert question.tunnel is not None  # parse_question guarantees a tunnel for evidence
        return Answer(question, investigation=investigate(
            question.tunnel, question.window.start, question.window.end, sources, now,
            anchor=question.anchor, tz=question.tz, progress=progress, widen=True))
    assert question.tunnel is not None  # parse_question guarantees a tunnel for the other intents
    start, end = question.window.start, question.window.end
    if question.intent is Intent.STATUS and not question.explicit_window:
        start = now - STATUS_LOOKBACK
    result = investigate(
        question.tunnel, start, end, sources, now,
        anchor=question.anchor, tz=question.tz, progress=progress,
        widen=question.intent is Intent.WHY_DROP,
    )
    return Answer(question, investigation=result)


def summary_for(question: Question, registry: TunnelRegistry, sources: Sources, now: datetime,
                progress: Callable[[str], None] | None = None, among: Sequence[str] | None = None) -> DaySummary:
    """ "summary" is yesterday's (what the morning message covers); "summary for Monday" is Monday's. `among`
    limits "every tunnel" (a channel that may see only some)."""
    tz = question.tz
    day = question.window.start.astimezone(tz).date() if question.explicit_window else previous_day(now, tz)
    tunnels = [question.tunnel.name] if question.tunnel is not None else among
    try:
        return summarize_day(registry, sources, day, tz, now, tunnels, progress=progress)
    except SummaryError as exc:
        raise QuestionError(str(exc)) from None


def point_to_site(question: Question, registry: TunnelRegistry, sources: Sources) -> P2SReport:
    """Point-to-site is per gateway: the named tunnel's gateway, else every Azure gateway the registry knows."""
    if question.tunnel is not None and question.tunnel.azure_gateway:
        gateways = [question.tunnel.azure_gateway]
    else:
        gateways = sorted({t.azure_gateway for t in registry if t.azure_gateway})
    if not gateways:
        raise QuestionError("no Azure VPN gateway is configured, and point-to-site logs come from one")
    return p2s_report(gateways, question.window.start, question.window.end, sources.kql,
                      user=question.user)
