"""`evidence paris at 14:02`, `evidence 42`: a support-ready zip of one investigation, for the CLI and Slack alike.

    question_id = record_answer(store, answer, user="cli:alice", source="cli", now=now)
    made = make_bundle(store, question_id, workspace, "bundle.zip", RedactionOptions(), created_by="cli:alice")

An investigation is a row of the state store's `questions` table: the Slack bot writes one for every answer, the
CLI for `vpnbot evidence --question` (and for `vpnbot ask` when the configuration names a state_db). The bundle is
built from that row only (diagnostics.evidence.model says why), with its queries re-run on the sources of
`workspace`, and recorded in the `bundles` table (who, when, the zip's SHA-256). The store is reached through
`EvidenceStore` (bot.state.StateStore is one); the secrets the process holds and vpnbot's version are the caller's
to add (bot/evidence.py adds them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from diagnostics.evidence import BundleResult, EvidenceRecord, RedactionOptions, build_bundle
from diagnostics.evidence.model import tunnel_from_answer
from diagnostics.investigate import investigate
from diagnostics.model import Investigation, QueryRecord
from diagnostics.sources import Sources
from diagnostics.timefmt import parse_iso
from diagnostics.tunnels import AmbiguousTunnel, TunnelRegistry
from handlers.answer import Answer
from handlers.incident_chart import chart_from_json, chart_json
from handlers.parse.intent import Intent
from handlers.parse.question import Question
from handlers.render.json import answer_to_json

#: Intents whose answers read no tunnel logs, so there is nothing to bundle (a button's row has the button's id as
#: its intent, and "Wider window" answers are investigations too).
UNBUNDLED_INTENTS = {Intent.HELP.value, Intent.TUNNELS.value, Intent.SUMMARY.value}

Progress = Callable[[str], None]


class EvidenceStore(Protocol):
    """The state store as bundles use it: its `questions` (the investigations) and `bundles` tables."""

    def start_question(self, **fields: Any) -> int: ...

    def question(self, question_id: int) -> Mapping[str, Any] | None: ...

    def record_bundle(self, question_id: int, sha256: str, size: int, file_name: str, created_by: str,
                      redact_ips: bool = False, hash_users: bool = False, now: datetime | None = None) -> int: ...


class TunnelLogs(Protocol):
    """Where a bundle's queries are re-run: the tunnels and the log sources of a workspace."""

    @property
    def registry(self) -> TunnelRegistry: ...

    @property
    def sources(self) -> Sources: ...


class EvidenceError(ValueError):
    """The bundle cannot be made as asked (unknown investigation, one with no logs, …): bad input, one line."""


@dataclass(frozen=True)
class MadeBundle:
    result: BundleResult
    bundle_id: int  # the `bundles` row

    @property
    def path(self) -> Path:
        return self.result.file.path


def evidence_investigation(question: Question, sources: Sources, now: datetime,
                           progress: Progress | None = None, widen: bool = True) -> Investigation:
    """ "evidence paris at 14:02" bundles the investigation "why did paris drop at 14:02" makes (widened the same
    way); the bundle itself is made from the stored answer (`record_answer`, then `make_bundle`)."""
    assert question.tunnel is not None  # parse_question guarantees a tunnel for evidence
    return investigate(question.tunnel, question.window.start, question.window.end, sources, now,
                       anchor=question.anchor, tz=question.tz, progress=progress, widen=widen)


# ------------------------------------------------------------------------------------------- storing answers


def stored_answer(answer: Answer) -> dict[str, Any]:
    """The JSON answer (schema 1, docs/asking.md) as the state store keeps it: each finding also names the rule that
    produced it, which a bundle's report gives beside each finding."""
    doc = answer_to_json(answer)
    findings = answer.investigation.findings if answer.investigation is not None else []
    for finding, out in zip(findings, doc["findings"], strict=False):
        if finding.rule:
            out["rule"] = finding.rule
    if answer.incident is not None and answer.incident.chart is not None:  # what a bundle's chart.png is drawn from
        doc["chart"] = chart_json(answer.incident.chart)
    return doc


def draw_chart(answer: Mapping[str, Any]) -> bytes | None:
    """A bundle's `chart.png`: the chart the stored answer describes (its `chart`), None when it has none."""
    doc = answer.get("chart")
    if not isinstance(doc, Mapping):
        return None
    from handlers.render.incident_png import render_incident_png  # lazy load: Pillow, only for a bundle with a chart

    return render_incident_png(chart_from_json(doc))


def stored_queries(answer: Answer) -> list[dict[str, Any]] | None:
    """The queries as run, in the shape of `questions.queries_json` (what "Show queries" and bundles read)."""
    if answer.investigation is not None:
        queries = answer.investigation.queries
    elif answer.p2s is not None:
        queries = answer.p2s.queries
    else:
        return None
    return [q.to_json() for q in queries]


