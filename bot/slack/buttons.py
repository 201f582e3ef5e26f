"""The buttons under an answer (docs/slack.md, "Buttons"): Show queries, Wider window, Evidence bundle.

A click is a job like a question: claimed once, answered in the answer's thread, audited (source "button"). A click
carries what Slack sends back, which anyone can craft: a stored answer is shown only in the channel it was given in,
and no button shows a tunnel the channel may not see ([[channels]], [slack] dm_tunnels).
"Open in Log Analytics" is a link: the browser follows it and the listener only acknowledges it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.logs import logger
from bot.slack import deliveries, evidence
from bot.slack.conversation import Conversation
from bot.slack.core import Audit, SlackBot
from bot.slack.jobs import ClickJob, QuestionJob
from bot.slack.questions import investigate_in_thread
from bot.state import Claim
from bot.workspace import Workspace
from diagnostics.model import QueryRecord
from diagnostics.timefmt import parse_iso
from diagnostics.tunnels import AmbiguousTunnel
from handlers.answer import Answer
from handlers.ask import answer_question
from handlers.parse.intent import Intent
from handlers.parse.question import Question, TimeWindow
from handlers.render.blockkit import Rendered, section
from handlers.render.blocks import (
    EVIDENCE_BUNDLE,
    SHOW_QUERIES,
    WIDER_WINDOW,
    queries_message,
    queries_text,
)

log = logger("vpnbot.slack")

#: "Wider window" re-runs ±1 h around the asked time, then grows by an hour a side per click.
WIDER = timedelta(hours=1)


def click(bot: SlackBot, job: ClickJob, admitted: Claim | str = deliveries.UNCLAIMED) -> None:
    delivery = deliveries.take(bot, job, admitted)
    if delivery is None:
        return
    try:
        _click(bot, job)
    finally:
        if delivery.stored:
            deliveries.settle(bot, job)


def _click(bot: SlackBot, job: ClickJob) -> None:
    audit = Audit()
    audit.set(team=job.team, channel=job.channel, user=job.user, source="button", intent=job.action,
              text=job.value)
    conv = Conversation(bot.client, QuestionJob("button", job.team, job.channel, job.user, "",
                                                thread_ts=job.thread_ts))
    try:
        try:
            value = json.loads(job.value or "{}")
        except ValueError:
            value = {}
        if job.action == SHOW_QUERIES:
            _show_queries(bot, conv, value, audit)
        elif job.action == WIDER_WINDOW:
            _wider_window(bot, conv, value, audit)
        elif job.action == EVIDENCE_BUNDLE:
            evidence.on_click(bot, conv, value, audit)
    except Exception:
        bot.apologise(conv, audit)


def _show_queries(bot: SlackBot, conv: Conversation, value: Mapping[str, Any], audit: Audit) -> None:
    # The answer was stored before its buttons were shown: a click finds it, or it is gone.
    row = bot.state.question(evidence.as_id(str(value.get("id", ""))))
    if row is not None and row.get("channel") != conv.job.channel:
        row = None  # another channel's answer (an id is easy to guess): as unknown here as one never stored
    if row is None or not row.get("queries_json"):
        days = bot.options.retention_days
        text = (f"That answer is not stored for this channel (answers are kept {days} days, and shown only where "
                "they were given): ask the question again.")
        conv.reply(Rendered(text, [section(text)]))
        bot.record(audit, outcome="bad_input", detail=text)
        return
    refusal = bot.policy.refusal(conv.job.channel, row.get("tunnel"))  # asked before the channel was limited
    if refusal is not None:
        conv.reply(Rendered(refusal, [section(refusal)]))
        bot.record(audit, outcome="refused", tunnel=row.get("tunnel"), detail=refusal)
        return
    tz = bot.user_zone(conv.job.user)
    queries = [QueryRecord.from_json(q) for q in json.loads(row["queries_json"])]
    tunnel = row.get("tunnel") or "the tunnel"
    message = queries_message(tunnel, queries, tz)
    conv.reply(message)
    if message.overflow:
        conv.upload(queries_text(tunnel, queries, tz), f"vpnbot-queries-{tunnel}.kql", f"Queries ({tunnel})")
    bot.record(audit, outcome="answered", tunnel=tunnel)


def _wider_window(bot: SlackBot, conv: Conversation, value: Mapping[str, Any], audit: Audit) -> None:
    try:
        tunnel = bot.workspace.registry.lookup(str(value.get("tunnel", "")))
        start, end = parse_iso(value.get("start")), parse_iso(value.get("end"))
    except (AmbiguousTunnel, ValueError):
        tunnel, start, end = None, None, None
    if tunnel is None or start is None or end is None:
        text = "I can't tell which answer this button belongs to: ask the question again."
        conv.reply(Rendered(text, [section(text)]))
        bot.record(audit, outcome="bad_input", detail=text)
        return
    audit.set(tunnel=tunnel.name)
    refusal = bot.policy.refusal(conv.job.channel, tunnel)
    if refusal is not None:
        conv.reply(Rendered(refusal, [section(refusal)]))
        bot.record(audit, outcome="refused", detail=refusal)
        return
    now = bot.clock()
    anchor = parse_iso(value.get("anchor"))
    start, end = wider_window(start, end, anchor, now)
    tz = bot.user_zone(conv.job.user)
    intent = Intent(value.get("intent", Intent.WHY_DROP.value))
    question = Question(text=f"{intent.value} {tunnel.name} (wider window)", intent=intent, tunnel=tunnel,
                        window=TimeWindow(start, end), anchor=anchor, tz=tz, explicit_window=True)
    investigate_in_thread(bot, conv, question, now, audit, lambda progress: rerun(
        question, bot.workspace, now, progress))


def wider_window(start: datetime, end: datetime, anchor: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """±1 h around the asked time when the answer looked at less; otherwise one more hour on each side."""
    if anchor is not None and end - start < 2 * WIDER - timedelta(minutes=1):
        start, end = anchor - WIDER, anchor + WIDER
    else:
        start, end = start - WIDER, end + WIDER
    return start, min(end, now)


def rerun(question: Question, workspace: Workspace, now: datetime, progress: Callable[[str], None]) -> Answer:
    """The question answered as a sentence would be (its traffic, its drop's chart), for a window chosen by a button
    rather than a sentence: the window is read as given, not widened again."""
    return answer_question(question, workspace.registry, workspace.sources, now, progress, widen=False)

