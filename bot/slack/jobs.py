"""What a listener hands to the worker pool: the few fields of a Slack payload the answer needs.

Parsing the payload here (not in the worker) keeps the listeners one line long and the worker free of Slack's
payload shapes. Every job carries the keys that identify its delivery, claimed once in the state store.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

COMMAND = "/vpn"
#: Files sent with a message that are explained (a screenshot next to a question leaves the question a question);
#: a .zip is read for the Network Watcher log inside (bot/slack/explain.py).
LOG_FILES = (".csv", ".tsv", ".json", ".jsonl", ".txt", ".log", ".zip")
#: Slack's text kinds of file: a long paste becomes a snippet, often named "Untitled", without a suffix.
TEXT_FILETYPES = ("text", "csv", "tsv", "json", "log")


def is_log_file(file: Mapping[str, Any]) -> bool:
    """Whether a file Slack describes (an event's `files` item, files.info's `file`) is one to explain."""
    return str(file.get("name") or "").lower().endswith(LOG_FILES) or file.get("mode") == "snippet" or \
        file.get("filetype") in TEXT_FILETYPES
BUSY = "I'm answering a lot of questions right now: please ask again in a minute."
#: How many jobs may be waiting or being answered at once (`[slack] queue_limit`); the next is told BUSY. A job is a
#: small frozen dataclass (a question's text is at most Slack's 40,000 characters), so 1,000 hold ~40 MB at most;
#: the demo drains ~30 a second on 2 cores, so a burst of 600 in 10 s is all accepted (benchmarks/bench_ack.py).
QUEUE_LIMIT = 1000


@dataclass(frozen=True)
class QuestionJob:
    source: str  # "slash" | "mention" | "dm" | "file" (a file_shared event)
    team: str
    channel: str
    user: str
    text: str
    message_ts: str = ""  # the asking message, which gets 👀 then ✅ (a slash command has none)
    thread_ts: str = ""  # the thread to answer in ("": a slash command starts one under the bot's first message)
    response_url: str = ""  # slash commands: where replies only the asker sees go
    keys: tuple[str, ...] = ()  # delivery ids: a repeat of any of them is the same question
    files: tuple[str, ...] = ()  # Slack file ids sent with the message (or shared in a thread): explained


@dataclass(frozen=True)
class ClickJob:
    action: str  # the button's action_id
    team: str
    channel: str
    user: str
    value: str
    thread_ts: str  # the thread the answer lives in
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertJob:
    """An Azure Monitor alert posted to /alerts/azure (bot/slack/alerts.py): its body as received (checked to be a
    common-schema alert already), to investigate and post in the channel its [[alerts]] entry names."""

    body: str
    keys: tuple[str, ...] = ()  # "azure-alert:<alertId>:<Fired|Resolved>": a retried webhook is the same delivery
    channel: str = ""  # not known before routing: where "busy" would go (nowhere)
    thread_ts: str = ""


Job = QuestionJob | ClickJob | AlertJob
_KINDS: dict[str, type[QuestionJob] | type[ClickJob] | type[AlertJob]] = {
    "question": QuestionJob, "click": ClickJob, "alert": AlertJob}


def job_json(job: Job) -> str:
    """The job as the state store keeps it with its claim, so another process can answer it (`job_from_json`)."""
    kind = "question" if isinstance(job, QuestionJob) else "alert" if isinstance(job, AlertJob) else "click"
    return json.dumps({"kind": kind, **dataclasses.asdict(job)}, sort_keys=True)


def job_from_json(text: str) -> Job:
    data = json.loads(text)
    cls = _KINDS[data.pop("kind")]
    data["keys"] = tuple(data.get("keys") or ())
    if cls is QuestionJob:
        data["files"] = tuple(data.get("files") or ())
    return cls(**data)


def question_from_command(body: Mapping[str, Any]) -> QuestionJob:
    trigger = body.get("trigger_id") or ""
    return QuestionJob(
        source="slash",
        team=body.get("team_id") or "",
        channel=body.get("channel_id") or "",
        user=body.get("user_id") or "",
        text=body.get("text") or "",
        response_url=body.get("response_url") or "",
        keys=(f"command:{trigger}",) if trigger else (),
    )


def question_from_event(body: Mapping[str, Any]) -> QuestionJob | None:
    """An @mention, or a message in a DM with the bot; None for every other message event (edits, joins, the
    bot's own posts, other channels), which are acknowledged and ignored."""
    event = body.get("event") or {}
    kind = event.get("type")
    if kind == "message":
        # A file sent in a DM arrives as a message of subtype file_share: explained (docs/explain.md).
        if event.get("channel_type") != "im" or event.get("subtype") not in (None, "file_share") \
                or event.get("bot_id"):
            return None
        source = "dm"
    elif kind == "app_mention":
        if event.get("bot_id"):
            return None
        source = "mention"
    else:
        return None
    channel, ts = event.get("channel") or "", event.get("ts") or ""
    # A mention in a DM can arrive as both app_mention and message.im: the message key makes them one question.
    keys = tuple(k for k in (f"event:{body.get('event_id') or ''}" if body.get("event_id") else "",
                             f"message:{channel}:{ts}" if ts else "") if k)
    return QuestionJob(
        source=source,
        team=body.get("team_id") or event.get("team") or "",
        channel=channel,
        user=event.get("user") or "",
        text=event.get("text") or "",
        message_ts=ts,
        thread_ts=event.get("thread_ts") or ts,
        keys=keys,
        files=tuple(f["id"] for f in event.get("files") or () if isinstance(f, Mapping) and f.get("id")
                    and is_log_file(f)),
    )


def file_from_event(body: Mapping[str, Any]) -> QuestionJob | None:
    """A `file_shared` event: a file someone shared where the bot is, to explain when it is in a DM or in a thread
    the bot answers in (bot/slack/explain.py decides, with files.info). None for the bot's own uploads."""
    event = body.get("event") or {}
    file_id = event.get("file_id") or (event.get("file") or {}).get("id") or ""
    bots = {a.get("user_id") for a in body.get("authorizations") or () if a.get("is_bot")}
    if event.get("type") != "file_shared" or not file_id or event.get("user_id") in bots:
        return None
    return QuestionJob(source="file", team=body.get("team_id") or "", channel=event.get("channel_id") or "",
                       user=event.get("user_id") or "", text="", keys=(f"file:{file_id}",), files=(file_id,))


def click_from_action(body: Mapping[str, Any]) -> ClickJob:
    action = (body.get("actions") or [{}])[0]
    message = body.get("message") or {}
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
    user = (body.get("user") or {}).get("id") or ""
    action_ts = action.get("action_ts") or ""
    return ClickJob(
        action=action.get("action_id") or "",
        team=(body.get("team") or {}).get("id") or "",
        channel=channel,
        user=user,
        value=action.get("value") or "",
        thread_ts=message.get("thread_ts") or container.get("thread_ts") or message.get("ts") or "",
        keys=(f"action:{channel}:{user}:{action_ts}",) if action_ts else (),
    )
