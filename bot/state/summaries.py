"""The state store's daily-summary side: the channels' subscriptions, and the run records that make each summary
happen once across restarts and processes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.state.database import Database, retried
from bot.state.schema import iso


class SummaryStore(Database):
    """Subscriptions and summary runs."""

    # -- daily summaries: subscriptions -------------------------------------------------------------------------

    @retried
    def subscribe(self, channel: str, time: str, tz: str, tunnels: Iterable[str], created_by: str,
                  now: datetime | None = None) -> dict[str, Any]:
        """Make or change `channel`'s Slack-made subscription (one per channel); returns the stored row."""
        row = {"channel": channel, "source": "slack", "time": time, "tz": tz,
               "tunnels": json.dumps(list(tunnels)), "created_by": created_by}
        with self.transaction(lock="subscriptions") as conn:
            old = conn.execute("SELECT created_at FROM subscriptions WHERE channel = ? AND source = ?",
                               (channel, "slack")).fetchone()
            row["created_at"] = old[0] if old else iso(now or datetime.now(UTC))
            conn.upsert("subscriptions", row, ("channel", "source"))
        return row

    @retried
    def unsubscribe(self, channel: str) -> bool:
        """Remove `channel`'s Slack-made subscription; False when it had none (configuration ones stay)."""
        with self.connection() as conn:
            cursor = conn.execute("DELETE FROM subscriptions WHERE channel = ? AND source = 'slack'", (channel,))
        return cursor.rowcount > 0

    @retried(read=True)
    def subscription_rows(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Every stored subscription (or `channel`'s), Slack-made and configuration ones, by channel."""
        where, args = ("channel = ?", [channel]) if channel else (None, [])
        with self.connection() as conn:
            return conn.select("subscriptions", where, args, order_by="channel, source")

    @retried
    def sync_config_subscriptions(self, rows: Iterable[dict[str, Any]], now: datetime | None = None) -> None:
        """Make the configuration's [[subscriptions]] the stored `source = 'config'` rows, in one transaction
        (a removed entry disappears; an unchanged one keeps its created_at)."""
        created = iso(now or datetime.now(UTC))
        wanted = [{"channel": r["channel"], "source": "config", "time": r["time"], "tz": r["tz"],
                   "tunnels": json.dumps(list(r.get("tunnels") or ())), "created_by": "", "created_at": created}
                  for r in rows]
        with self.transaction(lock="subscriptions") as conn:
            if wanted:
                conn.execute("DELETE FROM subscriptions WHERE source = 'config' AND channel NOT IN ("
                             + ",".join("?" * len(wanted)) + ")", [w["channel"] for w in wanted])
            else:
                conn.execute("DELETE FROM subscriptions WHERE source = 'config'")
            for w in wanted:
                conn.execute(
                    'INSERT INTO subscriptions (channel, source, "time", tz, tunnels, created_by, created_at) '
                    "VALUES (?, ?, ?, ?, ?, ?, ?) "
                    'ON CONFLICT (channel, source) DO UPDATE SET "time" = excluded."time", tz = excluded.tz, '
                    "tunnels = excluded.tunnels", list(w.values()))

    # -- daily summaries: exactly-once runs ----------------------------------------------------------------------
    #
    # A run is (channel, local day summarised). Whoever inserts its row in `claim_run` posts it; everyone else
    # sees the row and leaves it. A claim is a lease: the owner renews it while it works (`renew_run`), and only
    # a claim whose lease ran out (its process died) may be taken again. The one remaining window: the owner's
    # post reached Slack but the process died before `finish_run` recorded `posted` and the message ts; after the
    # lease another process posts a second copy. The scheduler writes that row right after the post returns,
    # so the window is the time between Slack's answer and one UPDATE (plus, inside the poster, the picture upload
    # after the message). Once `posted` (or a message ts) is recorded, the run is never claimed again. Leases are
    # compared with the claimant's clock: processes sharing one store should share a clock (NTP:
    # replicas on several hosts compare leases of minutes, so seconds of skew do not matter).

    @retried
    def claim_run(self, channel: str, day: date, owner: str, now: datetime, lease: timedelta,
                  scheduled_at: datetime | None = None, max_attempts: int | None = None) -> bool:
        """True when `owner` may post the run now (and holds it until now + lease); False when it was posted,
        skipped, failed for good, or is held or waiting for its next attempt. One serialised transaction
        (`transaction`), so two processes racing for the same run cannot both win."""
        key = (channel, day.isoformat())
        with self.transaction(lock="summary_runs") as conn:
            row = conn.execute(
                "SELECT status, lease_until, attempts, message_ts FROM summary_runs WHERE channel = ? AND day = ?",
                key).fetchone()
            won = False
            if row is None:
                conn.execute(
                    "INSERT INTO summary_runs (channel, day, status, owner, attempts, scheduled_at, claimed_at, "
                    "lease_until) VALUES (?, ?, 'claimed', ?, 1, ?, ?, ?)",
                    (*key, owner, iso(scheduled_at) if scheduled_at else None, iso(now), iso(now + lease)))
                won = True
            elif row[0] in ("claimed", "retry") and (row[1] or "") <= iso(now) and not row[3]:
                if row[0] == "claimed" and max_attempts is not None and (row[2] or 0) >= max_attempts:
                    conn.execute(
                        "UPDATE summary_runs SET status = 'failed', error = ? WHERE channel = ? AND day = ?",
                        (f"gave up after {row[2]} attempts: the process posting it stopped each time", *key))
                else:
                    conn.execute(
                        "UPDATE summary_runs SET status = 'claimed', owner = ?, attempts = attempts + 1, "
                        "claimed_at = ?, lease_until = ? WHERE channel = ? AND day = ?",
                        (owner, iso(now), iso(now + lease), *key))
                    won = True
        return won

    @retried
    def note_run_message(self, channel: str, day: date, message_ts: str) -> None:
        """The summary message exists (its picture may still be uploading): from now on the run is never claimed
        again, even if this process dies before `finish_run(posted)` (claim_run refuses a run with a message)."""
        with self.transaction(lock="summary_runs") as conn:  # never between a claim's read and its write
            conn.execute("UPDATE summary_runs SET message_ts = ? WHERE channel = ? AND day = ? "
                         "AND status = 'claimed'", (message_ts, channel, day.isoformat()))

    @retried
    def renew_run(self, channel: str, day: date, owner: str, now: datetime, lease: timedelta) -> bool:
        """Extend `owner`'s claim; False when it no longer holds it."""
        with self.transaction(lock="summary_runs") as conn:
            cursor = conn.execute(
                "UPDATE summary_runs SET lease_until = ? WHERE channel = ? AND day = ? AND owner = ? "
                "AND status = 'claimed'", (iso(now + lease), channel, day.isoformat(), owner))
        return cursor.rowcount > 0

    @retried
    def finish_run(self, channel: str, day: date, owner: str, status: str, now: datetime, message_ts: str = "",
                   error: str = "", retry_at: datetime | None = None) -> bool:
        """Record the outcome of `owner`'s attempt; True when it changed the row.

        `posted` is recorded whoever holds the claim (a posted message is a fact; recording it stops any further
        copy); `retry` (next attempt at `retry_at`) and `failed` only by the claim's holder, so a failure is
        announced once."""
        key = (channel, day.isoformat())
        with self.transaction(lock="summary_runs") as conn:
            if status == "posted":
                cursor = conn.execute(
                    "UPDATE summary_runs SET status = 'posted', posted_at = ?, message_ts = ?, error = NULL "
                    "WHERE channel = ? AND day = ? AND status != 'posted'", (iso(now), message_ts, *key))
            elif status in ("retry", "failed"):
                cursor = conn.execute(
                    "UPDATE summary_runs SET status = ?, error = ?, lease_until = ? "
                    "WHERE channel = ? AND day = ? AND owner = ? AND status = 'claimed'",
                    (status, error, iso(retry_at) if retry_at else None, *key, owner))
            else:
                raise ValueError(f"finish_run: status must be posted, retry or failed, not {status!r}")
        return cursor.rowcount > 0

    @retried
    def skip_run(self, channel: str, day: date, now: datetime, reason: str,
                 scheduled_at: datetime | None = None) -> bool:
        """Record a run too late to post as `skipped` (also one left claimed by a dead process or waiting for a
        retry); True when this call recorded it (so it is logged once), False when it was settled already."""
        key = (channel, day.isoformat())
        with self.transaction(lock="summary_runs") as conn:
            row = conn.execute("SELECT status, lease_until, message_ts FROM summary_runs "
                               "WHERE channel = ? AND day = ?", key).fetchone()
            changed = False
            if row is None:
                conn.execute(
                    "INSERT INTO summary_runs (channel, day, status, owner, attempts, scheduled_at, claimed_at, "
                    "error) VALUES (?, ?, 'skipped', '', 0, ?, ?, ?)",
                    (*key, iso(scheduled_at) if scheduled_at else None, iso(now), reason))
                changed = True
            elif row[0] in ("claimed", "retry") and (row[1] or "") <= iso(now) and not row[2]:
                conn.execute("UPDATE summary_runs SET status = 'skipped', error = ? "
                             "WHERE channel = ? AND day = ?", (reason, *key))
                changed = True
        return changed

    @retried(read=True)
    def settled_runs(self, keys: Iterable[tuple[str, date]], now: datetime) -> set[tuple[str, date]]:
        """Which of (channel, day) need nothing now: done (posted, failed, skipped) or held / waiting for a retry.
        A read, so the scheduler's 30-second ticks do not take the write lock for runs already handled."""
        keys = list(keys)
        if not keys:
            return set()
        channels = sorted({c for c, _ in keys})
        with self.connection() as conn:
            rows = conn.execute(
                "SELECT channel, day, status, lease_until, message_ts FROM summary_runs WHERE channel IN ("
                + ",".join("?" * len(channels)) + ")", channels).fetchall()
        stamp = iso(now)
        settled = {(c, date.fromisoformat(d)) for c, d, status, lease, ts in rows
                   if status in ("posted", "failed", "skipped") or ts or (lease or "") > stamp}
        return settled & set(keys)

    @retried(read=True)
    def run_attempts(self, channel: str, day: date) -> int:
        row = self.summary_run(channel, day)
        return int(row["attempts"] or 0) if row else 0

    @retried(read=True)
    def summary_run(self, channel: str, day: date) -> dict[str, Any] | None:
        with self.connection() as conn:
            rows = conn.select("summary_runs", "channel = ? AND day = ?", [channel, day.isoformat()])
        return rows[0] if rows else None

    @retried(read=True)
    def summary_runs(self, channel: str | None = None) -> list[dict[str, Any]]:
        where, args = ("channel = ?", [channel]) if channel else (None, [])
        with self.connection() as conn:
            return conn.select("summary_runs", where, args, order_by="day, channel")
