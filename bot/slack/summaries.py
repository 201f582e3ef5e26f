"""Posting a daily summary in a channel: the message, then the timeline picture in its thread (issue 6)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .worker import SlackBot


def post_summary(bot: SlackBot, channel: str, day: date, zone: ZoneInfo, tunnels: Sequence[str] | None = None) -> str:
    """Compute the summary of local `day` in `zone` for `tunnels` (None: all) and post it in `channel`, with the
    timeline PNG in the summary's thread. Returns the summary message's ts. Raises on failure (the caller decides
    whether to retry)."""
    raise NotImplementedError("being written (issue 6)")
