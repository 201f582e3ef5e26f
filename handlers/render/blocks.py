"""`--format blocks`: the answer as Slack Block Kit (the Slack bot posts exactly this), with its buttons, and the
bot's other messages about a question: "Looking at paris…", the queries behind an answer, the help message.

Built from the primitives of `blockkit`, within Slack's limits: what does not fit is cut with an explicit "…" and
the message says so (`Rendered.overflow`); the Slack bot then posts the full text answer as a file in the thread,
so a long answer is never a failed post.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from diagnostics.model import QueryRecord
from diagnostics.timefmt import duration_text, local_and_utc, local_range
from handlers.answer import Answer
from handlers.help import help_examples
from handlers.parse.intent import Intent
from handlers.parse.question import Question
from handlers.render.asked import asked_text
from handlers.render.blockkit import (
    FILE_NOTE,
    MAX_BLOCKS,
    MAX_BUTTON_URL,
    MAX_HEADER,
    MAX_SECTION,
    Cuts,
    Rendered,
    button,
    code,
    context,
    escape,
    fit,
    header,
    limit_problems,
    section,
)
from handlers.render.status import state_line
from handlers.render.status_blocks import fleet_message, several_message
from handlers.render.story import answer_story
from handlers.render.summary_blocks import summary_blocks
from handlers.render.text import attempt_line, evidence_line, headline, latest_line, p2s_headline, status_line
from handlers.render.traffic import traffic_lines
from handlers.several import MAX_TUNNELS, asked_tunnels
from handlers.status import status_period, status_start
from handlers.tunnels import tunnels_text

EVIDENCE_LINES = 8
DROPS_SHOWN = 10
PORTAL = "https://portal.azure.com"

# action_ids the Slack app listens to
SHOW_QUERIES = "vpn_show_queries"
WIDER_WINDOW = "vpn_wider_window"
OPEN_LOG_ANALYTICS = "vpn_open_log_analytics"
EVIDENCE_BUNDLE = "vpn_evidence_bundle"
ACTIONS_BLOCK = "vpn_answer_actions"


@dataclass(frozen=True)
class LogAnalyticsLink:
    """What the "Open in Log Analytics" button needs: the workspace's ARM resource id (the portal cannot open a
    workspace by its GUID) and the portal of its cloud."""

    resource_id: str
    portal: str = PORTAL


@dataclass(frozen=True)
class Buttons:
    investigation_id: int | None = None  # the stored answer "Show queries" prints
    log_analytics: LogAnalyticsLink | None = None
    evidence_bundle: bool = False  # the bot shows it (BotOptions); a bundle needs a stored answer to be made from
    stored: bool = True  # False: the answer could not be stored, so the buttons that read it are left out


# ------------------------------------------------------------------------------------------------- answers


def render_blocks(answer: Answer) -> dict[str, Any]:
    """`{"text": fallback, "blocks": [...]}`, ready for chat.postMessage (`vpnbot ask --format blocks`)."""
    return render_answer(answer).payload()


def p2s_message(answer: Answer, cuts: Cuts) -> Rendered:
    """Point-to-site attempts: failures in a code block, names exactly as masked in the logs."""
    report = answer.p2s
    assert report is not None
    title = p2s_headline(answer)
    failed = "\n".join(attempt_line(a, answer.question.tz) for a in report.failed[-20:]) or "No failed attempt."
    notes = "Usernames as the gateway logged them (partly masked). " + " · ".join(report.notes)
    blocks = [header(title), section("```" + cuts.cut(escape(failed), MAX_SECTION - 6) + "```"),
              context(escape(notes), cuts)]
    return Rendered(escape(title), blocks, cuts.any)


def render_answer(answer: Answer, buttons: Buttons | None = None, files: bool = False) -> Rendered:
    """The answer as one message, its first block the question as understood (`asked`). With `files`, an answer
    that does not fit says that the file follows."""
    line = asked_text(answer)
    if answer.summary is not None and not answer.question.tunnel and not answer.question.tunnels:
        line = ""  # the summary's title says it: every tunnel, that day, that zone
    first = context(escape(line)) if line else None
    if answer.parts:
        return several_message(answer, first, part_title, files)
    if answer.fleet is not None and answer.state is None:
        return fleet_message(answer, first, files)
    rendered = _render_answer(answer, buttons, files, first)
    if first is not None and rendered.blocks and rendered.blocks[0] is not first:
        rendered.blocks.insert(0, first)
        if len(rendered.blocks) > MAX_BLOCKS or limit_problems(rendered.payload()):
            rendered.blocks, dropped = fit(rendered.blocks)
            rendered.overflow = rendered.overflow or dropped
    return rendered


def part_title(answer: Answer) -> str:
    """The first line of one tunnel's part of an answer about several."""
    if answer.state is not None:
        line = state_line(answer.state, answer.question.tz, say_flapping=True)
        return f"{line}. {latest_line(answer)}" if answer.investigation is not None else line
    if answer.investigation is not None:
        return headline(answer)
    return " ".join(answer.notes)


