"""The state store's audit side: the Slack deliveries already taken, the askers' zones, one row per question or
click, one row per evidence bundle."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bot.state.database import QUICK_BUSY_MS, Database, retried
from bot.state.schema import OWNER_STALE, ZONE_MAX_AGE, iso, question_row

#: The largest row id either engine stores (a signed 64-bit integer).
MAX_ROWID = 2**63 - 1


class Claim(StrEnum):
    NEW = "new"  # nobody took this delivery before: the caller answers it
    RESUMED = "resumed"  # a process took it and died before answering: the caller answers it now
    REPEAT = "repeat"  # answered already, or being answered by a live process: the caller drops it


class AuditStore(Database):
    """Deliveries, zones, questions and bundles."""

    # -- Slack deliveries ---------------------------------------------------------------------------------------

    @retried(patient=True)
    def claim(self, keys: Iterable[str], owner: str = "", job_json: str = "", now: datetime | None = None,
              dead: frozenset[str] = frozenset()) -> Claim:
        """Take the delivery `keys` for `owner` (a process that beats, see `beat`), unless it is a repeat.

        A claim is a lease held by a live process: the delivery of a process whose heartbeat went stale before it
        answered is RESUMED by the next claimant. One IMMEDIATE transaction, so two processes racing on the same
        delivery cannot both win. `dead`: owners known to be dead although their heartbeat is recent (a process
        of this host that is gone)."""
        return self._claim(keys, owner, job_json, now, dead=dead)

    def try_claim(self, keys: Iterable[str], owner: str = "", job_json: str = "",
                  now: datetime | None = None) -> Claim | None:
        """`claim`, tried once without waiting on another process's lock (as a job arrives, so the arrivals never
        queue behind a slow store); None when the store did not answer at once (the worker then claims, patiently)."""
        try:
            claim = self._claim(keys, owner, job_json, now, busy_ms=QUICK_BUSY_MS)
        except self.errors as exc:
            self.failing(exc, "claim")
            return None
        self.working()
        return claim

    def _claim(self, keys: Iterable[str], owner: str, job_json: str, now: datetime | None,
               busy_ms: int | None = None, dead: frozenset[str] = frozenset()) -> Claim:
        keys = list(dict.fromkeys(k for k in keys if k))
        if not keys:
            return Claim.NEW
        now = now or datetime.now(UTC)
        with self.transaction(busy_ms, lock="deliveries") as conn:
            marks = ",".join("?" * len(keys))
            rows = conn.execute(f"SELECT key, owner, done_at FROM slack_events WHERE key IN ({marks})",
                                keys).fetchall()
            holders = {o for _, o, done in rows if not done} - dead
            if any(done or not o for _, o, done in rows) or (holders and self._alive(conn, holders, now)):
                return Claim.REPEAT
            conn.executemany("INSERT INTO slack_events (key, seen_at, owner, job_json) VALUES (?, ?, ?, ?) "
                             "ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at, owner = excluded.owner, "
                             "job_json = excluded.job_json, done_at = NULL",
                             [(k, iso(now), owner, job_json) for k in keys])
            if owner:  # a process that claims is alive
                self._beat(conn, owner, now)
        return Claim.RESUMED if rows else Claim.NEW

    @staticmethod
    def _alive(conn: Any, owners: set[str], now: datetime) -> bool:
        marks = ",".join("?" * len(owners))
        return conn.execute(f"SELECT 1 FROM owners WHERE owner IN ({marks}) AND beat_at >= ? LIMIT 1",
                            [*owners, iso(now - OWNER_STALE)]).fetchone() is not None

    @retried
    def settle(self, keys: Iterable[str], now: datetime | None = None) -> None:
        """The delivery was answered (or refused, or found to be a repeat of nothing): never taken over again."""
        keys = [k for k in keys if k]
        if keys:
            with self.transaction(lock="deliveries") as conn:  # never between a claim's read and its write
                conn.execute(f"UPDATE slack_events SET done_at = ? WHERE key IN ({','.join('?' * len(keys))})",
                             [iso(now or datetime.now(UTC)), *keys])

    @retried
    def beat(self, owner: str, now: datetime | None = None) -> None:
        """`owner` is alive: its claims stay its own."""
        with self.connection() as conn:
            self._beat(conn, owner, now or datetime.now(UTC))

    @staticmethod
    def _beat(conn: Any, owner: str, now: datetime) -> None:
        conn.execute("INSERT INTO owners (owner, beat_at, started_at) VALUES (?, ?, ?) "
                     "ON CONFLICT (owner) DO UPDATE SET beat_at = excluded.beat_at", (owner, iso(now), iso(now)))

    @retried(read=True)
    def abandoned(self, now: datetime | None = None, dead: frozenset[str] = frozenset()) -> list[str]:
        """The jobs (as stored with their claim) whose process died before answering them, oldest first: its
        heartbeat is stale, or it is one of `dead`."""
        now = now or datetime.now(UTC)
        marks = ",".join("?" * len(dead)) or "''"
        with self.connection() as conn:
            rows = conn.execute(
                "SELECT job_json, MIN(seen_at) FROM slack_events e WHERE done_at IS NULL AND owner != '' "
                "AND job_json IS NOT NULL AND job_json != '' AND (owner IN (" + marks + ") OR NOT EXISTS "
                "(SELECT 1 FROM owners o WHERE o.owner = e.owner AND o.beat_at >= ?)) GROUP BY job_json ORDER BY 2",
                (*dead, iso(now - OWNER_STALE))).fetchall()
        return [r[0] for r in rows]

    @retried(read=True)
    def live_owners(self, now: datetime | None = None) -> list[str]:
        """The processes whose heartbeat is recent."""
        with self.connection() as conn:
            rows = conn.execute("SELECT owner FROM owners WHERE beat_at >= ?",
                                      (iso((now or datetime.now(UTC)) - OWNER_STALE),)).fetchall()
        return [r[0] for r in rows]

    @retried(read=True)
    def interrupted_question(self, delivery: str) -> dict[str, Any] | None:
        """The latest question row of this delivery, which a dead process left behind (still running, or answered
        but perhaps never shown: the delivery was not settled)."""
        with self.connection() as conn:
            rows = conn.select("questions", "delivery = ? AND outcome != 'restarted'", [delivery], order_by="id desc",
                               limit=1)
        return rows[0] if rows else None

    # -- time zones ---------------------------------------------------------------------------------------------

    @retried(read=True)
    def zone(self, user: str, now: datetime | None = None) -> str | None:
        """The cached zone of `user`, or None when unknown or older than a day."""
        oldest = iso((now or datetime.now(UTC)) - ZONE_MAX_AGE)
        with self.connection() as conn:
            row = conn.execute('SELECT tz FROM user_zones WHERE "user" = ? AND fetched_at >= ?',
                               (user, oldest)).fetchone()
        return row[0] if row else None

    @retried
    def remember_zone(self, user: str, tz: str, now: datetime | None = None) -> None:
        with self.connection() as conn:
            conn.upsert("user_zones", {"user": user, "tz": tz, "fetched_at": iso(now or datetime.now(UTC))}, ("user",))

    # -- questions (the audit trail) -------------------------------------------------------------------------------

    @retried
    def start_question(self, **fields: Any) -> int:
        row = {"outcome": "running", "asked_at": iso(datetime.now(UTC)), **question_row(fields)}
        with self.connection() as conn:
            return conn.insert("questions", row)

    @retried
    def finish_question(self, question_id: int, **fields: Any) -> None:
        row = question_row(fields)
        if row:
            with self.connection() as conn:
                conn.execute("UPDATE questions SET " + ", ".join(f'"{k}" = ?' for k in row) + " WHERE id = ?",
                             [*row.values(), question_id])

    @retried(read=True)
    def question(self, question_id: int) -> dict[str, Any] | None:
        """The row of question `question_id`; None when there is none (an id beyond SQLite's integers included:
        ids come from people and from button values)."""
        if not 0 < question_id <= MAX_ROWID:
            return None
        with self.connection() as conn:
            rows = conn.select("questions", "id = ?", [question_id])
        return rows[0] if rows else None

    @retried(read=True)
    def questions(self, where: str | None = None, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self.connection() as conn:
            return conn.select("questions", where, list(args), order_by="id")

    # -- evidence bundles ---------------------------------------------------------------------------------------

    @retried
    def record_bundle(self, question_id: int, sha256: str, size: int, file_name: str, created_by: str,
                      redact_ips: bool = False, hash_users: bool = False, now: datetime | None = None) -> int:
        """Record one bundle made from investigation `question_id`; returns the bundle's id."""
        row = {"question_id": question_id, "sha256": sha256, "size": size, "file_name": file_name,
               "created_by": created_by, "created_at": iso(now or datetime.now(UTC)),
               "redact_ips": int(redact_ips), "hash_users": int(hash_users)}
        with self.connection() as conn:
            return conn.insert("bundles", row)

    @retried(read=True)
    def bundles(self, question_id: int | None = None) -> list[dict[str, Any]]:
        where, args = ("question_id = ?", [question_id]) if question_id is not None else (None, [])
        with self.connection() as conn:
            return conn.select("bundles", where, args, order_by="id")
