"""The first line of every answer: the question as the bot understood it (what, which tunnels, which window in the
asker's zone), so that a misunderstanding shows at once, before anyone reads the answer (docs/asking.md).

    Why paris dropped · 2026-11-21 13:47–14:17 CET (12:47–13:17 UTC), around 14:02
    Status of every tunnel (16) · now, 2026-11-22 11:30 CET (10:30 UTC); drops of 10:30–11:30 CET (09:30–10:30 UTC)
    Status of paris · now, 2026-11-22 11:30 CET (10:30 UTC); its latest drop, read in 2026-11-21 11:30–2026-11-22 …

The text answer starts with it, the Slack message's first block is it, and the JSON answer carries it as
`understood`.
"""

from __future__ import annotations

from typing import Any

from diagnostics.fleet.model import FleetStatus
from diagnostics.model import iso_z
from diagnostics.timefmt import local_and_utc, local_range
from handlers.answer import Answer
from handlers.parse.intent import Intent
from handlers.several import asked_tunnels

SUBJECTS = {
    Intent.WHY_DROP: "Why {} dropped",
    Intent.DROPS: "Drops of {}",
    Intent.EVIDENCE: "Evidence of {}",
    Intent.STATUS: "Status of {}",
    Intent.SUMMARY: "Summary of {}",
    Intent.TRAFFIC: "Traffic over {}",
}
ENGLISH = "(answered in English)"


def asked_line(answer: Answer) -> str:
    """The understood question in one line ("" for help and the tunnel list, which read no logs)."""
    question = answer.question
    if question.intent in (Intent.HELP, Intent.TUNNELS):
        return ""
    names = [t.name for t in asked_tunnels(question)]
    english = f" {ENGLISH}" if question.language and question.language != "en" else ""
    return f"{_subject(answer, names)} · {_window(answer)}{english}"


def asked_text(answer: Answer) -> str:
    """The first line and, under it, what the parser says about how it read the question ("local time" read in
    your zone…): a reading the asker did not mean must show before the answer, not only in the JSON."""
    line = asked_line(answer)
    return "\n".join((line, *answer.question.notes)) if line else ""


def understood_json(answer: Answer) -> dict[str, Any]:
    """The JSON answer's `understood`: the first line, the tunnels it names, the asker's zone and language, and the
    notes on how the question was read."""
    question = answer.question
    return {"text": asked_line(answer), "tunnels": [t.name for t in asked_tunnels(question)],
            "zone": question.tz.key, "anchor": iso_z(question.anchor) if question.anchor else None,
            "language": question.language or "en", "notes": list(question.notes)}


def _subject(answer: Answer, names: list[str]) -> str:
    question = answer.question
    if question.intent is Intent.P2S:
        return "Point-to-site connection attempts" + (f" of {question.user}" if question.user else "")
    if names:
        who = ", ".join(names)
    elif answer.fleet is not None:
        who = f"every tunnel ({len(answer.fleet.tunnels)})"
    else:
        who = "every tunnel"
    return SUBJECTS.get(question.intent, "{}").format(who)


def _window(answer: Answer) -> str:
    """The window that was read, in the asker's zone (UTC beside it)."""
    tz = answer.question.tz
    if answer.state is not None:
        return named_status_window(answer)
    if answer.parts and answer.fleet is not None and not answer.question.explicit_window:
        # lazy load: the fleet status's readers, only for the answer that has one (a fresh `vpnbot ask` about one
        # drop does not load them)
        from handlers.status import STATUS_LOOKBACK

        return (f"now, {local_and_utc(answer.fleet.now, tz, seconds=False, date=True)}; the latest drop of each "
                f"(the last {STATUS_LOOKBACK.total_seconds() / 3600:g} h, else the latest before)")
    if answer.fleet is not None:
        return status_window(answer.fleet, tz)
    if answer.summary is not None:
        return f"{answer.summary.day.strftime('%A %d %B %Y')} ({answer.summary.zone})"
    inv = answer.investigation
    start, end = (inv.start, inv.end) if inv is not None else (answer.question.window.start,
                                                               answer.question.window.end)
    anchor = inv.anchor if inv is not None else answer.question.anchor
    around = f", around {local_and_utc(anchor, tz, seconds=False)}" if anchor is not None else ""
    return local_range(start, end, tz) + around


def named_status_window(answer: Answer) -> str:
    """A named tunnel's status: now (its state), and the stretch its latest drop was read in (the last day, the
    window asked about, or the window around its latest drop before), not the fleet's last hour."""
    tz, inv = answer.question.tz, answer.investigation
    assert answer.state is not None
    now = f"now, {local_and_utc(answer.state.checked_at, tz, seconds=False, date=True)}"
    if inv is None:
        return now
    around = f", around {local_and_utc(inv.anchor, tz, seconds=False)}" if inv.anchor is not None else ""
    return f"{now}; its latest drop, read in {local_range(inv.start, inv.end, tz)}{around}"


def status_window(fleet: FleetStatus, tz) -> str:
    """Now (the state), and the period whose drops are listed."""
    now = local_and_utc(fleet.now, tz, seconds=False, date=True)
    period = local_range(fleet.start, fleet.end, tz)
    if fleet.anchor is not None:
        return (f"what dropped around {local_and_utc(fleet.anchor, tz, seconds=False, date=True)} ({period}), "
                f"and the state now, {now}")
    if not fleet.covers_now:
        return f"the drops of {period}, and the state now, {now}"
    return f"now, {now}; drops of {period}"
