"""The state store: one SQLite file (sqlite-utils, WAL) that every `vpnbot serve` process of a deployment shares.

What it keeps, and why:

* `questions`: one row per question or button click (who, where, what, the outcome, the primary cause, the time
  taken, and the answer with its queries), so the bot's answers can be audited and "Show queries" can print what
  an answer ran. Kept `retention_days`, then purged.
* `slack_events`: the ids of the Slack deliveries already taken (event_id, the asking message, the slash
  command's trigger_id). Slack re-delivers an event it thinks was not acknowledged, possibly to another instance
  behind the load balancer; claiming the id in the shared file is what makes "never twice" hold across processes.
* `user_zones`: the asker's IANA time zone from `users.info`, cached for a day (people travel, but not hourly).
* `subscriptions`: the channels' daily summaries, one per (channel, source): made in Slack (`/vpn subscribe`) or
  copied from the configuration's [[subscriptions]] at start (the configuration one wins). Every process reads them
  here, so a subscription made through one instance is scheduled by all.
* `summary_runs`: one row per (channel, local day summarised), written in the transaction that claims the run:
  what makes a daily summary happen once across restarts and across processes (see `claim_run`).
* `bundles`: one row per evidence bundle made (which investigation, the zip's SHA-256 and size, its file name, who
  asked for it, when, and whether IPs were redacted / usernames hashed), so a bundle support received can be traced
  back to the investigation and the person who handed it over. Kept `retention_days`, like the questions.

WAL lets readers run while one process writes; writers wait on each other (`busy_timeout`) instead of failing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

DEFAULT_RETENTION_DAYS = 90
#: Slack retries a delivery for minutes, not days; a day of ids is plenty.
EVENT_RETENTION = timedelta(days=1)
ZONE_MAX_AGE = timedelta(days=1)
BUSY_TIMEOUT_S = 10.0

OUTCOMES = ("running", "answered", "bad_input", "refused", "source_failed", "error")

_QUESTION_COLUMNS: dict[str, type] = {
    "id": int,
    "asked_at": str,  # ISO 8601 UTC, "2026-11-22T13:02:00Z": sorts as text
    "team": str,
    "channel": str,
    "user": str,
    "source": str,  # slash | mention | dm | button | console
    "text": str,
    "intent": str,
    "tunnel": str,
    "window_start": str,
    "window_end": str,
    "outcome": str,
    "cause": str,
    "confidence": str,
    "duration_ms": int,
    "error_id": str,
    "detail": str,
    "thread_ts": str,
    "answer_ts": str,
    "answer_json": str,  # the JSON answer (schema 1)
    "queries_json": str,  # the queries as run: backend, origin, range, rows, text
}


_SUBSCRIPTION_COLUMNS: dict[str, type] = {
    "channel": str,
    "source": str,  # slack | config
    "time": str,  # "HH:MM" local to tz
    "tz": str,  # IANA zone
    "tunnels": str,  # JSON list of tunnel names; [] = every tunnel the channel may see
    "created_by": str,  # Slack user id
    "created_at": str,  # ISO UTC; kept when the subscription is changed (a new time today still runs today)
}
_RUN_COLUMNS: dict[str, type] = {
    "channel": str,
    "day": str,  # the local day summarised, "2026-03-28" (posted the next day)
    "status": str,  # claimed | retry | posted | failed | skipped
    "owner": str,  # the scheduler holding the claim: "<pid>-<random>"
    "attempts": int,
    "scheduled_at": str,  # when it was due (ISO UTC)
    "claimed_at": str,  # last claimed (or recorded, for a skipped run)
    "lease_until": str,  # claimed: nobody else may take it before; retry: the next attempt
    "posted_at": str,
    "message_ts": str,  # the summary message: set with status posted
    "error": str,
}
RUN_STATUSES = ("claimed", "retry", "posted", "failed", "skipped")
#: Run records outlive the scheduler's look-back (48 h) by far, whatever retention_days says: a forgotten run could
#: otherwise be mistaken for a missed one (it would then be skipped as too late, but never guessed at).
RUN_RETENTION = timedelta(days=7)

_BUNDLE_COLUMNS: dict[str, type] = {
    "id": int,
    "question_id": int,  # the investigation (questions.id) the bundle was built from
    "sha256": str,  # of the zip file as written
    "size": int,  # bytes
    "file_name": str,
    "created_by": str,  # Slack user id, or "cli:<local user>"
    "created_at": str,  # ISO 8601 UTC
    "redact_ips": int,  # 1 when public IPs were replaced
    "hash_users": int,  # 1 when point-to-site usernames were hashed
}


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class StateStore:
    """Thread-safe (one connection, one lock) and process-safe (SQLite locking) access to the state file."""

    def __init__(self, path: str | Path, retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
        self.path = str(path)
        self.retention = timedelta(days=retention_days)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit (isolation_level=None): transactions are opened explicitly where several statements must be
        # atomic (claim), everything else is one statement.
        self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                     check_same_thread=False)
        self._lock = threading.Lock()
        self.db = sqlite_utils.Database(self._conn)
        with self._lock:
            if self.path != ":memory:":
                self.db.enable_wal()
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self.db.table("questions").create(_QUESTION_COLUMNS, pk="id", if_not_exists=True)
            self.db.table("slack_events").create({"key": str, "seen_at": str}, pk="key", if_not_exists=True)
            self.db.table("user_zones").create({"user": str, "tz": str, "fetched_at": str}, pk="user",
                                               if_not_exists=True)
            self.db.table("questions").create_index(["asked_at"], if_not_exists=True)
            self.db.table("slack_events").create_index(["seen_at"], if_not_exists=True)
            self.db.table("subscriptions").create(_SUBSCRIPTION_COLUMNS, pk=("channel", "source"), if_not_exists=True)
            self.db.table("summary_runs").create(_RUN_COLUMNS, pk=("channel", "day"), if_not_exists=True)
            self.db.table("bundles").create(_BUNDLE_COLUMNS, pk="id", if_not_exists=True)
            self.db.table("bundles").create_index(["question_id"], if_not_exists=True)

    @contextmanager
    def immediate(self) -> Iterator[sqlite3.Connection]:
        """One BEGIN IMMEDIATE transaction under the lock: the write lock is taken at once, so two processes doing
        a read-then-write cannot both read the old state; committed on success, rolled back on any error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- Slack deliveries ---------------------------------------------------------------------------------------

    def claim(self, keys: Iterable[str], now: datetime | None = None) -> bool:
        """True when none of `keys` was claimed before (and claims them all); False for a repeat delivery.

        One IMMEDIATE transaction, so two processes racing on the same delivery cannot both win.
        """
        keys = [k for k in keys if k]
        if not keys:
            return True
        seen_at = iso(now or datetime.now(UTC))
        with self.immediate() as conn:
            marks = ",".join("?" * len(keys))
            seen = conn.execute(f"SELECT 1 FROM slack_events WHERE key IN ({marks}) LIMIT 1", keys).fetchone()
            if seen is None:
                conn.executemany("INSERT INTO slack_events (key, seen_at) VALUES (?, ?)",
                                 [(k, seen_at) for k in keys])
        return seen is None

    # -- time zones ---------------------------------------------------------------------------------------------

    def zone(self, user: str, now: datetime | None = None) -> str | None:
        """The cached zone of `user`, or None when unknown or older than a day."""
        oldest = iso((now or datetime.now(UTC)) - ZONE_MAX_AGE)
        with self._lock:
            row = self._conn.execute("SELECT tz FROM user_zones WHERE user = ? AND fetched_at >= ?",
                                     (user, oldest)).fetchone()
        return row[0] if row else None

    def remember_zone(self, user: str, tz: str, now: datetime | None = None) -> None:
        with self._lock:
            self.db.table("user_zones").upsert(
                {"user": user, "tz": tz, "fetched_at": iso(now or datetime.now(UTC))}, pk="user")

    # -- questions (the audit trail) -------------------------------------------------------------------------------

    def start_question(self, **fields: Any) -> int:
        row = {"outcome": "running", "asked_at": iso(datetime.now(UTC)), **_clean(fields)}
        with self._lock:
            table = self.db.table("questions").insert(row)
            return int(table.last_pk)

    def finish_question(self, question_id: int, **fields: Any) -> None:
        with self._lock:
            self.db.table("questions").update(question_id, _clean(fields))

    def question(self, question_id: int) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db.table("questions").rows_where("id = ?", [question_id]))
        return rows[0] if rows else None

    def questions(self, where: str | None = None, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db.table("questions").rows_where(where, list(args), order_by="id"))

    # -- daily summaries: subscriptions -------------------------------------------------------------------------

    def subscribe(self, channel: str, time: str, tz: str, tunnels: Iterable[str], created_by: str,
                  now: datetime | None = None) -> dict[str, Any]:
        """Make or change `channel`'s Slack-made subscription (one per channel); returns the stored row."""
        row = {"channel": channel, "source": "slack", "time": time, "tz": tz,
               "tunnels": json.dumps(list(tunnels)), "created_by": created_by}
        with self.immediate() as conn:
            old = conn.execute("SELECT created_at FROM subscriptions WHERE channel = ? AND source = ?",
                               (channel, "slack")).fetchone()
            row["created_at"] = old[0] if old else iso(now or datetime.now(UTC))
            conn.execute(
                "INSERT OR REPLACE INTO subscriptions (channel, source, time, tz, tunnels, created_by, created_at)"
                " VALUES (:channel, :source, :time, :tz, :tunnels, :created_by, :created_at)", row)
        return row

    def unsubscribe(self, channel: str) -> bool:
        """Remove `channel`'s Slack-made subscription; False when it had none (configuration ones stay)."""
        with self._lock:
            cursor = self._conn.execute("DELETE FROM subscriptions WHERE channel = ? AND source = 'slack'",
                                        (channel,))
        return cursor.rowcount > 0

    def subscription_rows(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Every stored subscription (or `channel`'s), Slack-made and configuration ones, by channel."""
        where, args = ("channel = ?", [channel]) if channel else (None, [])
        with self._lock:
            return list(self.db.table("subscriptions").rows_where(where, args, order_by="channel, source"))

    def sync_config_subscriptions(self, rows: Iterable[dict[str, Any]], now: datetime | None = None) -> None:
        """Make the configuration's [[subscriptions]] the stored `source = 'config'` rows, in one transaction
        (a removed entry disappears; an unchanged one keeps its created_at)."""
        created = iso(now or datetime.now(UTC))
        wanted = [{"channel": r["channel"], "source": "config", "time": r["time"], "tz": r["tz"],
                   "tunnels": json.dumps(list(r.get("tunnels") or ())), "created_by": "", "created_at": created}
                  for r in rows]
        with self.immediate() as conn:
            conn.execute("DELETE FROM subscriptions WHERE source = 'config' AND channel NOT IN ("
                         + ",".join("?" * len(wanted)) + ")", [w["channel"] for w in wanted])
            for w in wanted:
                conn.execute(
                    "INSERT INTO subscriptions (channel, source, time, tz, tunnels, created_by, created_at) "
                    "VALUES (:channel, :source, :time, :tz, :tunnels, :created_by, :created_at) "
                    "ON CONFLICT (channel, source) DO UPDATE SET time = excluded.time, tz = excluded.tz, "
                    "tunnels = excluded.tunnels", w)

    # -- daily summaries: exactly-once runs ----------------------------------------------------------------------
    #
    # A run is (channel, local day summarised). Whoever inserts its row in `claim_run` posts it; everyone else
    # sees the row and leaves it. A claim is a lease: the owner renews it while it works (`renew_run`), and only
    # a claim whose lease ran out (its process died) may be taken again. The one remaining window: the owner's
    # post reached Slack but the process died before `finish_run` recorded `posted` and the message ts; after the
    # lease another process posts a second copy. The scheduler writes that row right after the post returns,
    # so the window is the time between Slack's answer and one UPDATE (plus, inside the poster, the picture upload
    # after the message). Once `posted` (or a message ts) is recorded, the run is never claimed again. Leases are
    # compared with the claimant's clock: processes sharing this SQLite file share a host, hence a clock.

    def claim_run(self, channel: str, day: date, owner: str, now: datetime, lease: timedelta,
                  scheduled_at: datetime | None = None, max_attempts: int | None = None) -> bool:
        """True when `owner` may post the run now (and holds it until now + lease); False when it was posted,
        skipped, failed for good, or is held or waiting for its next attempt. One IMMEDIATE transaction, so two
        processes racing for the same run cannot both win."""
        key = (channel, day.isoformat())
        with self.immediate() as conn:
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

    def note_run_message(self, channel: str, day: date, message_ts: str) -> None:
        """The summary message exists (its picture may still be uploading): from now on the run is never claimed
        again, even if this process dies before `finish_run(posted)` (claim_run refuses a run with a message)."""
        with self._lock:
            self._conn.execute("UPDATE summary_runs SET message_ts = ? WHERE channel = ? AND day = ? "
                               "AND status = 'claimed'", (message_ts, channel, day.isoformat()))

    def renew_run(self, channel: str, day: date, owner: str, now: datetime, lease: timedelta) -> bool:
        """Extend `owner`'s claim; False when it no longer holds it."""
        with self._lock:
            cursor = self._conn.execute(
                "UPDATE summary_runs SET lease_until = ? WHERE channel = ? AND day = ? AND owner = ? "
                "AND status = 'claimed'", (iso(now + lease), channel, day.isoformat(), owner))
        return cursor.rowcount > 0

    def finish_run(self, channel: str, day: date, owner: str, status: str, now: datetime, message_ts: str = "",
                   error: str = "", retry_at: datetime | None = None) -> bool:
        """Record the outcome of `owner`'s attempt; True when it changed the row.

        `posted` is recorded whoever holds the claim (a posted message is a fact; recording it stops any further
        copy); `retry` (next attempt at `retry_at`) and `failed` only by the claim's holder, so a failure is
        announced once."""
        key = (channel, day.isoformat())
        with self._lock:
            if status == "posted":
                cursor = self._conn.execute(
                    "UPDATE summary_runs SET status = 'posted', posted_at = ?, message_ts = ?, error = NULL "
                    "WHERE channel = ? AND day = ? AND status != 'posted'", (iso(now), message_ts, *key))
            elif status in ("retry", "failed"):
                cursor = self._conn.execute(
                    "UPDATE summary_runs SET status = ?, error = ?, lease_until = ? "
                    "WHERE channel = ? AND day = ? AND owner = ? AND status = 'claimed'",
                    (status, error, iso(retry_at) if retry_at else None, *key, owner))
            else:
                raise ValueError(f"finish_run: status must be posted, retry or failed, not {status!r}")
        return cursor.rowcount > 0

    def skip_run(self, channel: str, day: date, now: datetime, reason: str,
                 scheduled_at: datetime | None = None) -> bool:
        """Record a run too late to post as `skipped` (also one left claimed by a dead process or waiting for a
        retry); True when this call recorded it (so it is logged once), False when it was settled already."""
        key = (channel, day.isoformat())
        with self.immediate() as conn:
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

    def settled_runs(self, keys: Iterable[tuple[str, date]], now: datetime) -> set[tuple[str, date]]:
        """Which of (channel, day) need nothing now: done (posted, failed, skipped) or held / waiting for a retry.
        A read, so the scheduler's 30-second ticks do not take the write lock for runs already handled."""
        keys = list(keys)
        if not keys:
            return set()
        channels = sorted({c for c, _ in keys})
        with self._lock:
            rows = self._conn.execute(
                "SELECT channel, day, status, lease_until, message_ts FROM summary_runs WHERE channel IN ("
                + ",".join("?" * len(channels)) + ")", channels).fetchall()
        stamp = iso(now)
        settled = {(c, date.fromisoformat(d)) for c, d, status, lease, ts in rows
                   if status in ("posted", "failed", "skipped") or ts or (lease or "") > stamp}
        return settled & set(keys)

    def run_attempts(self, channel: str, day: date) -> int:
        row = self.summary_run(channel, day)
        return int(row["attempts"] or 0) if row else 0

    def summary_run(self, channel: str, day: date) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db.table("summary_runs").rows_where(
                "channel = ? AND day = ?", [channel, day.isoformat()]))
        return rows[0] if rows else None

    def summary_runs(self, channel: str | None = None) -> list[dict[str, Any]]:
        where, args = ("channel = ?", [channel]) if channel else (None, [])
        with self._lock:
            return list(self.db.table("summary_runs").rows_where(where, args, order_by="day, channel"))

    # -- evidence bundles ---------------------------------------------------------------------------------------

    def record_bundle(self, question_id: int, sha256: str, size: int, file_name: str, created_by: str,
                      redact_ips: bool = False, hash_users: bool = False, now: datetime | None = None) -> int:
        """Record one bundle made from investigation `question_id`; returns the bundle's id."""
        row = {"question_id": question_id, "sha256": sha256, "size": size, "file_name": file_name,
               "created_by": created_by, "created_at": iso(now or datetime.now(UTC)),
               "redact_ips": int(redact_ips), "hash_users": int(hash_users)}
        with self._lock:
            table = self.db.table("bundles").insert(row)
            return int(table.last_pk)

    def bundles(self, question_id: int | None = None) -> list[dict[str, Any]]:
        where, args = ("question_id = ?", [question_id]) if question_id is not None else (None, [])
        with self._lock:
            return list(self.db.table("bundles").rows_where(where, args, order_by="id"))

    # -- retention ----------------------------------------------------------------------------------------------

    def purge(self, now: datetime | None = None) -> dict[str, int]:
        """Delete what is older than its retention; returns the number of rows deleted per table."""
        now = now or datetime.now(UTC)
        limits = {"questions": ("asked_at", now - self.retention), "slack_events": ("seen_at", now - EVENT_RETENTION),
                  "user_zones": ("fetched_at", now - ZONE_MAX_AGE),
                  "summary_runs": ("claimed_at", now - max(self.retention, RUN_RETENTION)),
                  "bundles": ("created_at", now - self.retention)}
        deleted = {}
        with self._lock:
            for table, (column, oldest) in limits.items():
                cursor = self._conn.execute(f"DELETE FROM {table} WHERE {column} < ?", (iso(oldest),))
                deleted[table] = cursor.rowcount
        return deleted

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Only known columns; lists/dicts as JSON; datetimes as ISO UTC."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in _QUESTION_COLUMNS:
            raise KeyError(f"questions has no column {key!r}")
        if isinstance(value, datetime):
            value = iso(value)
        elif isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False)
        out[key] = value
    return out
