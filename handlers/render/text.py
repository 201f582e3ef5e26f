"""`--format text`: what a person reads in a terminal (and the Slack fallback text)."""

from __future__ import annotations

from collections.abc import Sequence

from diagnostics.model import Event, EventKind, Finding, Investigation, QueryRecord
from diagnostics.timefmt import duration_text, local_and_utc, local_range, short_instance
from handlers.answer import Answer
from handlers.help import help_text
from handlers.parse.intent import Intent
from handlers.render.asked import asked_text
from handlers.render.status import fleet_lines, state_line
from handlers.render.story import answer_story, in_story, story_lines
from handlers.render.summary import summary_text
from handlers.render.traffic import traffic_headline, traffic_lines
from handlers.tunnels import tunnel_where, tunnels_text

MAX_EVIDENCE_LINES = 12


def render_text(answer: Answer) -> str:
    """The answer, its first line the question as understood (`asked`)."""
    first = asked_text(answer)
    if first and answer.summary is not None and not answer.question.tunnel and not answer.question.tunnels:
        first = ""  # the summary's title says it: every tunnel, that day, that zone
    body = answer_text(answer)
    return f"{first}\n{body}" if first else body


def answer_text(answer: Answer) -> str:
    if answer.intent is Intent.HELP:
        return help_text()
    if answer.intent is Intent.TUNNELS:
        return tunnels_text(answer.registry)
    if answer.parts:
        return several_text(answer)
    if answer.p2s is not None:
        return p2s_text(answer)
    if answer.summary is not None:
        return summary_text(answer.summary)
    if answer.fleet is not None and answer.state is None:
        return fleet_text(answer)
    inv = answer.investigation
    if inv is None:
        lines = [state_line(answer.state, answer.question.tz, where=True, say_flapping=True)] if answer.state else []
        return "\n".join(lines + answer.notes) + "\n"
    tz = answer.question.tz
    if answer.state is not None:
        lines = [state_line(answer.state, tz, where=True, say_flapping=True), latest_line(answer), ""]
    else:
        lines = [status_line(inv, answer) if answer.intent is Intent.STATUS else headline(answer), ""]
    if answer.traffic is not None:  # the state and the bytes each way, before the causes
        lines[1:1] = traffic_lines(answer.traffic, tz)
    lines[1:1] = [f"Read partly: {c}" for c in inv.caveats]  # what the logs could not show, before any cause
    if answer.intent is Intent.DROPS and inv.drops:
        lines.append(f"Drops ({len(inv.drops)}):")
        lines += [f"  {local_and_utc(d.down_ts, tz, date=True)}  {duration_text(d.duration):>12}  {where_dropped(d)}"
                  for d in inv.drops]
        lines.append("")
    chain = answer_story(answer)
    lines += story_lines(chain, tz)  # linked findings told as one story, before the cause (nothing when unlinked)
    if inv.findings:
        lines += finding_block(inv.findings[0], tz, primary=True)
        others = inv.findings[1:]
        if others:
            lines.append("Other findings:")
            lines += [f"  - {f.cause.value} ({f.confidence.value}): {f.title}"
                      f"{' — part of the story above' if in_story(f, chain) else ''}" for f in others]
            lines.append("")
    if answer.incident is not None and answer.incident.line:  # did traffic resume (handlers/incident.py)
        lines += [answer.incident.line, ""]
    lines += queries_block(inv.queries + (answer.fleet.queries if answer.fleet else [])
                           + (answer.traffic.traffic.queries if answer.traffic else [])
                           + (answer.incident.traffic.queries if answer.incident and answer.incident.traffic else []))
    notes = answer.notes + inv.notes
    if notes:
        lines.append("Notes:")
        lines += [f"  - {n}" for n in notes]
    return "\n".join(lines).rstrip() + "\n"


def headline(answer: Answer) -> str:
    inv = answer.investigation
    assert inv is not None
    if answer.traffic is not None:
        return traffic_headline(answer.traffic, answer.question.tz)
    tunnel, tz = inv.tunnel, answer.question.tz
    where = f"{tunnel.name} ({tunnel_where(tunnel)})"
    window = local_range(inv.start, inv.end, tz)
    if not inv.drops:
        if inv.findings and inv.findings[0].cause.value in FAILING_TO_CONNECT:
            return f"{where}: not connected, negotiations failing, {window}"
        if inv.findings and inv.findings[0].cause.value == "bgp_route_rejected":
            return f"{where}: no drop, but AWS denied a route the customer gateway advertised, {window}"
        return f"{where}: no drop found, {window}"
    primary = inv.findings[0].drop if inv.findings and inv.findings[0].drop else inv.drops[-1]
    back = f"back after {duration_text(primary.duration)}" if primary.up else "still down"
    count = f" ({len(inv.drops)} drops in {window})" if len(inv.drops) > 1 else ""
    on = f" on tunnel {primary.down.instance}" if primary.down.provider == "aws" and primary.down.instance else ""
    return f"{where} dropped{on} at {local_and_utc(primary.down_ts, tz, date=True)}, {back}{count}"


#: Causes that explain why a tunnel does not come up, rather than why it dropped.
FAILING_TO_CONNECT = {"psk_mismatch", "ike_proposal_mismatch", "traffic_selector_mismatch", "peer_unreachable"}


def where_dropped(drop) -> str:
    """Azure: the instance it left and the one it came back on; AWS: the tunnel (outside IP)."""
    if drop.down.provider == "aws":
        return f"tunnel {drop.down_instance}"
    return f"{short_instance(drop.down_instance)} → {short_instance(drop.up_instance) if drop.up else '-'}"


