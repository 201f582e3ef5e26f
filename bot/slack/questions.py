"""A question job: `/vpn …`, an @mention or a direct message, answered in a thread.

The delivery is claimed once in the state store (deliveries.py: Slack re-delivers what it thinks was not
acknowledged, and a process may die mid-answer), then the question goes where it belongs: a subscription command
(subscriptions.py), a stored investigation's evidence bundle (evidence.py), the daily summary (summaries.py), a
direct reply (`help`, `tunnels`, bad input, a tunnel the channel may not ask about), or an investigation answered
in the thread (the conversation of conversation.py).
Every question and refusal is a row in the state store; an investigation's answer is stored before it is shown (its
buttons read it), and when the store fails the answer is shown all the same, saying its buttons won't work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from slack_sdk.webhook import WebhookClient

from bot.logs import logger, redact
from bot.slack import deliveries, evidence, explain, summaries
from bot.slack.charts import post_charts
from bot.slack.conversation import DEGRADED, DONE, WORKING, Conversation
from bot.slack.core import NOT_STORED, Audit, SlackBot
from bot.slack.deliveries import Delivery
from bot.slack.jobs import Job, QuestionJob
from bot.slack.subscriptions import handle_subscription, is_subscription_command
from bot.slack.watches import handle_watch
from bot.state import Claim, StoreUnavailable
from diagnostics.model import InvestigationError
from diagnostics.tunnels import AmbiguousTunnel, OutsideTunnel, UnknownTunnel
from handlers.answer import Answer
from handlers.ask import answer_question
from handlers.evidence import stored_answer
from handlers.parse.intent import Intent
from handlers.parse.question import Question, QuestionError, parse_question
from handlers.render.blockkit import Rendered, escape, section
from handlers.render.blocks import Buttons, help_message, looking_message, render_answer
from handlers.render.text import render_text
from handlers.several import covers_several
from handlers.summary import summary_for
from handlers.watch_command import is_watch_command

log = logger("vpnbot.slack")


#: Said in place of the "Looking…" message a stopped process left behind; the answer follows in the thread.
RESTARTED = "I was restarted while answering this; the answer follows below."


def answer(bot: SlackBot, job: QuestionJob, admitted: Claim | str = deliveries.UNCLAIMED) -> None:
    delivery = deliveries.take(bot, job, admitted)
    if delivery is None:
        return
    try:
        _answer(bot, job, delivery)
    finally:
        if delivery.stored:
            deliveries.settle(bot, job)


def _answer(bot: SlackBot, job: QuestionJob, delivery: Delivery) -> None:
    if explain.wanted(job):  # log lines or a file to explain: docs/explain.md
        explain.answer(bot, job)
        return
    if is_subscription_command(job.text):  # daily summaries: docs/summaries.md
        handle_subscription(bot, job)
        return
    if is_watch_command(job.text):  # watching tunnels: docs/watch.md
        handle_watch(bot, job)
        return
    audit = Audit()
    # The question as stored and shown: secret-looking values (a key someone pasted) masked.
    audit.set(team=job.team, channel=job.channel, user=job.user, source=job.source, text=redact(job.text),
              delivery=job.keys[0] if job.keys else None)
    conv = Conversation(bot.client, job, thread_ts=_resume(bot, job) if delivery.resumed else "")
    try:
        conv.react(WORKING)
        tz, tz_is_askers = bot.asker_zone(job.user)
        now = bot.clock()
        if evidence.wants_stored(job.text):  # "/vpn evidence 42", "/vpn evidence": docs/evidence.md
            evidence.send_stored(bot, conv, job.text, audit)
            return
        registry = bot.policy.registry_for(job.channel)  # the tunnels this channel may see, alone
        try:
            question = parse_question(job.text, registry, now, tz, tz_is_askers=tz_is_askers)
        except OutsideTunnel as exc:  # refused naming the asker's words, not the tunnel they stand for
            refusal = bot.policy.refuse(job.channel, exc.reference)
            audit.set(tunnel=exc.hidden[0] if len(exc.hidden) == 1 else None)
        except (QuestionError, UnknownTunnel, AmbiguousTunnel) as exc:
            # A tunnel not known yet may be one discovery has not found yet: say so.
            sorry = " ".join([f"Sorry: {exc}", *(bot.workspace.pending if isinstance(exc, UnknownTunnel) else [])])
            conv.reply(Rendered(escape(sorry), [section(escape(sorry))]))
            conv.finish(None)
            bot.record(audit, outcome="bad_input", detail=str(exc))
            return
        else:
            audit.set(intent=question.intent.value, tunnel=question.tunnel.name if question.tunnel else None)
            refusal = bot.policy.question_refusal(job.channel, question)
        if refusal is not None:
            conv.reply(Rendered(refusal, [section(refusal)]))
            conv.finish(None)
            bot.record(audit, outcome="refused", detail=refusal)
            return
        if question.intent is Intent.SUMMARY:
            _summary(bot, conv, question, now, audit)
            return
        if (question.tunnel is None and not covers_several(question)) or question.intent in (Intent.HELP,
                                                                                             Intent.TUNNELS):
            _answer_directly(bot, conv, job, question, now, audit)
            return
        question_id = investigate_in_thread(
            bot, conv, question, now, audit,
            lambda progress: answer_question(question, registry, bot.workspace.sources, now, progress),
            stored=delivery.stored)
        if question.intent is Intent.EVIDENCE:  # "/vpn evidence paris at 14:02": the answer, then its bundle
            evidence.after_answer(bot, conv, question_id, job.text, audit)
    except Exception:
        bot.apologise(conv, audit)


def _answer_directly(bot: SlackBot, conv: Conversation, job: QuestionJob, question: Question, now: datetime,
                     audit: Audit) -> None:
    """help, tunnels (and what is not available yet): no logs to read, one reply."""
    try:
        answer = answer_question(question, bot.policy.registry_for(job.channel), bot.workspace.sources, now)
    except (QuestionError, UnknownTunnel, AmbiguousTunnel, InvestigationError) as exc:
        conv.reply(Rendered(escape(f"Sorry: {exc}"), [section(escape(f"Sorry: {exc}"))]))
        conv.finish(None)
        bot.record(audit, outcome="bad_input", detail=str(exc))
        return
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
                          run: Callable[[Callable[[str], None]], Answer], stored: bool = True) -> int | None:
    """Looking… → progress per source → the answer (+ file) → ✅/⚠️, all in the thread; audited. Returns the
    stored investigation's id (None when nothing could be posted or stored). `stored=False`: the store failed
    already, the answer says its buttons won't work."""
    assert question.tunnel is not None or covers_several(question)
    if not conv.open_thread():
        bot.record(audit, outcome="error", detail="the bot is not in the channel")
        return None
    question_id = bot.record(audit, window_start=question.window.start, window_end=question.window.end,
                             thread_ts=conv.thread_ts, outcome="running") if stored else None
    try:
        question_id = _investigate(bot, conv, question, now, audit, run, question_id)
    except Exception:
        audit.set(outcome="error", error_id=conv.apologise(bot.options.admins))
    bot.finish(question_id, audit)
    return question_id