def _render_answer(answer: Answer, buttons: Buttons | None, files: bool, first: dict[str, Any] | None) -> Rendered:
    buttons = buttons or Buttons()
    cuts = Cuts()
    if answer.summary is not None:
        return summary_blocks(answer.summary)
    if answer.intent is Intent.HELP:
        return help_message(answer)
    if answer.intent is Intent.TUNNELS:
        listing = tunnels_text(answer.registry)
        return Rendered(escape(listing), [section("```" + cuts.cut(escape(listing), MAX_SECTION - 6) + "```")],
                        cuts.any)
    if answer.p2s is not None:
        return p2s_message(answer, cuts)
    inv = answer.investigation
    if inv is None:
        text = escape("\n".join(answer.notes))
        return Rendered(text, [section(text, cuts)], cuts.any)
    tz = answer.question.tz
    if answer.state is not None:
        title = state_line(answer.state, tz, say_flapping=True)
    else:
        title = status_line(inv, answer) if answer.intent is Intent.STATUS else headline(answer)
    blocks: list[dict[str, Any]] = [*([first] if first else []), header(title)]
    if len(title) > MAX_HEADER:  # a header is short by design: the whole line follows it, nothing is lost
        blocks.append(section(escape(title), cuts))
    if answer.state is not None:
        blocks.append(section(escape(latest_line(answer)), cuts))
    if answer.traffic is not None:  # the state and the bytes each way, before the causes
        blocks.append(code(traffic_lines(answer.traffic, tz), cuts))
    if inv.caveats:  # what the logs could not show, before any cause
        blocks.append(context(escape("Read partly: " + " · ".join(inv.caveats)), cuts))
    chain = answer_story(answer)
    if chain is not None:  # linked findings told as one story, before the cause
        blocks.append(section(f"*What happened:* {escape(chain.sentence(tz))}", cuts))
    if inv.findings:
        main = inv.findings[0]
        blocks.append(section(f"*Cause:* `{main.cause.value}` ({main.confidence.value} confidence): "
                              f"{escape(main.title)}", cuts))
        blocks.append(section(f"*Why:* {escape(main.explanation)}", cuts))
        blocks.append(section(f"*What to do:* {escape(main.advice)}", cuts))
        if main.evidence:
            lines = [evidence_line(e, tz) for e in main.evidence[:EVIDENCE_LINES]]
            more = len(main.evidence) - EVIDENCE_LINES
            if more > 0:
                lines.append(f"… {more} more rows")
            blocks.append(code(lines, cuts))
        if len(inv.findings) > 1:
            blocks.append(context("Also: " + "; ".join(
                f"`{f.cause.value}` ({f.confidence.value}) {escape(f.title)}" for f in inv.findings[1:]), cuts))
    if answer.incident is not None and answer.incident.line:  # did traffic resume (handlers/incident.py)
        blocks.append(section(escape(answer.incident.line), cuts))
    if len(inv.drops) > 1:
        drops = ", ".join(f"{local_and_utc(d.down_ts, tz, seconds=False)} ({duration_text(d.duration)})"
                          for d in inv.drops[:DROPS_SHOWN])
        if len(inv.drops) > DROPS_SHOWN:
            cuts.any = True  # the full list is in the text answer
            drops += f" … and {len(inv.drops) - DROPS_SHOWN} more"
        blocks.append(context(f"{len(inv.drops)} drops: {drops}", cuts))
    notes = answer.notes + inv.notes + (answer.fleet.notes if answer.fleet else [])
    if notes:
        blocks.append(context(escape(" · ".join(notes)), cuts))
    blocks.append(actions(answer, buttons))
    blocks, dropped = fit(blocks, reserve=len(json.dumps(context(FILE_NOTE))) if files else 0)
    overflow = cuts.any or dropped
    if overflow and files:
        blocks.insert(len(blocks) - 1, context(FILE_NOTE))
    return Rendered(escape(cuts.cut(title, MAX_SECTION)), blocks, overflow)


