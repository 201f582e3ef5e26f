"""`report.md`: the bundle's first page, written for the support engineer who opens it cold.

It answers support's first questions in the order they ask them (resource ids, exact UTC window, logs, what was
tried): which tunnel (every identifier the bot knows: subscription, resource group, gateway resource id,
connection, remote IP; AWS VPN connection id and tunnel outside IPs), the exact UTC window, what happened (the
drops and a timeline), what the bot concluded (each finding with its rule, confidence and evidence), what it could
not see, and where the raw rows and the exact queries are. All times are UTC: support works in UTC, and a bundle
outlives the asker's time zone. Nothing in it depends on when the bundle was generated (that time is only in
manifest.json), so a re-generated bundle has the same report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from diagnostics.evidence.model import EvidenceRecord, Identifiers, TimelineEntry
from diagnostics.evidence.rows import BACKEND_NAMES, Reread, time_text

#: What each provider's logs cannot show, said in every report (docs/rules.md#blind-spots; sources:
#: docs/sources.md#azure-maintenance, docs/sources.md#azure-phase2-only-loss, docs/sources.md#azure-ingestion-lag,
#: docs/sources.md#aws-log-fields, docs/sources.md#aws-tunnel-options).
BLIND_SPOTS = {
    "azure": [
        "Only what the gateway logged to Log Analytics is here: the on-premises device's own logs are not.",
        "Not every platform maintenance is logged (a failover with no HostMaintenanceEvent can still be maintenance).",
        "A phase-2-only loss can leave TunnelDiagnosticLog silent; IKEDiagnosticLog shows it only when the gateway's "
        "diagnostic setting sends that category.",
        "Log Analytics ingests with a delay (up to ~15 minutes): rows of the last minutes may be missing.",
    ],
    "aws": [
        "Only the tunnel activity logs of the VPN connection are here: the customer gateway's own logs are not.",
        "A tunnel without logging enabled (TunnelOptions LogOptions) logs nothing, which looks like a quiet tunnel.",
        "AWS-side maintenance (endpoint replacement) is announced in AWS Health, which the bot does not read.",
    ],
}

Redact = Callable[[str], str]


def md_cell(text: str) -> str:
    """Text safe in a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def code_block(text: str, lang: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text}\n{fence}"


def tunnel_rows(record: EvidenceRecord, ids: Identifiers) -> list[tuple[str, str]]:
    """(label, value) for every identifier support may ask for; unknown ones say how to make them known."""
    rows: list[tuple[str, str]] = [("Tunnel", record.tunnel_name or "(none: the answer was not about one tunnel)")]
    provider = record.provider
    rows.append(("Provider", {"azure": "Azure VPN Gateway", "aws": "AWS Site-to-Site VPN",
                              "link": "Azure VPN Gateway ↔ AWS Site-to-Site VPN"}.get(provider, provider)))
    if ids.gateway:
        rows += [
            ("Subscription", ids.subscription or "unknown (set azure_subscription on the tunnel)"),
            ("Resource group", ids.resource_group or "unknown (set azure_resource_group on the tunnel)"),
            ("VPN gateway", ids.gateway),
            ("Gateway resource id", ids.gateway_id or "unknown: needs the subscription and resource group"),
            ("Connection", ids.connection_id or ids.connection
             or 'not configured (add azure_connection = "<connection name>" to the tunnel)'),
            ("Remote (on-premises) IP", ids.remote_ip or "not configured (azure_remote_ip)"),
        ]
    if ids.vpn_connection:
        rows += [
            ("AWS VPN connection id", ids.vpn_connection),
            ("AWS tunnel outside IPs", ", ".join(ids.outside_ips) or "not configured and not seen in the logs"),
        ]
        if ids.log_streams:
            rows.append(("CloudWatch log streams read", ", ".join(ids.log_streams)))
    return rows


