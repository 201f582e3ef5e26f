"""`POST /alerts/azure?token=…`: Azure Monitor alerts (common alert schema) posted, already explained, in the channel
their [[alerts]] entry names (docs/alerts.md).

Two halves, like every Slack request:

* `AlertReceiver` (alert_intake.py), in the acknowledging process (on the HTTP loop: no I/O): the token compared
  in constant time (401 otherwise, never processed, and the token never logged), the body read as a common-schema
  alert (400 and one line otherwise; over 1 MB the HTTP server answers 413 before reading it), then an `AlertJob`
  handed to the answering process and 202 at once;
* `answer` (here), on a worker of the log lane: the alert mapped to tunnels (diagnostics/azure/alerts.py), routed to its
  channel, investigated like a question (handlers/alert.py) and posted; a Resolved notification edits the Fired
  one's message. The alert is claimed in the state store before posting and its message's ts kept there
  (bot/state/alerts.py), and a retried webhook is the same delivery (its key: alert id and condition), so an alert
  is posted once.

An alert that maps to no tunnel is posted in its channel saying so; an alert no [[alerts]] entry matches is logged
and not posted; a channel limited by [[channels]] is told only about its tunnels (an alert about none of them is
logged and not posted there).
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import AlertRoute
from bot.logs import logger, redact
from bot.slack import deliveries, unasked
from bot.slack.core import SlackBot
from bot.slack.jobs import AlertJob
from bot.state import Claim, StoreUnavailable
from diagnostics.azure.alerts import AzureAlert, alert_tunnels, read_alert
from diagnostics.model import InvestigationError
from diagnostics.tunnels import Tunnel
from handlers.alert import alert_message, investigate_alert
from handlers.answer import Answer
from handlers.render.blockkit import escape

log = logger("vpnbot.alerts")

#: How long a Resolved notification waits for the Fired one's message, still being posted by another worker.
WAIT_FOR_FIRED_S = 60.0


def route_for(routes: Iterable[AlertRoute], alert: AzureAlert, tunnels: Sequence[Tunnel]) -> AlertRoute | None:
    """The first [[alerts]] entry whose `match` (a case-insensitive glob) fits the rule's name, a target resource id,
    a gateway or a tunnel of the alert."""
    names = [alert.rule, *alert.targets, *alert.gateways, *(t.name for t in tunnels)]
    for route in routes:
        if any(fnmatch.fnmatch(n.lower(), route.match.lower()) for n in names if n):
            return route
    return None


def answer(bot: SlackBot, job: AlertJob, admitted: Claim | str = deliveries.UNCLAIMED) -> None:
    delivery = deliveries.take(bot, job, admitted)
    if delivery is None:
        return
    try:
        _answer(bot, read_alert(job.body))
    except Exception:  # Azure had its 202 long ago: say it here, the channel hears nothing
        log.error("Azure Monitor alert %s could not be posted", job.keys[0] if job.keys else "", exc_info=True)
    finally:
        if delivery.stored:
            deliveries.settle(bot, job)


def _answer(bot: SlackBot, alert: AzureAlert) -> None:
    tunnels = alert_tunnels(alert, bot.workspace.registry)
    route = route_for(bot.options.alerts, alert, tunnels)
    if route is None:
        log.warning("Azure Monitor alert %s (%s) matches no [[alerts]] entry: not posted", alert.alert_id,
                    redact(alert.rule))
        return
    shown = [t for t in tunnels if bot.policy.may_see(route.channel, t)]
    if tunnels and not shown:
        log.warning("Azure Monitor alert %s is about tunnels channel %s may not see ([[channels]]): not posted",
                    alert.alert_id, route.channel)
        return
    action, row = _claim(bot, alert, route.channel)
    if alert.resolved and action == "held":
        action, row = _wait_for_fired(bot, alert)
    if action == "held" or (action == "edit" and (not alert.resolved or row.get("status") == "Resolved")):
        log.info("Azure Monitor alert %s (%s) was posted already", alert.alert_id, alert.condition)
        return
    tz = bot.policy.channel_zone(route.channel) or ZoneInfo(bot.options.default_tz)
    answer = _investigate(bot, alert, shown, route.channel, tz)
    text = alert_message(alert, tz, answer if isinstance(answer, Answer) else None, shown)
    if isinstance(answer, str):
        text += "\n" + answer
    channel = row.get("channel") or route.channel
    if action == "edit":  # its buttons kept: the investigation stored when it was posted (unasked.py)
        unasked.edit(bot, channel, row["message_ts"], text)
        _note(bot, alert, row["message_ts"])
        return
    # Stored before it is posted, so the message carries the usual buttons.
    rows = unasked.store(bot, answer, channel, unasked.ALERT) if isinstance(answer, Answer) else []
    ts = unasked.post(bot, channel, text, rows)
    _note(bot, alert, ts)
    unasked.attach(bot, rows, ts)
    if isinstance(answer, Answer):  # the details, as a question's answer, and the charts in the message's thread
        unasked.post_details(bot, answer, rows, channel, ts, unasked.ALERT)


def _claim(bot: SlackBot, alert: AzureAlert, channel: str) -> tuple[str, dict[str, Any]]:
    """claim_alert's answer; a store that keeps failing gives ("post", {}): an alert told twice beats one lost."""
    try:
        # A claim held by a process that died (its job was taken over: deliveries.recover) is taken at once.
        live = frozenset(bot.state.live_owners()) - deliveries.dead_here(bot) | {bot.owner}
        return bot.state.claim_alert(alert.alert_id, channel, bot.owner, alert.rule, datetime.now(UTC), live=live)
    except StoreUnavailable as exc:
        log.error("posting Azure Monitor alert %s without its claim: %s", alert.alert_id, exc)
        return "post", {}


def _note(bot: SlackBot, alert: AzureAlert, message_ts: str) -> None:
    try:
        bot.state.note_alert_message(alert.alert_id, message_ts, alert.condition)
    except StoreUnavailable as exc:
        log.error("Azure Monitor alert %s was posted (%s) but not recorded: %s", alert.alert_id, message_ts, exc)


def _investigate(bot: SlackBot, alert: AzureAlert, tunnels: Sequence[Tunnel], channel: str,
                 tz: ZoneInfo) -> Answer | str | None:
    """The investigation, a sentence saying why there is none, or None for an alert about no tunnel."""
    if not tunnels:
        return None
    try:
        return investigate_alert(alert, tunnels, bot.policy.registry_for(channel), bot.workspace.sources, bot.clock(),
                                 tz)
    except InvestigationError as exc:
        return escape(f"I could not investigate it: {exc}")


def _wait_for_fired(bot: SlackBot, alert: AzureAlert) -> tuple[str, dict[str, Any]]:
    """A Resolved notification while another worker still posts the Fired one: wait for its message (then edit it),
    at most WAIT_FOR_FIRED_S; then the Fired one is left to say what it found."""
    log.info("the Resolved notification of %s waits for the Fired one's message", alert.alert_id)
    ends = time.monotonic() + WAIT_FOR_FIRED_S
    while time.monotonic() < ends:
        time.sleep(0.5)
        try:
            row = bot.state.alert_row(alert.alert_id)
        except StoreUnavailable:
            continue
        if row and row.get("message_ts"):
            return "edit", row
    return "held", {}
