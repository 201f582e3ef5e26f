"""`/vpn watch [tunnels…|all]`, `/vpn unwatch`, `/vpn watching`, and the watcher of `vpnbot serve` that posts every
new drop of a watched tunnel in the channels watching it (docs/watch.md).

A watch belongs to a channel, like a daily subscription: its change is announced in the channel, a listing or a
mistake goes only to the asker. A channel limited by [[channels]] may only watch its tunnels, and is told only about
them (an incident of three tunnels of a gateway names there the one it may see).

The watcher runs on its own thread, off the question workers, like the daily summaries' scheduler; the thread only
loops `Watcher.tick(now)`, which the tests call with a pinned clock. A step polls (diagnostics.watch.poll: each
incident claimed in the state store before it is told) only when some channel watches; it posts each new incident in
each channel watching one of its tunnels, the details (the investigation of its first drop) and their charts in the
message's thread, and keeps the message per channel: an incident that changes later (a flap series growing, a tunnel
of the gateway whose rows arrived late, a tunnel told "still down" that came back) edits it instead of posting again.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.logs import logger, redact
from bot.scheduler import start_ticking, stop_ticking
from bot.slack import unasked
from bot.slack.conversation import NOT_IN_CHANNEL, Conversation
from bot.slack.core import SlackBot
from bot.slack.jobs import QuestionJob
from bot.slack.subscriptions import admins_text, announce, audited_command, is_permanent, say, tunnels_text
from diagnostics.model import InvestigationError
from diagnostics.timefmt import duration_text, parse_iso
from diagnostics.watch.model import FAILING_POLLS, Incident, PollResult
from diagnostics.watch.poll import poll
from handlers.answer import Answer
from handlers.render.blockkit import escape, section
from handlers.watch import incident_answer, incident_line, recovery_lines
from handlers.watch_command import MUTE, UNMUTE, UNWATCH, WATCH, WATCHING, WatchCommand, example, parse_watch

log = logger("vpnbot.watch")

__all__ = ["Watcher", "handle_watch", "watchers"]


# -- the commands ---------------------------------------------------------------------------------------------


def handle_watch(bot: SlackBot, job: QuestionJob) -> None:
    """Act on a watch command and reply; audited like a question (intent watch/unwatch/watching)."""
    def act(conv: Conversation) -> tuple[str, str, str]:
        command = parse_watch(job.text, bot.policy.registry_for(job.channel))
        if command.action == WATCH:
            return (*_watch(bot, job, conv, command), WATCH)
        if command.action == WATCHING:
            say(conv, listing(bot, job.channel))
            return "answered", "", WATCHING
        if command.action in (MUTE, UNMUTE):
            return (*_mute(bot, job, conv, command), command.action)
        return (*_unwatch(bot, job, conv), UNWATCH)

    audited_command(bot, job, act, WATCHING, WATCH)


def _watch(bot: SlackBot, job: QuestionJob, conv: Conversation, command: WatchCommand) -> tuple[str, str]:
    refused = _configured_refusal(bot, job, conv, "change it there")
    if refused is not None:
        return refused
    previous = next((r for r in bot.state.watch_rows() if r["channel"] == job.channel), None)
    bot.state.watch(job.channel, command.tunnels, job.user, bot.clock())
    text = (f"Watching {tunnels_text(bot, job.channel, command.tunnels)}: every new drop is posted here, explained, "
            "once (a flap series or a gateway's tunnels dropping together as one message).")
    if job.source == "slash":
        text += f" (set by <@{job.user}>; `/vpn unwatch` stops it)"
    if not announce(conv, text):
        if previous is None:
            bot.state.unwatch(job.channel)
        else:
            bot.state.watch(job.channel, previous["tunnels"], previous["created_by"])
        say(conv, NOT_IN_CHANNEL.replace("then ask again", "then watch again"))
        return "bad_input", NOT_IN_CHANNEL
    return "answered", text


def _unwatch(bot: SlackBot, job: QuestionJob, conv: Conversation) -> tuple[str, str]:
    if not bot.state.unwatch(job.channel):
        refused = _configured_refusal(bot, job, conv, "remove it there")
        if refused is not None:
            return refused
        text = "This channel watches no tunnel. `/vpn watching` lists the channels that do."
        say(conv, text)
        return "bad_input", text
    text = "Unwatched: new drops are no longer posted here."
    if job.source == "slash":
        text += f" (stopped by <@{job.user}>)"
    announce(conv, text)
    return "answered", text


def _mute(bot: SlackBot, job: QuestionJob, conv: Conversation, command: WatchCommand) -> tuple[str, str]:
    """Mute (or unmute) one tunnel's drops in this channel, announced there with its note."""
    (tunnel,) = command.tunnels
    now = bot.clock()
    by = f" (by <@{job.user}>)" if job.source == "slash" else ""
    if command.action == UNMUTE:
        if not bot.state.unmute(job.channel, tunnel):
            text = f"{escape(tunnel)} is not muted here. `/vpn watching` lists the mutes."
            say(conv, text)
            return "bad_input", text
        text = f"Unmuted {escape(tunnel)}: its new drops are posted here again.{by}"
        announce(conv, text)
        return "answered", text
    assert command.duration is not None
    until = now + command.duration
    bot.state.mute(job.channel, tunnel, until, command.note, job.user)
    local = until.astimezone(_zone(bot, job.channel))
    note = f": {escape(command.note)}" if command.note else ""
    text = (f"🔕 Muted {escape(tunnel)} here until {local:%H:%M %Z} ({duration_text(command.duration.total_seconds())})"
            f"{note}. Its drops meanwhile are not posted; `/vpn unmute {escape(tunnel)}` ends it sooner.{by}")
    if not announce(conv, text):
        bot.state.unmute(job.channel, tunnel)
        say(conv, NOT_IN_CHANNEL.replace("then ask again", "then mute again"))
        return "bad_input", NOT_IN_CHANNEL
    return "answered", text


