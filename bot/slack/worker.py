"""The worker pool behind the listeners: one job = one question (or one button click) answered in a thread.

The conversation a question gets (anchors §3: Botkube's receipts, Robusta's threads, Slack's rules):

1. 👀 on the asking message (a slash command, which cannot live in a thread, first gets a bot message in the
   channel, "<@asker> asked: /vpn …", and everything else happens in that message's thread);
2. "Looking at paris, 13:47–14:17 CET (12:47–13:17 UTC)…" in the thread, with one line per log source, edited as
   each source answers ("demo workspace: 412 rows");
3. that message edited into the answer (Block Kit); when the answer did not fit Slack's limits, the full text
   answer follows as a file in the thread (files_upload_v2, confirmed with files.info);
4. 👀 swapped for ✅, or ⚠️ when a log source failed.

Bad input, a tunnel the channel may not ask about, `help` and `tunnels` get a direct reply instead (only the
asker sees it for a slash command). Every question, click and refusal is a row in the state store; a crash becomes
a short apology with an error id, and the log line with that id holds the details, without secrets.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.config import ChannelSettings
from bot.slack import evidence
from bot.slack.jobs import BUSY, ClickJob, Job, QuestionJob
from bot.slack.logs import redact
from bot.state import StateStore
from bot.workspace import Workspace
from diagnostics.investigate import investigate
from diagnostics.model import InvestigationError
from diagnostics.tunnels import AmbiguousTunnel, Tunnel, TunnelRegistry, UnknownTunnel
from handlers.answer import Answer
from handlers.ask import ask
from handlers.evidence import stored_answer
from handlers.parse.intent import Intent
from handlers.parse.question import Question, QuestionError, TimeWindow, parse_question
from handlers.render.blockkit import Rendered, context, escape, section
from handlers.render.blocks import (
    EVIDENCE_BUNDLE,
    FILE_NOTE,
    SHOW_QUERIES,
    WIDER_WINDOW,
    Buttons,
    LogAnalyticsLink,
    QueryShown,
    help_message,
    looking_message,
    queries_message,
    queries_text,
    render_answer,
)
from handlers.render.text import render_text
from handlers.summary import summary_for

log = logging.getLogger("vpnbot.slack")

WORKING, DONE, DEGRADED, FAILED = "eyes", "white_check_mark", "warning", "x"
#: "Wider window" re-runs ±1 h around the asked time, then grows by an hour a side per click.
WIDER = timedelta(hours=1)
#: Slack shares an uploaded file asynchronously: files.info is asked a few times before saying so.
SHARE_CHECKS = (0.0, 0.5, 1.0, 2.0)
#: Errors after which a message is posted again as plain text + file rather than lost.
BLOCK_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "msg_too_long"}
NOT_THERE = {"not_in_channel", "channel_not_found", "is_archived"}


@dataclass
class BotOptions:
    admins: str = ""  # who can change [[channels]], named in refusals
    channels: tuple[ChannelSettings, ...] = ()
    log_analytics: LogAnalyticsLink | None = None  # "Open in Log Analytics" needs the workspace's resource id
    evidence_bundle: bool = True  # the "Evidence bundle" button (bot/slack/evidence.py); False hides it
    default_tz: str = "UTC"  # for askers whose users.info has no zone
    workers: int = 4
    queue_limit: int = 500
    retention_days: int = 90
    #: Worker threads run this much nicer than the rest (Linux): answering may wait a few ms, acknowledging not.
    worker_nice: int = 10


@dataclass
class Audit:
    """The audit row of one question, filled as the answer progresses."""

    fields: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def set(self, **values: Any) -> None:
        self.fields.update({k: v for k, v in values.items() if v is not None})


class SlackBot:
    def __init__(self, client: WebClient, workspace: Workspace, state: StateStore, options: BotOptions | None = None,
                 clock: Callable[[], datetime] | None = None, on_done: Callable[[], None] | None = None) -> None:
        self.client = client
        self.workspace = workspace
        self.state = state
        self.options = options or BotOptions()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.on_done = on_done  # told when a job submitted to this bot is finished (or refused)
        self._pool = ThreadPoolExecutor(max_workers=self.options.workers, thread_name_prefix="vpnbot-worker",
                                        initializer=_be_nice, initargs=(self.options.worker_nice,))
        self._notices = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vpnbot-notice")
        self._pending = 0
        self._idle = threading.Condition()
        self._closed = False
        self._last_purge = 0.0
        self._restricted = {c.id: {t.lower() for t in c.tunnels} for c in self.options.channels if c.id}

    # -- the pool -------------------------------------------------------------------------------------------

    def submit(self, job: Job, acknowledged: bool = False) -> bool:
        """Queue `job` and return at once; False when the bot is shutting down or the queue is full.

        A refused job is told "busy" where its answer would have gone, except a slash command still being
        acknowledged (`acknowledged=False`): its listener says it in the ack.
        """
        with self._idle:
            accepted = not self._closed and self._pending < self.options.queue_limit
            if accepted:
                self._pending += 1
        if accepted:
            self._pool.submit(self._run, job)
            return True
        in_ack = not acknowledged and isinstance(job, QuestionJob) and job.source == "slash"
        if not self._closed and not in_ack:
            self._notices.submit(self._busy, job)
        elif self.on_done:
            self.on_done()
        return False

    @property
    def pending(self) -> int:
        return self._pending

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every queued job is done; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = 30.0) -> bool:
        """Stop taking jobs, finish the queued ones (up to `timeout`), stop the threads."""
        with self._idle:
            self._closed = True
        done = self.drain(timeout)
        self._pool.shutdown(wait=done, cancel_futures=True)
        self._notices.shutdown(wait=False, cancel_futures=True)
        return done

    def _run(self, job: Job) -> None:
        try:
            if isinstance(job, QuestionJob):
                self.answer(job)
            else:
                self.click(job)
        except Exception:  # answer()/click() report their own failures; this is the last resort
            log.error("job failed: %s", redact(traceback.format_exc()))
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
            if self.on_done:
                self.on_done()
            self._purge_now_and_then()

    def _purge_now_and_then(self) -> None:
        if time.monotonic() - self._last_purge > 3600:
            self._last_purge = time.monotonic()
            try:
                self.state.purge()
            except Exception as exc:
                log.warning("state purge failed: %s", redact(str(exc)))

    def _busy(self, job: Job) -> None:
        """Never silent: a job refused for a full queue is told so where its answer would have gone."""
        try:
            if isinstance(job, QuestionJob) and job.source == "slash" and job.response_url:
                WebhookClient(job.response_url).send(text=BUSY, response_type="ephemeral")
            else:
                self.client.chat_postMessage(channel=job.channel, thread_ts=job.thread_ts or None, text=BUSY)
        except Exception as exc:
            log.warning("could not say busy in %s: %s", job.channel, redact(str(exc)))
        finally:
            if self.on_done:
                self.on_done()

    # -- questions ------------------------------------------------------------------------------------------

    def answer(self, job: QuestionJob) -> None:
        if not self.state.claim(job.keys):
            log.info("repeat delivery of %s ignored", job.keys[0])
            return
        from bot.slack.subscriptions import handle_subscription, is_subscription_command  # daily summaries (issue 6)

        if is_subscription_command(job.text):
            handle_subscription(self, job)
            return
        audit = Audit()
        audit.set(team=job.team, channel=job.channel, user=job.user, source=job.source, text=job.text)
        conv = Conversation(self, job)
        try:
            conv.react(WORKING)
            tz = self.user_zone(job.user)
            now = self.clock()
            if evidence.wants_stored(job.text):  # "/vpn evidence 42", "/vpn evidence" (issue 7)
                evidence.send_stored(self, conv, job.text, audit)
                return
            try:
                question = parse_question(job.text, self.workspace.registry, now, tz)
            except (QuestionError, UnknownTunnel, AmbiguousTunnel) as exc:
                conv.reply(Rendered(escape(f"Sorry: {exc}"), [section(escape(f"Sorry: {exc}"))]))
                conv.finish(None)
                self._record(audit, outcome="bad_input", detail=str(exc))
                return
            audit.set(intent=question.intent.value, tunnel=question.tunnel.name if question.tunnel else None)
            refusal = self.refusal(job.channel, question.tunnel)
            if refusal is not None:
                conv.reply(Rendered(refusal, [section(refusal)]))
                conv.finish(None)
                self._record(audit, outcome="refused", detail=refusal)
                return
            if question.intent is Intent.SUMMARY:
                self._summary(conv, question, now, audit)
                return
            if question.tunnel is None or question.intent in (Intent.HELP, Intent.TUNNELS):
                self._answer_directly(conv, job, question, now, tz, audit)
                return
            question_id = self.investigate_in_thread(
                conv, question, now, audit,
                lambda progress: ask(job.text, self.workspace.registry, self.workspace.sources, now, tz,
                                     progress=progress))
            if question.intent is Intent.EVIDENCE:  # "/vpn evidence paris at 14:02": the answer, then its bundle
                evidence.after_answer(self, conv, question_id, job.text, audit)
        except Exception:
            self._apologise(conv, audit)

    def _answer_directly(self, conv: Conversation, job: QuestionJob, question: Question, now: datetime,
                         tz: ZoneInfo, audit: Audit) -> None:
        """help, tunnels (and what is not available yet): no logs to read, one reply."""
        try:
            answer = ask(job.text, self.workspace.registry, self.workspace.sources, now, tz)
        except (QuestionError, UnknownTunnel, AmbiguousTunnel, InvestigationError) as exc:
            conv.reply(Rendered(escape(f"Sorry: {exc}"), [section(escape(f"Sorry: {exc}"))]))
            conv.finish(None)
            self._record(audit, outcome="bad_input", detail=str(exc))
            return
        if answer.intent is Intent.TUNNELS and job.channel in self._restricted:
            allowed = self._restricted[job.channel]
            answer.registry = TunnelRegistry(t for t in self.workspace.registry if t.name.lower() in allowed)
        rendered = help_message(answer) if answer.intent is Intent.HELP else render_answer(answer)
        conv.reply(rendered)
        if rendered.overflow and not conv.private:  # e.g. a long tunnel listing: the whole of it as a file
            conv.upload(render_text(answer), f"vpnbot-{answer.intent.value}.txt", rendered.text.split("\n")[0])
        conv.finish(DONE)
        self._record(audit, outcome="answered")

    def _summary(self, conv: Conversation, question: Question, now: datetime, audit: Audit) -> None:
        """ "/vpn summary [day]": the daily summary and its picture, in the thread (for the whole channel to see)."""
        from bot.slack.summaries import post, visible_tunnels

        if not conv.open_thread():
            self._record(audit, outcome="error", detail="the bot is not in the channel")
            return
        try:
            summary = summary_for(question, self.workspace.registry, self.workspace.sources, now,
                                  among=visible_tunnels(self, conv.channel, None))
        except (QuestionError, UnknownTunnel, AmbiguousTunnel) as exc:
            conv.reply(Rendered(escape(f"Sorry: {exc}"), [section(escape(f"Sorry: {exc}"))]))
            conv.finish(None)
            self._record(audit, outcome="bad_input", detail=str(exc))
            return
        post(self, conv.channel, summary, conv.thread_ts)
        conv.finish(DEGRADED if summary.failures else DONE)
        self._record(audit, outcome="answered", window_start=summary.start, window_end=summary.end,
                     detail="; ".join(summary.failures) or None)

    def investigate_in_thread(self, conv: Conversation, question: Question, now: datetime, audit: Audit,
                              run: Callable[[Callable[[str], None]], Answer]) -> int | None:
        """Looking… → progress per source → the answer (+ file) → ✅/⚠️, all in the thread; audited. Returns the
        stored investigation's id (None when nothing could be posted)."""
        assert question.tunnel is not None
        if not conv.open_thread():
            self._record(audit, outcome="error", detail="the bot is not in the channel")
            return None
        question_id = self.state.start_question(**audit.fields, window_start=question.window.start,
                                                window_end=question.window.end, thread_ts=conv.thread_ts)
        try:
            self._investigate(conv, question, now, audit, run, question_id)
        except Exception:
            audit.set(outcome="error", error_id=conv.apologise(self.options.admins))
        self._finish(question_id, audit)
        return question_id

    def _investigate(self, conv: Conversation, question: Question, now: datetime, audit: Audit,
                     run: Callable[[Callable[[str], None]], Answer], question_id: int) -> None:
        sources: dict[str, str] = dict.fromkeys(self.workspace.sources.labels, "waiting…")
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
        answer.notes += self.workspace.problems
        inv = answer.investigation
        buttons = Buttons(question_id, self.options.log_analytics, self.options.evidence_bundle)
        conv.show_answer(render_answer(answer, buttons, files=True), render_text(answer), _file_name(answer))
        failures = bool(inv and inv.failures)
        conv.finish(DEGRADED if failures else DONE)
        primary = inv.primary if inv else None
        audit.set(outcome="answered", cause=primary.cause.value if primary else None,
                  confidence=primary.confidence.value if primary else None,
                  window_start=inv.start if inv else None, window_end=inv.end if inv else None,
                  answer_ts=conv.looking_ts, detail="; ".join(inv.failures) if failures and inv else None,
                  answer_json=stored_answer(answer),
                  queries_json=[_query_json(q) for q in inv.queries] if inv else None)

    # -- buttons --------------------------------------------------------------------------------------------

    def click(self, job: ClickJob) -> None:
        if not self.state.claim(job.keys):
            log.info("repeat delivery of %s ignored", job.keys[0])
            return
        audit = Audit()
        audit.set(team=job.team, channel=job.channel, user=job.user, source="button", intent=job.action,
                  text=job.value)
        conv = Conversation(self, QuestionJob("button", job.team, job.channel, job.user, "", thread_ts=job.thread_ts))
        try:
            try:
                value = json.loads(job.value or "{}")
            except ValueError:
                value = {}
            if job.action == SHOW_QUERIES:
                self._show_queries(conv, value, audit)
            elif job.action == WIDER_WINDOW:
                self._wider_window(conv, value, audit)
            elif job.action == EVIDENCE_BUNDLE:
                evidence.on_click(self, conv, value, audit)
        except Exception:
            self._apologise(conv, audit)

    def _show_queries(self, conv: Conversation, value: Mapping[str, Any], audit: Audit) -> None:
        row = self.state.question(int(value["id"])) if str(value.get("id", "")).isdigit() else None
        if row is None or not row.get("queries_json"):
            days = self.options.retention_days
            text = f"That answer is no longer stored (answers are kept {days} days): ask the question again."
            conv.reply(Rendered(text, [section(text)]))
            self._record(audit, outcome="bad_input", detail=text)
            return
        tz = self.user_zone(conv.job.user)
        queries = [QueryShown(backend=q["backend"], text=q["text"], origin=q.get("origin", ""),
                              start=_parse_ts(q.get("start")), end=_parse_ts(q.get("end")), rows=q.get("rows", 0))
                   for q in json.loads(row["queries_json"])]
        tunnel = row.get("tunnel") or value.get("tunnel") or "the tunnel"
        message = queries_message(tunnel, queries, tz)
        conv.reply(message)
        if message.overflow:
            conv.upload(queries_text(tunnel, queries, tz), f"vpnbot-queries-{tunnel}.kql", f"Queries ({tunnel})")
        self._record(audit, outcome="answered", tunnel=tunnel)

    def _wider_window(self, conv: Conversation, value: Mapping[str, Any], audit: Audit) -> None:
        try:
            tunnel = self.workspace.registry.lookup(str(value.get("tunnel", "")))
            start, end = _parse_ts(value.get("start")), _parse_ts(value.get("end"))
        except (AmbiguousTunnel, ValueError):
            tunnel, start, end = None, None, None
        if tunnel is None or start is None or end is None:
            text = "I can't tell which answer this button belongs to: ask the question again."
            conv.reply(Rendered(text, [section(text)]))
            self._record(audit, outcome="bad_input", detail=text)
            return
        audit.set(tunnel=tunnel.name)
        refusal = self.refusal(conv.job.channel, tunnel)
        if refusal is not None:
            conv.reply(Rendered(refusal, [section(refusal)]))
            self._record(audit, outcome="refused", detail=refusal)
            return
        now = self.clock()
        anchor = _parse_ts(value.get("anchor"))
        start, end = wider_window(start, end, anchor, now)
        tz = self.user_zone(conv.job.user)
        intent = Intent(value.get("intent", Intent.WHY_DROP.value))
        question = Question(text=f"{intent.value} {tunnel.name} (wider window)", intent=intent, tunnel=tunnel,
                            window=TimeWindow(start, end), anchor=anchor, tz=tz, explicit_window=True)
        self.investigate_in_thread(conv, question, now, audit, lambda progress: rerun(
            question, self.workspace, now, progress))

    # -- policy ---------------------------------------------------------------------------------------------

    def allowed_tunnels(self, channel: str) -> set[str] | None:
        """The (lower-case) tunnel names a channel limited by [[channels]] may see; None when not limited."""
        return self._restricted.get(channel)

    def refusal(self, channel: str, tunnel: Tunnel | None) -> str | None:
        """The polite refusal when `channel` is limited to other tunnels ([[channels]]), else None."""
        if tunnel is None or channel not in self._restricted:
            return None
        allowed = self._restricted[channel]
        if tunnel.name.lower() in allowed:
            return None
        names = sorted(t.name for t in self.workspace.registry if t.name.lower() in allowed) or sorted(allowed)
        who = self.options.admins or "The vpnbot administrators"
        return (f"Sorry, questions about {escape(tunnel.name)} can't be asked in this channel: it is limited to "
                f"{escape(', '.join(names)) or 'no tunnel'}. {who} can change that in the vpnbot configuration "
                f"([[channels]] id = \"{escape(channel)}\"); you can also ask in a channel that may see "
                f"{escape(tunnel.name)}.")

    def user_zone(self, user: str) -> ZoneInfo:
        """The asker's zone: users.info, cached in the state store; the configured zone when Slack has none."""
        cached = self.state.zone(user) if user else None
        name = cached
        if name is None and user:
            try:
                name = (self.client.users_info(user=user).get("user") or {}).get("tz")
            except SlackApiError as exc:
                log.warning("users.info failed for %s: %s", user, exc.response.get("error"))
        if name:
            try:
                zone = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("users.info gave an unknown zone %r for %s", name, user)
            else:
                if cached is None:
                    self.state.remember_zone(user, name)
                return zone
        return ZoneInfo(self.options.default_tz)

    # -- audit ----------------------------------------------------------------------------------------------

    def _record(self, audit: Audit, **values: Any) -> None:
        audit.set(**values)
        self.state.start_question(**audit.fields, duration_ms=_elapsed_ms(audit))

    def _finish(self, question_id: int, audit: Audit) -> None:
        self.state.finish_question(question_id, **audit.fields, duration_ms=_elapsed_ms(audit))

    def _apologise(self, conv: Conversation, audit: Audit) -> None:
        error_id = conv.apologise(self.options.admins)
        try:
            self._record(audit, outcome="error", error_id=error_id)
        except Exception:
            log.error("could not audit error %s: %s", error_id, redact(traceback.format_exc()))


