"""The state store's Azure Monitor alert side: the message each alert was posted as, so a retried webhook never posts
twice and the Resolved notification edits the Fired one's message.

An alert (`essentials.alertId`, the same for its Fired and Resolved notifications) is claimed in one serialised
transaction before anything is posted: whoever inserts its row posts, and records the message's ts right after. A
claim is a lease: a process that died between the claim and the post leaves a row without a message, taken again
once its lease ran out (the delivery it answered is taken over by another process, bot/slack/deliveries.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.state.database import Database, retried
from bot.state.schema import iso

#: Posting an alert's message takes seconds; an investigation, up to its deadline.
ALERT_LEASE = timedelta(minutes=5)


class AlertStore(Database):
    """Where each Azure Monitor alert was posted."""

    @retried(patient=True)
    def claim_alert(self, alert_id: str, channel: str, owner: str, rule: str, now: datetime,
                    lease: timedelta = ALERT_LEASE, live: frozenset[str] | None = None) -> tuple[str, dict[str, Any]]:
        """("post", row): `owner` posts the alert's message now (nobody had, or the one who claimed it died: its lease
        ran out, or it is not among the `live` owners when given); ("edit", row): it was posted (row["message_ts"],
        row["channel"], row["status"]); ("held", row): another worker is posting it. One transaction, so two
        deliveries racing cannot both post."""
        with self.transaction(lock="azure_alerts") as conn:
            found = conn.execute("SELECT alert_id, channel, status, owner, lease_until, message_ts FROM azure_alerts "
                                 "WHERE alert_id = ?", (alert_id,)).fetchone()
            columns = ("alert_id", "channel", "status", "owner", "lease_until", "message_ts")
            row = dict(zip(columns, found, strict=True)) if found else {}
            if row.get("message_ts"):
                return "edit", row
            holder_alive = live is None or row.get("owner") in live
            if row and (row["lease_until"] or "") > iso(now) and holder_alive:  # this process's other worker too
                return "held", row
            conn.execute("INSERT INTO azure_alerts (alert_id, channel, status, owner, lease_until, claimed_at, rule) "
                         "VALUES (?, ?, 'claimed', ?, ?, ?, ?) ON CONFLICT (alert_id) DO UPDATE SET "
                         "channel = excluded.channel, owner = excluded.owner, lease_until = excluded.lease_until, "
                         "claimed_at = excluded.claimed_at",
                         (alert_id, channel, owner, iso(now + lease), iso(now), rule))
        return "post", {"alert_id": alert_id, "channel": channel, "status": "claimed", "message_ts": ""}

    @retried(patient=True)
    def note_alert_message(self, alert_id: str, message_ts: str, status: str) -> None:
        """The alert's message exists (or was edited to show `status`): never posted again."""
        with self.transaction(lock="azure_alerts") as conn:  # never between a claim's read and its write
            conn.execute("UPDATE azure_alerts SET message_ts = ?, status = ? WHERE alert_id = ?",
                         (message_ts, status, alert_id))

    @retried(read=True)
    def alert_row(self, alert_id: str) -> dict[str, Any] | None:
        with self.connection() as conn:
            rows = conn.select("azure_alerts", "alert_id = ?", [alert_id])
        return rows[0] if rows else None
