"""Channel policy: what a channel listed in [[channels]] (or a direct message, with [slack] dm_tunnels) may see, the
polite refusal when it asks about another tunnel, the channel's clock for daily summaries; and the asker's zone
(docs/configuration.md, docs/slack.md).

A limited channel asks against a view of the tunnel registry (`registry_for`): suggestions, ambiguity lists, the
`tunnels` listing, `help` examples and summaries know only its tunnels, and a reference to another tunnel is refused
naming the words the asker used, never the tunnel they stand for (an IP or a gateway name would otherwise tell).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import ChannelSettings
from bot.logs import logger
from bot.state import StateStore, StoreUnavailable
from diagnostics.tunnels import Tunnel, TunnelRegistry
from handlers.parse.intent import Intent
from handlers.parse.question import Question
from handlers.render.blockkit import escape

log = logger("vpnbot.slack")
#: The status of every tunnel where the asker may see no tunnel at all: as the "which tunnel?" refusal there says it.
NO_TUNNEL_HERE = "Sorry: there is no tunnel you can ask about here"


def is_direct_message(channel: str) -> bool:
    """Slack's ids of direct messages with the bot start with "D" (every entry point carries the channel id: a DM
    event's `channel_type` is "im", a slash command or a click in a DM has a "D…" channel)."""
    return channel.startswith("D")


class ChannelPolicy:
    """The [[channels]] entries of the configuration, and [slack] dm_tunnels, asked by channel id."""

    def __init__(self, channels: Sequence[ChannelSettings], registry: TunnelRegistry, admins: str = "",
                 dm_tunnels: Sequence[str] | None = None) -> None:
        self.channels = tuple(channels)
        self.registry = registry
        self.admins = admins  # who can change [[channels]], named in refusals
        # An entry that lists no tunnels limits nothing (docs/configuration.md): only its timezone counts.
        self._restricted = {c.id: {t.lower() for t in c.tunnels} for c in self.channels if c.id and c.tunnels}
        self._dm = None if dm_tunnels is None else {t.lower() for t in dm_tunnels}

    def allowed_tunnels(self, channel: str) -> set[str] | None:
        """The (lower-case) tunnel names `channel` may see: its [[channels]] entry's tunnels, else for a direct
        message [slack] dm_tunnels; None when not limited."""
        if channel in self._restricted:
            return self._restricted[channel]
        if self._dm is not None and is_direct_message(channel):
            return self._dm
        return None

    def subscription_tunnels(self, channel: str) -> set[str] | None:
        """The tunnels a channel may subscribe to (lower case; None: every tunnel): the ones it may see."""
        return self.allowed_tunnels(channel)

    def registry_for(self, channel: str) -> TunnelRegistry:
        """The registry as `channel` may see it: all of it, or a view of its tunnels (`TunnelRegistry.only`)."""
        allowed = self.allowed_tunnels(channel)
        return self.registry if allowed is None else self.registry.only(allowed)

    def may_see(self, channel: str, tunnel: Tunnel | str) -> bool:
        allowed = self.allowed_tunnels(channel)
        return allowed is None or (tunnel.name if isinstance(tunnel, Tunnel) else tunnel).lower() in allowed

    def refusal(self, channel: str, tunnel: Tunnel | str | None, named: str = "") -> str | None:
        """The polite refusal when `channel` may not see `tunnel`, else None. It names `named` (the words the asker
        used) or nothing, never the tunnel itself: the asker may have given an IP, or a stored answer's id."""
        if tunnel is None or self.may_see(channel, tunnel):
            return None
        return self.refuse(channel, named)

    def question_refusal(self, channel: str, question: Question) -> str | None:
        """Why `question` (parsed against `registry_for(channel)`) is not answered here, else None: its tunnel is
        not one the channel may see (any of them, for several); or it asks about no tunnel in particular (a summary,
        point-to-site, the status of every tunnel) where the channel may see none of the tunnels it would cover (a
        summary of no tunnel would be of every tunnel)."""
        named = question.tunnels or ((question.tunnel,) if question.tunnel is not None else ())
        if named:
            return next((r for t in named if (r := self.refusal(channel, t)) is not None), None)
        if self.allowed_tunnels(channel) is None:
            return None
        visible = self.registry_for(channel)
        if question.intent is Intent.P2S and not any(t.azure_gateway for t in visible):
            return self.refuse(channel, "point-to-site")
        if question.intent is Intent.SUMMARY and not len(visible):
            return self.refuse(channel, "a summary")
        if question.intent is Intent.STATUS and not len(visible):  # the status of no tunnel would be of every one
            # Limited to nothing at all ([slack] dm_tunnels = []): "limited to no tunnel" reads badly, say it short.
            return self.refuse(channel, "the status of every tunnel") if self.allowed_tunnels(channel) \
                else NO_TUNNEL_HERE
        return None

    def refuse(self, channel: str, named: str = "") -> str:
        """The refusal of a limited channel: what it is limited to and who can change that. It names `named` (what
        the asker wrote), else "that tunnel"."""
        allowed = self.allowed_tunnels(channel) or set()
        names = sorted(t.name for t in self.registry if t.name.lower() in allowed) or sorted(allowed)
        who = self.admins or "The vpnbot administrators"
        what = escape(named) if named else "that tunnel"
        if channel not in self._restricted and is_direct_message(channel):
            where, setting = "in direct messages: they are", "[slack] dm_tunnels"
        else:
            where, setting = "in this channel: it is", f'[[channels]] id = "{escape(channel)}"'
        return (f"Sorry, questions about {what} can't be asked {where} limited to "
                f"{escape(', '.join(names)) or 'no tunnel'}. {who} can change that in the vpnbot configuration "
                f"({setting}); you can also ask in a channel that may see {what}.")

    def channel_zone(self, channel: str) -> ZoneInfo | None:
        """The zone of the channel's [[channels]] entry (its daily summary's clock), None when it has none."""
        for settings in self.channels:
            if settings.id == channel and settings.timezone:
                return ZoneInfo(settings.timezone)
        return None


def user_zone(client: WebClient, state: StateStore, user: str, default_tz: str) -> ZoneInfo:
    """The asker's zone: users.info, cached in the state store (a cache: a failing store is passed by);
    `default_tz` when Slack has none."""
    return asker_zone(client, state, user, default_tz)[0]


def asker_zone(client: WebClient, state: StateStore, user: str, default_tz: str) -> tuple[ZoneInfo, bool]:
    """`user_zone`, and whether it is the asker's own (False: the configured default, which says nothing of where
    the asker is, so "14:02 IST" is not resolved from it)."""
    try:
        cached = state.zone(user) if user else None
    except StoreUnavailable:
        cached = None
    name = cached
    if name is None and user:
        try:
            name = (client.users_info(user=user).get("user") or {}).get("tz")
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user, exc.response.get("error"))
    if name:
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("users.info gave an unknown zone %r for %s", name, user)
        else:
            if cached is None:
                with contextlib.suppress(StoreUnavailable):
                    state.remember_zone(user, name)
            return zone, True
    return ZoneInfo(default_tz), False
