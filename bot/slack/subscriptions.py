"""`/vpn subscribe daily 09:00 [tunnels…|all]`, `/vpn unsubscribe`, `/vpn subscriptions` for the Slack bot, and the
scheduler's Slack side (what it posts, what it tells a channel when a summary failed for good).

A subscription belongs to a channel, not to the person who made it: the confirmation of a change is posted in the
channel for everyone (a slash command's own replies are private, and a channel should not discover a new daily post
by surprise), while a listing or a mistake goes only to the asker, or in the thread of a mention. The time is read
in the channel's configured zone ([[channels]] timezone), else in the subscriber's Slack zone. A channel limited by
[[channels]] may only subscribe to its tunnels; "all" there means the tunnels it may see, applied again when each
summary is made (so a narrowed [[channels]] entry narrows tomorrow's summary too).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError

from bot.config import SubscriptionSettings
from bot.logs import logger, redact
from bot.schedule import DueRun, Subscription, load_subscriptions, next_run
from bot.scheduler import Scheduler
from bot.slack import summaries
from bot.slack.conversation import NOT_IN_CHANNEL, NOT_THERE, Conversation
from bot.slack.core import SlackBot
from bot.slack.jobs import QuestionJob
from diagnostics.summary.shared import SharedDays
from diagnostics.tunnels import OutsideTunnel
from handlers.help import example_tunnel
from handlers.render.blockkit import Rendered, escape, section
from handlers.subscribe import (
    LIST,
    SUBSCRIBE,
    SubscriptionCommand,
    SubscriptionError,
    is_subscription_command,
    parse_subscription,
)

log = logger("vpnbot.slack")

__all__ = ["handle_subscription", "is_subscription_command", "summary_scheduler"]

#: Failures of a summary not worth retrying: the bot cannot post there, or cannot post at all.
PERMANENT_ERRORS = NOT_THERE | {"invalid_auth", "account_inactive", "token_revoked", "missing_scope"}


def handle_subscription(bot: SlackBot, job: QuestionJob) -> None:
    """Act on a subscription command and reply; audited like a question (intent subscribe/unsubscribe/list)."""
    def act(conv: Conversation) -> tuple[str, str, str]:
        command = parse_subscription(job.text, bot.policy.registry_for(job.channel))
        if command.action == SUBSCRIBE:
            return (*_subscribe(bot, job, conv, command), "subscribe")
        if command.action == LIST:
            say(conv, listing(bot, job.channel))
            return "answered", "", "subscriptions"
        return (*_unsubscribe(bot, job, conv), "unsubscribe")

    audited_command(bot, job, act, "subscriptions", "subscribe")


def audited_command(bot: SlackBot, job: QuestionJob, act: Callable[[Conversation], tuple[str, str, str]],
                    intent: str, refused_intent: str) -> None:
    """Run a channel-settings command (`act` parses and acts, returning (outcome, detail, intent)), answering a
    tunnel the channel may not see, a command that cannot be read and a failure as one line each; audited like a
    question (`intent` when it could not be read, `refused_intent` when refused)."""
    started = time.monotonic()
    conv = Conversation(bot.client, job)
    outcome, detail = "answered", ""
    try:
        try:
            outcome, detail, intent = act(conv)
        except OutsideTunnel as exc:  # refused naming the asker's words, not the tunnel they stand for
            outcome, detail, intent = "refused", bot.policy.refuse(job.channel, exc.reference), refused_intent
            say(conv, detail)
        except SubscriptionError as exc:
            outcome, detail = "bad_input", str(exc)
            say(conv, escape(f"Sorry: {exc}"))
    except Exception:
        outcome = "error"
        detail = conv.apologise(bot.options.admins)
    finally:
        try:
            bot.state.start_question(team=job.team, channel=job.channel, user=job.user, source=job.source,
                                     text=job.text, intent=intent, outcome=outcome, detail=detail or None,
                                     error_id=detail if outcome == "error" else None,
                                     duration_ms=int((time.monotonic() - started) * 1000))
        except Exception as exc:
            log.error("could not audit a %s command: %s", intent, redact(str(exc)))


# -- the commands ---------------------------------------------------------------------------------------------


def _subscribe(bot: SlackBot, job: QuestionJob, conv: Conversation, command: SubscriptionCommand) -> tuple[str, str]:
    configured = _config_row(bot, job.channel)
    if configured is not None:
        text = (f"This channel's daily summary is set in the vpnbot configuration ({_describe(configured, bot)}); "
                f"{admins_text(bot)} can change it there ([[subscriptions]] channel = \"{escape(job.channel)}\").")
        say(conv, text)
        return "refused", text
    allowed = bot.policy.subscription_tunnels(job.channel)
    outside = [t for t in command.tunnels if allowed is not None and t.lower() not in allowed]
    if outside:
        refusal = bot.policy.refusal(job.channel, bot.workspace.registry.lookup(outside[0])) or ""
        say(conv, refusal)
        return "refused", refusal
    zone, zone_label = _zone(bot, job)
    previous = bot.state.subscription_rows(job.channel)
    row = bot.state.subscribe(job.channel, command.time, zone.key, command.tunnels, job.user, bot.clock())
    sub = Subscription.from_row(row)
    text = confirmation(bot, sub, zone_label, bot.clock())
    if job.source == "slash":
        text += f" (set by <@{job.user}>; `/vpn unsubscribe` stops it)"
    if not announce(conv, text):
        _restore(bot, job.channel, previous)
        say(conv, NOT_IN_CHANNEL.replace("then ask again", "then subscribe again"))
        return "bad_input", NOT_IN_CHANNEL
    return "answered", text


def _unsubscribe(bot: SlackBot, job: QuestionJob, conv: Conversation) -> tuple[str, str]:
    configured = _config_row(bot, job.channel)
    rows = [r for r in bot.state.subscription_rows(job.channel) if r["source"] == "slack"]
    if not rows and configured is not None:
        text = (f"This channel's daily summary ({_describe(configured, bot)}) comes from the vpnbot configuration: "
                f"{admins_text(bot)} can remove its [[subscriptions]] entry (channel = \"{escape(job.channel)}\").")
        say(conv, text)
        return "refused", text
    if not rows or not bot.state.unsubscribe(job.channel):
        text = "This channel has no daily summary to stop. `/vpn subscriptions` lists the ones there are."
        say(conv, text)
        return "bad_input", text
    text = f"Unsubscribed: no more daily summary here (it was {_describe(Subscription.from_row(rows[0]), bot)})."
    if job.source == "slash":
        text += f" (stopped by <@{job.user}>)"
    if configured is not None:
        text += f" The configuration's summary stays: {_describe(configured, bot)}."
    announce(conv, text)
    return "answered", text


def listing(bot: SlackBot, channel: str) -> str:
    """The subscriptions a channel may know about: all of them, or only its own when [[channels]] limits it
    (another channel's tunnels are not its business)."""
    subs = load_subscriptions(bot.state)
    if bot.policy.subscription_tunnels(channel) is not None:
        subs = [s for s in subs if s.channel == channel]
    if not subs:
        return ("No daily summaries yet. Subscribe this channel with `/vpn subscribe daily 09:00` (all tunnels) or "
                f"`/vpn subscribe daily 09:00 {escape(example_tunnel(bot.policy.registry_for(channel)))}`.")
    subs.sort(key=lambda s: (s.channel != channel, s.channel))
    lines = [f"Daily summaries ({len(subs)}):"]
    for sub in subs:
        here = " (this channel)" if sub.channel == channel else ""
        origin = (f"set in Slack by <@{sub.created_by}>" if sub.source == "slack" and sub.created_by
                  else "set in Slack" if sub.source == "slack" else "from the configuration ([[subscriptions]])")
        lines.append(f"• <#{sub.channel}>{here}: {_describe(sub, bot)}, {origin}")
    return "\n".join(lines)


def confirmation(bot: SlackBot, sub: Subscription, zone_label: str, now: datetime) -> str:
    """"Subscribed: a summary of all tunnels every day at 09:00 Europe/Paris (channel zone), first one tomorrow at
    09:00." (the first run's real time when that day's 09:00 does not exist)."""
    first = next_run(sub, now)
    local = first.at.astimezone(sub.zone)
    days = (local.date() - now.astimezone(sub.zone).date()).days
    when = "today" if days == 0 else "tomorrow" if days == 1 else local.strftime("%A %d %B")
    shifted = "" if local.strftime("%H:%M") == sub.time else f" ({sub.time} does not exist that day)"
    return (f"Subscribed: a summary of {_tunnels(bot, sub)} every day at {sub.time} {sub.tz} ({zone_label}), "
            f"first one {when} at {local:%H:%M}{shifted}.")


# -- the scheduler's Slack side -----------------------------------------------------------------------------------


def summary_tunnels(bot: SlackBot, sub: Subscription) -> tuple[str, ...] | None:
    """What the summary of `sub` covers now: its tunnels (None: every tunnel), within its channel's [[channels]]."""
    allowed = bot.policy.subscription_tunnels(sub.channel)
    if allowed is None:
        return sub.tunnels or None
    known = [t.name for t in bot.workspace.registry if t.name.lower() in allowed]
    return tuple(t for t in sub.tunnels if t.lower() in allowed) if sub.tunnels else tuple(known)


def tell_failure(bot: SlackBot, sub: Subscription, day: date, error_id: str) -> None:
    """Said once in the channel when a summary failed for good (the scheduler calls it after the last attempt)."""
    text = (f"Sorry, I could not post this channel's daily VPN summary of {day:%A %d %B} (error id `{error_id}`; "
            f"the details are logged). {admins_text(bot, start=True)} can look into it; the next one is due as usual.")
    bot.client.chat_postMessage(channel=sub.channel, text=text, blocks=[section(text)])


def is_permanent(exc: BaseException) -> bool:
    """No retry for what a retry cannot fix: the bot is not in the channel, the token is gone, no poster yet."""
    if isinstance(exc, SlackApiError):
        return exc.response.get("error") in PERMANENT_ERRORS
    return isinstance(exc, NotImplementedError)


def summary_scheduler(bot: SlackBot, config_subscriptions: Sequence[SubscriptionSettings] = ()) -> Scheduler:
    """The scheduler of `vpnbot serve`: the configuration's [[subscriptions]] copied into the state store (where
    every process reads them with the Slack-made ones), posting with bot/slack/summaries.py. Not started. The copy
    is made by the first tick that can (a failing store fails that tick, and the next tries again). The channels
    due at the same tick share one read of the logs per (day, zone) (`SharedDays`), made on the scheduler's own
    thread, never on the question workers'."""
    wanted = [{"channel": s.channel, "time": s.time, "tz": s.timezone, "tunnels": s.tunnels}
              for s in config_subscriptions]
    synced = threading.Event()

    def subscriptions() -> list[Subscription]:
        if not synced.is_set():
            bot.state.sync_config_subscriptions(wanted, bot.clock())
            synced.set()
        return load_subscriptions(bot.state)

    shared = SharedDays(bot.workspace.registry, bot.workspace.sources, bot.clock)

    def prepare(runs: Sequence[DueRun]) -> None:
        wanted = []
        for due in runs:
            tunnels = summary_tunnels(bot, due.subscription)
            visible = summaries.visible_tunnels(bot, due.subscription.channel,
                                                list(tunnels) if tunnels is not None else None)
            if visible != []:
                wanted.append((due.day, ZoneInfo(due.subscription.tz), visible))
        shared.plan(wanted)

    def run(sub: Subscription, day: date) -> str:
        tunnels = summary_tunnels(bot, sub)
        return summaries.post_summary(bot, sub.channel, day, ZoneInfo(sub.tz),
                                      list(tunnels) if tunnels is not None else None,
                                      on_posted=lambda ts: bot.state.note_run_message(sub.channel, day, ts),
                                      shared=shared)

    return Scheduler(bot.state, subscriptions, run, bot.clock,
                     notify=lambda sub, day, error_id: tell_failure(bot, sub, day, error_id), permanent=is_permanent,
                     prepare=prepare, nice=bot.options.summary_nice)


# -- helpers ------------------------------------------------------------------------------------------------------


def say(conv: Conversation, text: str) -> None:
    """A reply only the asker sees (slash command) or in the mention's thread."""
    conv.reply(Rendered(text, [section(text)]))


def announce(conv: Conversation, text: str) -> bool:
    """In the channel for everyone (a slash command) or in the thread; False when the bot is not in the channel
    (then it could not post the summaries either)."""
    if not conv.private:
        conv.reply(Rendered(text, [section(text)]))
        return True
    try:
        conv.client.chat_postMessage(channel=conv.channel, text=text, blocks=[section(text)])
    except SlackApiError as exc:
        if exc.response.get("error") not in NOT_THERE:
            raise
        return False
    return True


def _restore(bot: SlackBot, channel: str, previous: list[dict]) -> None:
    old = [r for r in previous if r["source"] == "slack"]
    if old:
        r = old[0]
        bot.state.subscribe(channel, r["time"], r["tz"], Subscription.from_row(r).tunnels, r["created_by"])
    else:
        bot.state.unsubscribe(channel)


def _zone(bot: SlackBot, job: QuestionJob) -> tuple[ZoneInfo, str]:
    """The channel's configured zone, else the subscriber's Slack zone, else the bot's default."""
    channel_zone = bot.policy.channel_zone(job.channel)
    if channel_zone is not None:
        return channel_zone, "channel zone"
    zone = bot.user_zone(job.user)
    return zone, "your zone" if bot.state.zone(job.user) else "the bot's default zone"


def _config_row(bot: SlackBot, channel: str) -> Subscription | None:
    rows = [r for r in bot.state.subscription_rows(channel) if r["source"] == "config"]
    return Subscription.from_row(rows[0]) if rows else None


def _tunnels(bot: SlackBot, sub: Subscription) -> str:
    return tunnels_text(bot, sub.channel, sub.tunnels)


def tunnels_text(bot: SlackBot, channel: str, tunnels: Sequence[str]) -> str:
    """"paris and lyon", "all tunnels", "all tunnels this channel may see (lyon and nice)": what `tunnels` (() =
    all) means in `channel`."""
    allowed = bot.policy.subscription_tunnels(channel)
    if tunnels:  # those the channel may still see (it may have been limited since)
        names = [t for t in tunnels if allowed is None or t.lower() in allowed]
        return and_names(names) if names else "no tunnel this channel may see"
    if allowed is None:
        return "all tunnels"
    names = [t.name for t in bot.workspace.registry if t.name.lower() in allowed] or sorted(allowed)
    return f"all tunnels this channel may see ({and_names(names)})" if names else "no tunnel this channel may see"


def _describe(sub: Subscription, bot: SlackBot) -> str:
    return f"{_tunnels(bot, sub)} every day at {sub.time} {sub.tz}"


def and_names(names: Sequence[str]) -> str:
    names = [escape(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def admins_text(bot: SlackBot, start: bool = False) -> str:
    return bot.options.admins or ("The vpnbot administrators" if start else "the vpnbot administrators")
