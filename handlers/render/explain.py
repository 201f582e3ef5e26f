"""An `Explanation` (handlers/explain.py) as text, JSON and Slack Block Kit.

Rows with times are an investigation: shown exactly as `ask` shows it (`text`, `json`, `blocks`), headed by what the
input was, and the JSON's `intent` is "explain" with an `input` key added. Lines without times have no window and
no drops: their findings quote the lines that support them by line number (`"time": null` in JSON, and `"window":
null`), as docs/explain.md describes.
"""

from __future__ import annotations

import json
from typing import Any

from diagnostics.pasted import Line, LineFinding
from handlers.explain import Explanation
from handlers.render.blockkit import Cuts, Rendered, code, context, escape, fit, header, section
from handlers.render.blocks import ACTIONS_BLOCK, render_answer
from handlers.render.json import SCHEMA, answer_to_json
from handlers.render.text import render_text

EVIDENCE_LINES = 10
BLOCK_EVIDENCE_LINES = 8


def headline(explanation: Explanation) -> str:
    """`IKElogs.txt: a Network Watcher … IKElogs.txt, 6 lines: ike_proposal_mismatch`."""
    analysis = explanation.analysis
    size = f", {analysis.lines} lines" if analysis is not None else ""
    cause = explanation.cause
    verdict = f": {cause}" if cause else (": nothing failing in it" if analysis is not None else "")
    return f"{explanation.name}: {explanation.what}{size}{verdict}"


def explanation_text(explanation: Explanation) -> str:
    if explanation.answer is not None:
        return f"{headline(explanation)}\n\n{render_text(explanation.answer)}"
    analysis = explanation.analysis
    assert analysis is not None
    out = [headline(explanation), ""]
    if explanation.tunnel is not None:
        out += [f"Tunnel: {explanation.tunnel.name}", ""]
    if analysis.findings:
        main = analysis.findings[0]
        out += [f"Cause: {main.cause.value} ({main.confidence.value} confidence): {main.title}",
                f"Why: {main.explanation}", f"What to do: {main.advice}", "Lines:"]
        out += [f"  {line.number:>5}  {line.text}" for line in main.lines[:EVIDENCE_LINES]]
        out.append("")
        if len(analysis.findings) > 1:
            out.append("Other findings:")
            out += [f"  - {f.cause.value} ({f.confidence.value}): {f.title}: {f.explanation}"
                    for f in analysis.findings[1:]]
            out.append("")
    notes = analysis.notes + explanation.notes
    if notes:
        out.append("Notes:")
        out += [f"  - {n}" for n in notes]
    return "\n".join(out).rstrip() + "\n"


def explanation_json(explanation: Explanation) -> dict[str, Any]:
    """The JSON answer (schema 1), `intent` "explain", with `input` naming what was read."""
    source = {"name": explanation.name, "kind": explanation.kind, "what": explanation.what}
    if explanation.answer is not None:
        doc = answer_to_json(explanation.answer)
        doc["intent"] = "explain"
        doc["input"] = source
        return doc
    analysis = explanation.analysis
    assert analysis is not None
    tunnel = explanation.tunnel
    source["lines"] = analysis.lines
    return {
        "schema": SCHEMA, "question": f"explain {explanation.name}", "intent": "explain",
        "tunnel": {"name": tunnel.name, "provider": tunnel.provider, **tunnel.identifiers} if tunnel else None,
        "window": None, "drops": [],
        "findings": [_finding_json(f, explanation.name) for f in analysis.findings],
        "queries": [], "notes": analysis.notes + explanation.notes, "input": source,
    }


def _finding_json(finding: LineFinding, name: str) -> dict[str, Any]:
    return {"cause": finding.cause.value, "confidence": finding.confidence.value, "title": finding.title,
            "explanation": finding.explanation, "advice": finding.advice,
            "evidence": [{"time": None, "source": f"{name}:{line.number}", "text": line.text}
                         for line in finding.lines]}


def explanation_message(explanation: Explanation, files: bool = False) -> Rendered:
    """The explanation as one Slack message. An investigation has no buttons here: its rows are the file's, which
    the bot's buttons (wider window, evidence bundle) would read again from its own log sources."""
    if explanation.answer is not None:
        rendered = render_answer(explanation.answer, files=files)
        rendered.blocks = [b for b in rendered.blocks if b.get("block_id") != ACTIONS_BLOCK]
        rendered.blocks.insert(0, context(escape(f"{explanation.name}: {explanation.what}")))
        return rendered
    analysis = explanation.analysis
    assert analysis is not None
    cuts = Cuts()
    title = headline(explanation)
    blocks: list[dict[str, Any]] = [header(title, cuts)]
    if analysis.findings:
        main = analysis.findings[0]
        blocks += [section(f"*Cause:* `{main.cause.value}` ({main.confidence.value} confidence): "
                           f"{escape(main.title)}", cuts),
                   section(f"*Why:* {escape(main.explanation)}", cuts),
                   section(f"*What to do:* {escape(main.advice)}", cuts)]
        if main.lines:
            blocks.append(code(_evidence(main.lines), cuts))
        if len(analysis.findings) > 1:
            blocks.append(context("Also: " + "; ".join(f"`{f.cause.value}` ({f.confidence.value}) {escape(f.title)}"
                                                       for f in analysis.findings[1:]), cuts))
    notes = analysis.notes + explanation.notes
    if notes:
        blocks.append(context(escape(" · ".join(notes)), cuts))
    blocks, dropped = fit(blocks)
    return Rendered(escape(title), blocks, cuts.any or dropped)


def _evidence(lines: list[Line]) -> list[str]:
    shown = [f"{line.number:>4}  {line.text}" for line in lines[:BLOCK_EVIDENCE_LINES]]
    if len(lines) > BLOCK_EVIDENCE_LINES:
        shown.append(f"… {len(lines) - BLOCK_EVIDENCE_LINES} more lines")
    return shown


def render_explanation(explanation: Explanation, fmt: str) -> str:
    """`vpnbot explain --format text|json|blocks`."""
    if fmt == "json":
        return json.dumps(explanation_json(explanation), indent=2, ensure_ascii=False) + "\n"
    if fmt == "blocks":
        return json.dumps(explanation_message(explanation).payload(), indent=2, ensure_ascii=False) + "\n"
    return explanation_text(explanation)
