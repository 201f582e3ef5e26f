"""The state store: one SQLite file (sqlite-utils, WAL) that every `vpnbot serve` process of a deployment shares.

What it keeps, and why:

* `questions`: one row per question or button click (who, where, what, the outcome, the primary cause, the time
  taken, and the answer with its queries), so the bot's answers can be audited and "Show queries" can print what
  an answer ran. Kept `retention_days`, then purged.
* `slack_events`: the ids of the Slack deliveries already taken (event_id, the asking message, the slash
  command's trigger_id). Slack re-delivers an event it thinks was not acknowledged, possibly to another instance
  behind the load balancer; claiming the id in the shared file is what makes "never twice" hold across processes.
* `user_zones`: the asker's IANA time zone from `users.info`, cached for a day (people travel, but not hourly).

WAL lets readers run while one process writes; writers wait on each other (`busy_timeout`) instead of failing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
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
            self.db["questions"].create(_QUESTION_COLUMNS, pk="id", if_not_exists=True)  # type: ignore[union-attr]
            self.db["slack_events"].create({"key": str, "seen_at": str}, pk="key",  # type: ignore[union-attr]
                                           if_not_exists=True)
            self.db["user_zones"].create({"user": str, "tz": str, "fetched_at": str},  # type: ignore[union-attr]
                                         pk="user", if_not_exists=True)
            self.db["questions"].create_index(["asked_at"], if_not_exists=True)  # type: ignore[union-attr]
            self.db["slack_events"].create_index(["seen_at"], if_not_exists=True)  # type: ignore[union-attr]

    # -- Slack deliveries ---------------------------------------------------------------------------------------

    def claim(self, keys: Iterable[str], now: datetime | None = None) -> bool:
        """True when none of `keys` was claimed before (and claims them all); False for a repeat delivery.

        One IMMEDIATE transaction, so two processes racing on the same delivery cannot both win.
        """
        keys = [k for k in keys if k]
        if not keys:
            return True
        seen_at = iso(now or datetime.now(UTC))
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                marks = ",".join("?" * len(keys))
                seen = self._conn.execute(f"SELECT 1 FROM slack_events WHERE key IN ({marks}) LIMIT 1",
                                          keys).fetchone()
                if seen is None:
                    self._conn.executemany("INSERT INTO slack_events (key, seen_at) VALUES (?, ?)",
                                           [(k, seen_at) for k in keys])
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
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
            self.db["user_zones"].upsert(  # type: ignore[union-attr]
                {"user": user, "tz": tz, "fetched_at": iso(now or datetime.now(UTC))}, pk="user")

    # -- questions (the audit trail) -------------------------------------------------------------------------------

    def start_question(self, **fields: Any) -> int:
        row = {"outcome": "running", "asked_at": iso(datetime.now(UTC)), **_clean(fields)}
        with self._lock:
            table = self.db["questions"].insert(row)  # type: ignore[union-attr]
            return int(table.last_pk)

    def finish_question(self, question_id: int, **fields: Any) -> None:
        with self._lock:
            self.db["questions"].update(question_id, _clean(fields))  # type: ignore[union-attr]

    def question(self, question_id: int) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db["questions"].rows_where("id = ?", [question_id]))  # type: ignore[union-attr]
        return rows[0] if rows else None

    def questions(self, where: str | None = None, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db["questions"].rows_where(where, list(args), order_by="id"))  # type: ignore[union-attr]

    # -- retention ----------------------------------------------------------------------------------------------

    def purge(self, now: datetime | None = None) -> dict[str, int]:
        """Delete what is older than its retention; returns the number of rows deleted per table."""
        now = now or datetime.now(UTC)
        limits = {"questions": ("asked_at", now - self.retention), "slack_events": ("seen_at", now - EVENT_RETENTION),
                  "user_zones": ("fetched_at", now - ZONE_MAX_AGE)}
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
