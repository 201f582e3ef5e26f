"""Where one question's replies go, and the messages and reactions already made there.

The conversation a question gets (docs/slack.md#what-a-conversation-looks-like; receipts, and a thread for a slash
command: docs/sources.md#slack-threads):

1. 👀 on the asking message (a slash command, which cannot live in a thread, first gets a bot message in the
   channel, "<@asker> asked: /vpn …", and everything else happens in that message's thread);
2. "Looking at paris, 13:47–14:17 CET (12:47–13:17 UTC)…" in the thread, with one line per log source, edited as
   each source answers ("demo workspace: 412 rows");
3. that message edited into the answer (Block Kit); when the answer did not fit Slack's limits
   (docs/sources.md#slack-block-kit), the full text answer follows as a file in the thread (files_upload_v2,
   confirmed with files.info: docs/sources.md#slack-files);
4. 👀 swapped for ✅, or ⚠️ when a log source failed.

A direct reply (bad input, a refusal, `help`) goes only to the asker for a slash command; a crash becomes a short
apology with an error id, and the log line with that id holds the details, without secrets.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.logs import logger, redact
from bot.slack.jobs import QuestionJob
from handlers.render.blockkit import Rendered, context, escape, section
from handlers.render.blocks import FILE_NOTE

log = logger("vpnbot.slack")

WORKING, DONE, DEGRADED, FAILED = "eyes", "white_check_mark", "warning", "x"
#: Slack shares an uploaded file asynchronously: files.info is asked a few times before saying so.
SHARE_CHECKS = (0.0, 0.5, 1.0, 2.0)
#: Errors after which a message is posted again as plain text + file rather than lost.
BLOCK_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "msg_too_long"}
NOT_THERE = {"not_in_channel", "channel_not_found", "is_archived"}
NOT_IN_CHANNEL = ("I can't post in this channel yet: invite me with `/invite @vpnbot` (or ask me in a direct "
                  "message), then ask again.")


class Conversation:
    """Where one question's replies go, and the messages and reactions already made there."""

    def __init__(self, client: WebClient, job: QuestionJob, thread_ts: str = "") -> None:
        self.client = client
        self.job = job
        self.channel = job.channel
        # "" until a slash command posts its first message (or the thread an earlier attempt at it opened)
        self.thread_ts = job.thread_ts or thread_ts
        self.reacted_on = job.message_ts
        self.looking_ts = ""
        self._last_looking: dict[str, Any] = {}
        self._reactions: list[str] = []
        self._progress: Rendered | None = None  # the newest progress line not sent yet (`show_progress`)
        self._sender: threading.Thread | None = None  # the thread sending it
        self._progress_lock = threading.Lock()

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
            if exc.response.get("error") == "already_reacted":  # an earlier attempt's 👀: ours to swap all the same
                self._reactions.append(name)
            else:
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
        text = f"<@{self.job.user}> asked: `/vpn {echo(self.job.text)}`"
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

    def show_progress(self, message: Rendered) -> None:
        """Edit the "Looking…" message with a progress line, without waiting for Slack: the edit is sent by a thread
        of its own, so the reads go on meanwhile (a round trip to Slack per line). A line superseded while an edit is
        in flight is skipped (the newer one says all the older did); `update_looking` first waits for the edit in
        flight, so a progress line never lands on the answer."""
        with self._progress_lock:
            self._progress = message
            if self._sender is None:
                self._sender = threading.Thread(target=self._send_progress, name="vpnbot-progress", daemon=True)
                self._sender.start()

    def _send_progress(self) -> None:
        while True:
            with self._progress_lock:
                message, self._progress = self._progress, None
                if message is None:
                    self._sender = None
                    return
            try:
                self._edit_looking(message, quiet=True)
            except Exception as exc:  # a progress line is a courtesy: it never fails an answer, nor stops the thread
                log.info("progress update failed: %s", type(exc).__name__)

    def update_looking(self, message: Rendered, quiet: bool = False) -> None:
        """Edit the "Looking…" message, once the progress edit in flight (if any) is sent; `quiet`: an edit that
        fails is logged, not fatal."""
        with self._progress_lock:
            sender = self._sender
        if sender is not None:
            sender.join()
        self._edit_looking(message, quiet)

    def _edit_looking(self, message: Rendered, quiet: bool) -> None:
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

    def upload_file(self, file: str | bytes, filename: str, title: str, what: str = "The evidence bundle is") -> None:
        """files_upload_v2 of a binary file (a path or bytes: the evidence zip, a chart) into the thread, confirmed
        with files.info like `upload()`; `what` names it in the link posted if Slack is slow to show it."""
        done = self.client.files_upload_v2(channel=self.channel, thread_ts=self.thread_ts or None, file=file,
                                           filename=filename, title=title[:250])
        self._confirm_shared(done["file"]["id"], filename, what)

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
        log.error("error %s (%s in %s): %s", error_id, self.job.source, self.channel, _current(), exc_info=True)
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
            log.error("could not apologise for error %s", error_id, exc_info=True)
        return error_id


def _current() -> str:
    """The exception being handled, on one line (its traceback follows the log line)."""
    exc = sys.exc_info()[1]
    return f"{type(exc).__name__}: {exc}" if exc is not None else "no exception"


def echo(text: str) -> str:
    """The question as it is shown back inside a code span: secret-looking values masked, and nothing that could
    end the span or make a link (a backtick becomes a look-alike, `<`/`>`/`&` are escaped, one line)."""
    return escape(redact(text)).replace("`", "\u02cb").replace("\r", " ").replace("\n", " ")


def _shared_in(info: Mapping[str, Any], channel: str) -> bool:
    shares = info.get("shares") or {}
    if any(channel in (shares.get(kind) or {}) for kind in ("public", "private")):
        return True
    return any(channel in (info.get(key) or []) for key in ("channels", "groups", "ims"))
