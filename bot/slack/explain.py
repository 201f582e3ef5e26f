"""Log lines and files sent to the bot, explained in the thread (docs/explain.md): the route of a message holding
log lines (a DM, an @mention, also in a thread), of a file sent with one, and of a file shared in a thread the bot
answers in (a `file_shared` event).

A file is read with files.info and downloaded from its `url_private` with the bot token as a Bearer header
(docs/sources.md#slack-file-download), refused above `MAX_UPLOAD_BYTES` (the refusal says the cap) or when it is
not text, and written only under the state directory, removed once explained. The work is
`handlers.explain.explain_file`'s: here are only the Slack side (where the file is, the thread, the reply) and the
channel's limits: the tunnels a limited channel may see name the rows, and rows of any other tunnel are refused
without naming it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError

from bot.explain import explain_bytes, opener, scratch
from bot.logs import logger, redact
from bot.slack.conversation import DONE, WORKING, Conversation
from bot.slack.core import Audit, SlackBot
from bot.slack.jobs import QuestionJob, is_log_file, job_json
from bot.slack.policy import is_direct_message
from bot.state import Claim, StoreUnavailable
from diagnostics.aws.streams import stream_in_text
from diagnostics.azure.workspace_cache import WorkspaceCache
from diagnostics.exportfile import ExportError
from diagnostics.foreign import looks_like_log_lines
from diagnostics.model import InvestigationError
from diagnostics.tunnels import AmbiguousTunnel, OutsideTunnel, UnknownTunnel
from handlers.parse.question import QuestionError
from handlers.render.blockkit import Rendered, escape, section
from handlers.render.explain import explanation_message, explanation_text

log = logger("vpnbot.slack")

#: The largest upload read (the refusal says it): a day of a busy gateway's rows is far less.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: Files explained from one message (each gets its own answer).
MAX_FILES = 3
DOWNLOAD_TIMEOUT_S = 30.0
#: The export options in Slack: named in the message that carries the lines (or the file), said when a refusal
#: asks for the option.
OPTION_HINTS = {
    "--aws-stream": (" Here, name the stream in the message that carries the lines or the file (e.g. "
                     "vpn-0123456789abcdef0-52.95.10.1): I read it as --aws-stream."),
    "--export-tz": (" Here, name the zone in the message that carries the lines or the file (e.g. Europe/Paris): I "
                    "read it as --export-tz."),
}
#: An IANA zone name in a message ("the portal showed Europe/Paris time").
_ZONE = re.compile(r"\b(?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc)"
                   r"/[A-Za-z_+-]+(?:/[A-Za-z_]+)?\b")
_MENTION = re.compile(r"^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>[\s,:]*)+")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


class UploadRefused(ValueError):
    """A file the bot will not read; str() is the one line said in the thread."""


def pasted(text: str) -> str:
    """The lines as typed: what is inside code blocks when the message has some (the words around them, "what
    does this mean?", are not rows: a CSV's header must be its first line), else the message without its leading
    mention; Slack's three escapes undone."""
    text = _MENTION.sub("", text)
    blocks = text.split("```")[1::2]  # the parts between an opening and a closing fence
    if any(block.strip() for block in blocks):
        text = "\n".join(blocks)
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text.strip("\n")


def wanted(job: QuestionJob) -> bool:
    """Whether the job is an explanation: files came with it, or its text is log lines rather than a question."""
    return bool(job.files) or looks_like_log_lines(pasted(job.text))


def answer(bot: SlackBot, job: QuestionJob) -> None:
    """Explain the job's files, or the log lines of its text, in its thread."""
    held: tuple[str, ...] = ()
    if job.source == "file":
        placed = _placed(bot, job)
        if placed is None:
            return
        job, held = placed
    audit = Audit()
    audit.set(team=job.team, channel=job.channel, user=job.user, source=job.source, intent="explain",
              text=redact(job.text) or f"(file {', '.join(job.files)})", delivery=job.keys[0] if job.keys else None)
    conv = Conversation(bot.client, job)
    try:
        if not conv.open_thread():  # a slash command's answer needs a thread; told how to invite the bot if not
            bot.record(audit, outcome="error", detail="the bot is not in the channel")
            return
        conv.react(WORKING)
        if job.files:
            for file_id in job.files[:MAX_FILES]:
                _explain_upload(bot, conv, job, file_id, audit)
        else:
            _explain(bot, conv, job, pasted(job.text).encode("utf-8"), "message", audit, filename="message.txt")
    except Exception:
        bot.apologise(conv, audit)
    finally:
        if held:
            _settle(bot, held)


def _explain_upload(bot: SlackBot, conv: Conversation, job: QuestionJob, file_id: str, audit: Audit) -> None:
    try:
        name, data = fetch(bot, file_id)
    except UploadRefused as exc:
        _sorry(bot, conv, audit, str(exc), "bad_input")
        return
    _explain(bot, conv, job, data, name, audit)


def _explain(bot: SlackBot, conv: Conversation, job: QuestionJob, data: bytes, name: str, audit: Audit,
             filename: str = "") -> None:
    """One input explained in the thread: "Reading …" edited into the explanation (and its full text as a file
    when it does not fit), or one line saying why it was not."""
    tz = bot.user_zone(job.user)
    reading = f"Reading {name}…"
    conv.post_looking(Rendered(escape(reading), [section(escape(reading))]))
    audit.set(thread_ts=conv.thread_ts, answer_ts=conv.looking_ts)
    # A limited channel's tunnels are the only ones that name rows or appear in a refusal, and rows that name no
    # tunnel are attributed among them only.
    visible = bot.policy.registry_for(job.channel)
    with scratch(_state_directory(bot)) as directory:
        try:
            # Loaded rows stay in the same directory as the upload: nothing of it is written anywhere else.
            open_exports = opener(cache=WorkspaceCache(directory / "workspace"), configured=visible,
                                  aws_stream=stream_in_text(job.text), export_tz=zone_in_text(job.text))
            explanation = explain_bytes(data, name, directory, visible, open_exports, bot.clock(), tz,
                                        filename=filename)
        except OutsideTunnel as exc:  # rows of a tunnel this channel may not see: refused without naming it
            refusal = bot.policy.refuse(job.channel, "the tunnel in that file")
            conv.update_looking(Rendered(refusal, [section(refusal)]))
            conv.finish(None)
            bot.record(audit, outcome="refused", detail=f"{name}: {exc.hidden}")
            return
        except (ExportError, QuestionError, UnknownTunnel, AmbiguousTunnel, InvestigationError) as exc:
            hints = "".join(hint for option, hint in OPTION_HINTS.items() if option in str(exc))
            text = escape(f"Sorry: {exc}{hints}")
            conv.update_looking(Rendered(text, [section(text)]))
            conv.finish(None)
            bot.record(audit, outcome="bad_input", detail=str(exc))
            return
    conv.show_answer(explanation_message(explanation, files=True), explanation_text(explanation),
                     f"vpnbot-explain-{Path(name).stem[:40] or 'lines'}.txt")
    conv.finish(DONE)
    inv = explanation.answer.investigation if explanation.answer else None
    bot.record(audit, outcome="answered", cause=explanation.cause,
               tunnel=explanation.tunnel.name if explanation.tunnel else None,
               window_start=inv.start if inv else None, window_end=inv.end if inv else None,
               detail=f"{name}: {explanation.what}")


def zone_in_text(text: str) -> str | None:
    """The first IANA time zone a message names, None when it names none (or only unknown ones)."""
    for match in _ZONE.finditer(text):
        try:
            return ZoneInfo(match[0]).key
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return None


def _sorry(bot: SlackBot, conv: Conversation, audit: Audit, text: str, outcome: str) -> None:
    said = escape(f"Sorry: {text}")
    conv.reply(Rendered(said, [section(said)]))
    conv.finish(None)
    bot.record(audit, outcome=outcome, detail=text)


def _state_directory(bot: SlackBot) -> Path | None:
    """Where uploads are written: next to the state file (None for an in-memory store: a temporary directory)."""
    path = getattr(bot.state, "path", ":memory:")
    return None if path == ":memory:" else Path(path).resolve().parent


# --- the file -----------------------------------------------------------------------------------------------------


def fetch(bot: SlackBot, file_id: str) -> tuple[str, bytes]:
    """(name, bytes) of a file sent to the bot: files.info, then its url_private with the bot token."""
    try:
        info: dict[str, Any] = bot.client.files_info(file=file_id)["file"]
    except SlackApiError as exc:
        raise UploadRefused(f"I could not read that file ({exc.response.get('error')}): Slack did not let me see "
                            "it") from None
    name = str(info.get("name") or info.get("title") or file_id)
    if not is_log_file(info):
        raise UploadRefused(f"{name} is not a file I read: send the logs as .csv, .json or .txt (or Network "
                            "Watcher's troubleshoot .zip)")
    size = int(info.get("size") or 0)
    if size > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"{name} is {_size(size)}; I read files of up to {_cap()}: export a shorter "
                            "time range, or only the rows of the tunnel")
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    return name, download(url, bot.client.token or "", bot.client.base_url, name)


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.1f} KB"


