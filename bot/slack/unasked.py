"""The usual buttons (Show queries, Wider window, Open in Log Analytics, Evidence bundle) under the messages the bot
posts without being asked: a watched incident (watches.py) and an Azure Monitor alert (alerts.py).

Their investigation is stored as a question row, like an asked question's (the audit trail: source "watch" or
"alert", no user), one row per tunnel, before the message is posted; the rows get the message's ts as their
`thread_ts` once it is posted. The buttons read those rows (buttons.py, evidence.py), so they work on these messages
exactly as under an answer, from any process. The buttons are built from the stored rows, not from the answer in
memory: an edit made later, maybe by another process (a tunnel back, an alert resolved), shows the same buttons.

    rows = store(bot, answer, channel, WATCH)       # before posting
    ts = post(bot, channel, text, rows)             # the message, with the rows' buttons
    attach(bot, rows, ts)
    post_details(bot, answer, rows, channel, ts, WATCH)   # the answer and its charts in the thread
    ...
    edit(bot, channel, ts, text)                    # any later edit, its buttons read from the store
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.logs import logger
from bot.slack.charts import post_charts
from bot.slack.conversation import Conversation
from bot.slack.core import SlackBot
from bot.slack.jobs import QuestionJob
from bot.state import StoreUnavailable
from diagnostics.model import QueryRecord, iso_z
from handlers.answer import Answer
from handlers.evidence import stored_answer, stored_queries
from handlers.render.blockkit import Rendered, context, escape, section
from handlers.render.blocks import ACTIONS_BLOCK, Buttons, action_elements, render_answer

log = logger("vpnbot.slack")

#: The `questions.source` of the investigations posted unasked, and who "asked" (an evidence bundle names them).
WATCH, ALERT = "watch", "alert"
ASKER = {WATCH: "vpnbot watch", ALERT: "Azure Monitor alert"}
#: A message carries the buttons of this many tunnels at most (Slack allows 50 blocks; a gateway may have more).
MAX_ROWS = 10


def store(bot: SlackBot, answer: Answer, channel: str, source: str) -> list[dict[str, Any]]:
    """The answer's investigation stored as question rows of `channel` (one per tunnel), outcome answered; the rows
    as the buttons read them (an empty list when the store failed: the message goes without buttons)."""
    rows = []
    for part in answer.parts or [answer]:
        inv = part.investigation
        if inv is None:
            continue
        primary = inv.primary
        row = {"channel": channel, "source": source, "user": ASKER.get(source), "text": part.question.text,
               "intent": part.intent.value, "tunnel": inv.tunnel.name, "window_start": iso_z(inv.start),
               "window_end": iso_z(inv.end),
               "outcome": "answered", "cause": primary.cause.value if primary else None,
               "confidence": primary.confidence.value if primary else None,
               "answer_json": stored_answer(part), "queries_json": stored_queries(part)}
        try:
            row["id"] = bot.state.start_question(**{k: v for k, v in row.items() if v is not None})
        except StoreUnavailable as exc:
            log.warning("the %s investigation of %s is not stored (no buttons): %s", source, inv.tunnel.name, exc)
            continue
        rows.append({**row, "queries_json": json.dumps(row["queries_json"] or [])})
    return rows


def attach(bot: SlackBot, rows: Sequence[dict[str, Any]], ts: str) -> None:
    """The rows belong to the message `ts` (its thread): what `stored` finds for a later edit."""
    for row in rows:
        try:
            bot.state.finish_question(row["id"], thread_ts=ts, answer_ts=ts)
        except StoreUnavailable as exc:
            log.warning("investigation %s not linked to its message %s: %s", row["id"], ts, exc)


def stored(bot: SlackBot, channel: str, ts: str) -> list[dict[str, Any]]:
    """The investigations stored for the message `ts` of `channel` ([] when the store fails: edited without them)."""
    try:
        return bot.state.questions("channel = ? AND thread_ts = ? AND source IN (?, ?) AND outcome = 'answered'",
                                   [channel, ts, WATCH, ALERT])
    except StoreUnavailable as exc:
        log.warning("the buttons of %s in %s are left out of its edit: %s", ts, channel, exc)
        return []


def actions(bot: SlackBot, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """An actions block per stored investigation, as under an answer; each button named after its tunnel when there
    are several (a gateway's tunnels dropping together), for MAX_ROWS tunnels at most."""
    blocks: list[dict[str, Any]] = []
    for n, row in enumerate(rows[:MAX_ROWS]):
        value = json.dumps({"id": row["id"], "intent": row["intent"], "tunnel": row["tunnel"],
                            "start": row["window_start"], "end": row["window_end"]})
        queries = [QueryRecord.from_json(q) for q in json.loads(row.get("queries_json") or "[]")]
        label = f" ({row['tunnel']})" if len(rows) > 1 else ""
        blocks.append({"type": "actions", "block_id": ACTIONS_BLOCK if n == 0 else f"{ACTIONS_BLOCK}_{n}",
                       "elements": action_elements(value, queries, buttons(bot, [row]), label)})
    if len(rows) > MAX_ROWS:
        names = ", ".join(r["tunnel"] for r in rows[MAX_ROWS:])
        blocks.append(context(escape(f"Buttons of the first {MAX_ROWS} tunnels only; for {names}, ask in the "
                                     f"thread (e.g. `why did {rows[MAX_ROWS]['tunnel']} drop`).")))
    return blocks


def post(bot: SlackBot, channel: str, text: str, rows: Sequence[dict[str, Any]]) -> str:
    """Post the message saying `text` (Block Kit-escaped) with the buttons of `rows`; its ts."""
    posted = bot.client.chat_postMessage(channel=channel, text=text, unfurl_links=False,
                                         blocks=[section(text), *actions(bot, rows)])
    return str(posted["ts"])


def edit(bot: SlackBot, channel: str, ts: str, text: str) -> None:
    """The message `ts` says `text` now, its buttons kept: read from the store, so any process can edit it."""
    bot.client.chat_update(channel=channel, ts=ts, text=text,
                           blocks=[section(text), *actions(bot, stored(bot, channel, ts))])


def buttons(bot: SlackBot, rows: Sequence[dict[str, Any]]) -> Buttons:
    """The buttons of an answer about one tunnel stored as `rows` (none of those reading it when it is not)."""
    question_id = rows[0]["id"] if len(rows) == 1 else None
    return Buttons(question_id, bot.options.log_analytics, bot.options.evidence_bundle, question_id is not None)


def details(bot: SlackBot, answer: Answer, rows: Sequence[dict[str, Any]]) -> Rendered:
    """The answer for the message's thread, with the buttons of its stored investigation."""
    return render_answer(answer, buttons(bot, rows))


def post_details(bot: SlackBot, answer: Answer, rows: Sequence[dict[str, Any]], channel: str, ts: str,
                 source: str) -> None:
    """The answer in the thread of the message `ts`, then the chart of each drop it investigated, as under an asked
    answer (charts.py: one that cannot be drawn or posted is logged, the details stand). Called where the details
    are posted, so a chart is posted as often as they are: once per investigation told in the thread, never by an
    edit of the message."""
    bot.client.chat_postMessage(channel=channel, thread_ts=ts, **details(bot, answer, rows).payload())
    post_charts(Conversation(bot.client, QuestionJob(source, "", channel, "", "", thread_ts=ts)), answer)