def listing(bot: SlackBot, channel: str) -> str:
    """The watches a channel may know about: all of them, or only its own when [[channels]] limits it."""
    found = watchers(bot)
    if bot.policy.allowed_tunnels(channel) is not None:
        found = {c: t for c, t in found.items() if c == channel}
    if not found:
        return f"No channel watches tunnels yet. Start here with {example(bot.policy.registry_for(channel))}."
    configured = {w.channel for w in bot.options.watches}
    lines = [f"Channels told every new drop ({len(found)}):"]
    for where in sorted(found, key=lambda c: (c != channel, c)):
        here = " (this channel)" if where == channel else ""
        origin = "from the configuration ([[watches]])" if where in configured else "set in Slack"
        lines.append(f"• <#{where}>{here}: {tunnels_text(bot, where, found[where])}, {origin}")
    for mute in (m for m in bot.state.mutes(bot.clock()) if m["channel"] in found):
        until = parse_iso(mute["until"]).astimezone(_zone(bot, mute["channel"]))
        note = f": {escape(mute['note'])}" if mute["note"] else ""
        lines.append(f"• muted in <#{mute['channel']}>: {escape(mute['tunnel'])} until {until:%H:%M %Z}{note}")
    return "\n".join(lines)


def watchers(bot: SlackBot) -> dict[str, tuple[str, ...]]:
    """Every watching channel and its tunnels (() = all): the configuration's [[watches]] win over Slack-made ones."""
    found = {r["channel"]: r["tunnels"] for r in bot.state.watch_rows()}
    found.update({w.channel: w.tunnels for w in bot.options.watches})
    return found


def channel_tunnels(bot: SlackBot, channel: str, tunnels: Sequence[str]) -> set[str] | None:
    """The tunnels (lower case) `channel` is told about: its watch's, within its [[channels]] (None: every one)."""
    allowed = bot.policy.allowed_tunnels(channel)
    wanted = {t.lower() for t in tunnels} or None
    if allowed is None or wanted is None:
        return wanted if allowed is None else allowed
    return wanted & allowed


