"""`--format json`: the JSON answer, schema 1 (documented in docs/asking.md). Scripts depend on it: extend, never
change."""

from __future__ import annotations

from typing import Any

from diagnostics.fleet.model import FleetStatus, TunnelStatus
from diagnostics.model import Drop, Event, Finding, iso_z
from handlers.answer import Answer
from handlers.help import HELP_EXAMPLES
from handlers.parse.intent import Intent
from handlers.render.asked import understood_json
from handlers.render.status import state_json
from handlers.render.story import answer_story, with_story
from handlers.render.summary import summary_json
from handlers.render.traffic import traffic_json
from handlers.tunnels import tunnel_line

SCHEMA = 1
MAX_EVIDENCE = 50


def answer_to_json(answer: Answer, part: bool = False) -> dict[str, Any]:
    """The answer of schema 1; a status adds `state` and `tunnels` (one answer per tunnel, each without `tunnels` of
    its own: `part`), every answer `understood` (docs/asking.md)."""
    question = answer.question
    inv = answer.investigation
    tunnel = question.tunnel
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "question": question.text,
        "understood": understood_json(answer),
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
        if answer.incident is not None:  # each drop's `traffic` and the `traffic_note` (docs/asking.md)
            from handlers.incident import incident_json  # lazy load: only drop answers have one

            incident_json(doc, answer.incident)
        doc["findings"] = [finding_to_json(f) for f in inv.findings]
        doc["queries"] = [{"backend": q.backend, "text": q.text} for q in inv.queries]
        doc["notes"] += inv.notes
        doc["caveats"] = list(inv.caveats)  # what the logs could not show (also first among the notes)
        doc["notes"][:0] = inv.caveats
        doc = with_story(doc, answer_story(answer), question.tz)  # `story` only when findings link up
    if answer.traffic is not None:
        doc["traffic"] = traffic_json(answer.traffic)
    if answer.fleet is not None:
        doc["queries"] += [{"backend": q.backend, "text": q.text} for q in answer.fleet.queries]
        doc["notes"] += answer.fleet.notes
    if answer.state is not None:
        doc["state"] = state_json(answer.state)
        if not part:
            doc["tunnels"] = [{k: v for k, v in doc.items() if k != "understood"}]
    elif answer.parts:
        doc["tunnels"] = [answer_to_json(one, part=True) for one in answer.parts]
    elif answer.fleet is not None:
        fleet = answer.fleet
        doc["window"] = {"start": iso_z(fleet.start), "end": iso_z(fleet.end)}
        doc["tunnels"] = [fleet_tunnel_json(s, fleet, question.text) for s in fleet.ordered()]
    return doc


def fleet_tunnel_json(s: TunnelStatus, fleet: FleetStatus, question: str) -> dict[str, Any]:
    """One tunnel of a fleet status as an answer of schema 1: its drops of the period with their causes (the cause of
    an outage going on first), and its `state`."""
    findings = [f for f in [s.cause, *(d.finding for d in reversed(s.drops))] if f is not None]
    unique = list({id(f): f for f in findings}.values())
    return {
        "schema": SCHEMA, "question": question, "intent": "status",
        "tunnel": {"name": s.name, "provider": s.tunnel.provider, **s.tunnel.identifiers},
        "window": {"start": iso_z(fleet.start), "end": iso_z(fleet.end)},
        "drops": [drop_to_json(d.drop) for d in s.drops],
        "findings": [finding_to_json(f) for f in unique],
        "queries": [], "notes": [], "state": state_json(s),
    }


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