def _cap() -> str:
    """The cap in words: "10 MB" (or "64 KB", for a cap under a megabyte)."""
    if MAX_UPLOAD_BYTES >= 1_048_576:
        return f"{MAX_UPLOAD_BYTES / 1_048_576:g} MB"
    return f"{MAX_UPLOAD_BYTES / 1024:g} KB"


def allowed_host(url: str, api_url: str) -> bool:
    """The bot token goes only to Slack: https on slack.com or slack-gov.com, or the configured Web API's host."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    slack = parts.scheme == "https" and any(host == d or host.endswith("." + d) for d in ("slack.com",
                                                                                          "slack-gov.com"))
    return slack or (bool(host) and host == (urlsplit(api_url).hostname or "").lower())


def download(url: str, token: str, api_url: str, name: str) -> bytes:
    """The file's bytes, at most MAX_UPLOAD_BYTES; redirects are followed only to hosts `allowed_host` accepts
    (the Authorization header goes with them)."""
    if not allowed_host(url, api_url):
        raise UploadRefused(f"{name}: Slack gave a download address outside Slack, which I do not send my token to")

    class SlackOnly(HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
            return super().redirect_request(req, fp, code, msg, headers, newurl) \
                if allowed_host(newurl, api_url) else None

    request = Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with build_opener(SlackOnly).open(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
            if "text/html" in (response.headers.get("Content-Type") or ""):
                raise UploadRefused(f"{name}: Slack answered with a web page instead of the file; the app needs the "
                                    "files:read scope (reinstall it from manifest.yml)")
            data = response.read(MAX_UPLOAD_BYTES + 1)
    except (HTTPError, URLError, TimeoutError, OSError) as exc:
        raise UploadRefused(f"{name}: I could not download it from Slack ({getattr(exc, 'reason', exc)})") from None
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"{name} is larger than {_cap()}, the most I read: export a shorter time range")
    return data


# --- a file shared in a thread (file_shared) ------------------------------------------------------------------------


def _placed(bot: SlackBot, job: QuestionJob) -> tuple[QuestionJob, tuple[str, ...]] | None:
    """The job of a file shared in a DM or in a thread the bot answers in, with the message that carried it, which
    it claims (the same message may also arrive as a DM or a mention: one of them explains it); None otherwise."""
    try:
        info = bot.client.files_info(file=job.files[0])["file"]
    except SlackApiError as exc:
        log.info("files.info %s failed: %s", job.files[0], exc.response.get("error"))
        return None
    if not is_log_file(info):
        return None  # a screenshot in the thread: nothing to explain, and nothing to say about it
    shares = info.get("shares") or {}
    places = [p for kind in ("public", "private") for p in (shares.get(kind) or {}).get(job.channel) or ()]
    for place in places:
        ts, thread = str(place.get("ts") or ""), str(place.get("thread_ts") or "")
        if not ts:
            continue
        if is_direct_message(job.channel) or (thread and _answers_in(bot, job.channel, thread)):
            key = f"message:{job.channel}:{ts}"
            try:
                if bot.state.claim([key], bot.owner, job_json(job)) is Claim.REPEAT:
                    return None  # the DM or mention carrying the file is (being) answered
            except StoreUnavailable as exc:
                log.warning("explaining %s without claiming its message: %s", job.files[0], exc)
            return replace(job, message_ts=ts, thread_ts=thread or ts), (key,)
    return None


def _answers_in(bot: SlackBot, channel: str, thread_ts: str) -> bool:
    """Whether the bot answered a question in this thread (the thread is "with the bot")."""
    try:
        return bool(bot.state.questions("channel = ? AND thread_ts = ?", [channel, thread_ts]))
    except StoreUnavailable as exc:
        log.warning("could not tell whether %s %s is a thread of mine: %s", channel, thread_ts, exc)
        return False


def _settle(bot: SlackBot, keys: tuple[str, ...]) -> None:
    try:
        bot.state.settle(keys)
    except StoreUnavailable as exc:
        log.warning("could not mark %s answered: %s", keys[0], exc)