def _investigate(bot: SlackBot, conv: Conversation, question: Question, now: datetime, audit: Audit,
                 run: Callable[[Callable[[str], None]], Answer], question_id: int | None) -> int | None:
    """The investigation shown in the thread; the stored investigation's id (None when it could not be stored)."""
    sources: dict[str, str] = dict.fromkeys(bot.workspace.sources.labels, "waiting…")
    conv.post_looking(looking_message(question, now, sources))
    audit.set(answer_ts=conv.looking_ts)  # where the answer will be: a restarted process can say what happened
    if not bot.finish(question_id, audit):
        question_id = None

    def progress(line: str) -> None:
        label, _, status = line.rpartition(": ")
        sources[label or line] = status if label else ""
        conv.show_progress(looking_message(question, now, sources))

    try:
        answer = run(progress)
    except (QuestionError, UnknownTunnel, AmbiguousTunnel, InvestigationError) as exc:
        failed = isinstance(exc, InvestigationError)
        text = escape(f"Sorry: {exc}")
        conv.update_looking(Rendered(text, [section(text)]))
        conv.finish(DEGRADED if failed else None)
        audit.set(outcome="source_failed" if failed else "bad_input", detail=str(exc))
        return question_id
    answer.notes += bot.workspace.problems + bot.workspace.pending
    inv = answer.investigation
    failures = bool(answer.failures)
    primary = inv.primary if inv else None
    window = (inv.start, inv.end) if inv else (answer.fleet.start, answer.fleet.end) if answer.fleet else (None, None)
    audit.set(outcome="answered", cause=primary.cause.value if primary else None,
              confidence=primary.confidence.value if primary else None,
              window_start=window[0], window_end=window[1],
              detail="; ".join(answer.failures) if failures else None,
              answer_json=stored_answer(answer),
              queries_json=[q.to_json() for q in answer.queries] or None)  # a fleet's and each tunnel's too
    # Stored before it is shown: its buttons read the stored answer, and may be clicked at once.
    if not bot.finish(question_id, audit):
        question_id = None
        answer.notes.append(NOT_STORED)
    buttons = Buttons(question_id, bot.options.log_analytics, bot.options.evidence_bundle, question_id is not None)
    conv.show_answer(render_answer(answer, buttons, files=True), render_text(answer), _file_name(answer))
    if answer.incident is not None or answer.parts:  # a drop answer: its chart in the thread (bot/slack/charts.py)
        post_charts(conv, answer)
    conv.finish(DEGRADED if failures else DONE)
    return question_id


