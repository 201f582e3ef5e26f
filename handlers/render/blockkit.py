"""Block Kit primitives and Slack's message limits, for every message the bot posts (answers, summaries, bundles,
subscriptions).

Slack's limits (docs/sources.md, "Block Kit limits"): 50 blocks, 3,000 characters a section, 150 a header, and
~13k characters in total (an undocumented aggregate limit: `msg_blocks_too_long`). What does not fit is cut with an
explicit "…" and the message says so (`Rendered.overflow`), so the caller can post the whole text as a file. Every
dynamic text is escaped for mrkdwn (`escape`), so a log line holding `<!channel>` cannot ping a channel.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
#: Measured as the JSON of the blocks, which is longer than the text Slack counts (~13.2k): a safe margin.
MAX_TOTAL = 12_000
MAX_BUTTON_URL = 3000
MAX_BUTTON_VALUE = 2000
#: Said at the end of a message that was cut to fit, when the whole answer follows as a file.
FILE_NOTE = "This answer was too long for one message: the full answer is in the file below."


@dataclass
class Rendered:
    """A message ready for chat.postMessage / chat.update; `overflow` when something had to be cut to fit."""

    text: str
    blocks: list[dict[str, Any]]
    overflow: bool = False

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


@dataclass
class Cuts:
    """Remembers whether any text was cut, so the caller knows the message is not the whole answer."""

    any: bool = False

    def cut(self, text: str, limit: int) -> str:
        if len(text) <= limit:
            return text
        self.any = True
        return text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Slack's three mrkdwn escapes; anything else is shown as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    return Cuts().cut(text, limit)


def section(text: str, cuts: Cuts | None = None) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": (cuts or Cuts()).cut(text, MAX_SECTION)}}


def context(text: str, cuts: Cuts | None = None) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": (cuts or Cuts()).cut(text, MAX_SECTION)}]}


def chunked(lines: list[str]) -> list[dict[str, Any]]:
    """Sections holding as many of `lines` as fit (a section holds 3,000 characters)."""
    blocks, chunk = [], []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > MAX_SECTION:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line[:MAX_SECTION])
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def header(text: str, cuts: Cuts | None = None) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": (cuts or Cuts()).cut(text, MAX_HEADER)}}


def code(lines: Iterable[str], cuts: Cuts) -> dict[str, Any]:
    return section("```" + cuts.cut(escape("\n".join(lines)), MAX_SECTION - 6) + "```")


def button(action_id: str, text: str, value: str | None = None, url: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}}
    if value is not None:
        element["value"] = value[:MAX_BUTTON_VALUE]
    if url is not None:
        element["url"] = url
    return element


def fit(blocks: list[dict[str, Any]], reserve: int = 0) -> tuple[list[dict[str, Any]], bool]:
    """Drop context/section blocks from the end (never the first nor the last) until the message fits Slack's
    block count and total size, leaving `reserve` characters free; True when something was dropped."""
    def size(bs: list[dict[str, Any]]) -> int:
        return len(json.dumps(bs)) + reserve

    dropped = False
    limit = MAX_BLOCKS - (1 if reserve else 0)
    while (len(blocks) > limit or size(blocks) > MAX_TOTAL) and len(blocks) > 2:
        index = max(i for i, b in enumerate(blocks[:-1]) if i > 0 and b["type"] in ("context", "section"))
        blocks.pop(index)
        dropped = True
    return blocks, dropped


def limit_problems(message: Mapping[str, Any]) -> list[str]:
    """What breaks Slack's message limits in `{"text", "blocks"}` (empty when the message can be posted)."""
    problems = []
    blocks = message.get("blocks") or []
    if not message.get("text"):
        problems.append("no top-level text fallback")
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks > {MAX_BLOCKS}")
    if len(json.dumps(blocks)) > MAX_TOTAL:
        problems.append(f"{len(json.dumps(blocks))} characters of blocks > {MAX_TOTAL}")
    for i, block in enumerate(blocks):
        texts = [block.get("text", {}).get("text", "")] + [e.get("text", "") for e in block.get("elements", [])
                                                            if isinstance(e.get("text"), str)]
        limit = MAX_HEADER if block.get("type") == "header" else MAX_SECTION
        problems += [f"block {i} ({block.get('type')}): {len(t)} characters > {limit}" for t in texts if len(t) > limit]
    return problems