def latest_line(answer: Answer) -> str:
    """A named tunnel's status, after its state: its latest drop (the one the findings explain)."""
    inv = answer.investigation
    assert inv is not None
    tz = answer.question.tz
    if not inv.drops:
        return f"Latest drop: none in {local_range(inv.start, inv.end, tz)} (see below)."
    drop = inv.findings[0].drop if inv.findings and inv.findings[0].drop else inv.drops[-1]
    back = f"back after {duration_text(drop.duration)}" if drop.up else "still down"
    count = f" ({len(inv.drops)} drops in {local_range(inv.start, inv.end, tz)})" if len(inv.drops) > 1 else ""
    return f"Latest drop: {local_and_utc(drop.down_ts, tz, date=True)} on {where_dropped(drop)}, {back}{count}."


def several_text(answer: Answer) -> str:
    """One section per tunnel, then what concerns them all."""
    sections = []
    for part in answer.parts:
        name = part.question.tunnel.name if part.question.tunnel else "?"
        sections.append(f"── {name} " + "─" * max(3, 60 - len(name)) + "\n" + answer_text(part).rstrip())
    shared = answer.notes + (answer.fleet.notes if answer.fleet else [])
    if answer.fleet is not None and answer.fleet.queries:
        sections.append("\n".join(queries_block(answer.fleet.queries)).rstrip())
    if shared:
        sections.append("\n".join(["Notes:", *(f"  - {n}" for n in shared)]))
    return "\n\n".join(sections) + "\n"


def fleet_text(answer: Answer) -> str:
    fleet = answer.fleet
    assert fleet is not None
    lines = [*fleet_lines(fleet, answer.question.tz), ""]
    lines += queries_block(fleet.queries)
    notes = answer.notes + fleet.notes
    if notes:
        lines += ["Notes:", *(f"  - {n}" for n in notes)]
    return "\n".join(lines).rstrip() + "\n"


def status_line(inv: Investigation, answer: Answer) -> str:
    """`paris is up since …; 2 drops in …`: the latest state change the logs show."""
    tz, tunnel = answer.question.tz, inv.tunnel
    rows = [e for e in inv.events if e.kind in (EventKind.TUNNEL_UP, EventKind.TUNNEL_DOWN)]
    period = local_range(inv.start, inv.end, tz)
    drops = f"{len(inv.drops)} drop{'s' if len(inv.drops) != 1 else ''} in {period}"
    if not rows:
        return f"{tunnel.name}: no state change logged in {period}, so it kept its earlier state; {drops}."
    last = rows[-1]
    state = "up" if last.kind is EventKind.TUNNEL_UP else "DOWN"
    on = f"tunnel {last.instance}" if last.provider == "aws" else short_instance(last.instance)
    return f"{tunnel.name} is {state} since {local_and_utc(last.ts, tz, date=True)} on {on}; {drops}."


def finding_block(finding: Finding, tz, primary: bool) -> list[str]:
    lines = [
        f"Cause: {finding.cause.value} ({finding.confidence.value} confidence): {finding.title}",
        f"Why: {finding.explanation}",
        f"What to do: {finding.advice}",
    ]
    if finding.evidence:
        lines.append("Evidence:")
        lines += [f"  {evidence_line(e, tz)}" for e in finding.evidence[:MAX_EVIDENCE_LINES]]
        if len(finding.evidence) > MAX_EVIDENCE_LINES:
            lines.append(f"  … {len(finding.evidence) - MAX_EVIDENCE_LINES} more rows (--format json has them all)")
    lines.append("")
    return lines


def evidence_line(event: Event, tz) -> str:
    return f"{local_and_utc(event.ts, tz)}  {event.source}  {event.text()}"


def queries_block(queries: Sequence[QueryRecord]) -> list[str]:
    lines = []
    for q in queries:
        where = f" on {q.origin}" if q.origin else ""
        lines.append(f"Query ({q.backend}{where}, {q.rows} rows):")
        lines += [f"  {line}" for line in q.text.splitlines()]
        lines.append("")
    return lines


MAX_P2S_LINES = 20


def p2s_headline(answer: Answer) -> str:
    report = answer.p2s
    assert report is not None
    who = f" for {answer.question.user}" if report.user else ""
    window = local_range(answer.question.window.start, answer.question.window.end, answer.question.tz)
    return (f"Point-to-site{who} on {', '.join(report.gateways)}, {window}: {len(report.failed)} failed, "
            f"{len(report.connected)} connected")


def attempt_line(attempt, tz) -> str:
    parts = [local_and_utc(attempt.start, tz, seconds=False, date=True), attempt.outcome,
             attempt.user or "(no username)"]
    if attempt.client_ip:
        parts.append(f"from {attempt.client_ip}")
    if attempt.detail:
        parts.append(attempt.detail)
    return "  ".join(parts)


def p2s_text(answer: Answer) -> str:
    report, tz = answer.p2s, answer.question.tz
    assert report is not None
    lines = [p2s_headline(answer), ""]
    for title, attempts in (("Failed", report.failed), ("Connected", report.connected)):
        if attempts:
            lines.append(f"{title} ({len(attempts)}):")
            lines += [f"  {attempt_line(a, tz)}" for a in attempts[-MAX_P2S_LINES:]]
            lines.append("")
    lines.append("Usernames are shown as the gateway logged them (partly masked); the bot never unmasks them.")
    lines.append("")
    for q in report.queries:
        lines.append(f"Query ({q.backend} on {q.origin}, {q.rows} rows):")
        lines += [f"  {line}" for line in q.text.splitlines()]
        lines.append("")
    if report.notes:
        lines += ["Notes:", *(f"  - {n}" for n in report.notes)]
    return "\n".join(lines).rstrip() + "\n"