def _resume(bot: SlackBot, job: QuestionJob) -> str:
    """A stopped process's attempt at this job: its "Looking…" message says what happened, its row is closed; the
    thread it opened is reused (a slash command's)."""
    try:
        previous = bot.state.interrupted_question(job.keys[0]) if job.keys else None
        if previous is None:
            return ""
        bot.state.finish_question(previous["id"], outcome="restarted", detail=RESTARTED)
    except StoreUnavailable as exc:
        log.warning("could not close the interrupted answer to %s: %s", job.keys[0], exc)
        return ""
    if previous.get("answer_ts"):
        try:
            bot.client.chat_update(channel=job.channel, ts=previous["answer_ts"], text=RESTARTED,
                                   blocks=[section(RESTARTED)])
        except Exception as exc:  # a courtesy: the answer follows either way
            log.info("could not edit the interrupted answer: %s", exc)
    return previous.get("thread_ts") or ""


def _file_name(answer: Answer) -> str:
    inv = answer.investigation
    if inv is None and answer.fleet is not None:  # the status of every tunnel, or of several
        return f"vpnbot-status-{answer.fleet.now.astimezone(UTC).strftime('%Y%m%dT%H%MZ')}.txt"
    if inv is None:
        return "vpnbot-answer.txt"
    return f"vpnbot-{inv.tunnel.name}-{inv.start.astimezone(UTC).strftime('%Y%m%dT%H%MZ')}.txt"



#: Said to the jobs still unanswered when the process stops (SIGTERM): the next process answers them.
STOPPING = "I'm being restarted and could not finish answering this: I'll answer as soon as I'm back."


def tell_stopping(bot: SlackBot, jobs: list[Job]) -> None:
    """Tell each unfinished job, where its answer would have gone, that it will be answered after the restart
    (its claim stays unanswered: the next process takes it over)."""
    for job in jobs:
        try:
            if isinstance(job, QuestionJob) and job.source == "slash" and job.response_url and not job.thread_ts:
                WebhookClient(job.response_url).send(text=STOPPING, response_type="ephemeral")
            else:
                bot.client.chat_postMessage(channel=job.channel, thread_ts=job.thread_ts or None, text=STOPPING)
        except Exception as exc:  # stopping: say what could not be said, and go on
            log.warning("could not tell %s about the restart: %s", job.channel, redact(str(exc)))
