"""A question job: `/vpn …`, an @mention or a direct message, answered in a thread.

The delivery is claimed once in the state store (Slack re-delivers what it thinks was not acknowledged), then the
question goes where it belongs: a subscription command (subscriptions.py), a stored investigation's evidence bundle
(evidence.py), the daily summary (summaries.py), a direct reply (`help`, `tunnels`, bad input, a tunnel the
channel may not ask about), or an investigation answered in the thread (the conversation of conversation.py).
Every question and refusal is a row in the state store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.slack import evidence, summaries
from bot.slack.conversation import DEGRADED, DONE, WORKING, Conversation
from bot.slack.core import Audit, SlackBot
from bot.slack.jobs import QuestionJob
from bot.slack.subscriptions import handle_subscription, is_subscription_command
from diagnostics.model import InvestigationError
from diagnostics.tunnels import AmbiguousTunnel, TunnelRegistry, UnknownTunnel
from handlers.answer import Answer
from handlers.ask import ask
from handlers.evidence import stored_answer
from handlers.parse.intent import Intent
from handlers.parse.question import Question, QuestionError, parse_question
from handlers.render.blockkit import Rendered, escape, section
from handlers.render.blocks import Buttons, help_message, looking_message, render_answer
from handlers.render.text import render_text
from handlers.summary import summary_for

log = logging.getLogger("vpnbot.slack")


def answer(bot: SlackBot, job: QuestionJob) -> None:
    if not bot.state.claim(job.keys):
        log.info("repeat delivery of %s ignored", job.keys[0])
        return
    if is_subscription_command(job.text):  # daily summaries: docs/summaries.md
        handle_subscription(bot, job)
        return
    audit = Audit()
    audit.set(team=job.team, channel=job.channel, user=job.user, source=job.source, text=job.text)
    conv = Conversation(bot.client, job)
    try:
        conv.react(WORKING)
        tz = bot.user_zone(job.user)
        now = bot.clock()
        if evidence.wants_stored(job.text):  # "/vpn evidence 42", "/vpn evidence": docs/evidence.md
            evidence.send_stored(bot, conv, job.text, audit)
            return
        try:
            question = parse_question(job.text, bot.workspace.registry, now, tz)
        except (QuestionError, UnknownTunnel, AmbiguousTunnel) as exc:
            conv.reply(Rendered(escape(f"Sorry: {exc}"), [section(escape(f"Sorry: {exc}"))]))
            conv.finish(None)
            bot.record(audit, outcome="bad_input", detail=str(exc))
            return
        audit.set(intent=question.intent.value, tunnel=question.tunnel.name if question.tunnel else None)
        refusal = bot.policy.refusal(job.channel, question.tunnel)
        if refusal is not None:
            conv.reply(Rendered(refusal, [section(refusal)]))
            conv.finish(None)
            bot.record(audit, outcome="refused", detail=refusal)
            return
        if question.intent is Intent.SUMMARY:
            _summary(bot, conv, question, now, audit)
            return
        if question.tunnel is None or question.intent in (Intent.HELP, Intent.TUNNELS):
            _answer_directly(bot, conv, job, question, now, tz, audit)
            return
        question_id = investigate_in_thread(
            bot, conv, question, now, audit,
            lambda progress: ask(job.text, bot.workspace.registry, bot.workspace.sources, now, tz,
                                 progress=progress))
        if question.intent is Intent.EVIDENCE:  # "/vpn evidence paris at 14:02": the answer, then its bundle
            evidence.after_answer(bot, conv, question_id, job.text, audit)
    except Exception:
        bot.apologise(conv, audit)


def _answer_directly(bot: SlackBot, conv: Conversation, job: QuestionJob, question: Question, now: datetime,
                     tz: ZoneInfo, audit: Audit) -> None:
    """help, tunnels (and what is not available yet): no logs to read, one reply."""
    try:
        answer = ask(job.text, bot.workspace.registry, bot.workspace.sources, now, tz)
    except (QuestionError, UnknownTunnel, AmbiguousTunnel, InvestigationError) as exc:
        conv.reply(Rendered(escape(f"Sorry: {exc}"), [section(escape(f"Sorry: {exc}"))]))
        conv.finish(None)
        bot.record(audit, outcome="bad_input", detail=str(exc))
        return
    allowed = bot.policy.allowed_tunnels(job.channel)
    if answer.intent is Intent.TUNNELS and allowed is not None:
        answer.registry = TunnelRegistry(t for t in bot.workspace.registry if t.name.lower() in allowed)
    rendered = help_message(answer) if answer.intent is Intent.HELP else render_answer(answer)
    conv.reply(rendered)
    if rendered.overflow and not conv.private:  # e.g. a long tunnel listing: the whole of it as a file
        conv.upload(render_text(answer), f"vpnbot-{answer.intent.value}.txt", rendered.text.split("\n")[0])
    conv.finish(DONE)
    bot.record(audit, outcome="answered")


def _summary(bot: SlackBot, conv: Conversation, question: Question, now: datetime, audit: Audit) -> None:
    """ "/vpn summary [day]": the daily summary and its picture, in the thread (for the whole channel to see)."""
    if not conv.open_thread():
        bot.record(audit, outcome="error", detail="the bot is not in the channel")
        return
    try:
        summary = summary_for(question, bot.workspace.registry, bot.workspace.sources, now,
                              among=summaries.visible_tunnels(bot, conv.channel, None))
    except (QuestionError, UnknownTunnel, AmbiguousTunnel) as exc:
        conv.reply(Rendered(escape(f"Sorry: {exc}"), [section(escape(f"Sorry: {exc}"))]))
        conv.finish(None)
        bot.record(audit, outcome="bad_input", detail=str(exc))
        return
    summaries.post(bot, conv.channel, summary, conv.thread_ts)
    conv.finish(DEGRADED if summary.failures else DONE)
    bot.record(audit, outcome="answered", window_start=summary.start, window_end=summary.end,
               detail="; ".join(summary.failures) or None)


def investigate_in_thread(bot: SlackBot, conv: Conversation, question: Question, now: datetime, audit: Audit,
                          run: Callable[[Callable[[str], None]], Answer]) -> int | None:
    """Looking… → progress per source → the answer (+ file) → ✅/⚠️, all in the thread; audited. Returns the
    stored investigation's id (None when nothing could be posted)."""
    assert question.tunnel is not None
    if not conv.open_thread():
        bot.record(audit, outcome="error", detail="the bot is not in the channel")
        return None
    question_id = bot.state.start_question(**audit.fields, window_start=question.window.start,
                                           window_end=question.window.end, thread_ts=conv.thread_ts)
    try:
        _investigate(bot, conv, question, now, audit, run, question_id)
    except Exception:
        audit.set(outcome="error", error_id=conv.apologise(bot.options.admins))
    bot.finish(question_id, audit)
    return question_id


