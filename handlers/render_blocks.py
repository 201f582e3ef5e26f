"""`--format blocks`: the answer as Slack Block Kit (the Slack bot posts exactly this).

Stays within Slack's limits (research anchors §3.5): 50 blocks, 3,000 characters a section, 150 a header, and
~13k characters in total; long text is cut with an explicit "…" rather than failing the post.
"""

from __future__ import annotations

import json
from typing import Any

from diagnostics.rules.context import duration_text
from diagnostics.timefmt import local_and_utc

from .ask import Answer
from .question import Intent
from .render_text import evidence_line, headline, help_text, status_line, tunnels_text

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_TOTAL = 12_000
EVIDENCE_LINES = 8


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION)}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, MAX_SECTION)}]}


def render_blocks(answer: Answer) -> dict[str, Any]:
    """`{"text": fallback, "blocks": [...]}`, ready for chat.postMessage."""
    if answer.intent is Intent.HELP:
        return {"text": help_text(), "blocks": [section(help_text())]}
    if answer.intent is Intent.TUNNELS:
        listing = tunnels_text(answer.registry)
        return {"text": listing, "blocks": [section("```" + listing + "```")]}
    inv = answer.investigation
    if inv is None:
        text = "\n".join(answer.notes)
        return {"text": text, "blocks": [section(text)]}
    tz = answer.question.tz
    title = status_line(inv, answer) if answer.intent is Intent.STATUS else headline(answer)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": cut(title, MAX_HEADER)}}]
    if inv.findings:
        main = inv.findings[0]
        blocks.append(section(f"*Cause:* `{main.cause.value}` ({main.confidence.value} confidence): {main.title}"))
        blocks.append(section(f"*Why:* {main.explanation}"))
        blocks.append(section(f"*What to do:* {main.advice}"))
        if main.evidence:
            lines = [evidence_line(e, tz) for e in main.evidence[:EVIDENCE_LINES]]
            more = len(main.evidence) - EVIDENCE_LINES
            if more > 0:
                lines.append(f"… {more} more rows")
            blocks.append(section("```" + cut("\n".join(lines), MAX_SECTION - 6) + "```"))
        if len(inv.findings) > 1:
            blocks.append(context("Also: " + "; ".join(
                f"`{f.cause.value}` ({f.confidence.value}) {f.title}" for f in inv.findings[1:])))
    if len(inv.drops) > 1:
        drops = ", ".join(f"{local_and_utc(d.down_ts, tz, seconds=False)} ({duration_text(d.duration)})"
                          for d in inv.drops[:10])
        blocks.append(context(f"{len(inv.drops)} drops: {drops}{' …' if len(inv.drops) > 10 else ''}"))
    notes = answer.notes + inv.notes
    if notes:
        blocks.append(context(" · ".join(notes)))
    blocks.append(actions(answer))
    blocks = fit(blocks)
    return {"text": cut(title, MAX_SECTION), "blocks": blocks}


def actions(answer: Answer) -> dict[str, Any]:
    inv = answer.investigation
    assert inv is not None
    value = json.dumps({"tunnel": inv.tunnel.name, "start": inv.start.isoformat(), "end": inv.end.isoformat(),
                        "anchor": inv.anchor.isoformat() if inv.anchor else None})
    return {"type": "actions", "block_id": "vpn_answer_actions", "elements": [
        {"type": "button", "action_id": "vpn_show_queries", "text": {"type": "plain_text", "text": "Show queries"},
         "value": value},
        {"type": "button", "action_id": "vpn_wider_window", "text": {"type": "plain_text", "text": "Wider window"},
         "value": value},
    ]}


def fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop context blocks from the end until the message fits Slack's block count and total size."""
    def size(bs: list[dict[str, Any]]) -> int:
        return len(json.dumps(bs))

    while (len(blocks) > MAX_BLOCKS or size(blocks) > MAX_TOTAL) and len(blocks) > 2:
        index = max(i for i, b in enumerate(blocks[:-1]) if b["type"] in ("context", "section"))
        blocks.pop(index)
    return blocks