def record_answer(store: EvidenceStore, answer: Answer, *, user: str, source: str, now: datetime, channel: str = "",
                  team: str = "", thread_ts: str = "") -> int | None:
    """Store an answered question as an investigation; its id, or None when the answer read no logs (help).

    `asked_at` is the `now` the question was answered for (pinned with --now or not): a bundle made later from the
    built-in demo needs it to rebuild the same demo week."""
    queries = stored_queries(answer)
    if queries is None:
        return None
    inv = answer.investigation
    primary = inv.primary if inv is not None else None
    window = answer.question.window
    return store.start_question(
        asked_at=now, team=team, channel=channel, user=user, source=source, text=answer.question.text,
        intent=answer.intent.value, tunnel=(inv.tunnel.name if inv is not None else
                                            answer.question.tunnel.name if answer.question.tunnel else None),
        window_start=inv.start if inv is not None else window.start,
        window_end=inv.end if inv is not None else window.end,
        outcome="answered", cause=primary.cause.value if primary else None,
        confidence=primary.confidence.value if primary else None,
        answer_json=stored_answer(answer), queries_json=queries, thread_ts=thread_ts or None,
    )


# ------------------------------------------------------------------------------------------- reading them back


def load_record(store: EvidenceStore, question_id: int, registry: TunnelRegistry,
                channel: str | None = None) -> EvidenceRecord:
    """The stored investigation `question_id`. With `channel`, only one asked in that channel (Slack)."""
    row = store.question(question_id)
    if row is None or (channel is not None and row.get("channel") != channel):
        raise EvidenceError(f"unknown investigation {question_id}" + (" in this channel" if channel else ""))
    return record_from_row(row, registry)


def record_from_row(row: Mapping[str, Any], registry: TunnelRegistry) -> EvidenceRecord:
    question_id = int(row["id"])
    if row.get("intent") in UNBUNDLED_INTENTS:
        raise EvidenceError(f"investigation {question_id} was a '{row['intent']}' question: it read no logs, so "
                            "there is nothing to bundle")
    if not row.get("answer_json") or not row.get("queries_json"):
        state = row.get("outcome") or "unknown"
        raise EvidenceError(f"investigation {question_id} has no stored answer to bundle (its outcome: {state})")
    answer = json.loads(row["answer_json"])
    queries = tuple(QueryRecord.from_json(q) for q in json.loads(row["queries_json"]))
    tunnel = None
    name = row.get("tunnel") or (answer.get("tunnel") or {}).get("name")
    if name:
        try:
            tunnel = registry.lookup(str(name))
        except AmbiguousTunnel:
            tunnel = None
        if tunnel is None:  # no longer configured: the answer still names its identifiers
            tunnel = tunnel_from_answer(answer.get("tunnel"))
    return EvidenceRecord(
        investigation_id=question_id, question=str(row.get("text") or answer.get("question") or ""),
        asked_at=str(row.get("asked_at") or ""), asked_by=str(row.get("user") or ""),
        channel=str(row.get("channel") or ""), source=str(row.get("source") or ""), answer=answer,
        queries=queries, tunnel=tunnel,
    )


# ------------------------------------------------------------------------------------------------ bundling


def file_name(record: EvidenceRecord, redact_ips: bool = False) -> str:
    """`vpnbot-evidence-42-paris-20261121T1347Z.zip`. A tunnel named after its IP (exports without configuration)
    is left out of the name when IPs are redacted: a file name is read before anyone opens the bundle."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", record.tunnel_name).strip("-.") or "tunnel"
    if redact_ips and re.search(r"\d+\.\d+\.\d+\.\d+|:", record.tunnel_name):
        name = "tunnel"
    start = parse_iso((record.answer.get("window") or {}).get("start"))
    when = start.astimezone(UTC).strftime("%Y%m%dT%H%MZ") if start else "unknown"
    return f"vpnbot-evidence-{record.investigation_id}-{name}-{when}.zip"


def make_bundle(store: EvidenceStore, question_id: int, workspace: TunnelLogs, out: str | Path | None,
                options: RedactionOptions, created_by: str, *, channel: str | None = None,
                directory: str | Path = ".", progress: Progress | None = None,
                now: datetime | None = None, version: str = "unknown") -> MadeBundle:
    """Build the bundle of investigation `question_id` from `workspace`'s sources and record it in the store. `out`
    defaults to `file_name()` in `directory`; `options.secrets` are masked wherever they appear; `version` is the
    vpnbot that made it. Raises EvidenceError (bad input) or diagnostics.evidence.RowsUnavailable (no source could
    re-run its queries)."""
    record = load_record(store, question_id, workspace.registry, channel)
    path = Path(out) if out else Path(directory) / file_name(record, options.redact_ips)
    result = build_bundle(record, workspace.sources, path, options, version=version, progress=progress,
                          chart=draw_chart)
    bundle_id = store.record_bundle(question_id, result.file.sha256, result.file.size, path.name, created_by,
                                    redact_ips=options.redact_ips, hash_users=options.hash_users,
                                    now=now or datetime.now(UTC))
    return MadeBundle(result, bundle_id)


def describe(made: MadeBundle) -> list[str]:
    """What was made, in a few lines for people (CLI stdout, the Slack message)."""
    r = made.result
    size = r.file.size
    human = f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{max(1, round(size / 1024))} kB"
    lines = [f"investigation {r.investigation_id}: {r.title}",
             f"{len(r.file.files) + 1} files, {r.rows:,} rows, {human}; SHA-256 {r.file.sha256}"]
    lines += [f"not in the bundle: {m}" for m in r.missing]
    return lines