def render_report(record: EvidenceRecord, ids: Identifiers, rereads: Sequence[Reread],
                  timeline: Sequence[TimelineEntry], files: Sequence[tuple[str, str]], redaction: Sequence[str],
                  config_left_out: Sequence[str], redact: Redact) -> str:
    """The report as Markdown. `redact` is applied to everything that came from logs, configuration or people."""
    answer = record.answer
    window = answer.get("window") or {}
    out: list[str] = []
    add = out.append
    title = f"# VPN evidence: {redact(record.tunnel_name) or 'point-to-site'} — investigation {record.investigation_id}"
    add(title)
    add("")
    add(f"- Question: “{redact(record.question)}”")
    who = f"{redact(record.asked_by)}" + (f" in {record.channel}" if record.channel else "")
    add(f"- Asked by {who or 'unknown'} ({record.source or 'unknown'}) at {record.asked_at or 'an unknown time'}")
    add(f"- Window (UTC): {window.get('start', '?')} .. {window.get('end', '?')}")
    primary = record.primary
    if primary is not None:
        add(f"- Answer: {primary.get('cause')} ({primary.get('confidence')} confidence): "
            f"{redact(str(primary.get('title', '')))}")
    add("")

    add("## Tunnel")
    add("")
    add("| | |")
    add("|---|---|")
    for label, value in tunnel_rows(record, ids):
        add(f"| {label} | {md_cell(redact(value))} |")
    add("")
    add("The configuration the bot used is in `config/tunnel.json`"
        + (f" (left out as secret-looking: {', '.join(config_left_out)})." if config_left_out else "."))
    add("")

    add("## Drops (UTC)")
    add("")
    drops = answer.get("drops") or []
    if not drops:
        add("No drop in the window.")
    for n, drop in enumerate(drops, 1):
        back = f"back at {drop['up_at']}" if drop.get("up_at") else "still down at the end of the logs read"
        where = ""
        if drop.get("down_instance"):
            where = f" (down on {drop['down_instance']}" + (f", up on {drop['up_instance']}"
                                                           if drop.get("up_instance") else "") + ")"
        add(f"{n}. down at {drop.get('down_at')}, {back}{redact(where)}")
    add("")

    add("## Findings")
    add("")
    if not record.findings:
        add("No finding.")
    for n, finding in enumerate(record.findings, 1):
        rule = finding.get("rule") or "not recorded"
        add(f"### {n}. {finding.get('cause')} — {finding.get('confidence')} confidence — rule `{rule}`")
        add("")
        add(f"**{redact(str(finding.get('title', '')))}**")
        add("")
        add(redact(str(finding.get("explanation", ""))))
        add("")
        if finding.get("advice"):
            add(f"What to do: {redact(str(finding['advice']))}")
            add("")
        evidence = finding.get("evidence") or []
        if evidence:
            add("Evidence (UTC):")
            add("")
            add(code_block("\n".join(f"{e.get('time')}  {e.get('source')}  {redact(str(e.get('text', '')))}"
                                     for e in evidence)))
            add("")

    attempts = answer.get("attempts") or []
    if attempts:
        add("## Point-to-site attempts (UTC)")
        add("")
        add(code_block("\n".join(
            f"{a.get('time')}  {a.get('gateway')}  {a.get('outcome')}  user={redact(str(a.get('user') or '?'))}"
            + (f"  {redact(str(a['detail']))}" if a.get("detail") else "") for a in attempts)))
        add("")

    add("## Timeline (UTC)")
    add("")
    if timeline:
        add("The drops and every evidence row of the findings, in time order (also in `timeline.csv`).")
        add("")
        lines = []
        for entry in timeline:
            cited = f"  [{', '.join(entry.cited_by)}]" if entry.cited_by else ""
            lines.append(f"{entry.time}  {entry.source}  {redact(entry.text)}{cited}")
        add(code_block("\n".join(lines)))
    else:
        add("Nothing to show.")
    add("")

    add("## What the bot could not see")
    add("")
    for note in answer.get("notes") or []:
        add(f"- {redact(str(note))}")
    for r in rereads:
        if r.error:
            add(f"- Query {r.index}: its rows are not in this bundle: {redact(r.error)}.")
        elif r.partial:
            add(f"- Query {r.index}: the source returned only part of the rows: {redact(r.partial)}.")
    providers = ["azure", "aws"] if record.provider == "link" else [record.provider]
    for provider in providers:
        for line in BLIND_SPOTS.get(provider, []):
            add(f"- {line}")
    add("")

    add("## Queries and rows")
    add("")
    add("Each query the answer ran is in `queries/` exactly as it ran, with its time range (for Log Analytics the "
        "API's `timespan`; the query also filters on it), so it can be re-run as is. The rows were re-read with "
        "these exact queries when this bundle was generated, not copied from the answer: Log Analytics may have "
        "ingested late rows since (ingestion can lag ~15 minutes), which is why both counts are given.")
    add("")
    add("| # | source | time range (UTC) | rows when answered | rows in this bundle | files |")
    add("|---|---|---|---|---|---|")
    for r in rereads:
        q = r.query
        source = f"{BACKEND_NAMES.get(q.backend, q.backend)} ({q.origin})" if q.origin else q.backend
        span = f"{_iso(q.start)} .. {_iso(q.end)}"
        got = "—" if r.error else f"{r.count:,}"
        rows_files = "" if r.error else f", `rows/{r.stem}.csv`, `rows/{r.stem}.jsonl`"
        add(f"| {r.index} | {md_cell(redact(source))} | {span} | {q.rows:,} | {got} | "
            f"`queries/{r.stem}.{'sh' if r.kind == 'aws' else 'kql'}`{rows_files} |")
    add("")
    add("Row files: CSV with a header row (time columns titled `… [UTC]`, as the Log Analytics portal exports them, "
        "so `vpnbot ask --azure-export rows/….csv` reads them back) and JSON Lines (one object per row; for AWS the "
        "`filter-log-events` event fields, so `jq -s '{events: .}' rows/….jsonl` gives what `--aws-export` reads).")
    add("")

    add("## Redaction")
    add("")
    for line in redaction:
        add(f"- {line}")
    add("")

    add("## Files")
    add("")
    for name, what in files:
        add(f"- `{name}`: {what}")
    add("- `manifest.json`: the SHA-256 and size of every other file, the bot version and the generation time.")
    add("")
    add("Verify: `unzip bundle.zip -d bundle && cd bundle && sha256sum -c SHA256SUMS`.")
    return "\n".join(out) + "\n"