def _investigate(bot: SlackBot, conv: Conversation, question: Question, now: datetime, audit: Audit,
                 run: Callable[[Callable[[str], None]], Answer], question_id: int) -> None:
    sources: dict[str, str] = dict.fromkeys(bot.workspace.sources.labels, "waiting…")
    conv.post_looking(looking_message(question, now, sources))

    def progress(line: str) -> None:
        label, _, status = line.rpartition(": ")
        sources[label or line] = status if label else ""
        conv.update_looking(looking_message(question, now, sources), quiet=True)

    try:
        answer = run(progress)
    except (QuestionError, UnknownTunnel, AmbiguousTunnel, InvestigationError) as exc:
        failed = isinstance(exc, InvestigationError)
        text = escape(f"Sorry: {exc}")
        conv.update_looking(Rendered(text, [section(text)]))
        conv.finish(DEGRADED if failed else None)
        audit.set(outcome="source_failed" if failed else "bad_input", detail=str(exc))
        return
    answer.notes += bot.workspace.problems
    inv = answer.investigation
    buttons = Buttons(question_id, bot.options.log_analytics, bot.options.evidence_bundle)
    conv.show_answer(render_answer(answer, buttons, files=True), render_text(answer), _file_name(answer))
    failures = bool(inv and inv.failures)
    conv.finish(DEGRADED if failures else DONE)
    primary = inv.primary if inv else None
    audit.set(outcome="answered", cause=primary.cause.value if primary else None,
              confidence=primary.confidence.value if primary else None,
              window_start=inv.start if inv else None, window_end=inv.end if inv else None,
              answer_ts=conv.looking_ts, detail="; ".join(inv.failures) if failures and inv else None,
              answer_json=stored_answer(answer),
              queries_json=[q.to_json() for q in inv.queries] if inv else None)


def _file_name(answer: Answer) -> str:
    inv = answer.investigation
    if inv is None:
        return "vpnbot-answer.txt"
    return f"vpnbot-{inv.tunnel.name}-{inv.start.astimezone(UTC).strftime('%Y%m%dT%H%MZ')}.txt"