class Conversation:
    """Where one question's replies go, and the messages and reactions already made there."""

    def __init__(self, bot: SlackBot, job: QuestionJob) -> None:
        self.bot = bot
        self.client = bot.client
        self.job = job
        self.channel = job.channel
        self.thread_ts = job.thread_ts  # "" until a slash command posts its first message
        self.reacted_on = job.message_ts
        self.looking_ts = ""
        self._last_looking: dict[str, Any] = {}
        self._reactions: list[str] = []

    @property
    def private(self) -> bool:
        """A slash command's direct replies go only to the asker (the channel did not see the question)."""
        return self.job.source == "slash" and not self.thread_ts

    def react(self, name: str) -> None:
        if not self.reacted_on:
            return
        try:
            self.client.reactions_add(channel=self.channel, timestamp=self.reacted_on, name=name)
            self._reactions.append(name)
        except SlackApiError as exc:  # a reaction is a courtesy: never worth failing an answer
            log.info("reactions.add %s failed: %s", name, exc.response.get("error"))

    def finish(self, reaction: str | None) -> None:
        """Swap 👀 for the outcome's reaction (none for a reply that is not an answer)."""
        if WORKING in self._reactions:
            try:
                self.client.reactions_remove(channel=self.channel, timestamp=self.reacted_on, name=WORKING)
            except SlackApiError as exc:
                log.info("reactions.remove failed: %s", exc.response.get("error"))
        if reaction:
            self.react(reaction)

    def reply(self, message: Rendered) -> None:
        """One message in the thread (or, for a slash command with no thread yet, to the asker only)."""
        if self.private:
            if self.job.response_url:
                WebhookClient(self.job.response_url).send(response_type="ephemeral", replace_original=False,
                                                          **message.payload())
            else:
                self.client.chat_postEphemeral(channel=self.channel, user=self.job.user, **message.payload())
            return
        self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts or None, **message.payload())

    def open_thread(self) -> bool:
        """A slash command's first message in the channel, whose thread holds the answer; False (and the asker
        told how to fix it) when the bot cannot post there."""
        if self.thread_ts:
            return True
        text = f"<@{self.job.user}> asked: `/vpn {escape(self.job.text)}`"
        try:
            posted = self.client.chat_postMessage(channel=self.channel, text=text)
        except SlackApiError as exc:
            if exc.response.get("error") not in NOT_THERE:
                raise
            self.reply(Rendered(NOT_IN_CHANNEL, [section(NOT_IN_CHANNEL)]))
            return False
        self.thread_ts = self.reacted_on = posted["ts"]
        self.react(WORKING)
        return True

    def post_looking(self, message: Rendered) -> None:
        posted = self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, **message.payload())
        self.looking_ts = posted["ts"]
        self._last_looking = message.payload()

    def update_looking(self, message: Rendered, quiet: bool = False) -> None:
        """Edit the "Looking…" message; `quiet`: a progress line that fails to show is logged, not fatal."""
        payload = message.payload()
        if payload == self._last_looking:
            return
        try:
            self.client.chat_update(channel=self.channel, ts=self.looking_ts, **payload)
            self._last_looking = payload
        except SlackApiError as exc:
            if not quiet:
                raise
            log.info("progress update failed: %s", exc.response.get("error"))

    def show_answer(self, rendered: Rendered, full_text: str, filename: str) -> None:
        """The "Looking…" message becomes the answer; what did not fit follows as a file. A message Slack refuses
        for its size is posted as its headline + the file, never lost."""
        try:
            self.update_looking(rendered)
        except SlackApiError as exc:
            if exc.response.get("error") not in BLOCK_ERRORS:
                raise
            log.warning("Slack refused the answer's blocks (%s): sending it as a file", exc.response.get("error"))
            self.update_looking(Rendered(rendered.text, [section(rendered.text), context(FILE_NOTE)], True))
            rendered = Rendered(rendered.text, [], True)
        if rendered.overflow:
            self.upload(full_text, filename, rendered.text)

    def upload_file(self, file: str | bytes, filename: str, title: str) -> None:
        """files_upload_v2 of a binary file (a path or bytes: the evidence zip) into the thread, confirmed with
        files.info like `upload()`."""
        done = self.client.files_upload_v2(channel=self.channel, thread_ts=self.thread_ts or None, file=file,
                                           filename=filename, title=title[:250])
        self._confirm_shared(done["file"]["id"], filename, "The evidence bundle is")

    def _confirm_shared(self, file_id: str, filename: str, what: str) -> None:
        """files.info until Slack shows the file shared in the thread (it shares asynchronously); else a link."""
        info: Mapping[str, Any] = {}
        for delay in SHARE_CHECKS:
            time.sleep(delay)
            info = self.client.files_info(file=file_id)["file"]
            if _shared_in(info, self.channel):
                return
        link = info.get("permalink") or file_id
        text = f"{what} <{link}|{escape(filename)}> (Slack has not shown it in this thread yet)."
        self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts or None, text=text)

    def upload(self, content: str, filename: str, title: str) -> None:
        """files_upload_v2 into the thread, then files.info until Slack shows the file shared there."""
        done = self.client.files_upload_v2(channel=self.channel, thread_ts=self.thread_ts or None, content=content,
                                           filename=filename, title=title[:250])
        self._confirm_shared(done["file"]["id"], filename, "The full answer is in")

    def apologise(self, admins: str) -> str:
        """A short apology with an error id where the asker will see it; the id's log line has the details."""
        error_id = uuid.uuid4().hex[:8]
        log.error("error %s (%s in %s): %s", error_id, self.job.source, self.channel, redact(traceback.format_exc()))
        who = f" or give it to {admins}" if admins else ""
        text = (f"Sorry, something went wrong on my side while answering (error id `{error_id}`). "
                f"It is logged; please try again{who}.")
        try:
            message = Rendered(text, [section(text)])
            if self.looking_ts:
                self.update_looking(message)
            else:
                self.reply(message)
            self.finish(FAILED)
        except Exception:
            log.error("could not apologise for error %s: %s", error_id, redact(traceback.format_exc()))
        return error_id


