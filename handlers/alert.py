"""An Azure Monitor alert (diagnostics/azure/alerts.py) investigated like a question, and the message it is posted as.

The alert is the question "why did <its tunnels> drop around when it fired": the window the alert evaluated (or the
15 minutes before it fired), widened by the usual 15 minutes either side, answered by `ask.answer_question` once per
tunnel. The message leads with what the channel needs first: which tunnel, when, back or not, and the cause.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from diagnostics.azure.alerts import AzureAlert
from diagnostics.sources import Sources
from diagnostics.timefmt import local_and_utc
from diagnostics.tunnels import Tunnel, TunnelRegistry
from handlers.answer import Answer
from handlers.ask import answer_question
from handlers.parse.intent import Intent
from handlers.parse.question import Question, TimeWindow
from handlers.render.blockkit import escape
from handlers.render.text import headline

#: Around the alert's window: the drop that made the metric fall precedes the evaluation that fired.
AROUND = timedelta(minutes=15)


def alert_question(alert: AzureAlert, tunnels: Sequence[Tunnel], tz: ZoneInfo) -> Question:
    start = alert.window_start or alert.fired_at - AROUND
    end = max(alert.window_end or alert.fired_at, alert.fired_at)
    names = ", ".join(t.name for t in tunnels)
    return Question(text=f"why did {names} drop (Azure Monitor alert {alert.rule})", intent=Intent.WHY_DROP,
                    tunnel=tunnels[0] if len(tunnels) == 1 else None, window=TimeWindow(start - AROUND, end + AROUND),
                    anchor=start, tz=tz, explicit_window=True, tunnels=tuple(tunnels))


def investigate_alert(alert: AzureAlert, tunnels: Sequence[Tunnel], registry: TunnelRegistry, sources: Sources,
                      now: datetime, tz: ZoneInfo, progress: Callable[[str], None] | None = None) -> Answer:
    """The investigation of every tunnel the alert maps to (one answer per tunnel in `parts` when several)."""
    assert tunnels, "an alert that maps to no tunnel is told so, not investigated"
    return answer_question(alert_question(alert, tunnels, tz), registry, sources, now, progress)


def alert_message(alert: AzureAlert, tz: ZoneInfo, answer: Answer | None = None,
                  tunnels: Sequence[Tunnel] = ()) -> str:
    """The channel's message (mrkdwn): the alert, then per tunnel what happened and why; an alert that maps to no
    tunnel says what it names, so someone can add the tunnel (or fix the alert rule)."""
    severity = f" ({alert.severity})" if alert.severity else ""
    what = f"Azure Monitor alert *{escape(alert.rule or 'unnamed rule')}*{severity}"
    fired = f"fired at {local_and_utc(alert.fired_at, tz, date=True)}"
    if alert.resolved:
        at = f" at {local_and_utc(alert.resolved_at, tz, date=True)}" if alert.resolved_at else ""
        lines = [f":white_check_mark: Resolved{at}: {what}, {fired}"]
    else:
        lines = [f":rotating_light: {what} {fired}"]
    if not tunnels:
        named = alert.gateways + alert.connections + alert.remote_ips or list(alert.targets)
        lines.append(f"It matches no tunnel I know ({escape(', '.join(named)) or 'no resource named'}): add it to "
                     "[[tunnels]] (azure_gateway, azure_remote_ip) or check the alert rule's scope and dimensions.")
        return "\n".join(lines)
    parts = (answer.parts or [answer]) if answer is not None else []
    for part in parts:
        lines.append("• " + escape(_tunnel_line(part)))
    lines += [f"• {t.name}: not investigated" for t in tunnels[len(parts):]]
    return "\n".join(lines)


def _tunnel_line(part: Answer) -> str:
    inv = part.investigation
    if inv is None:  # a part that could not be answered says why in its notes
        name = part.question.tunnel.name if part.question.tunnel else "?"
        return f"{name}: " + ("; ".join(part.notes) or "could not be investigated")
    primary = inv.primary
    cause = f" — {primary.cause.value.replace('_', ' ')} ({primary.confidence.value})" if primary else ""
    return headline(part) + cause