# -- the watcher ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Watcher:
    """Polls every `interval` seconds while a channel watches, and posts what it finds (module docstring)."""

    bot: SlackBot
    interval: float = 60.0
    nice: int = 5

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = threading.Lock()

    def clock(self) -> datetime:
        return self.bot.clock()

    def start(self) -> Watcher:
        self._thread = start_ticking(self, "vpnbot-watcher", "watch poll")
        return self

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop polling; wait up to `timeout` for a post in progress (its claim's lease covers it if we give up)."""
        return stop_ticking(self._stop, self._thread, timeout)

    def tick(self, now: datetime) -> PollResult | None:
        """One poll at `now` and its posts and edits; None when no channel watches (nothing read)."""
        with self._busy:
            channels = watchers(self.bot)
            if not channels:
                return None
            tz = ZoneInfo(self.bot.options.default_tz)
            result = poll(list(self.bot.workspace.registry), self.bot.workspace.sources, self.bot.state, now,
                          owner=self.bot.owner, tz=tz)
            for note in result.notes:
                log.warning("watch: %s", redact(note))
            self._sources(result, channels)  # "answers again" before the drops it kept from being told
            for incident in result.incidents:
                ts, complete = self._tell(incident, channels, now)
                if complete:  # else its claim's lease hands it to a later poll: it edits and posts what is left
                    self.bot.state.incident_posted(incident, now, ts)
            for incident in result.recovered:
                if self._recovered(incident, channels, now):  # else its recovery's lease hands it to a later poll
                    self.bot.state.recovery_posted(incident, now)
            return result

    def _sources(self, result: PollResult, channels: dict[str, tuple[str, ...]]) -> None:
        """A log source failing FAILING_POLLS polls in a row is told once to every watching channel, and again once
        it reads again (its watermark stayed: the drops of meanwhile are told then). The count is the state store's,
        shared by every poller and kept across restarts: whichever poller reaches it tells it (diagnostics.watch)."""
        texts = [f"⚠️ I could not read {label} for {FAILING_POLLS} polls in a row ({error}): new drops are not told "
                 "until it answers again; I will say so here." for label, error in result.failing.items()]
        texts += [f"✅ {label} answers again: the drops of meanwhile are told now." for label in result.answering]
        for text in map(escape, texts):
            for channel in channels:
                try:
                    self.bot.client.chat_postMessage(channel=channel, text=text, blocks=[section(text)])
                except Exception:
                    log.error("could not tell %s: %s", channel, redact(text), exc_info=True)

    def _tell(self, incident: Incident, channels: dict[str, tuple[str, ...]], now: datetime) -> tuple[str, bool]:
        """Post (or edit) the incident in each channel watching one of its tunnels: the first message's ts, and
        False when a channel failed for a reason a later try may get past (Slack down; not: the bot was removed)."""
        told = self.bot.state.watch_messages(incident.id)
        muted = _muted(self.bot, now)
        first, complete = "", True
        for channel, tunnels in channels.items():
            shown = _shown(incident, channel_tunnels(self.bot, channel, tunnels), muted.get(channel, set()))
            if shown is None:
                continue
            text = escape(incident_line(shown, self._zone(channel)))
            try:
                if channel in told:
                    self._joined(shown, channel, told[channel], now)
                    unasked.edit(self.bot, channel, told[channel], text)
                    first = first or told[channel]
                    continue
                # Investigated and stored before it is posted: the message carries its buttons (unasked.py).
                answer, rows = self._investigated(shown, channel, now)
                ts = unasked.post(self.bot, channel, text, rows)
            except Exception as exc:  # one channel failing (the bot was removed) does not keep the others untold
                log.error("could not tell incident %s in %s", incident.id, channel, exc_info=True)
                complete = complete and is_permanent(exc)
                continue
            self.bot.state.note_watch_message(incident.id, channel, ts, now)
            unasked.attach(self.bot, rows, ts)
            first = first or ts
            try:
                self._details(answer, rows, channel, ts)
            except Exception:  # the message is told; its details are not worth telling it twice
                log.error("could not post the details of incident %s in %s", incident.id, channel, exc_info=True)
        return first, complete

    def _investigated(self, incident: Incident, channel: str, now: datetime) -> tuple[Answer | str, list]:
        """The investigation of the incident's first drop as the channel may see it, stored for its buttons (the
        rows); or why there is none (the incident is told all the same)."""
        registry = self.bot.policy.registry_for(channel)
        try:
            answer = incident_answer(incident, registry, self.bot.workspace.sources, now, self._zone(channel))
        except InvestigationError as exc:
            return escape(f"I could not investigate it: {exc}"), []
        except Exception:
            log.error("could not investigate incident %s for %s", incident.id, channel, exc_info=True)
            return "I could not investigate it (an error, logged).", []
        return answer, unasked.store(self.bot, answer, channel, unasked.WATCH)

    def _details(self, answer: Answer | str, rows: list, channel: str, ts: str) -> None:
        """The investigation, as a question's answer with its buttons, in the message's thread, and the chart of its
        drops after it (unasked.post_details)."""
        if isinstance(answer, str):
            self.bot.client.chat_postMessage(channel=channel, thread_ts=ts, text=answer, blocks=[section(answer)])
            return
        unasked.post_details(self.bot, answer, rows, channel, ts, unasked.WATCH)

    def _joined(self, incident: Incident, channel: str, ts: str, now: datetime) -> None:
        """Tunnels that joined the incident after its message was posted (their rows arrived a poll later): their
        investigation stored (their buttons) and posted in the thread, as the first tunnels' was."""
        try:
            have = {r["tunnel"] for r in unasked.stored(self.bot, channel, ts)}
            joined = [t for t in incident.tunnels if t not in have]
            if not have or not joined:  # nothing stored at first (the store or the investigation failed): left so
                return
            answer, rows = self._investigated(incident.only(joined), channel, now)
            unasked.attach(self.bot, rows, ts)
            self._details(answer, rows, channel, ts)
        except Exception:  # the edit tells them; their details are not worth telling it twice
            log.error("could not post the details of the tunnels joining %s in %s", incident.id, channel,
                      exc_info=True)

    def _recovered(self, incident: Incident, channels: dict[str, tuple[str, ...]], now: datetime) -> bool:
        """Tunnels of an incident told "still down" came back: its messages edited (which tunnels are back, which
        still down), a line per tunnel back in their threads. False when a channel failed for a reason a later try
        may get past."""
        complete, muted = True, _muted(self.bot, now)
        for channel, ts in self.bot.state.watch_messages(incident.id).items():
            shown = _shown(incident, channel_tunnels(self.bot, channel, channels.get(channel, ())),
                           muted.get(channel, set()))
            if shown is None or not shown.newly_back:  # none of the tunnels back is this channel's
                continue
            zone = self._zone(channel)
            text = escape(incident_line(shown, zone))
            try:
                unasked.edit(self.bot, channel, ts, text)
                for line in recovery_lines(shown, zone):
                    back = escape(line)
                    self.bot.client.chat_postMessage(channel=channel, thread_ts=ts, text=back, blocks=[section(back)])
            except Exception as exc:
                log.error("could not update incident %s in %s", incident.id, channel, exc_info=True)
                complete = complete and is_permanent(exc)
        return complete

    def _zone(self, channel: str) -> ZoneInfo:
        return _zone(self.bot, channel)


def _shown(incident: Incident, allowed: set[str] | None, muted: set[str] = frozenset()) -> Incident | None:
    """The incident as `allowed` may see it (only its tunnels), without the `muted` ones; None when that leaves
    none of them."""
    if allowed is None and not muted:
        return incident
    names = [t for t in incident.tunnels if (allowed is None or t.lower() in allowed) and t.lower() not in muted]
    return incident.only(names) if names else None


def _muted(bot: SlackBot, now: datetime) -> dict[str, set[str]]:
    """The tunnels (lower case) muted at `now`, by channel."""
    found: dict[str, set[str]] = {}
    for mute in bot.state.mutes(now):
        found.setdefault(mute["channel"], set()).add(mute["tunnel"].lower())
    return found


def _zone(bot: SlackBot, channel: str) -> ZoneInfo:
    return bot.policy.channel_zone(channel) or ZoneInfo(bot.options.default_tz)


def _configured_refusal(bot: SlackBot, job: QuestionJob, conv: Conversation,
                        change: str) -> tuple[str, str] | None:
    """Said when the channel's watch comes from the configuration ([[watches]]), which Slack does not change."""
    configured = next((w.tunnels for w in bot.options.watches if w.channel == job.channel), None)
    if configured is None:
        return None
    text = (f"This channel watches {tunnels_text(bot, job.channel, configured)} as set in the vpnbot configuration; "
            f"{admins_text(bot)} can {change} ([[watches]] channel = \"{escape(job.channel)}\").")
    say(conv, text)
    return "refused", text

