"""Channel policy: what a channel listed in [[channels]] may see, the polite refusal when it asks about another
tunnel, the channel's clock for daily summaries; and the asker's zone (docs/configuration.md, docs/slack.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import ChannelSettings
from bot.state import StateStore
from diagnostics.tunnels import Tunnel, TunnelRegistry
from handlers.render.blockkit import escape

log = logging.getLogger("vpnbot.slack")


class ChannelPolicy:
    """The [[channels]] entries of the configuration, asked by channel id."""

    def __init__(self, channels: Sequence[ChannelSettings], registry: TunnelRegistry, admins: str = "") -> None:
        self.channels = tuple(channels)
        self.registry = registry
        self.admins = admins  # who can change [[channels]], named in refusals
        self._restricted = {c.id: {t.lower() for t in c.tunnels} for c in self.channels if c.id}

    def allowed_tunnels(self, channel: str) -> set[str] | None:
        """The (lower-case) tunnel names a channel limited by [[channels]] may see; None when not limited (an entry
        listing no tunnels gives the empty set)."""
        return self._restricted.get(channel)

    def subscription_tunnels(self, channel: str) -> set[str] | None:
        """The tunnels a channel may subscribe to (lower case): those of its [[channels]] entry when the entry lists
        some, else None (every tunnel)."""
        for settings in self.channels:
            if settings.id == channel and settings.tunnels:
                return {t.lower() for t in settings.tunnels}
        return None

    def refusal(self, channel: str, tunnel: Tunnel | None) -> str | None:
        """The polite refusal when `channel` is limited to other tunnels ([[channels]]), else None."""
        if tunnel is None or channel not in self._restricted:
            return None
        allowed = self._restricted[channel]
        if tunnel.name.lower() in allowed:
            return None
        names = sorted(t.name for t in self.registry if t.name.lower() in allowed) or sorted(allowed)
        who = self.admins or "The vpnbot administrators"
        return (f"Sorry, questions about {escape(tunnel.name)} can't be asked in this channel: it is limited to "
                f"{escape(', '.join(names)) or 'no tunnel'}. {who} can change that in the vpnbot configuration "
                f"([[channels]] id = \"{escape(channel)}\"); you can also ask in a channel that may see "
                f"{escape(tunnel.name)}.")

    def channel_zone(self, channel: str) -> ZoneInfo | None:
        """The zone of the channel's [[channels]] entry (its daily summary's clock), None when it has none."""
        for settings in self.channels:
            if settings.id == channel and settings.timezone:
                return ZoneInfo(settings.timezone)
        return None


def user_zone(client: WebClient, state: StateStore, user: str, default_tz: str) -> ZoneInfo:
    """The asker's zone: users.info, cached in the state store; `default_tz` when Slack has none."""
    cached = state.zone(user) if user else None
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
                state.remember_zone(user, name)
            return zone
    return ZoneInfo(default_tz)