def help_message(answer: Answer | None = None) -> Rendered:
    examples = help_examples(answer.registry if answer else None)
    lines = "\n".join(f"• `{escape(e)}`" for e in examples)
    text = "Ask me about a VPN tunnel, for example:\n" + lines
    daily = ("A summary in this channel every morning: `/vpn subscribe daily 09:00 [tunnels…|all]`; "
             "`/vpn subscriptions` lists them, `/vpn unsubscribe` stops them.")
    watch = ("Every new drop posted here, already explained: `/vpn watch [tunnels…|all]`; `/vpn watching` lists "
             "the channels watching, `/vpn unwatch` stops it; `/vpn mute &lt;tunnel&gt; 2h [why]` silences a "
             "tunnel here for a while.")
    return Rendered(text, [section(text), section(daily), section(watch),
                           context("Type them after `/vpn`, mention me in a channel or a thread, "
                                   "or send them to me in a direct message.")])


def actions(answer: Answer, buttons: Buttons | None = None) -> dict[str, Any]:
    buttons = buttons or Buttons()
    inv = answer.investigation
    assert inv is not None
    state = {"id": buttons.investigation_id, "intent": answer.intent.value, "tunnel": inv.tunnel.name,
             "start": inv.start.isoformat(), "end": inv.end.isoformat(),
             "anchor": inv.anchor.isoformat() if inv.anchor else None}
    value = json.dumps({k: v for k, v in state.items() if v is not None})
    return {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": action_elements(value, inv.queries, buttons)}


def action_elements(value: str, queries: Iterable[QueryRecord], buttons: Buttons, label: str = "") -> list[dict]:
    """The buttons of one investigation (`value`: what a click carries back; `label`: whose they are, when a message
    carries the buttons of several, e.g. " (paris)")."""
    elements: list[dict[str, Any]] = [
        *([button(SHOW_QUERIES, f"Show queries{label}", value=value)] if buttons.stored else []),
        button(WIDER_WINDOW, f"Wider window{label}", value=value),
    ]
    if buttons.log_analytics is not None:
        la = [q for q in queries if q.backend == "log-analytics" and q.start and q.end]
        if la:
            url = log_analytics_url(buttons.log_analytics, la[0].text, la[0].start, la[0].end)  # type: ignore[arg-type]
            if len(url) <= MAX_BUTTON_URL:  # a query too long for a link is still one "Show queries" away
                elements.append(button(OPEN_LOG_ANALYTICS, f"Open in Log Analytics{label}", url=url))
    if buttons.evidence_bundle and buttons.stored:
        elements.append(button(EVIDENCE_BUNDLE, f"Evidence bundle{label}", value=value))
    return elements


# ------------------------------------------------------------------------------------------ other messages


def window_text(start: datetime, end: datetime, tz: ZoneInfo, now: datetime) -> str:
    """`13:47–14:17 CET (12:47–13:17 UTC)` today in the asker's zone, with the date on any other day."""
    text = local_range(start, end, tz)
    today = now.astimezone(tz).strftime("%Y-%m-%d ")
    return text.removeprefix(today) if start.astimezone(tz).date() == now.astimezone(tz).date() else text


def question_window(question: Question, now: datetime) -> tuple[datetime, datetime]:
    """The window `ask()` will investigate (a status question without a time looks back a day; the status of every
    tunnel lists the drops of its period)."""
    start, end = question.window.start, min(question.window.end, now)
    if question.intent is Intent.STATUS:
        start, end = status_period(question, now) if not asked_tunnels(question) else (status_start(question, now),
                                                                                         end)
    return start, end


def looking_message(question: Question, now: datetime, sources: Mapping[str, str]) -> Rendered:
    """"Looking at paris, 13:47–14:17 CET (12:47–13:17 UTC)…" and one line per log source, updated as they answer."""
    names = [t.name for t in asked_tunnels(question)]
    who = ", ".join(names[:MAX_TUNNELS]) if names else "every tunnel"
    start, end = question_window(question, now)
    title = f"Looking at {who}, {window_text(start, end, question.tz, now)}…"
    blocks = [section(escape(title))]
    if sources:
        blocks.append(context("\n".join(f"• {escape(label)}: {escape(status)}" if status else f"• {escape(label)}"
                                        for label, status in sources.items())))
    return Rendered(escape(title), blocks)


def queries_message(tunnel: str, queries: Iterable[QueryRecord], tz: ZoneInfo) -> Rendered:
    """The queries an answer ran, each with its range and row count, ready to paste into Log Analytics."""
    cuts = Cuts()
    unique: dict[tuple[str, str, str], QueryRecord] = {}
    for q in queries:
        unique.setdefault((q.backend, q.origin, q.text), q)
    title = f"Queries behind the answer about {tunnel} ({len(unique)}):"
    blocks: list[dict[str, Any]] = [section(f"*{escape(title)}*")]
    for q in unique.values():
        where = f" on {q.origin}" if q.origin else ""
        span = f", {local_range(q.start, q.end, tz)}" if q.start and q.end else ""
        blocks.append(context(escape(f"{q.backend}{where}{span}, {q.rows} rows"), cuts))
        blocks.append(section("```" + cuts.cut(escape(q.text), MAX_SECTION - 6) + "```"))
    blocks, dropped = fit(blocks)
    return Rendered(escape(title), blocks, cuts.any or dropped)


def queries_text(tunnel: str, queries: Iterable[QueryRecord], tz: ZoneInfo) -> str:
    """The same queries as a plain file (when they do not fit a message)."""
    out = [f"Queries behind the answer about {tunnel}", ""]
    for q in queries:
        span = f", {local_range(q.start, q.end, tz)}" if q.start and q.end else ""
        out += [f"// {q.backend}{' on ' + q.origin if q.origin else ''}{span}, {q.rows} rows", q.text, ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------- portal deep link


def log_analytics_url(link: LogAnalyticsLink, query: str, start: datetime, end: datetime) -> str:
    """A portal link that opens `query` in the workspace's Logs blade over exactly [start, end].

    The format is the portal's own "Share → Copy link to query": the query gzip-compressed, base64-encoded and
    URL-encoded twice (once for the value, once for the path segment), and an ISO 8601 interval as the timespan.
    """
    packed = base64.b64encode(gzip.compress(query.encode("utf-8"), mtime=0)).decode("ascii")
    q = quote(quote(packed, safe=""), safe="")
    span = quote(f"{_iso_ms(start)}/{_iso_ms(end)}", safe="")
    resource = quote(link.resource_id, safe="")
    return (f"{link.portal.rstrip('/')}/#blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/resourceId/{resource}"
            f"/source/LogsBlade.AnalyticsShareLinkToQuery/q/{q}/timespan/{span}")


def _iso_ms(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.astimezone(UTC).microsecond // 1000:03d}Z"
