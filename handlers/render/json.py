"""`--format json`: the JSON answer, schema 1 (documented in docs/asking.md). Scripts depend on it: extend, never
change."""

from __future__ import annotations

from typing import Any

from diagnostics.model import Drop, Event, Finding, iso_z
from handlers.answer import Answer
from handlers.help import HELP_EXAMPLES
from handlers.parse.intent import Intent
from handlers.render.summary import summary_json
from handlers.tunnels import tunnel_line

SCHEMA = 1
MAX_EVIDENCE = 50


def answer_to_json(answer: Answer) -> dict[str, Any]:
    question = answer.question
    inv = answer.investigation
    tunnel = question.tunnel
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "question": question.text,
        "intent": question.intent.value,
        "tunnel": ({"name": tunnel.name, "provider": tunnel.provider, **tunnel.identifiers} if tunnel else None),
        "window": {"start": iso_z(question.window.start), "end": iso_z(question.window.end)},
        "drops": [],
        "findings": [],
        "queries": [],
        "notes": list(answer.notes),
    }
    if question.intent is Intent.HELP:
        doc["notes"] += HELP_EXAMPLES
    elif question.intent is Intent.TUNNELS and answer.registry is not None:
        doc["notes"] += [tunnel_line(t) for t in answer.registry]
    if answer.p2s is not None:
        doc["queries"] = [{"backend": q.backend, "text": q.text} for q in answer.p2s.queries]
        doc["notes"] += answer.p2s.notes
        doc["attempts"] = [{"time": iso_z(a.start), "gateway": a.gateway, "user": a.user or None,
                            "outcome": a.outcome, "client_ip": a.client_ip or None, "detail": a.detail or None}
                           for a in answer.p2s.attempts]
    if answer.summary is not None:
        doc["window"] = {"start": iso_z(answer.summary.start), "end": iso_z(answer.summary.end)}
        doc["summary"] = summary_json(answer.summary)
        doc["queries"] = [{"backend": q.backend, "text": q.text} for q in answer.summary.queries]
        doc["notes"] += answer.summary.notes
    if inv is not None:
        doc["window"] = {"start": iso_z(inv.start), "end": iso_z(inv.end)}
        doc["drops"] = [drop_to_json(d) for d in inv.drops]
        doc["findings"] = [finding_to_json(f) for f in inv.findings]
        doc["queries"] = [{"backend": q.backend, "text": q.text} for q in inv.queries]
        doc["notes"] += inv.notes
    return doc


def drop_to_json(drop: Drop) -> dict[str, Any]:
    return {
        "down_at": iso_z(drop.down_ts),
        "up_at": iso_z(drop.up_ts) if drop.up_ts is not None else None,
        "down_instance": drop.down_instance or None,
        "up_instance": drop.up_instance or None,
    }


def finding_to_json(finding: Finding) -> dict[str, Any]:
    return {
        "cause": finding.cause.value,
        "confidence": finding.confidence.value,
        "title": finding.title,
        "explanation": finding.explanation,
        "advice": finding.advice,
        "evidence": [evidence_to_json(e) for e in finding.evidence[:MAX_EVIDENCE]],
    }


def evidence_to_json(event: Event) -> dict[str, Any]:
    return {"time": iso_z(event.ts), "source": event.source, "text": event.text()}