def _iso(value: Any) -> str:
    return time_text(value) if value is not None else "?"


def files_described(rereads: Sequence[Reread], chart: bool = False) -> list[tuple[str, str]]:
    """Every file of the bundle but the manifest, with what it holds (`chart`: it has chart.png)."""
    files = [
        ("report.md", "this report"),
        ("case.txt", "a support-case description to paste into the Azure or AWS support form"),
        ("answer.json", "the bot's answer as JSON (schema 1, with each finding's rule)"),
        ("timeline.csv", "the timeline of this report as CSV"),
        ("config/tunnel.json", "the tunnel's configuration as the bot knows it (no secrets) and the sources read"),
        ("queries/queries.json", "every query: source, time range, row counts, exact text"),
    ]
    for r in rereads:
        ext = "sh" if r.kind == "aws" else "kql"
        files.append((f"queries/{r.stem}.{ext}", f"query {r.index}, exactly as run"))
        if not r.error:
            files.append((f"rows/{r.stem}.csv", f"the rows of query {r.index} ({r.count:,}), CSV"))
            files.append((f"rows/{r.stem}.jsonl", f"the rows of query {r.index}, JSON Lines"))
    files.append(("SHA256SUMS", "the SHA-256 of every file, for `sha256sum -c`"))
    if chart:
        files.append(("chart.png", "the chart of the incident: tunnel state, bytes each way, maintenance, "
                                   "configuration, negotiation and BGP events"))
    return sorted(files)


def answer_summary(answer: Mapping[str, Any]) -> str:
    primary = (answer.get("findings") or [None])[0]
    if not primary:
        return "no finding"
    return f"{primary.get('cause')} ({primary.get('confidence')} confidence)"