NOT_IN_CHANNEL = ("I can't post in this channel yet: invite me with `/invite @vpnbot` (or ask me in a direct "
                  "message), then ask again.")


def _be_nice(nice: int) -> None:
    """Lower this worker thread's CPU priority (Linux schedules threads one by one); elsewhere, do nothing."""
    if nice and hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


def wider_window(start: datetime, end: datetime, anchor: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """±1 h around the asked time when the answer looked at less; otherwise one more hour on each side."""
    if anchor is not None and end - start < 2 * WIDER - timedelta(minutes=1):
        start, end = anchor - WIDER, anchor + WIDER
    else:
        start, end = start - WIDER, end + WIDER
    return start, min(end, now)


def rerun(question: Question, workspace: Workspace, now: datetime, progress: Callable[[str], None]) -> Answer:
    """`ask()` for a window chosen by a button rather than a sentence (the same investigation, not widened again)."""
    assert question.tunnel is not None
    inv = investigate(question.tunnel, question.window.start, question.window.end, workspace.sources, now,
                      anchor=question.anchor, tz=question.tz, widen=False, progress=progress)
    return Answer(question, investigation=inv)


def _shared_in(info: Mapping[str, Any], channel: str) -> bool:
    shares = info.get("shares") or {}
    if any(channel in (shares.get(kind) or {}) for kind in ("public", "private")):
        return True
    return any(channel in (info.get(key) or []) for key in ("channels", "groups", "ims"))


def _file_name(answer: Answer) -> str:
    inv = answer.investigation
    if inv is None:
        return "vpnbot-answer.txt"
    return f"vpnbot-{inv.tunnel.name}-{inv.start.astimezone(UTC).strftime('%Y%m%dT%H%MZ')}.txt"


def _query_json(q: Any) -> dict[str, Any]:
    return {"backend": q.backend, "origin": q.origin, "text": q.text, "rows": q.rows,
            "start": q.start.isoformat() if q.start else None, "end": q.end.isoformat() if q.end else None}


def _parse_ts(text: Any) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _elapsed_ms(audit: Audit) -> int:
    return int((time.monotonic() - audit.started) * 1000)
