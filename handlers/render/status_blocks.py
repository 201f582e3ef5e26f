"""The fleet status, and an answer about several tunnels, as one Slack message (Block Kit) within Slack's limits.

The fleet: its counts, one line per troubled tunnel (the worst first), the healthy ones on one line. Several
tunnels: a section each (its state or headline, its primary cause), divided. What does not fit is cut and the
message says so (`Rendered.overflow`): the bot then posts the whole text answer as a file in the thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from diagnostics.fleet.model import DOWN, FleetStatus, TunnelStatus
from handlers.answer import Answer
from handlers.render.blockkit import (
    FILE_NOTE,
    Cuts,
    Rendered,
    chunked,
    context,
    escape,
    fit,
    header,
    section,
)
from handlers.render.status import HEALTHY_NAMED, counts_line, healthy_line, tunnel_line

#: Troubled tunnels with their own line in Slack; the rest are counted (the text answer has them all).
SLACK_TROUBLED = 30
NOTES_SHOWN = 3


def fleet_headline(fleet: FleetStatus) -> str:
    """`2 of 16 tunnels need attention: porto DOWN, hamburg flapping`, or `All 16 tunnels up`."""
    troubled = [s for s in fleet.ordered() if s.troubled]
    if not troubled:
        return f"All {len(fleet.tunnels)} tunnels up, no drop"
    named = ", ".join(f"{s.name} {_label(s)}" for s in troubled[:6]) + ("…" if len(troubled) > 6 else "")
    return f"{len(troubled)} of {len(fleet.tunnels)} tunnels need{'s' if len(troubled) == 1 else ''} attention: {named}"


def _label(s: TunnelStatus) -> str:
    """One or two words for a troubled tunnel's trouble ("up" for a tunnel with none)."""
    if s.state == DOWN:
        return "DOWN"
    if s.flapping:
        return "flapping"
    if s.degraded:
        return "one tunnel down"
    if s.drops:
        return f"{len(s.drops)} drop{'s' if len(s.drops) > 1 else ''}"
    return s.state.replace("_", " ")


def several_headline(answer: Answer) -> str:
    """`paris DOWN, lyon up`, or what was asked of them: `Why paris, lyon dropped`."""
    states = [p.state for p in answer.parts]
    if all(s is not None for s in states):
        return ", ".join(f"{s.name} {_label(s)}" for s in states if s is not None)
    names = ", ".join(p.question.tunnel.name for p in answer.parts if p.question.tunnel)
    return f"Answers about {names}"


def fleet_message(answer: Answer, first: dict[str, Any] | None, files: bool = False) -> Rendered:
    fleet, tz = answer.fleet, answer.question.tz
    assert fleet is not None
    title = fleet_headline(fleet)
    troubled = [s for s in fleet.ordered() if s.troubled]
    lines = [f"• *{escape(s.name)}*{escape(tunnel_line(s, fleet, tz)[len(s.name):])}"
             for s in troubled[:SLACK_TROUBLED]]
    if len(troubled) > SLACK_TROUBLED:
        lines.append(f"• … and {len(troubled) - SLACK_TROUBLED} more troubled tunnels (all of them in the text "
                     "answer and in `vpnbot status`)")
    blocks = [*([first] if first else []), header(title), section(escape(counts_line(fleet, tz)))]
    blocks += chunked(lines)
    healthy = healthy_line(fleet, tz, limit=HEALTHY_NAMED)
    if healthy:
        blocks.append(section(escape(healthy)))
    notes = answer.notes + fleet.notes
    if notes:
        blocks.append(context(escape(" · ".join(notes[:NOTES_SHOWN]))))
    return _fitted(title, blocks, len(troubled) > SLACK_TROUBLED, files)


def several_message(answer: Answer, first: dict[str, Any] | None, title_of: Callable[[Answer], str],
                    files: bool = False) -> Rendered:
    """A section per tunnel: its first line (`title_of`), its primary cause and what to do."""
    cuts = Cuts()
    names = ", ".join(p.question.tunnel.name for p in answer.parts if p.question.tunnel)
    title = several_headline(answer)
    blocks: list[dict[str, Any]] = [*([first] if first else []), header(title, cuts)]
    for part in answer.parts:
        name = part.question.tunnel.name if part.question.tunnel else "?"
        blocks.append({"type": "divider"})
        blocks.append(section(f"*{escape(name)}*: {escape(title_of(part))}", cuts))
        inv = part.investigation
        if inv is not None and inv.findings:
            main = inv.findings[0]
            blocks.append(section(f"*Cause:* `{main.cause.value}` ({main.confidence.value} confidence): "
                                  f"{escape(main.title)}\n*What to do:* {escape(main.advice)}", cuts))
        if part.notes:
            blocks.append(context(escape(" · ".join(part.notes[:NOTES_SHOWN])), cuts))
    blocks.append(context("Ask about one tunnel for its evidence, its queries and the buttons "
                          f"(e.g. `why did {escape(names.split(', ')[0])} drop`)." + (" " + escape(" · ".join(
                              answer.notes)) if answer.notes else ""), cuts))
    return _fitted(title, blocks, cuts.any, files)


def _fitted(title: str, blocks: list[dict[str, Any]], cut: bool, files: bool) -> Rendered:
    blocks, dropped = fit(blocks, reserve=len(str(context(FILE_NOTE))) if files else 0)
    overflow = cut or dropped
    if overflow and files:
        blocks.append(context(FILE_NOTE))
    return Rendered(escape(title), blocks, overflow)
