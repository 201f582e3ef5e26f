"""Build an evidence bundle from a stored investigation: the one entry point the CLI and Slack share (via bot/).

    result = build_bundle(record, sources, "bundle.zip", RedactionOptions(redact_ips=True), version="0.1.0")

The zip holds (docs/evidence.md):

    rows/qNN-<backend>.csv, .jsonl   the rows of each query, re-read with the exact stored query (rows.py)
    queries/qNN-<backend>.kql | .sh  each query exactly as run, with its time range in a comment header
    queries/queries.json             every query: source, range, row counts then and now, exact text
    answer.json                      the answer (schema 1, with each finding's rule)
    timeline.csv                     drops and evidence rows in time order
    config/tunnel.json               the tunnel's configuration as the bot knows it, never secrets
    report.md                        the report for support (report.py)
    case.txt                         the support-case text for Azure or AWS (case.py)
    SHA256SUMS, manifest.json        hashes of every file; bot version and generation time (bundle.py)

Everything written goes through one `Redactor` (redact.py). Rows are written first (streamed: the report needs
their counts), the other files after, in a fixed order, so the bundle is deterministic (bundle.py).
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from diagnostics.evidence.bundle import BundleFile, BundleWriter
from diagnostics.evidence.case import render_case
from diagnostics.evidence.lines import csv_text, json_lines
from diagnostics.evidence.model import EvidenceRecord, Identifiers, identifiers, timeline, tunnel_entry
from diagnostics.evidence.redact import RedactionOptions, Redactor, config_view, secret_values
from diagnostics.evidence.report import files_described, render_report
from diagnostics.evidence.rows import BACKEND_NAMES, Reread, identifier_indexes, observe_batch, reread, time_text
from diagnostics.model import InvestigationError, SourceError
from diagnostics.sources import Sources

PROGRESS_EVERY = 100_000
MANIFEST_SCHEMA = 1

Progress = Callable[[str], None]


class RowsUnavailable(InvestigationError):
    """No query of the investigation could be re-run here (exit status 1: no source could answer)."""


@dataclass(frozen=True)
class BundleResult:
    file: BundleFile
    investigation_id: int
    rows: int  # rows written, all queries together
    queries: int
    missing: tuple[str, ...]  # why some queries' rows are not in the bundle
    redact_ips: bool
    hash_users: bool
    case_text: str
    title: str  # one line for people: "paris, 2026-11-21 13:47–14:17 UTC: maintenance_failover (high)"


def build_bundle(record: EvidenceRecord, sources: Sources, out: str | Path,
                 options: RedactionOptions | None = None, version: str = "", progress: Progress | None = None,
                 generated_at: datetime | None = None, compresslevel: int = 6,
                 chart: Callable[[Mapping[str, Any]], bytes | None] | None = None) -> BundleResult:
    """Write the bundle of `record` to `out`. Raises RowsUnavailable when none of its queries could be re-run
    (nothing is left at `out` then). `chart`: draws `chart.png` from the (redacted) stored answer, None for none
    (the drawing is the handlers' own: handlers.evidence.draw_chart)."""
    options = options or RedactionOptions()
    entry = tunnel_entry(record.tunnel) if record.tunnel is not None else None
    if entry is not None:
        options = replace(options, secrets=(*options.secrets, *secret_values(entry)))
    redactor = Redactor(options)
    if record.tunnel is not None:
        redactor.seed_ips([record.tunnel.azure_remote_ip, *record.tunnel.aws_outside_ips])
    with BundleWriter(out, compresslevel=compresslevel) as writer:
        rereads = [_rows(writer, reread(i, q, sources, record.tunnel), redactor, progress)
                   for i, q in enumerate(record.queries, 1)]
        if rereads and not any(r.ok for r in rereads):
            raise RowsUnavailable("none of the investigation's queries could be re-run: "
                                  + "; ".join(f"query {r.index}: {r.error}" for r in rereads))
        observed: dict[str, list[str]] = {}
        for r in rereads:
            for column, values in r.observed.items():
                seen = observed.setdefault(column, [])
                seen += [v for v in values if v not in seen]
        ids = identifiers(record, observed)
        text = redactor.text
        for r in rereads:
            writer.add_text(query_file(r), query_text(record, r, len(rereads), text))
        writer.add_json("queries/queries.json", [query_doc(r, text) for r in rereads])
        kept, left_out = config_view(entry) if entry is not None else (None, [])
        writer.add_json("config/tunnel.json", {
            "tunnel": redactor.json(kept),
            "left_out_as_secret": left_out,
            "sources": sources_doc(rereads, text),
        })
        # The answer, redacted once; the timeline, report and case text are made from it (redacting is idempotent,
        # so their own redaction of what they add keeps the same tokens).
        record = replace(record, answer=redactor.json(dict(record.answer)))
        writer.add_json("answer.json", record.answer)
        picture = chart(record.answer) if chart is not None else None
        if picture:  # the incident's chart, drawn from the answer's `chart` (docs/evidence.md)
            writer.add_bytes("chart.png", picture)
        entries = timeline(record.answer)
        writer.add_text("timeline.csv", timeline_csv(entries, text))
        files = files_described(rereads, chart=bool(picture))
        # Said once the rows, queries and answer are written: it counts what was masked in them.
        redaction = redactor.summary()
        report = render_report(record, ids, rereads, entries, files, redaction, left_out, text)
        case = render_case(record, ids, [name for name, _ in files], text)
        writer.add_text("report.md", report)
        writer.add_text("case.txt", case)
        total = sum(r.count for r in rereads)
        window = record.answer.get("window") or {}
        manifest = {
            "schema": MANIFEST_SCHEMA,
            "generator": "vpnbot",
            "version": version,
            "investigation": record.investigation_id,
            "tunnel": text(record.tunnel_name) or None,
            "window": {"start": window.get("start"), "end": window.get("end")},
            "rows": total,
            "redaction": {"secrets": "masked", "public_ips": "replaced" if options.redact_ips else "as logged",
                          "p2s_usernames": "hashed" if options.hash_users else "as logged (masked by Azure)"},
        }
        bundle = writer.finish(manifest, generated_at)
    return BundleResult(
        file=bundle, investigation_id=record.investigation_id, rows=total, queries=len(rereads),
        missing=tuple(f"query {r.index}: {r.error}" for r in rereads if r.error),
        redact_ips=options.redact_ips, hash_users=options.hash_users, case_text=case,
        title=bundle_title(record, ids, text),
    )


def _rows(writer: BundleWriter, r: Reread, redactor: Redactor, progress: Progress | None) -> Reread:
    """Stream one query's rows: CSV straight into the zip, JSON Lines deflated alongside on a thread of their own and
    copied in after (zipfile writes one member at a time). Both files hold the same rows, from the one read, a batch
    at a time: converted by column (`Reread.batches`), redacted where a secret may be (`Redactor.rows`), written a
    column at a time (`lines.py`)."""
    if not r.ok:
        if progress:
            progress(f"query {r.index}: {r.error}")
        return r
    time_columns = r.time_columns
    header = [f"{c} [UTC]" if i in time_columns else c for i, c in enumerate(r.columns)]
    watch = identifier_indexes(r.columns)
    deflated = writer.deflated()
    count = 0
    try:
        with writer.member(f"rows/{r.stem}.csv") as member:
            member.write(csv_text([header], len(header)).encode("utf-8"))
            batches = r.batches()
            while True:
                try:
                    batch = next(batches, None)
                except SourceError as exc:  # the source failed mid-read: what was read is kept, and said
                    r.partial = f"reading stopped after {count:,} rows: {exc}"
                    batch = None
                if batch is None:
                    break
                if watch:
                    observe_batch(r, batch, watch)
                batch = redactor.rows(batch)
                member.write(csv_text(batch, len(r.columns)).encode("utf-8"))
                deflated.write(json_lines(r.columns, batch).encode("utf-8"))
                before, count = count, count + len(batch)
                if progress and count // PROGRESS_EVERY > before // PROGRESS_EVERY:
                    progress(f"query {r.index} ({r.source_label}): {count // PROGRESS_EVERY * PROGRESS_EVERY:,} rows")
        r.count = count
        r.partial = r.partial or r.partial_after() or ""
        writer.add_deflated(f"rows/{r.stem}.jsonl", deflated)
    except BaseException:
        with contextlib.suppress(Exception):  # the bundle is thrown away; the first error is the interesting one
            deflated.close()
            deflated.spool.close()
        raise
    if progress:
        progress(f"query {r.index} ({r.source_label}): {count:,} rows")
    return r


def query_file(r: Reread) -> str:
    return f"queries/{r.stem}.{'sh' if r.kind == 'aws' else 'kql'}"


def query_text(record: EvidenceRecord, r: Reread, total: int, redact: Callable[[str], str]) -> str:
    """The query exactly as run, under a comment header (KQL `//`, shell `#`) with its source and range."""
    q = r.query
    mark = "#" if r.kind == "aws" else "//"
    name = BACKEND_NAMES.get(q.backend, q.backend)
    now = "not re-read: " + r.error if r.error else f"{r.count:,} when this bundle was generated"
    header = [
        f"{mark} vpnbot investigation {record.investigation_id}, query {r.index} of {total}: {name} ({q.origin})",
        f"{mark} time range (UTC{'; the API timespan' if r.kind == 'kql' else ''}): "
        f"{_iso(q.start)} .. {_iso(q.end)}",
        f"{mark} rows: {q.rows:,} when answered; {now}",
    ]
    return redact("\n".join(header)) + "\n" + redact(q.text) + "\n"


def query_doc(r: Reread, redact: Callable[[str], str]) -> dict[str, Any]:
    q = r.query
    return {
        "index": r.index,
        "backend": q.backend,
        "origin": redact(q.origin),
        "kind": r.kind,
        "start": _iso(q.start),
        "end": _iso(q.end),
        "rows_when_answered": q.rows,
        "rows_in_bundle": None if r.error else r.count,
        "file": query_file(r),
        "rows_files": [] if r.error else [f"rows/{r.stem}.csv", f"rows/{r.stem}.jsonl"],
        "error": redact(r.error) or None,
        "partial": redact(r.partial) or None,
        "text": redact(q.text),
    }


def sources_doc(rereads: Sequence[Reread], redact: Callable[[str], str]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str], str] = {}
    for r in rereads:
        seen.setdefault((r.query.backend, r.query.origin), r.source_label)
    return [{"backend": b, "origin": redact(o), "label": redact(label)} for (b, o), label in seen.items()]


def timeline_csv(entries: Sequence[Any], redact: Callable[[str], str]) -> str:
    buffer = io.StringIO()
    table = csv.writer(buffer, lineterminator="\r\n")
    table.writerow(["time [UTC]", "source", "text", "cited_by"])
    for e in entries:
        table.writerow([e.time, e.source, redact(e.text), " ".join(e.cited_by)])
    return buffer.getvalue()


def bundle_title(record: EvidenceRecord, ids: Identifiers, redact: Callable[[str], str]) -> str:
    window = record.answer.get("window") or {}
    start, end = str(window.get("start", "?")), str(window.get("end", "?"))
    span = f"{start.replace('T', ' ')[:16]}–{end[11:16]} UTC" if start[:10] == end[:10] else f"{start} – {end}"
    primary = record.primary
    cause = f": {primary.get('cause')} ({primary.get('confidence')})" if primary else ""
    return f"{redact(record.tunnel_name or 'point-to-site')}, {span}{cause}"


def _iso(value: datetime | None) -> str:
    return time_text(value) if value is not None else "?"
