"""The state store's side of watching in Slack: which channels watch which tunnels (`/vpn watch`), and the message
each channel got for each incident, so a later change of the incident edits that message instead of posting again.

A `watch_messages` row is written right after its chat.postMessage: an incident handed to another poll (the lease of
bot/state/watch.py ran out) edits the channels that have a message and posts only in the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.state.database import Database, retried
from bot.state.schema import iso


class WatchesStore(Database):
    """Slack-made watch subscriptions and the messages telling incidents."""

    @retried
    def watch(self, channel: str, tunnels: Iterable[str], created_by: str, now: datetime | None = None) -> None:
        """Make or change `channel`'s watch (one per channel; tunnels () = every tunnel it may see)."""
        with self.connection() as conn:
            conn.upsert("watches", {"channel": channel, "tunnels": json.dumps(list(tunnels)), "created_by": created_by,
                                    "created_at": iso(now or datetime.now(UTC))}, ("channel",))

    @retried
    def unwatch(self, channel: str) -> bool:
        """Stop `channel`'s Slack-made watch; False when it had none."""
        with self.connection() as conn:
            cursor = conn.execute("DELETE FROM watches WHERE channel = ?", (channel,))
        return cursor.rowcount > 0

    @retried(read=True)
    def watch_rows(self) -> list[dict[str, Any]]:
        """Every Slack-made watch, by channel (`tunnels` decoded: a tuple, () = all)."""
        with self.connection() as conn:
            rows = conn.select("watches", order_by="channel")
        return [{**r, "tunnels": tuple(json.loads(r["tunnels"] or "[]"))} for r in rows]

    @retried(read=True)
    def watch_messages(self, incident: str) -> dict[str, str]:
        """The messages telling `incident` (its id), by channel: {channel: ts}."""
        with self.connection() as conn:
            rows = conn.execute("SELECT channel, ts FROM watch_messages WHERE incident = ?", (incident,)).fetchall()
        return {channel: ts for channel, ts in rows}

    @retried
    def note_watch_message(self, incident: str, channel: str, ts: str, now: datetime) -> None:
        with self.connection() as conn:
            conn.upsert("watch_messages", {"incident": incident, "channel": channel, "ts": ts, "posted_at": iso(now)},
                        ("incident", "channel"))

    @retried
    def mute(self, channel: str, tunnel: str, until: datetime, note: str, created_by: str) -> None:
        """Silence `tunnel`'s drops in `channel` until `until` (a new mute of it replaces the old one)."""
        with self.connection() as conn:
            conn.upsert("watch_mutes", {"channel": channel, "tunnel": tunnel, "until": iso(until), "note": note,
                                        "created_by": created_by}, ("channel", "tunnel"))

    @retried
    def unmute(self, channel: str, tunnel: str) -> bool:
        with self.connection() as conn:
            cursor = conn.execute("DELETE FROM watch_mutes WHERE channel = ? AND tunnel = ?", (channel, tunnel))
        return cursor.rowcount > 0

    @retried(read=True)
    def mutes(self, now: datetime) -> list[dict[str, Any]]:
        """The mutes still running at `now`, by channel and tunnel."""
        with self.connection() as conn:
            return conn.select("watch_mutes", '"until" > ?', [iso(now)], order_by="channel, tunnel")
