"""The story of an answer (diagnostics/chains.py) as text lines and the JSON `story` key (render/blocks.py shows its
sentence as a "What happened" section).

An answer whose findings are linked tells them as one story before its cause; an answer without a chain renders
exactly as before (no line, no block, no key). `answer_story` is the one place an answer's story is made, so the
three formats always tell the same one.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from diagnostics.chains import Chain, story
from diagnostics.model import Finding, iso_z
from diagnostics.timefmt import local_and_utc
from handlers.answer import Answer


def answer_story(answer: Answer) -> Chain | None:
    """The story of the answer's investigation, if its findings link up; a drop answer's metrics (handlers/incident.py)
    add how long traffic really stopped."""
    inv = answer.investigation
    if inv is None:
        return None
    return story(inv, traffic=answer.incident.traffic if answer.incident is not None else None)


def story_lines(chain: Chain | None, tz: ZoneInfo) -> list[str]:
    """`Story: …`, then one line per step with its time and cause code, then a blank line; [] without a story."""
    if chain is None:
        return []
    width = max(len(_code(s.cause)) for s in chain.steps)
    steps = [f"  {local_and_utc(s.ts, tz)}  {_code(s.cause):<{width}}  {text}" for s, text in chain.step_lines(tz)]
    return [f"Story: {chain.sentence(tz)}", *steps, ""]


def in_story(finding: Finding, chain: Chain | None) -> bool:
    """Whether another finding of the answer is a step of its story (the text answer says so beside it)."""
    return chain is not None and finding.cause in chain.causes


def story_json(chain: Chain, tz: ZoneInfo) -> dict[str, Any]:
    """The JSON answer's `story` (docs/asking.md): the sentence, the steps in the story's order with their cause codes,
    and the docs/sources.md anchors the links rely on."""
    return {
        "text": chain.sentence(tz),
        "steps": [{"step": s.kind, "cause": s.cause.value if s.cause else None, "time": iso_z(s.ts), "side": s.side,
                   "text": text} for s, text in chain.step_lines(tz)],
        "sources": list(dict.fromkeys(a for link in chain.links for a in link.sources)),
    }


def with_story(doc: dict[str, Any], chain: Chain | None, tz: ZoneInfo) -> dict[str, Any]:
    """`doc` with `story` placed before `drops` (the story comes first); `doc` itself when there is none."""
    if chain is None:
        return doc
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "drops":
            out["story"] = story_json(chain, tz)
        out[key] = value
    if "story" not in out:
        out["story"] = story_json(chain, tz)
    return out


def _code(cause) -> str:
    return cause.value if cause is not None else "traffic"
