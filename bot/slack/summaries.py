"""Posting a daily summary in a channel: the message, then the timeline picture in its thread (docs/summaries.md).

The scheduler decides when (and that it happens once); this module only makes and posts one summary. A channel
limited by [[channels]] gets only the tunnels it may see, whatever the subscription names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from bot.slack.conversation import Conversation
from bot.slack.core import SlackBot
from bot.slack.jobs import QuestionJob
from diagnostics.summary.build import summarize_day
from diagnostics.summary.model import DaySummary
from diagnostics.summary.shared import SharedDays
from handlers.render.blockkit import section
from handlers.render.summary import summary_title
from handlers.render.summary_blocks import summary_blocks
from handlers.render.timeline_png import render_timeline_png


def post_summary(bot: SlackBot, channel: str, day: date, zone: ZoneInfo, tunnels: Sequence[str] | None = None,
                 on_posted: Callable[[str], None] | None = None, shared: SharedDays | None = None) -> str:
    """Compute the summary of local `day` in `zone` for `tunnels` (None: all) and post it in `channel`, with the
    timeline PNG in the summary's thread. Returns the summary message's ts. Raises on failure (the caller decides
    whether to retry). `on_posted(ts)` is called as soon as the message exists, before the picture is uploaded:
    the scheduler records it there, so a crash during the upload cannot lead to a second copy. `shared`: the
    summaries of the channels due at the same time, made from one read of the logs."""
    visible = visible_tunnels(bot, channel, tunnels)
    if visible == []:  # none the channel may see (it was limited since): not every tunnel, which [] would mean
        text = (f"No VPN summary for {day:%A %d %B}: this channel may see none of the tunnels its daily summary "
                "covers ([[channels]]). `/vpn subscriptions` says what it covers.")
        ts = bot.client.chat_postMessage(channel=channel, text=text, blocks=[section(text)])["ts"]
        if on_posted is not None:
            on_posted(ts)
        return ts
    if shared is not None:
        summary = shared.summary(day, zone, visible)
    else:
        summary = summarize_day(bot.workspace.registry, bot.workspace.sources, day, zone, bot.clock(), visible)
    return post(bot, channel, summary, on_posted=on_posted, shared=shared)


def visible_tunnels(bot: SlackBot, channel: str, tunnels: Sequence[str] | None) -> list[str] | None:
    """The subscription's tunnels, within what the channel may see ([[channels]])."""
    allowed = bot.policy.allowed_tunnels(channel)
    if allowed is None:
        return list(tunnels) if tunnels else None
    names = [t.name for t in bot.workspace.registry if t.name.lower() in allowed]
    if tunnels and not any(n.lower() == "all" for n in tunnels):
        wanted = {bot.workspace.registry.resolve(n).name for n in tunnels}
        names = [n for n in names if n in wanted]
    return names


def post(bot: SlackBot, channel: str, summary: DaySummary, thread_ts: str = "",
         on_posted: Callable[[str], None] | None = None, shared: SharedDays | None = None) -> str:
    """The summary message (in `thread_ts` when asked in a thread), then its picture in the same thread
    (files_upload_v2, confirmed by files.info); drawn once for the channels `shared` gave the same summary."""
    rendered = summary_blocks(summary)
    posted = bot.client.chat_postMessage(channel=channel, thread_ts=thread_ts or None, **rendered.payload())
    ts = posted["ts"]
    if on_posted is not None:
        on_posted(ts)
    if summary.tunnels:
        conv = Conversation(bot.client, QuestionJob("schedule", "", channel, "", "", thread_ts=thread_ts or ts))
        picture = shared.drawn(summary, render_timeline_png) if shared else render_timeline_png(summary)
        conv.upload_file(picture, f"vpn-summary-{summary.day.isoformat()}.png",
                         f"Timeline: {summary_title(summary)}", "The day's timeline picture is")
    return ts
